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

  const pendingCard = async (user: string, id: string) => {
    const all = (await t.inbox(user)).filter((m) => m.kind === 'card' && m.card!.title.includes('待') && json(m.card).includes(`"SB-${id}"`));
    return all[all.length - 1];
  };
  const approve = async (user: string, id: string) => {
    const m = await pendingCard(user, id);
    return (await t.click(user, m.id, 'decl.approve', button(m.card!, 'decl.approve').value)).body.toast;
  };
  const fieldsOf = (m: SandboxMessage): Record<string, string> =>
    Object.fromEntries(m.card!.elements.flatMap((e) => (e.type === 'fields' ? e.fields.map((f) => [f.label, f.value]) : [])));

  /** S0006's gift, rejected by the head of 心血管内科; returns the id and the rejection card. */
  async function rejected(): Promise<{ id: string; rejection: SandboxMessage }> {
    const { id, preview } = await draftOf('S0006', '上缴 礼品 200 患者 2026-11-24 事后退还 一篮水果');
    await t.click('S0006', preview.id, 'decl.confirm', button(preview.card!, 'decl.confirm').value);
    const m = await pendingCard('S0003', id);
    expect((await t.click('S0003', m.id, 'decl.reject', formOf(m.card!).value, { reason: '价值估计偏低，请核实' })).body.toast).toContain('已驳回');
    const rejection = [...(await t.inbox('S0006'))].reverse().find((x) => x.kind === 'card' && x.card!.title.includes('被驳回'))!;
    return { id, rejection };
  }

  let chain: { id: string; newId: string };
  it('16.3 a rejected declaration and its resubmission name each other in 我的申报 and in their details', async () => {
    const { id, rejection } = await rejected();
    await t.click('S0006', rejection.id, 'decl.amend', button(rejection.card!, 'decl.amend').value);
    const amendForm = [...(await t.inbox('S0006'))].reverse().find((x) => x.kind === 'card' && x.card!.title.includes('修改后重新提交'))!;
    await t.click('S0006', amendForm.id, 'decl.form', formOf(amendForm.card!).value, {
      kind: 'gift', amount: '380', receivedOn: '2026-11-24', giver: 'patient', handling: 'returned', description: '一篮水果和一盒点心，已退还',
    });
    const preview = [...(await t.inbox('S0006'))].reverse().find((x) => x.kind === 'card' && x.card!.title.includes('请核对'))!;
    const newId = String(button(preview.card!, 'decl.confirm').value!.id);

    // Still a draft: its author is told it is under way; the approver who rejected it learns nothing of it.
    const [whileDraft] = await ask(t, 'S0006', `申报 SB-${id}`);
    expect(fieldsOf(whileDraft)['后续']).toBe(`正在修改，修改稿 SB-${newId} 尚未提交`);
    const [headWhileDraft] = await ask(t, 'S0003', `申报 SB-${id}`);
    expect(json(headWhileDraft.card)).not.toContain(`SB-${newId}`);

    await t.click('S0006', preview.id, 'decl.confirm', button(preview.card!, 'decl.confirm').value);
    const [mine] = await ask(t, 'S0006', '我的申报');
    const rows = tablesOf(mine).at(-1)!.rows;
    expect(rows.find((r) => r[0] === `SB-${id}`)![4]).toBe(`已驳回（已重新提交为 SB-${newId}）`);
    expect(rows.find((r) => r[0] === `SB-${newId}`)![4]).toBe(`待科室负责人审核（修改自 SB-${id}）`);
    const [old] = await ask(t, 'S0006', `申报 SB-${id}`);
    expect(fieldsOf(old)['后续']).toBe(`已重新提交为 SB-${newId}`);
    const [next] = await ask(t, 'S0006', `申报 SB-${newId}`);
    expect(fieldsOf(next)['版本']).toBe(`第 2 版（修改自 SB-${id}）`);
    // The head decides the resubmission too, so may follow the link.
    const [head] = await ask(t, 'S0003', `申报 SB-${id}`);
    expect(fieldsOf(head)['后续']).toBe(`已重新提交为 SB-${newId}`);
    chain = { id, newId };
  });

  it('16.4 我的进度 counts a resubmission chain once, by its latest version', async () => {
    const counts = async () => fieldsOf((await ask(t, 'S0006', '我的进度'))[0])['我的申报'];
    expect(await counts()).toBe('审批中 1 件');
    expect(await approve('S0003', chain.newId)).toContain('已同意');
    expect(await approve('S0041', chain.newId)).toContain('已登记');
    expect((await state(chain.newId)).state).toBe('registered');
    // Rejected, then registered as its amendment: one 已登记, no 已驳回.
    expect(await counts()).toBe('已登记 1 件');

    // An amendment still a draft stands for its chain; cancelled, the rejection counts again.
    const { rejection } = await rejected();
    expect(await counts()).toBe('已登记 1 件，已驳回 1 件');
    await t.click('S0006', rejection.id, 'decl.amend', button(rejection.card!, 'decl.amend').value);
    const amendForm = [...(await t.inbox('S0006'))].reverse().find((x) => x.kind === 'card' && x.card!.title.includes('修改后重新提交'))!;
    await t.click('S0006', amendForm.id, 'decl.form', formOf(amendForm.card!).value, {
      kind: 'gift', amount: '300', receivedOn: '2026-11-24', giver: 'patient', handling: 'returned', description: '',
    });
    expect(await counts()).toBe('草稿 1 件，已登记 1 件');
    const preview = [...(await t.inbox('S0006'))].reverse().find((x) => x.kind === 'card' && x.card!.title.includes('请核对'))!;
    expect((await t.click('S0006', preview.id, 'decl.cancel', button(preview.card!, 'decl.cancel').value)).body.toast).toBe('已取消。');
    expect(await counts()).toBe('已登记 1 件，已驳回 1 件');
  });
});

