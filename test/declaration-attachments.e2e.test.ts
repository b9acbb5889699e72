import { createHash, randomBytes } from 'node:crypto';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxMessage } from '../src/platform/sandbox/adapter.js';
import { auditTrail } from '../src/store/audit.js';
import { getDeclaration } from '../src/store/declarations.js';
import { button } from './helpers/cards.js';
import { ask, startTestApp, type TestApp } from './helpers/app.js';

/**
 * Photos/files on a 上缴申报, end to end through the sandbox API on real Redis and PostgreSQL:
 * attach in a dialogue, submit, approve, and see the names on every card.
 */

const json = (x: unknown) => JSON.stringify(x);
const file = (name: string, body = `content of ${name}`) => ({ name, mime: 'application/octet-stream', contentBase64: Buffer.from(body).toString('base64') });

describe('上缴申报 attachments through the sandbox (real Redis + PostgreSQL)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ label: 'declaration_attach', settings: { declaration: { maxAmountYuan: 50_000, reminderHours: 48 } } });
  });
  afterAll(async () => {
    await t.dispose();
  });

  async function sendFiles(user: string, files: ReturnType<typeof file>[], text?: string): Promise<SandboxMessage[]> {
    const before = (await t.inbox(user)).length;
    const r = await fetch(`${t.url}/sandbox/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: user, files, ...(text !== undefined ? { text } : {}) }),
    });
    expect(r.status).toBe(202);
    return t.waitForReplies(user, before);
  }
  async function pendingCard(user: string, id: string): Promise<SandboxMessage> {
    const all = (await t.inbox(user)).filter((m) => m.kind === 'card' && m.card!.title.includes('待') && json(m.card).includes(`"SB-${id}"`));
    if (!all.length) throw new Error(`${user} has no pending card about SB-${id}`);
    return all[all.length - 1];
  }
  async function approve(user: string, id: string): Promise<string | undefined> {
    const m = await pendingCard(user, id);
    return (await t.click(user, m.id, 'decl.approve', button(m.card!, 'decl.approve').value)).body.toast;
  }
  async function draft(user: string): Promise<SandboxMessage> {
    const [preview] = await ask(t, user, '上缴 礼金 500 患者家属 2026-11-20 存入住院账户 出院时家属塞在病历夹里');
    expect(preview.kind, preview.text).toBe('card');
    return preview;
  }
  async function clickAttach(user: string, preview: SandboxMessage): Promise<SandboxMessage[]> {
    const before = (await t.inbox(user)).length;
    const r = await t.click(user, preview.id, 'decl.attach', button(preview.card!, 'decl.attach').value);
    expect(r.status).toBe(200);
    return t.waitForReplies(user, before);
  }

  it('attaches two files, submits, and the names travel with it to registration', async () => {
    const preview = await draft('S0001');
    const id = String(button(preview.card!, 'decl.attach').value!.id);
    const [prompt] = await clickAttach('S0001', preview);
    // 16: the prompt alone, without the generic dialogue hint under it.
    expect(prompt.text).toBe('请直接发送照片或文件（最多 9 个），发完后回复“完成”；回复“取消”放弃添加。');

    const [added] = await sendFiles('S0001', [file('红包照片.jpg'), file('情况说明.pdf')]);
    expect(added.text).toBe('已添加 2 个，共 2 个。可继续发送，发完后回复“完成”。');
    // Something other than 完成 asks again.
    const [again] = await ask(t, 'S0001', '好的');
    expect(again.text).toBe('请直接发送照片或文件（最多 9 个），发完后回复“完成”；回复“取消”放弃添加。');

    const [card] = await ask(t, 'S0001', '完成');
    expect(card.kind).toBe('card');
    expect(json(card.card)).toContain('附件（2 个）：红包照片.jpg、情况说明.pdf');
    const d = (await getDeclaration(t.app.db, id))!;
    expect(d.attachments.map((a) => [a.name, a.platform])).toEqual([
      ['红包照片.jpg', 'sandbox'],
      ['情况说明.pdf', 'sandbox'],
    ]);
    // The ref opens the stored file in the sandbox.
    const ref = d.attachments[0].ref.replace(/^sandbox:/, '');
    expect((await t.sandbox!.file(ref))?.data.toString()).toBe('content of 红包照片.jpg');

    const confirm = button(card.card!, 'decl.confirm');
    expect((await t.click('S0001', card.id, 'decl.confirm', confirm.value)).body.toast).toBe('已提交。');
    expect(json((await pendingCard('S0003', id)).card)).toContain('红包照片.jpg、情况说明.pdf');
    expect(await approve('S0003', id)).toContain('已同意');
    expect(await approve('S0041', id)).toContain('已同意');
    await approve('S0037', id);
    expect((await getDeclaration(t.app.db, id))!.state).toBe('registered');

    const [shown] = await ask(t, 'S0001', `申报 SB-${id}`);
    expect(json(shown.card)).toContain('附件（2 个）：红包照片.jpg、情况说明.pdf');
    expect(json(shown.card)).toContain('添加照片或文件');

    // The audit row says how many, never what.
    const trail = await auditTrail(t.app.db, 'declaration', id);
    const attach = trail.filter((r) => r.action === 'declaration.attach');
    expect(attach).toHaveLength(1);
    const details = await t.app.db.query<{ detail: unknown }>(`SELECT detail FROM audit_log WHERE entity_type = 'declaration' AND entity_id = $1`, [id]);
    expect(details.rows.map((r) => r.detail)).toContainEqual({ count: 2 });
    expect(json(details.rows)).not.toContain('红包照片');
  });

  it('keeps a copy of every file and sends it privately to those who may see it, and to nobody else', async () => {
    const photo = randomBytes(3000);
    const scan = randomBytes(1200);
    const preview = await draft('S0001');
    const id = String(button(preview.card!, 'decl.attach').value!.id);
    await clickAttach('S0001', preview);
    await sendFiles('S0001', [
      { name: '现场照片.jpg', mime: 'image/jpeg', contentBase64: photo.toString('base64') },
      { name: '退还凭证.pdf', mime: 'application/pdf', contentBase64: scan.toString('base64') },
    ]);
    const [card] = await ask(t, 'S0001', '完成');
    await t.click('S0001', card.id, 'decl.confirm', button(card.card!, 'decl.confirm').value);
    const d = (await getDeclaration(t.app.db, id))!;
    expect(d.attachments.map((a) => [a.size, a.sha256])).toEqual([
      [photo.length, createHash('sha256').update(photo).digest('hex')],
      [scan.length, createHash('sha256').update(scan).digest('hex')],
    ]);

    // The department head opens them from the approval card: two private file messages, the same bytes.
    const pending = await pendingCard('S0003', id);
    const before = (await t.inbox('S0003')).length;
    const r = await t.click('S0003', pending.id, 'decl.files', button(pending.card!, 'decl.files').value);
    expect(r.body.toast).toBe('已把 2 个附件私聊发送给您。附件涉及保密信息，请勿转发。');
    const got = (await t.inbox('S0003')).slice(before);
    // 16: each names its file once; the photo is previewed on the page, the PDF only linked.
    expect(got.map((m) => m.text)).toEqual(['图片：现场照片.jpg', '文件：退还凭证.pdf']);
    const shown = got.map((m) => m.html!.replace(/<[^>]+>/g, ''));
    expect(shown).toEqual(['图片：现场照片.jpg 下载', '文件：退还凭证.pdf 下载']);
    expect(got[0].html).toContain(`<img class="preview" src="${got[0].fileUrl}" alt="现场照片.jpg">`);
    expect(got[1].html).not.toContain('<img');
    const bytes = await Promise.all(got.map(async (m) => Buffer.from(await (await fetch(`${t.url}${m.fileUrl}`)).arrayBuffer())));
    expect(bytes[0].equals(photo)).toBe(true);
    expect(bytes[1].equals(scan)).toBe(true);

    // Someone else, sending the same action through a card of their own, gets nothing.
    const other = await draft('S0009');
    await clickAttach('S0009', other);
    await sendFiles('S0009', [file('自己的照片.jpg')]);
    const [own] = await ask(t, 'S0009', '完成');
    const forgedBefore = (await t.inbox('S0009')).length;
    const forged = await t.click('S0009', own.id, 'decl.files', { id });
    expect(forged.body.toast).toBe('没有找到这条申报，或您无权查看。');
    expect(await t.inbox('S0009')).toHaveLength(forgedBefore);

    // Who opened the evidence is on record, with how many files and nothing of their content.
    const views = await t.app.db.query<{ actor: string; detail: unknown }>(`SELECT actor, detail FROM audit_log WHERE action = 'declaration.files_viewed' AND entity_id = $1`, [id]);
    expect(views.rows).toEqual([{ actor: 'S0003', detail: { count: 2 } }]);
  });

  it('answers a file sent outside any dialogue politely', async () => {
    const [reply] = await sendFiles('S0002', [file('a.jpg')]);
    expect(reply.text).toBe('如需为上缴申报附上照片或文件，请在申报卡片上点“添加照片或文件”。');
  });

  it('keeps the old API: a body with neither text nor files is a 400', async () => {
    const r = await fetch(`${t.url}/sandbox/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: 'S0001' }) });
    expect(r.status).toBe(400);
    const empty = await fetch(`${t.url}/sandbox/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: 'S0001', text: '', files: [] }) });
    expect(empty.status).toBe(400);
  });

  it('refuses someone else clicking 添加照片或文件 on the card', async () => {
    const preview = await draft('S0009');
    const r = await t.click('S0001', preview.id, 'decl.attach', button(preview.card!, 'decl.attach').value);
    // The sandbox only lets the addressee click; a forged value through the addressee's own card is the real test below.
    expect(r.status).toBe(404);
    const mine = await draft('S0001');
    const forged = await t.click('S0001', mine.id, 'decl.attach', button(preview.card!, 'decl.attach').value);
    expect(forged.body.toast).toBe('没有找到这条申报，或您无权查看。');
  });

  it('carries the attachments into an amended resubmission and the XLSX export', async () => {
    const preview = await draft('S0006');
    const id = String(button(preview.card!, 'decl.attach').value!.id);
    await clickAttach('S0006', preview);
    await sendFiles('S0006', [file('水果照片.png')]);
    const [card] = await ask(t, 'S0006', '完成');
    await t.click('S0006', card.id, 'decl.confirm', button(card.card!, 'decl.confirm').value);
    const pending = await pendingCard('S0003', id);
    const reject = pending.card!.elements.find((e) => e.type === 'form') as { value?: unknown } | undefined;
    expect((await t.click('S0003', pending.id, 'decl.reject', reject?.value, { reason: '请核实金额' })).body.toast).toContain('已驳回');
    const rejection = [...(await t.inbox('S0006'))].reverse().find((m) => m.kind === 'card' && m.card!.title.includes('被驳回'))!;
    await t.click('S0006', rejection.id, 'decl.amend', button(rejection.card!, 'decl.amend').value);
    const amendForm = [...(await t.inbox('S0006'))].reverse().find((m) => m.kind === 'card' && m.card!.title.includes('修改后重新提交'))!;
    const f = amendForm.card!.elements.find((e) => e.type === 'form') as { value?: unknown };
    await t.click('S0006', amendForm.id, 'decl.form', f.value, { kind: 'cash', amount: '600', receivedOn: '2026-11-20', giver: 'family', handling: 'to_patient_account', description: '' });
    const amended = [...(await t.inbox('S0006'))].reverse().find((m) => m.kind === 'card' && m.card!.title.includes('请核对'))!;
    expect(json(amended.card)).toContain('附件（1 个）：水果照片.png');
    const newId = String(button(amended.card!, 'decl.confirm').value!.id);
    expect(newId).not.toBe(id);
    expect((await getDeclaration(t.app.db, newId))!.attachments.map((a) => a.name)).toEqual(['水果照片.png']);

    const [reply] = await ask(t, 'S0040', '导出申报', 2);
    const exported = [reply].concat(await t.inbox('S0040')).find((m) => m.fileUrl)!;
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(await (await fetch(`${t.url}${exported.fileUrl}`)).arrayBuffer()) as never);
    const sheet = JSON.stringify(wb.getWorksheet('上缴申报')!.getSheetValues());
    expect(sheet).toContain('附件');
    expect(sheet).toContain('红包照片.jpg、情况说明.pdf');
  });

  it('refuses a 10th file with a message', async () => {
    const preview = await draft('S0004');
    const id = String(button(preview.card!, 'decl.attach').value!.id);
    await clickAttach('S0004', preview);
    const [nine] = await sendFiles('S0004', Array.from({ length: 9 }, (_, i) => file(`照片${i + 1}.jpg`)));
    expect(nine.text).toContain('共 9 个');
    const [tenth] = await sendFiles('S0004', [file('照片10.jpg')]);
    expect(tenth.text).toContain('最多附 9 个');
    expect((await getDeclaration(t.app.db, id))!.attachments).toHaveLength(9);
    const [card] = await ask(t, 'S0004', '完成');
    expect(json(card.card)).toContain('附件（9 个）');
  });
});
