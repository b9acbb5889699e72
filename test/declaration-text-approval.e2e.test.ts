import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionValue } from '../cards/model.js';
import { auditTrail } from '../src/store/audit.js';
import { getDeclaration } from '../src/store/declarations.js';
import { NO_SUCH_DECLARATION, STALE } from '../src/domain/declaration/workflow.js';
import { button, buttonsOf } from './helpers/cards.js';
import { ask, startTestApp, type TestApp } from './helpers/app.js';

/**
 * Deciding a declaration by typing (同意 / 确认收款 / 驳回 SB-n), for platforms or clients where
 * card clicks do not arrive: the same decide(), the same authority, the cards still updated.
 */
describe('上缴申报 decided by text commands (real Redis + PostgreSQL)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ label: 'declaration_text', settings: { declaration: { maxAmountYuan: 50_000, reminderHours: 48 } } });
  });
  afterAll(async () => {
    await t?.dispose();
  });

  const say = async (user: string, text: string) => {
    const [m] = await ask(t, user, text);
    return m.text ?? JSON.stringify(m.card);
  };
  const state = async (id: string) => (await getDeclaration(t.app.db, id))!.state;

  it('lists, refuses, rejects without a reason, then approves through every step to registration', async () => {
    const [preview] = await ask(t, 'S0001', '上缴 礼金 800 患者家属 2026-11-20 上缴医院财务 手术后家属留下的信封');
    const confirm = button(preview.card!, 'decl.confirm');
    await t.click('S0001', preview.id, 'decl.confirm', confirm.value);
    const id = String(confirm.value!.id);
    const ref = `SB-${id}`;

    // The card itself says how to decide by text.
    const card = [...(await t.inbox('S0003'))].reverse().find((m) => m.card?.title.includes(ref))!;
    expect(JSON.stringify(card.card)).toContain(`也可以直接回复“同意 ${ref}”或“驳回 ${ref} 理由”。`);

    const [list] = await ask(t, 'S0003', '待审批');
    expect(list.card!.title).toBe('待您处理的上缴申报（1 条）');
    expect(JSON.stringify(list.card)).toContain(ref);
    expect(await say('S0041', '待审批')).toBe('目前没有等待您处理的上缴申报。');

    // Wrong role, wrong step, missing number, missing reason: each refused, nothing changes.
    expect(await say('S0006', `同意 ${ref}`)).toBe('抱歉，“同意”仅限科室负责人、纪检监察、财务使用。发送“帮助”查看您可以使用的命令。');
    // The head of another department.
    expect(await say('S0009', `同意 ${ref}`)).toBe(`${ref} 目前没有等待您处理的审批。发送“待审批”查看等待您处理的申报。`);
    expect(await say('S0041', `同意 ${ref}`)).toBe(`${ref} 目前没有等待您处理的审批。发送“待审批”查看等待您处理的申报。`);
    // 14: a word the declared args cannot place is answered with what belongs there.
    expect(await say('S0003', '同意 明天')).toBe('没有看懂“明天”，请写明SB-编号。例如“同意 SB-12”。发送“待审批”查看等待您处理的申报。');
    expect(await say('S0003', `驳回 ${ref}`)).toBe('请写明理由。例如“驳回 SB-12 金额与实际不符”。发送“待审批”查看等待您处理的申报。');
    expect(await say('S0003', `同意 SB-999999`)).toBe('SB-999999 目前没有等待您处理的审批。发送“待审批”查看等待您处理的申报。');
    expect(await state(id)).toBe('pending_dept');

    expect(await say('S0003', `同意 ${ref}`)).toBe(`已同意 ${ref}，已转下一环节。`);
    expect(await state(id)).toBe('pending_discipline');
    // The head's card was updated in place, as a click would have done.
    const updated = (await t.inbox('S0003')).find((m) => m.id === card.id)!;
    expect(updated.card!.title).toContain('已同意');

    // Two discipline members type at once: one decision.
    // 16.3: 确认收款 is the finance step's words only.
    expect(await say('S0040', `确认收款 ${ref}`)).toBe(`${ref} 目前在纪检监察室审核环节，“确认收款”只用于财务科确认收款；同意请回复“同意 ${ref}”。`);
    expect(await state(id)).toBe('pending_discipline');
    const both = await Promise.all(['S0040', 'S0041'].map((u) => say(u, `同意 ${ref}`)));
    expect(both.filter((x) => x === `已同意 ${ref}，已转下一环节。`)).toHaveLength(1);
    expect(await state(id)).toBe('pending_finance');

    // 16.3: a typed 同意 does not confirm that money was received.
    expect(await say('S0037', `同意 ${ref}`)).toBe(`${ref} 在财务科确认收款环节：请核实款物已交到财务科（或已存入患者住院账户）后，回复“确认收款 ${ref}”。`);
    expect(await state(id)).toBe('pending_finance');
    const done = await say('S0037', `确认收款 ${ref}`);
    expect(done).toMatch(new RegExp(`^已登记 ${ref}，回执编号 HB-\\d{4}-\\d{6}。$`));
    expect(await state(id)).toBe('registered');
    const trail = await auditTrail(t.app.db, 'declaration', id);
    expect(trail.filter((r) => r.action !== 'declaration.draft').map((r) => [r.actor, r.to_state])).toEqual([
      ['S0001', 'pending_dept'],
      ['S0003', 'pending_discipline'],
      [expect.stringMatching(/^S004[01]$/), 'pending_finance'],
      ['S0037', 'registered'],
    ]);
  });

  it('16: 处理 SB-n on the pending list sends the approval card of the current step as a new message', async () => {
    const [preview] = await ask(t, 'S0001', '上缴 礼金 600 患者家属 2026-11-22 上缴医院财务 出院时家属塞的红包');
    const confirm = button(preview.card!, 'decl.confirm');
    await t.click('S0001', preview.id, 'decl.confirm', confirm.value);
    const id = String(confirm.value!.id);
    const ref = `SB-${id}`;

    const [list] = await ask(t, 'S0003', '待审批');
    const open = buttonsOf(list.card!).find((b) => b.label === `处理 ${ref}`)!;
    expect(open.actionId).toBe('decl.open');
    // Someone who is not this step's approver, and a number that does not exist: the same answer.
    const forged = (userId: string, value: ActionValue | undefined) =>
      t.app.bot.onAction({ kind: 'action', platform: 'sandbox', eventId: `open-${userId}-${JSON.stringify(value)}`, platformUserId: userId, conversation: { type: 'direct', platformUserId: userId }, messageId: 'any', actionId: 'decl.open', value, receivedAt: new Date() });
    for (const user of ['S0006', 'S0009', 'S0037']) expect([user, await forged(user, open.value)]).toEqual([user, { toast: NO_SUCH_DECLARATION }]);
    expect((await t.click('S0003', list.id, 'decl.open', { id: '999999' })).body.toast).toBe(NO_SUCH_DECLARATION);

    const before = (await t.inbox('S0003')).length;
    expect((await t.click('S0003', list.id, 'decl.open', open.value)).body.toast).toBe(`已发送 ${ref} 的审批卡片，请在新卡片上处理。`);
    const [sent] = await t.waitForReplies('S0003', before);
    expect(sent.card!.title).toBe(`上缴申报待审核 · ${ref}`);
    expect(button(sent.card!, 'decl.approve').value).toEqual({ id, v: (await getDeclaration(t.app.db, id))!.version, step: 'dept' });
    // The list is not redrawn.
    expect((await t.inbox('S0003')).find((m) => m.id === list.id)!.card).toEqual(list.card);

    // The card that was sent decides like the workflow's own.
    expect((await t.click('S0003', sent.id, 'decl.approve', button(sent.card!, 'decl.approve').value)).body.toast).toBe(`已同意 ${ref}，已转下一环节。`);
    expect(await state(id)).toBe('pending_discipline');
    // The old row now: decided, so stale to the head who may still see it; the discipline office gets its own step's card.
    expect((await t.click('S0003', list.id, 'decl.open', open.value)).body.toast).toBe(STALE);
    const [theirs] = await ask(t, 'S0040', '待审批');
    const row = buttonsOf(theirs.card!).find((b) => b.label === `处理 ${ref}`)!;
    const n = (await t.inbox('S0040')).length;
    await t.click('S0040', theirs.id, 'decl.open', row.value);
    const [card] = await t.waitForReplies('S0040', n);
    expect(button(card.card!, 'decl.approve').value).toMatchObject({ id, step: 'discipline' });
  });

  it('rejects with the typed reason, which reaches the declarant', async () => {
    const [preview] = await ask(t, 'S0004', '上缴 礼品 200 医药企业或代表 2026-11-21 事后退还 一盒保健品');
    const confirm = button(preview.card!, 'decl.confirm');
    await t.click('S0004', preview.id, 'decl.confirm', confirm.value);
    const ref = `SB-${String(confirm.value!.id)}`;
    const head = (await t.app.db.query<{ staff_id: string }>(`SELECT staff_id FROM declaration_cards WHERE declaration_id = $1 LIMIT 1`, [confirm.value!.id])).rows[0].staff_id;
    expect(await say(head, `驳回 ${ref}  请补充退还凭证的日期`)).toBe(`已驳回 ${ref}，申报人会收到驳回理由。`);
    const told = [...(await t.inbox('S0004'))].reverse().find((m) => m.card?.title.includes('被驳回'))!;
    expect(JSON.stringify(told.card)).toContain('驳回理由：请补充退还凭证的日期');
  });
});
