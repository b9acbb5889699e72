import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxPlatform } from '../src/platform/sandbox/adapter.js';
import { getDeclaration } from '../src/store/declarations.js';
import { button } from './helpers/cards.js';
import { ask, startTestApp, type TestApp } from './helpers/app.js';

/**
 * A platform without form inputs (DingTalk's plain cards): `上缴` becomes a step-by-step
 * dialogue with the same fields and checks, and gives the same record as the one-liner.
 */


describe('上缴申报 on a platform without forms', () => {
  let t: TestApp;
  beforeAll(async () => {
    const noForms = Object.assign(new SandboxPlatform(), { supportsForms: false });
    t = await startTestApp({ label: 'declaration_dialogue', platforms: [noForms] });
  });
  afterAll(async () => {
    await t.dispose();
  });

  const say1 = async (u: string, text: string) => (await ask(t, u, text))[0];
  const content = async (id: string) => {
    const d = (await getDeclaration(t.app.db, id))!;
    return { kind: d.kind, amount: d.amount, receivedOn: d.receivedOn, giver: d.giver, handling: d.handling, description: d.description, declarantId: d.declarantId, state: d.state };
  };

  it('asks each field in turn, re-asks on a bad answer, and gives the same record as the one-liner', async () => {
    expect((await say1('S0001', '上缴')).text).toContain('请选择类别');
    expect((await say1('S0001', '钻石')).text).toContain('类别“钻石”无法识别');
    expect((await say1('S0001', '1')).text).toContain('请填写金额');
    expect((await say1('S0001', '10.555')).text).toContain('金额最多保留两位小数');
    expect((await say1('S0001', '500')).text).toContain('收到日期');
    expect((await say1('S0001', '2099-01-01')).text).toContain('收到日期不能晚于今天');
    expect((await say1('S0001', '2026-11-20')).text).toContain('送礼人');
    expect((await say1('S0001', '2')).text).toContain('处理方式');
    expect((await say1('S0001', '存入住院账户')).text).toContain('情况说明');
    expect((await say1('S0001', 'x'.repeat(501))).text).toContain('最多 500 字');
    const viaDialogue = await say1('S0001', '病历夹里的信封，家属电话13812345678');
    expect(viaDialogue.kind).toBe('card');
    expect(JSON.stringify(viaDialogue.card)).toContain('第五条');
    const a = String(button(viaDialogue.card!, 'decl.confirm').value!.id);

    const viaLine = await say1('S0001', '上缴 礼金 500 患者家属 2026-11-20 存入住院账户 病历夹里的信封，家属电话13812345678');
    const b = String(button(viaLine.card!, 'decl.confirm').value!.id);
    expect(a).not.toBe(b);
    expect(await content(a)).toEqual(await content(b));
    expect((await content(a)).description).toBe('病历夹里的信封，家属电话138****5678');
  });

  it('edits a draft in the dialogue, keeping answers with 不变', async () => {
    const preview = await say1('S0006', '上缴 礼品 300 患者 2026-11-21 事后退还 茶叶');
    const edit = button(preview.card!, 'decl.edit');
    expect((await t.click('S0006', preview.id, 'decl.edit', edit.value)).body.toast).toContain('对话');
    const inbox = await t.inbox('S0006');
    expect(inbox.at(-1)!.text).toContain('当前：礼品');
    for (const answer of ['不变', '350']) await say1('S0006', answer);
    for (const answer of ['不变', '不变', '不变']) await say1('S0006', answer);
    const updated = await say1('S0006', '不变');
    expect(updated.kind).toBe('card');
    const id = String(edit.value!.id);
    expect(await content(id)).toMatchObject({ kind: 'gift', amount: '350.00', receivedOn: '2026-11-21', handling: 'returned', description: '茶叶', state: 'draft' });
  });

  it('lets an approver reject step by step, and every copy of the card shows the decision', async () => {
    const preview = await say1('S0012', '上缴 礼金 200 患者 2026-11-22 当场拒收');
    const confirm = button(preview.card!, 'decl.confirm');
    await t.click('S0012', preview.id, 'decl.confirm', confirm.value);
    const card = (await t.inbox('S0009')).find((m) => JSON.stringify(m.card).includes(`"SB-${confirm.value!.id}"`))!;
    // The reject form became a "fill in step by step" button.
    const fill = button(card.card!, 'form.fill');
    expect(fill.label).toContain('驳回');
    await t.click('S0009', card.id, 'form.fill', fill.value);
    expect((await t.inbox('S0009')).at(-1)!.text).toContain('驳回理由');
    await ask(t, 'S0009', '请补充送礼经过');
    const d = (await getDeclaration(t.app.db, String(confirm.value!.id)))!;
    expect([d.state, d.lastReason]).toEqual(['rejected', '请补充送礼经过']);
    const updated = (await t.inbox('S0009')).find((m) => m.id === card.id)!;
    expect(updated.card!.title).toContain('已驳回');
    expect((await t.inbox('S0012')).some((m) => m.card?.title.includes('被驳回'))).toBe(true);
  });

  it('16.2 `上缴 500` starts a declaration of 500 and asks only for the rest; `上缴 SB-n` still looks one up', async () => {
    const first = await say1('S0013', '上缴 500');
    // Before, 500 was read as the reference SB-500: "没有找到这条申报".
    expect(first.text).not.toContain('没有找到');
    expect(first.text).toContain('请选择类别');
    expect((await say1('S0013', '1')).text).toContain('收到日期');
    expect((await say1('S0013', '2026-11-20')).text).toContain('送礼人');
    expect((await say1('S0013', '1')).text).toContain('处理方式');
    expect((await say1('S0013', '1')).text).toContain('情况说明');
    const preview = await say1('S0013', '跳过');
    const id = String(button(preview.card!, 'decl.confirm').value!.id);
    expect((await content(id)).amount).toBe('500.00');
    const lookup = await say1('S0013', `上缴 SB-${id}`);
    expect(lookup.kind).toBe('card');
    expect(JSON.stringify(lookup.card)).toContain(`SB-${id}`);
    expect((await say1('S0013', '上缴 0')).text).toContain('必须大于 0 元');
  });
});
