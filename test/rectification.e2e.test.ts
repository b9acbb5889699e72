import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Card } from '../cards/model.js';
import { runOverdue, runRectificationDaily } from '../handlers/rectification.js';
import { parseCampaignFile } from '../src/domain/rectification/campaign-file.js';
import { importCampaign } from '../src/domain/rectification/workflow.js';
import type { SandboxMessage } from '../src/platform/sandbox/adapter.js';
import { auditTrail } from '../src/store/audit.js';
import { getProblem, listProblems } from '../src/store/rectification.js';
import { listDepartments } from '../src/store/staff.js';
import { ask, settledCampaign, startTestApp, type TestApp } from './helpers/app.js';
import { button, formOf } from './helpers/cards.js';
import { waitFor } from './fakes/recorder/seed.js';

/**
 * 自查自纠 to 销号 through the sandbox bot, real Redis and PostgreSQL: a campaign from a file
 * reaches every target department; departments report problems; the owner rectifies and
 * applies for 销号; 纪检 refuses once (reason required) and accepts; the owner cannot close
 * their own row; duplicates merge; an overdue row reminds once and escalates once; the
 * ledger's progress and export.
 */

let clock = new Date('2026-03-02T01:00:00Z'); // 09:00 in Shanghai
const CAMPAIGN = `
id: e2e-2026
title: 专项整治自查
departments: [心血管内科, 普外科]
start: 2026-03-01
due: 2026-03-31
repeat: 每半年
rectifyDays: 20
items:
  - id: 1
    area: 吃回扣
    text: 是否收受耗材回扣
  - id: 2
    area: 过度医疗
    text: 是否存在无指征检查
`;

describe('自查自纠 campaign, 问题清单 and 销号 end to end', () => {
  let t: TestApp;
  const cards = async (user: string, title: string): Promise<SandboxMessage[]> => (await t.inbox(user)).filter((m) => m.card?.title.includes(title));
  const texts = async (user: string, part: string): Promise<string[]> => (await t.inbox(user)).flatMap((m) => (m.text?.includes(part) ? [m.text] : []));
  const card = (m: SandboxMessage): Card => m.card!;
  /** A message of the user's own to click on: a forged payload has to arrive on something. */
  const ownMessage = async (user: string): Promise<string> => (await ask(t, user, '帮助'))[0].id;

  beforeAll(async () => {
    t = await startTestApp({ label: 'rectification', now: () => clock });
    const depts = (await listDepartments(t.app.bot.db)).map((d) => d.name);
    await importCampaign(t.app.bot.db, await parseCampaignFile('e2e.yaml', Buffer.from(CAMPAIGN), depts), 'cli');
  }, 60_000);
  afterAll(async () => t?.dispose());

  it('opens the round on its start date and pushes the card to every target department, once', async () => {
    const run = await runRectificationDaily(t.app.bot, clock);
    expect(run.opened).toEqual(['e2e-2026#1']);
    const sent = await settledCampaign(t, 'rect.e2e-2026.r1.push');
    // Heads and report owners of 心血管内科 (S0003, S0004) and 普外科 (S0009, S0010).
    expect(sent).toMatchObject({ total: 4, sent: 4 });
    for (const u of ['S0003', 'S0004', 'S0009', 'S0010']) expect(await cards(u, '自查自纠：专项整治自查')).toHaveLength(1);
    for (const u of ['S0016', 'S0001', 'S0005']) expect(await cards(u, '自查自纠')).toHaveLength(0);
    expect((await runRectificationDaily(t.app.bot, clock)).opened).toEqual([]);
    expect((await scheduledTotal())).toBe(4);
  });

  async function scheduledTotal(): Promise<number> {
    const { scheduling } = await import('../scheduler/index.js');
    return (await scheduling(t.app.bot).outbound.status('rect.e2e-2026.r1.push'))!.total;
  }

  it('takes one answer per department; a found item needs its description', async () => {
    const [pushed] = await cards('S0003', '自查自纠：专项整治自查');
    const value = formOf(card(pushed)).value;
    const empty = await t.click('S0003', pushed.id, 'rect.report', value, { a_1: 'found', d_1: '', a_2: 'none' });
    expect(empty.body.toast).toContain('第 1 项选择了“发现问题”，请简要说明');
    const unanswered = await t.click('S0003', pushed.id, 'rect.report', value, { a_1: 'none' });
    expect(unanswered.body.toast).toContain('第 2 项还没有选择');
    const ok = await t.click('S0003', pushed.id, 'rect.report', value, { a_1: 'found', d_1: '高值耗材申领登记不全，联系电话13812345678', a_2: 'none' });
    expect(ok.body.toast).toBe('已提交，发现 1 个问题，已列入问题清单。');
    const [again] = await cards('S0004', '自查自纠：专项整治自查');
    const dup = await t.click('S0004', again.id, 'rect.report.clean', formOf(card(again)).value);
    expect(dup.body.toast).toContain('已由郑国栋提交，不能重复提交');
    // Someone outside the targeted departments cannot answer by forging the payload.
    const outsider = await t.click('S0016', await ownMessage('S0016'), 'rect.report.clean', formOf(card(again)).value);
    expect(outsider.body.toast).toContain('您不在填报范围内');
    const [surgery] = await cards('S0010', '自查自纠：专项整治自查');
    expect((await t.click('S0010', surgery.id, 'rect.report', formOf(card(surgery)).value, { a_1: 'found', d_1: '耗材申领登记不规范', a_2: 'none' })).body.toast).toContain('发现 1 个问题');

    const rows = await listProblems(t.app.bot.db);
    expect(rows.map((r) => [r.department, r.source, r.state, r.ownerId, r.deadline])).toEqual([
      ['心血管内科', 'self', 'pending', 'S0003', '2026-03-22'],
      ['普外科', 'self', 'pending', 'S0010', '2026-03-22'],
    ]);
    expect(rows[0].description).not.toContain('13812345678');
  });

  it('moves a row to 销号: the owner applies with evidence, 纪检 refuses once with a reason and accepts the second', async () => {
    const [row] = await listProblems(t.app.bot.db, { departmentId: (await listProblems(t.app.bot.db))[0].departmentId! });
    const ref = `WT-${row.id}`;
    const [view] = await ask(t, 'S0003', `问题 ${ref}`);
    expect(card(view).title).toBe(`问题 ${ref} · 待整改`);
    const started = await t.click('S0003', view.id, 'rect.start', formOf(card(view)).value, { measure: '补齐登记，每周核对' });
    expect(started.body.toast).toContain('已开始整改');
    const [withForms] = await ask(t, 'S0003', `问题 ${ref}`);
    // Evidence photos: the card's button opens a dialogue that keeps every file sent.
    expect((await t.click('S0003', withForms.id, 'rect.evidence', button(card(withForms), 'rect.evidence').value)).body.toast).toBe('请在对话中发送照片或文件。');
    const before = (await t.inbox('S0003')).length;
    const sent = await fetch(`${t.url}/sandbox/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: 'S0003', files: [{ name: '核对表.jpg', mime: 'image/jpeg', contentBase64: Buffer.from('photo').toString('base64') }] }) });
    expect(sent.status).toBe(202);
    expect((await t.waitForReplies('S0003', before, 1))[0].text).toContain('已添加 1 个，共 1 个');
    const [inProgress] = await ask(t, 'S0003', '完成');
    expect(JSON.stringify(card(inProgress))).not.toContain('附件');
    expect((await getProblem(t.app.bot.db, row.id))!.evidenceFiles.map((f) => f.name)).toEqual(['核对表.jpg']);
    const noEvidence = await t.click('S0003', inProgress.id, 'rect.apply', formOf(card(inProgress)).value, { evidence: ' ' });
    expect(noEvidence.body.toast).toContain('申请销号须说明整改结果');
    expect((await t.click('S0003', inProgress.id, 'rect.apply', formOf(card(inProgress)).value, { evidence: '已补齐 2 月全部登记，附核对表' })).body.toast).toContain('销号申请已提交');

    // Every member of the discipline office gets the approval card; the owner does not.
    for (const u of ['S0040', 'S0041', 'S0042']) await waitFor(`confirm card to ${u}`, async () => (await cards(u, `销号申请：${ref}`))[0]);
    expect(JSON.stringify((await cards('S0040', `销号申请：${ref}`))[0].card)).toContain('已补齐 2 月全部登记，附核对表（附件 1 个）');
    expect(await cards('S0003', `销号申请：${ref}`)).toHaveLength(0);

    // The approver opens the evidence; someone with no part in the row cannot.
    const [first] = await cards('S0040', `销号申请：${ref}`);
    expect((await t.click('S0040', first.id, 'rect.files', button(card(first), 'rect.files').value)).body.toast).toBe('已把 1 个佐证文件发送给您。');
    await waitFor('evidence file', async () => (await texts('S0040', '图片：核对表.jpg'))[0]);
    expect((await t.click('S0016', await ownMessage('S0016'), 'rect.files', { id: row.id })).body.toast).toContain('没有找到这条问题');

    // The owner forges the confirmation: refused, nothing changes.
    const applied = (await getProblem(t.app.bot.db, row.id))!;
    const forged = await t.click('S0003', inProgress.id, 'rect.accept', { id: row.id, v: applied.version });
    expect(forged.body.toast).toContain('责任人不能自行销号');
    expect((await ask(t, 'S0003', `确认销号 ${ref}`))[0].text).toContain('责任人不能自行销号');
    // A staff member with no part in it learns nothing.
    expect((await t.click('S0001', await ownMessage('S0001'), 'rect.accept', { id: row.id, v: applied.version })).body.toast).toContain('没有找到这条问题');
    expect((await getProblem(t.app.bot.db, row.id))!.state).toBe('applied');

    const [confirm] = await cards('S0041', `销号申请：${ref}`);
    const noReason = await t.click('S0041', confirm.id, 'rect.refuse', formOf(card(confirm)).value, { reason: '' });
    expect(noReason.body.toast).toContain('退回整改须填写理由');
    const refused = await t.click('S0041', confirm.id, 'rect.refuse', formOf(card(confirm)).value, { reason: '核对表缺科主任签字' });
    expect(refused.body.toast).toContain('已退回整改');
    // The same card clicked again, by another approver: stale, changes nothing.
    const stale = await t.click('S0042', (await cards('S0042', `销号申请：${ref}`))[0].id, 'rect.accept', formOf(card(confirm)).value);
    expect(stale.body.toast).toContain('已有更新（现在整改中）');
    await waitFor('refusal notice', async () => (await texts('S0003', '被白晓琳退回整改，理由：核对表缺科主任签字'))[0]);

    const [again] = await ask(t, 'S0003', `问题 ${ref}`);
    expect(card(again).title).toBe(`问题 ${ref} · 整改中`);
    await t.click('S0003', again.id, 'rect.apply', formOf(card(again)).value, { evidence: '已补签字' });
    const second = await waitFor('second confirm card', async () => (await cards('S0041', `销号申请：${ref}`))[1]);
    const accepted = await t.click('S0041', second.id, 'rect.accept', button(card(second), 'rect.accept').value);
    expect(accepted.body.toast).toBe(`问题 ${ref} 已确认销号。`);
    await waitFor('closure notice', async () => (await texts('S0003', '已由白晓琳确认销号'))[0]);
    const closed = (await getProblem(t.app.bot.db, row.id))!;
    expect(closed.state).toBe('closed');
    const trail = await auditTrail(t.app.bot.db, 'rectification_problem', row.id);
    expect(trail.map((a) => [a.action, a.actor])).toEqual([
      ['rectification.create', 'S0003'],
      ['rectification.start', 'S0003'],
      ['rectification.evidence', 'S0003'],
      ['rectification.apply', 'S0003'],
      ['rectification.files_viewed', 'S0040'],
      ['rectification.refuse', 'S0041'],
      ['rectification.apply', 'S0003'],
      ['rectification.accept', 'S0041'],
    ]);
    expect(trail[5].reason).toBe('核对表缺科主任签字');
  });

  it('adds inspection rows and merges two departments\' problems into one institutional item', async () => {
    const [added] = await ask(t, 'S0040', '新增问题 心血管内科 2026-03-25 科室耗材二级库账实不符');
    expect(added.text).toMatch(/^已列入问题清单：WT-\d+（心血管内科，检查发现），责任人郑国栋/);
    const cardio = added.text!.match(/WT-(\d+)/)![1];
    const surgery = (await listProblems(t.app.bot.db)).find((p) => p.department === '普外科')!.id;
    expect((await ask(t, 'S0003', `合并问题 WT-${cardio} WT-${surgery} 统一规范`))[0].text).toContain('仅限');
    const [merged] = await ask(t, 'S0040', `合并问题 WT-${cardio} WT-${surgery} 医务科 全院统一规范耗材申领和二级库管理`);
    expect(merged.text).toMatch(/^已合并为院级问题 WT-\d+，责任人李海燕/);
    const itemId = merged.text!.match(/WT-(\d+)/)![1];
    const item = (await getProblem(t.app.bot.db, itemId))!;
    expect(item).toMatchObject({ departmentId: null, source: 'merged', state: 'pending', ownerId: 'S0023' });
    for (const id of [cardio, surgery]) expect((await getProblem(t.app.bot.db, id))!).toMatchObject({ state: 'merged', mergedInto: itemId });
    await waitFor('merge notice', async () => (await texts('S0023', `已合并为院级问题 WT-${itemId}`))[0]);
    const [again] = await ask(t, 'S0040', `合并问题 WT-${cardio} WT-${surgery} 再合并一次`);
    expect(again.text).toContain('已合并，不能再合并');
  });

  it('reminds the owner of an overdue row once, then escalates once to 纪检 and leadership', async () => {
    const [added] = await ask(t, 'S0040', '新增问题 儿科 2026-03-10 门诊处方点评未按月开展');
    const id = added.text!.match(/WT-(\d+)/)![1];
    clock = new Date('2026-03-10T02:00:00Z');
    expect(await runOverdue(t.app.bot, clock)).toEqual({ reminded: [], escalated: [] });
    clock = new Date('2026-03-11T02:00:00Z');
    expect((await runOverdue(t.app.bot, clock)).reminded).toEqual([id]);
    expect(await runOverdue(t.app.bot, clock)).toEqual({ reminded: [], escalated: [] });
    clock = new Date('2026-03-16T02:00:00Z');
    expect(await runOverdue(t.app.bot, clock)).toEqual({ reminded: [], escalated: [] });
    clock = new Date('2026-03-17T02:00:00Z');
    expect((await runOverdue(t.app.bot, clock)).escalated).toEqual([id]);
    expect(await runOverdue(t.app.bot, clock)).toEqual({ reminded: [], escalated: [] });
    await waitFor('escalation', async () => (await texts('S0005', `问题 WT-${id} 已逾期 7 天`))[0]);
    expect(await texts('S0016', `提醒：问题 WT-${id}`)).toHaveLength(1);
    for (const u of ['S0005', 'S0011', 'S0022', 'S0040', 'S0041', 'S0042']) expect(await texts(u, `督办：儿科的问题 WT-${id}`)).toHaveLength(1);
    expect(await texts('S0016', '督办')).toHaveLength(0);
  });

  it('shows 进度 问题清单 by department (leaders read "<3") and exports it in the workbook style', async () => {
    const [discipline] = await ask(t, 'S0040', '进度 问题清单');
    const table = (c: Card) => c.elements.find((e) => e.type === 'table') as { rows: string[][] };
    // 心血管内科: self-found (closed) + inspected (merged, pending); 普外科: self-found (merged); 儿科: inspected, overdue.
    expect(table(card(discipline)).rows.map((r) => r.slice(1))).toEqual(expect.arrayContaining([
      ['心血管内科', '2', '1', '1', '0', '1', '1'],
      ['普外科', '1', '0', '1', '0', '1', '0'],
      ['儿科', '1', '0', '1', '1', '0', '1'],
    ]));
    expect(card(discipline).elements.some((e) => e.type === 'image')).toBe(true);
    const [leader] = await ask(t, 'S0005', '进度 问题清单');
    expect(JSON.stringify(table(card(leader)).rows.map((r) => r.slice(2)))).not.toMatch(/"[12]"/);
    expect(table(card(leader)).rows.find((r) => r[1] === '心血管内科')!.slice(2)).toEqual(['<3', '<3', '<3', '0', '<3', '<3']);
    const [overview] = await ask(t, 'S0005', '进度');
    expect(JSON.stringify(card(overview))).toContain('{"label":"问题清单","value":"发现 4，已销号 <3，逾期 <3"}');
    expect((await ask(t, 'S0001', '进度 问题清单'))[0].text).toContain('仅限');

    const replies = await ask(t, 'S0040', '导出 问题清单', 2);
    const file = replies.find((m) => m.fileUrl)!;
    expect(file.text).toBe('文件：问题清单-2026-03-17.xlsx');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await (await fetch(`${t.url}${file.fileUrl}`)).arrayBuffer()) as ArrayBuffer);
    const summary = wb.getWorksheet('汇总')!;
    expect(summary.getCell('A1').value).toBe('问题清单 · 截至 2026年3月17日');
    expect(summary.views[0]).toMatchObject({ state: 'frozen', ySplit: 3 });
    expect(summary.getSheetValues().slice(4).map((r) => (r as unknown[]).slice(1))).toContainEqual(['儿科', 1, 0, 0, 1, 1, 0, 1, '0.0%']);
    const detail = wb.getWorksheet('明细')!;
    expect(detail.rowCount).toBe(6); // header + 5 rows (two self-found, two inspected, one institutional)
    expect(JSON.stringify(detail.getSheetValues())).toContain('院级（合并）');
    // The summary carries the chat card's chart, byte for byte, right of the table.
    const chatImage = card(discipline).elements.find((e) => e.type === 'image') as { url: string };
    const chatPng = Buffer.from(await (await fetch(`${t.url}${chatImage.url}`)).arrayBuffer());
    const images = summary.getImages();
    expect(images).toHaveLength(1);
    expect(images[0].range.tl.nativeCol).toBe(10);
    expect(Buffer.from(wb.getImage(Number(images[0].imageId)).buffer as unknown as Uint8Array).equals(chatPng)).toBe(true);

    const [leaderFile] = (await ask(t, 'S0005', '导出 问题清单', 2)).filter((m) => m.fileUrl);
    const wb2 = new ExcelJS.Workbook();
    await wb2.xlsx.load((await (await fetch(`${t.url}${leaderFile.fileUrl}`)).arrayBuffer()) as ArrayBuffer);
    expect(wb2.getWorksheet('明细')).toBeUndefined();
    expect(JSON.stringify(wb2.getWorksheet('汇总')!.getSheetValues())).toContain('"<3"');
  });
});
