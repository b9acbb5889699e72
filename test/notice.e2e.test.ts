import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOTICE_PUBLISH_ACTION, NOTICE_READ_ACTION } from '../cards/notice.js';
import { scheduling } from '../scheduler/index.js';
import type { SandboxMessage } from '../src/platform/sandbox/adapter.js';
import { ask, settledCampaign, startTestApp, type TestApp } from './helpers/app.js';
import { allText, buttonsOf, elementsOf, fieldMap } from './helpers/card-parts.js';
import { waitFor } from './fakes/recorder/seed.js';

/**
 * 通报 end to end in the sandbox: 纪检 composes a warning notice with a file for two
 * departments, checks the preview and publishes; recipients confirm by click and by message;
 * a forged 已阅 is refused; 进度/导出 通报 show read rates (names to 纪检 only); the rule's
 * questions come with it; after the delay non-readers are reminded exactly once.
 */

const START = new Date('2026-12-10T02:00:00Z');
const CARDIO = ['S0001', 'S0003', 'S0004', 'S0005', 'S0006', 'S0007', 'S0008'];
const SURGERY = ['S0009', 'S0010', 'S0011', 'S0012', 'S0013', 'S0014', 'S0015'];
const AUTHOR = 'S0041';

describe('通报 with read receipts', () => {
  let t: TestApp;
  let now = START;
  let id = '';
  const cardOf = async (staff: string, title: string): Promise<SandboxMessage> =>
    waitFor(`${title} card for ${staff}`, async () => (await t.inbox(staff)).filter((m) => m.card?.title.includes(title)).at(-1));
  const readers = ['S0001', 'S0003', 'S0004', 'S0012'];

  beforeAll(async () => {
    t = await startTestApp({ label: 'notice_e2e', now: () => now });
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('refuses to let anyone but the discipline office compose', async () => {
    const [r] = await ask(t, 'S0005', '发布通报');
    expect(r.text).toContain('仅限纪检监察使用');
    const [s] = await ask(t, 'S0001', 'newnotice');
    expect(s.text).toContain('仅限纪检监察使用');
  });

  it('composes step by step, refusing bad answers, and previews the audience size', async () => {
    expect((await ask(t, AUTHOR, '发布通报'))[0].text).toContain('标题');
    expect((await ask(t, AUTHOR, '关于某医院医生收受回扣的典型案例通报'))[0].text).toContain('正文');
    expect((await ask(t, AUTHOR, '2026年某医院医生违规收受医药代表回扣，被给予党内严重警告处分。全院引以为戒。'))[0].text).toContain('范围');
    // An unknown department: the step stays and says what can be written.
    const [bad] = await ask(t, AUTHOR, '心内科');
    expect(bad.text).toContain('没有找到科室或角色“心内科”');
    expect((await ask(t, AUTHOR, '心血管内科、普外科'))[0].text).toContain('警示');
    expect((await ask(t, AUTHOR, '警示 十'))[0].text).toContain('请回复“普通”');
    expect((await ask(t, AUTHOR, '警示 9'))[0].text).toContain('文件');
    const before = (await t.inbox(AUTHOR)).length;
    const sent = await fetch(`${t.url}/sandbox/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: AUTHOR, files: [{ name: '案例通报.pdf', mime: 'application/pdf', contentBase64: Buffer.from('%PDF-1.4 案例').toString('base64') }] }),
    });
    expect(sent.status).toBe(202);
    const [preview] = await t.waitForReplies(AUTHOR, before);
    const f = fieldMap(preview.card!);
    expect(f['将发送给']).toBe('14 人');
    expect(f['通报范围']).toBe('心血管内科、普外科');
    expect(f['附件']).toBe('案例通报.pdf');
    expect(f['类型']).toContain('第九条');
    // Nothing is sent before the confirmation.
    expect((await t.inbox('S0001')).some((m) => m.card?.title.includes('警示教育通报'))).toBe(false);
  });

  it('publishes once on confirmation by its author only, one card per recipient', async () => {
    const preview = await cardOf(AUTHOR, '通报预览');
    const publish = buttonsOf(preview.card!).find((b) => b.actionId === NOTICE_PUBLISH_ACTION)!;
    id = String(publish.value!.n);
    // Another member of the office cannot publish someone else's draft; a staff member is refused by role.
    const other = (await ask(t, 'S0040', '帮助'))[0];
    expect((await t.click('S0040', other.id, NOTICE_PUBLISH_ACTION, publish.value)).body.toast).toContain('只有起草人');
    const own = (await ask(t, 'S0001', '帮助'))[0];
    expect((await t.click('S0001', own.id, NOTICE_PUBLISH_ACTION, publish.value)).body.toast).toContain('没有权限');

    const first = await t.click(AUTHOR, preview.id, NOTICE_PUBLISH_ACTION, publish.value);
    expect(first.body.toast).toContain('正在发送给 14 人');
    const again = await t.click(AUTHOR, preview.id, NOTICE_PUBLISH_ACTION, publish.value);
    expect(again.body.toast).toMatch(/已(于此前)?发布/);
    const counts = await settledCampaign(t, `notice.${id}.push`);
    expect(counts).toMatchObject({ total: 14, sent: 14 });
    for (const s of [...CARDIO, ...SURGERY]) {
      const got = (await t.inbox(s)).filter((m) => m.card?.title.startsWith('警示教育通报'));
      expect(got, s).toHaveLength(1);
    }
    expect((await t.inbox('S0017')).some((m) => m.card?.title.startsWith('警示教育通报'))).toBe(false);
    const audit = await t.app.db.query<{ action: string }>(`SELECT action FROM audit_log WHERE entity_type = 'notice' AND entity_id = $1 ORDER BY id`, [id]);
    expect(audit.rows.map((r) => r.action)).toEqual(['notice.draft', 'notice.publish']);
  });

  it('records 已阅 by click and by message, each person for themselves', async () => {
    const card = await cardOf('S0001', '警示教育通报');
    const r = await t.click('S0001', card.id, NOTICE_READ_ACTION, { n: id });
    expect(r.body.toast).toContain('已确认阅读');
    const updated = (await t.inbox('S0001')).find((m) => m.id === card.id)!;
    expect(fieldMap(updated.card!)['我的状态']).toContain('已阅');
    expect(buttonsOf(updated.card!).some((b) => b.actionId === NOTICE_READ_ACTION)).toBe(false);
    // A second click changes nothing.
    expect((await t.click('S0001', card.id, NOTICE_READ_ACTION, { n: id })).body.toast).toContain('无需重复确认');

    expect((await ask(t, 'S0003', '已阅'))[0].text).toContain('已确认阅读');
    expect((await ask(t, 'S0004', `已阅 ${id}`))[0].text).toContain('已确认阅读');
    expect((await ask(t, 'S0012', `已阅 TB-${id}`))[0].text).toContain('已确认阅读');
    expect((await ask(t, 'S0013', '已阅 abc'))[0].text).toContain('用法');

    const rows = await t.app.db.query<{ staff_id: string; read_via: string }>(`SELECT staff_id, read_via FROM notice_recipients WHERE notice_id = $1 AND read_at IS NOT NULL ORDER BY staff_id`, [id]);
    expect(rows.rows).toEqual([
      { staff_id: 'S0001', read_via: 'card' },
      { staff_id: 'S0003', read_via: 'message' },
      { staff_id: 'S0004', read_via: 'message' },
      { staff_id: 'S0012', read_via: 'message' },
    ]);
  });

  it('refuses a forged 已阅: not a recipient, or a payload naming someone else', async () => {
    const own = (await ask(t, 'S0017', '帮助'))[0];
    const forged = await t.click('S0017', own.id, NOTICE_READ_ACTION, { n: id });
    expect(forged.body.toast).toContain('不是发给您的');
    expect((await ask(t, 'S0017', `已阅 ${id}`))[0].text).toContain('不是发给您的');
    const card = await cardOf('S0006', '警示教育通报');
    const smuggled = await t.click('S0006', card.id, NOTICE_READ_ACTION, { n: id, s: 'S0007' });
    expect(smuggled.body.toast).toContain('已失效或不属于您');
    const unread = await t.app.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM notice_recipients WHERE notice_id = $1 AND read_at IS NULL AND staff_id IN ('S0006', 'S0007')`, [id]);
    expect(unread.rows[0].n).toBe(2);
    expect((await t.app.db.query(`SELECT 1 FROM notice_recipients WHERE notice_id = $1 AND staff_id = 'S0017'`, [id])).rows).toHaveLength(0);
  });

  it('lists past notices for staff, most recent first, with their read state', async () => {
    const [r] = await ask(t, 'S0001', '通报');
    const table = elementsOf(r.card!, 'table')[0];
    expect(table.rows[0][0]).toBe(id);
    expect(table.rows[0][3]).toBe('已阅');
    const [u] = await ask(t, 'S0006', '通报');
    expect(elementsOf(u.card!, 'table')[0].rows[0][3]).toBe('未阅');
    expect(fieldMap(u.card!)['未阅']).toBe('1');
    const [one] = await ask(t, 'S0006', `通报 ${id}`);
    expect(one.card!.title).toContain('警示教育通报');
    expect((await ask(t, 'S0017', `通报 ${id}`))[0].text).toContain('没有找到');
    // The discipline office may read any notice, but has no receipt to give for one not sent to it.
    const [office] = await ask(t, 'S0040', `通报 ${id}`);
    expect(fieldMap(office.card!)['我的状态']).toBe('不在通报范围内');
    expect(buttonsOf(office.card!).some((b) => b.actionId === NOTICE_READ_ACTION)).toBe(false);
    expect((await ask(t, 'S0017', '通报'))[0].text).toContain('还没有收到过通报');
  });

  it('links a warning notice to the quiz questions of its rule, and hands out its file', async () => {
    const card = await cardOf('S0006', '警示教育通报');
    const before = (await t.inbox('S0006')).length;
    expect((await t.click('S0006', card.id, 'notice.questions', { n: id })).body.toast).toContain('相关题目');
    const [q] = await t.waitForReplies('S0006', before);
    expect(q.card!.title).toContain('九项准则第九条');
    const bank = await t.app.db.query<{ stem: string }>(
      `SELECT v.stem FROM quiz_questions c JOIN quiz_question_versions v ON v.question_id = c.id AND v.version = c.version WHERE v.rule = 9 AND c.retired_at IS NULL`,
    );
    expect(bank.rows.length).toBeGreaterThan(0);
    const text = allText(q.card!);
    for (const row of bank.rows.slice(0, 10)) expect(text).toContain(row.stem);
    const other = await t.app.db.query<{ stem: string }>(`SELECT v.stem FROM quiz_question_versions v WHERE v.rule = 1 LIMIT 1`);
    expect(text).not.toContain(other.rows[0].stem);

    const n = (await t.inbox('S0006')).length;
    expect((await t.click('S0006', card.id, 'notice.file', { n: id })).body.toast).toContain('案例通报.pdf');
    const [file] = await t.waitForReplies('S0006', n);
    expect(file.fileUrl).toBeTruthy();
    const got = await fetch(new URL(file.fileUrl!, t.url));
    expect(Buffer.from(await got.arrayBuffer()).toString()).toBe('%PDF-1.4 案例');
  });

  it('shows read rates by department; names of non-readers to the discipline office only, small counts as <3 to others', async () => {
    const [leader] = await ask(t, 'S0005', `进度 通报 ${id}`);
    const lf = fieldMap(leader.card!);
    expect(lf).toMatchObject({ 应阅: '14', 已阅: '4', 未阅: '10', 阅读率: '28.6%' });
    const lrows = elementsOf(leader.card!, 'table');
    expect(lrows).toHaveLength(1);
    expect(lrows[0].rows.find((r) => r[0] === '普外科')).toEqual(['普外科', '7', '<3', '6', '—']);
    expect(allText(leader.card!)).not.toContain('S0006');

    const [office] = await ask(t, AUTHOR, `进度 通报 ${id}`);
    const tables = elementsOf(office.card!, 'table');
    expect(tables[0].rows.find((r) => r[0] === '普外科')).toEqual(['普外科', '7', '1', '6', '14.3%']);
    expect(tables[1].rows.map((r) => r[0]).sort()).toEqual([...CARDIO, ...SURGERY].filter((s) => !readers.includes(s)).sort());

    const [head] = await ask(t, 'S0003', `进度 通报 ${id}`);
    expect(elementsOf(head.card!, 'table')[0].rows.map((r) => r[0])).toEqual(['心血管内科']);
    expect((await ask(t, 'S0001', '进度 通报'))[0].text).toContain('仅限');

    const [month] = await ask(t, 'S0005', '进度 通报');
    expect(elementsOf(month.card!, 'table')[0].rows[0]).toEqual(['1', id, expect.any(String), '14', '4', '28.6%']);
    expect(elementsOf(month.card!, 'image')).toHaveLength(1);
    const [overview] = await ask(t, 'S0005', '进度');
    expect(fieldMap(overview.card!)['通报阅读']).toBe('1 份，阅读率 28.6%（4/14）');
    expect((await ask(t, 'S0005', '进度 通报 99999'))[0].text).toContain('没有编号为 99999');
  });

  it('exports the read state as XLSX: per-person receipts for the discipline office only', async () => {
    const sheetsOf = async (staff: string, text: string) => {
      const before = (await t.inbox(staff)).length;
      await t.say(staff, text);
      const replies = await t.waitForReplies(staff, before, 2);
      const file = replies.find((m) => m.fileUrl)!;
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.load(Buffer.from(await (await fetch(new URL(file.fileUrl!, t.url))).arrayBuffer()) as unknown as ArrayBuffer);
      return wb;
    };
    const office = await sheetsOf(AUTHOR, `导出 通报 ${id}`);
    expect(office.worksheets.map((w) => w.name)).toEqual(['按科室', '个人阅读记录']);
    const people = office.getWorksheet('个人阅读记录')!;
    const rows = people.getSheetValues().slice(3).filter(Boolean) as unknown[][];
    expect(rows).toHaveLength(14);
    expect(rows.find((r) => r[1] === 'S0001')!.slice(1, 5)).toEqual(['S0001', '林雨桐', '心血管内科', '已阅']);

    const leader = await sheetsOf('S0005', `导出 通报 ${id}`);
    expect(leader.worksheets.map((w) => w.name)).toEqual(['按科室']);
    const values = JSON.stringify(leader.getWorksheet('按科室')!.getSheetValues());
    expect(values).toContain('<3');
    expect(values).not.toContain('S0001');

    const month = await sheetsOf('S0005', '导出 通报 2026-12');
    expect(JSON.stringify(month.getWorksheet('汇总')!.getSheetValues())).toContain(`TB-${id}`);
  });

  it('reminds each non-reader exactly once after the delay, even with two sweeps at once', async () => {
    const { scheduler } = scheduling(t.app.bot);
    await scheduler.runNow('notice.sweep');
    expect(await scheduling(t.app.bot).outbound.status(`notice.${id}.remind`)).toBeUndefined();
    now = new Date(START.getTime() + 25 * 3600_000);
    await Promise.all([scheduler.runNow('notice.sweep'), scheduler.runNow('notice.sweep')]);
    const counts = await settledCampaign(t, `notice.${id}.remind`);
    expect(counts).toMatchObject({ total: 10, sent: 10 });
    await scheduler.runNow('notice.sweep');
    now = new Date(START.getTime() + 50 * 3600_000);
    await scheduler.runNow('notice.sweep');
    const reminded = async (s: string) => (await t.inbox(s)).filter((m) => m.text?.includes('提醒】您还没有确认阅读')).length;
    for (const s of [...CARDIO, ...SURGERY]) expect(await reminded(s), s).toBe(readers.includes(s) ? 0 : 1);
    expect((await scheduling(t.app.bot).outbound.status(`notice.${id}.remind`))!.total).toBe(10);
  });

  it('keeps a cancelled draft unsent and refuses a general notice without a rule link', async () => {
    await ask(t, AUTHOR, '发布通报');
    expect((await ask(t, AUTHOR, '取消'))[0].text).toContain('没有保存');
    await ask(t, AUTHOR, '发布通报');
    await ask(t, AUTHOR, '春节期间廉洁提醒');
    const [masked] = await ask(t, AUTHOR, '请全院职工严守纪律，举报电话 13812345678。');
    expect(masked.text).toContain('范围');
    await ask(t, AUTHOR, '全院');
    await ask(t, AUTHOR, '普通');
    const [preview] = await ask(t, AUTHOR, '无');
    expect(fieldMap(preview.card!)['将发送给']).toBe('42 人');
    expect(buttonsOf(preview.card!).map((b) => b.label)).toEqual(['确认发布', '放弃']);
    const draft = String(buttonsOf(preview.card!)[0].value!.n);
    const stored = await t.app.db.query<{ body: string }>('SELECT body FROM notices WHERE id = $1', [draft]);
    expect(stored.rows[0].body).not.toContain('13812345678');
    expect((await t.click(AUTHOR, preview.id, 'notice.discard', { n: draft })).body.toast).toContain('已放弃');
    expect((await t.click(AUTHOR, preview.id, NOTICE_PUBLISH_ACTION, { n: draft })).body.toast).toContain('已放弃');
    expect(await scheduling(t.app.bot).outbound.status(`notice.${draft}.push`)).toBeUndefined();
  });
});
