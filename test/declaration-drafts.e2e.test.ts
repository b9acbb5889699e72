import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxMessage } from '../src/platform/sandbox/adapter.js';
import { getDeclaration } from '../src/store/declarations.js';
import { button, buttonsOf, formOf } from './helpers/cards.js';
import { ask, startTestApp, type TestApp } from './helpers/app.js';

/**
 * Issue 16 (Declarations): drafts apart in 我的申报, a draft's own detail card with 提交/修改/删除,
 * the links between a rejected declaration and its resubmission, and 我的进度 counting each chain once.
 */

const json = (x: unknown) => JSON.stringify(x);

describe('16 declaration drafts and resubmissions (real Redis + PostgreSQL)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ label: 'declaration_drafts', settings: { declaration: { maxAmountYuan: 50_000, reminderHours: 48 } } });
  });
  afterAll(async () => {
    await t?.dispose();
  });

  const state = async (id: string) => (await getDeclaration(t.app.db, id))!;
  const draftOf = async (user: string, line: string): Promise<{ id: string; preview: SandboxMessage }> => {
    const [preview] = await ask(t, user, line);
    expect(preview.kind, preview.text).toBe('card');
    return { id: String(button(preview.card!, 'decl.confirm').value!.id), preview };
  };
  const tablesOf = (m: SandboxMessage) => m.card!.elements.filter((e) => e.type === 'table') as { rows: string[][] }[];

  it('16.1 我的申报 shows one-liner drafts in their own section', async () => {
    const a = await draftOf('S0012', '上缴 礼金 100 患者 2026-11-20 当场拒收');
    const b = await draftOf('S0012', '上缴 礼品 60 患者 2026-11-21 事后退还 一盒点心');
    const sent = await draftOf('S0012', '上缴 礼金 300 患者家属 2026-11-22 存入住院账户');
    await t.click('S0012', sent.preview.id, 'decl.confirm', button(sent.preview.card!, 'decl.confirm').value);
    const [mine] = await ask(t, 'S0012', '我的申报');
    expect(json(mine.card)).toContain('草稿（尚未提交）：2 份');
    const [drafts, submitted] = tablesOf(mine);
    expect(drafts.rows.map((r) => r[0])).toEqual([`SB-${b.id}`, `SB-${a.id}`]);
    expect(submitted.rows.map((r) => r[0])).toEqual([`SB-${sent.id}`]);
  });

  it('16.2 申报 SB-n on an own draft offers 提交, 修改 and 删除 through the review card\'s actions', async () => {
    const { id } = await draftOf('S0001', '上缴 礼金 200 患者 2026-11-20 当场拒收');
    const [detail] = await ask(t, 'S0001', `申报 SB-${id}`);
    expect(detail.card!.title).toBe(`上缴申报草稿 · SB-${id}`);
    expect(buttonsOf(detail.card!).map((b) => [b.label, b.actionId])).toEqual([
      ['提交', 'decl.confirm'],
      ['修改', 'decl.edit'],
      ['删除', 'decl.cancel'],
    ]);
    expect(button(detail.card!, 'decl.cancel').confirm).toContain('确定删除这份草稿吗');

    // 修改 reopens the form filled in; saving gives the review card again.
    await t.click('S0001', detail.id, 'decl.edit', button(detail.card!, 'decl.edit').value);
    const editing = (await t.inbox('S0001')).find((m) => m.id === detail.id)!;
    const f = formOf(editing.card!);
    expect(f.inputs.find((i) => i.name === 'amount')!.initial).toBe('200.00');
    await t.click('S0001', detail.id, 'decl.form', f.value, { kind: 'cash', amount: '250', receivedOn: '2026-11-20', giver: 'patient', handling: 'refused', description: '' });
    expect((await state(id)).amount).toBe('250.00');

    // 提交 from a fresh detail card submits it, with the same checks: the old card is stale now.
    const [again] = await ask(t, 'S0001', `申报 SB-${id}`);
    expect((await t.click('S0001', detail.id, 'decl.confirm', button(detail.card!, 'decl.confirm').value)).body.toast).toContain('已有更新');
    expect((await t.click('S0001', again.id, 'decl.confirm', button(again.card!, 'decl.confirm').value)).body.toast).toBe('已提交。');
    expect((await state(id)).state).toBe('pending_dept');
    // Submitted, it is an ordinary detail without draft buttons.
    const [after] = await ask(t, 'S0001', `申报 SB-${id}`);
    expect(after.card!.title).toBe(`上缴申报 · SB-${id}`);
    expect(buttonsOf(after.card!).map((b) => b.actionId)).not.toContain('decl.confirm');

    // 删除 cancels another draft; someone else asking about a draft learns nothing.
    const other = await draftOf('S0001', '上缴 礼品 50 患者 2026-11-21 当场拒收');
    const [strange] = await ask(t, 'S0041', `申报 SB-${other.id}`);
    expect(strange.text).toContain('没有找到这条申报');
    const [del] = await ask(t, 'S0001', `申报 SB-${other.id}`);
    expect((await t.click('S0001', del.id, 'decl.cancel', button(del.card!, 'decl.cancel').value)).body.toast).toBe('已取消。');
    expect((await state(other.id)).state).toBe('cancelled');
  });
});
