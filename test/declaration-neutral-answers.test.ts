import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_SUCH_DECLARATION } from '../src/domain/declaration/workflow.js';
import type { ActionResult, CardAction } from '../src/platform/types.js';
import { getDeclaration } from '../src/store/declarations.js';
import { button } from './helpers/cards.js';
import { ask, startTestApp, type TestApp } from './helpers/app.js';

/**
 * 13.3: a stale or forged click, or a lookup by id, answers "exists but not yours" exactly as
 * "does not exist", and never with a card of the declaration's content.
 */

const MISSING = '999999';
const json = (x: unknown) => JSON.stringify(x);

describe('neutral answers for declarations one may not see (real Redis + PostgreSQL)', () => {
  let t: TestApp;
  let seq = 0;
  beforeAll(async () => {
    t = await startTestApp({ label: 'decl_neutral', settings: { declaration: { maxAmountYuan: 50_000, reminderHours: 48 } } });
  });
  afterAll(async () => {
    await t?.dispose();
  });

  /** A click as the platform delivers it, with whatever value the clicker sends. */
  const click = (userId: string, actionId: string, value: Record<string, string | number>): Promise<ActionResult> =>
    t.app.bot.onAction({
      kind: 'action',
      platform: 'sandbox',
      eventId: `neutral-${++seq}`,
      platformUserId: userId,
      conversation: { type: 'direct', platformUserId: userId },
      messageId: 'any',
      actionId,
      value,
      receivedAt: new Date(),
    } satisfies CardAction);

  async function preview(user: string, line: string) {
    const [p] = await ask(t, user, line);
    return { card: p.card!, id: String(button(p.card!, 'decl.confirm').value!.id) };
  }
  async function declare(user: string, line: string): Promise<string> {
    const p = await preview(user, line);
    expect((await click(user, 'decl.confirm', { id: p.id, v: 1 })).toast).toBe('已提交。');
    return p.id;
  }
  const approveAs = async (user: string, id: string, step: string) => {
    const d = (await getDeclaration(t.app.db, id))!;
    return click(user, 'decl.approve', { id, v: d.version, step });
  };

  it('13.3 a forged decl.approve by a former approver answers as for a missing declaration, with no card', async () => {
    const id = await declare('S0001', '上缴 礼金 2468 患者家属 今天 存入住院账户 红色信封');
    const v = (await getDeclaration(t.app.db, id))!.version;
    expect((await approveAs('S0003', id, 'dept')).toast).toContain('已同意');
    // The head of department steps down: the roster no longer makes him an approver.
    await t.app.db.query(`DELETE FROM staff_roles WHERE staff_id = 'S0003' AND role = 'dept_head'`);
    const forgedOld = await click('S0003', 'decl.approve', { id, v, step: 'dept' });
    const forgedNow = await approveAs('S0003', id, 'discipline');
    const missing = await click('S0003', 'decl.approve', { id: MISSING, v: 1, step: 'dept' });
    const rejected = await click('S0003', 'decl.reject', { id, v: v + 1, step: 'discipline' });
    for (const r of [forgedOld, forgedNow, missing, rejected]) expect(r).toEqual({ toast: NO_SUCH_DECLARATION });
    expect((await getDeclaration(t.app.db, id))!.state).toBe('pending_discipline');
    await t.app.db.query(`INSERT INTO staff_roles (staff_id, role) VALUES ('S0003', 'dept_head')`);
  });

  it('13.3 a stale click by someone who may decide the step but not see the declaration gets no card', async () => {
    // S0009 heads 普外科; the declaration is of 普外科 and was decided by nobody he could see.
    const id = await declare('S0012', '上缴 礼品 135 患者 今天 当场拒收 一盒点心');
    expect((await approveAs('S0009', id, 'dept')).toast).toContain('已同意');
    // A second head appointed later never received a card for it.
    await t.app.db.query(`INSERT INTO staff_roles (staff_id, role) VALUES ('S0013', 'dept_head')`);
    const stale = await click('S0013', 'decl.approve', { id, v: 1, step: 'dept' });
    await t.app.db.query(`DELETE FROM staff_roles WHERE staff_id = 'S0013' AND role = 'dept_head'`);
    expect(stale).toEqual({ toast: NO_SUCH_DECLARATION });
    expect(json(stale)).not.toContain('一盒点心');
  });

  it("13.3 someone else's SB id and receipt number answer exactly as SB-999999 and a receipt that does not exist", async () => {
    const id = await declare('S0014', '上缴 礼品 246 患者 今天 当场拒收 一篮水果');
    expect((await approveAs('S0009', id, 'dept')).toast).toContain('已同意');
    expect((await approveAs('S0041', id, 'discipline')).toast).toContain('已登记');
    const receipt = (await getDeclaration(t.app.db, id))!.receiptNo!;
    const year = receipt.slice(3, 7);
    const answers = [];
    for (const q of [`SB-${id}`, `SB-${MISSING}`, receipt, `HB-${year}-999999`]) answers.push((await ask(t, 'S0015', `申报 ${q}`))[0].text);
    expect(new Set(answers).size).toBe(1);
    expect(answers[0]).toContain(NO_SUCH_DECLARATION);
  });

  it("13.3 the declarant's own actions on someone else's draft answer as for a missing one", async () => {
    const draft = await preview('S0016', '上缴 礼金 357 患者家属 今天 存入住院账户 门口塞的信封');
    const value = { id: draft.id, v: 1 };
    const none = { id: MISSING, v: 1 };
    for (const actionId of ['decl.confirm', 'decl.cancel', 'decl.edit', 'decl.attach']) {
      const theirs = await click('S0017', actionId, value);
      const missing = await click('S0017', actionId, none);
      expect([actionId, theirs]).toEqual([actionId, { toast: NO_SUCH_DECLARATION }]);
      expect([actionId, missing]).toEqual([actionId, { toast: NO_SUCH_DECLARATION }]);
    }
    for (const actionId of ['decl.amend', 'decl.files']) {
      expect(await click('S0017', actionId, { id: draft.id })).toEqual({ toast: NO_SUCH_DECLARATION });
      expect(await click('S0017', actionId, { id: MISSING })).toEqual({ toast: NO_SUCH_DECLARATION });
    }
    expect(await click('S0017', 'decl.form', { id: draft.id, v: 1 })).toEqual({ toast: NO_SUCH_DECLARATION });
    expect(await click('S0017', 'decl.form', { amends: MISSING })).toEqual({ toast: NO_SUCH_DECLARATION });
    expect((await getDeclaration(t.app.db, draft.id))!.state).toBe('draft');
  });
});
