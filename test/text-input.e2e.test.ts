import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Card } from '../cards/model.js';
import { SandboxPlatform } from '../src/platform/sandbox/adapter.js';
import { getDeclaration } from '../src/store/declarations.js';
import { button, formOf } from './helpers/cards.js';
import { ask, startTestApp, type TestApp } from './helpers/app.js';

/**
 * 13.4 and 13.11 through the real flows on real Redis and PostgreSQL: whatever a user types —
 * a declaration, a rejection reason (typed or in the card's form), a report, a file's name, a
 * dialogue answer waiting in Redis — is stored without control or bidi characters and with
 * personal numbers masked, and the user is told once what was masked.
 */

const json = (x: unknown) => JSON.stringify(x);
const PHONE = '13812345678';
const ID = '110101199003074514';
const NOTICE = '已做遮挡后保存';

describe('typed text is cleaned and masked before it is stored (forms platform)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ label: 'text_input', settings: { declaration: { maxAmountYuan: 50_000, reminderHours: 48 } } });
  });
  afterAll(async () => {
    await t?.dispose();
  });

  const idOf = (c: Card) => String(button(c, 'decl.confirm').value!.id);

  it('13.11 a description with NUL, other controls and bidi overrides is stored cleaned, never a database error', async () => {
    const [preview] = await ask(t, 'S0001', `上缴 礼金 500 患者家属 2026-11-20 存入住院账户 家属\u0000留下\u0007信封\u202e\u2066（已退）\u2069`);
    expect(preview.kind, preview.text).toBe('card');
    const d = (await getDeclaration(t.app.db, idOf(preview.card!)))!;
    expect(d.description).toBe('家属留下信封（已退）');
  });

  it('13.11 the same through a form submission', async () => {
    const [formCard] = await ask(t, 'S0001', '上缴');
    const f = formOf(formCard.card!);
    const r = await t.click('S0001', formCard.id, f.actionId, f.value as Record<string, string>, {
      kind: 'cash', amount: '1，500', receivedOn: '2026-11-20', giver: 'family', handling: 'refused', description: `第一行\r\n第二行\u0000\u202d结束`,
    });
    expect(r.status).toBe(200);
    const updated = (await t.inbox('S0001')).find((m) => m.id === formCard.id)!;
    const d = (await getDeclaration(t.app.db, idOf(updated.card!)))!;
    expect([d.amount, d.description]).toEqual(['1500.00', '第一行\n第二行结束']);
  });

  it('13.11 misplaced thousands separators are refused, naming the field, and nothing is saved', async () => {
    const before = (await t.app.db.query(`SELECT count(*)::int AS n FROM declarations`)).rows[0].n;
    for (const amount of ['1,5', '500，00', '1,50,0']) {
      const [reply] = await ask(t, 'S0001', `上缴 礼金 ${amount} 患者家属 2026-11-20 存入住院账户`);
      expect(reply.text).toContain(`金额“${amount}”的千位分隔符位置不对`);
    }
    expect((await t.app.db.query(`SELECT count(*)::int AS n FROM declarations`)).rows[0].n).toBe(before);
  });

  it('13.4 a form description is masked in storage and the card says so once', async () => {
    const [formCard] = await ask(t, 'S0001', '上缴');
    const f = formOf(formCard.card!);
    await t.click('S0001', formCard.id, f.actionId, f.value as Record<string, string>, {
      kind: 'cash', amount: '800', receivedOn: '2026-11-20', giver: 'family', handling: 'refused', description: `患者身份证 ${ID}，家属手机 ＋86 138 1234 5678`,
    });
    const updated = (await t.inbox('S0001')).find((m) => m.id === formCard.id)!;
    const d = (await getDeclaration(t.app.db, idOf(updated.card!)))!;
    expect(d.description).toBe('患者身份证 110***********4514，家属手机 +86 138****5678');
    expect(json(updated.card).split(NOTICE)).toHaveLength(2);
    expect(json(updated.card)).toContain('身份证号 1 处、手机号 1 处');
  });

  it('13.4 rejection reasons, typed or from the card, are masked in the declaration and the audit log', async () => {
    const submit = async () => {
      const [preview] = await ask(t, 'S0001', '上缴 礼品 200 患者 2026-11-21 事后退还 一盒茶叶');
      const confirm = button(preview.card!, 'decl.confirm');
      await t.click('S0001', preview.id, 'decl.confirm', confirm.value);
      return String(confirm.value!.id);
    };
    const typed = await submit();
    const [answer] = await ask(t, 'S0003', `驳回 SB-${typed} 请核实，家属电话${PHONE}与病历不符`);
    expect(answer.text).toContain(`已驳回 SB-${typed}`);
    expect(answer.text).toContain(NOTICE);
    expect((await getDeclaration(t.app.db, typed))!.lastReason).toBe('请核实，家属电话138****5678与病历不符');

    const clicked = await submit();
    const card = [...(await t.inbox('S0003'))].reverse().find((m) => m.card?.title.includes(`SB-${clicked}`))!;
    const reject = formOf(card.card!);
    const r = await t.click('S0003', card.id, reject.actionId, reject.value as Record<string, string>, { reason: `患者证件 ${ID}\u0000 不应写入` });
    expect(r.status).toBe(200);
    expect((await getDeclaration(t.app.db, clicked))!.lastReason).toBe('患者证件 110***********4514 不应写入');

    const reasons = await t.app.db.query<{ reason: string }>(`SELECT reason FROM audit_log WHERE action = 'declaration.reject' AND entity_id = ANY($1::text[]) ORDER BY id`, [[typed, clicked]]);
    expect(reasons.rows.map((x) => x.reason)).toEqual(['请核实，家属电话138****5678与病历不符', '患者证件 110***********4514 不应写入']);
    expect(json(reasons.rows)).not.toContain(PHONE);
  });

  it('13.4 attachment names are masked on the declaration and in the stored copy', async () => {
    const [preview] = await ask(t, 'S0001', '上缴 礼金 300 患者家属 2026-11-20 存入住院账户');
    const attach = button(preview.card!, 'decl.attach');
    await t.click('S0001', preview.id, 'decl.attach', attach.value);
    const before = (await t.inbox('S0001')).length;
    const file = { name: `患者${PHONE}的收据.jpg`, mime: 'image/jpeg', contentBase64: Buffer.from('jpeg').toString('base64') };
    const r = await fetch(`${t.url}/sandbox/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: 'S0001', files: [file] }) });
    expect(r.status).toBe(202);
    const [added] = await t.waitForReplies('S0001', before);
    expect(added.text).toContain('已添加 1 个');
    expect(added.text).toContain(NOTICE);
    const d = (await getDeclaration(t.app.db, String(attach.value!.id)))!;
    expect(d.attachments.map((a) => a.name)).toEqual(['患者138****5678的收据.jpg']);
    const stored = await t.app.db.query<{ name: string }>(`SELECT name FROM stored_files WHERE id = $1`, [d.attachments[0].fileId]);
    expect(stored.rows[0].name).toBe('患者138****5678的收据.jpg');
  });

  it('13.4 and 13.11 report text is masked and its figures take only three-digit groups', async () => {
    const [open] = await ask(t, 'S0004', '上报');
    const f = formOf(open.card!);
    const refused = await t.click('S0004', open.id, f.actionId, f.value as Record<string, string>, { summary: '本月自查', f0: '1,5', f1: '2' });
    expect(refused.body.toast).toContain('本月自查发现问题数“1,5”的千位分隔符位置不对');

    const r1 = await t.click('S0004', open.id, f.actionId, f.value as Record<string, string>, {
      summary: `回访患者（电话 0571-8888 8888 转 12）\u0000\u202e`, f0: '1,500', f1: '2', attachment: `自查表-${PHONE}.xlsx`,
    });
    expect(r1.status).toBe(200);
    const confirmCard = (await t.inbox('S0004')).find((m) => m.id === open.id)!;
    expect(json(confirmCard.card)).toContain(NOTICE);
    const confirm = button(confirmCard.card!, 'report.confirm');
    await t.click('S0004', open.id, 'report.confirm', confirm.value);
    const row = await t.app.db.query<{ summary: string; attachment: string; figures: Record<string, number> }>(
      `SELECT summary, attachment, figures FROM report_submissions WHERE submitted_by = 'S0004' AND current`,
    );
    expect(row.rows[0]).toEqual({ summary: '回访患者（电话 0571-****8888转 12）', attachment: '自查表-138****5678.xlsx', figures: { 本月自查发现问题数: 1500, 已完成整改数: 2 } });
  });
});

describe('dialogue answers are masked before they wait in Redis (platform without forms)', () => {
  let t: TestApp;
  beforeAll(async () => {
    const noForms = Object.assign(new SandboxPlatform(), { supportsForms: false });
    t = await startTestApp({ label: 'text_input_dialogue', platforms: [noForms] });
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('13.4 a report summary answered in the dialogue is stored masked in Redis and the answer says so', async () => {
    const [open] = await ask(t, 'S0004', '上报');
    const fill = button(open.card!, 'form.fill');
    const before = (await t.inbox('S0004')).length;
    await t.click('S0004', open.id, 'form.fill', fill.value);
    const [prompt] = await t.waitForReplies('S0004', before);
    expect(prompt.text).toContain('本月工作进展');
    const [next] = await ask(t, 'S0004', `回访患者，身份证 ${ID}，电话 ${PHONE}\u0000`);
    expect(next.text).toContain(NOTICE);
    const raw = await t.app.redis.get(`${t.prefix}:dialogue:S0004`);
    expect(raw).toContain('回访患者，身份证 110***********4514，电话 138****5678');
    expect(raw).not.toContain(PHONE);
    expect(raw).not.toContain(ID);
    expect(raw).not.toContain('\\u0000');
  });

  it('13.11 a figure answered with a misplaced separator is asked again, naming the field', async () => {
    const [again] = await ask(t, 'S0004', '1,5');
    expect(again.text).toContain('本月自查发现问题数“1,5”的千位分隔符位置不对');
    const [ok] = await ask(t, 'S0004', '1,500');
    expect(ok.text).toContain('已完成整改数');
    expect(await t.app.redis.get(`${t.prefix}:dialogue:S0004`)).toContain('"f0":"1500"');
  });
});
