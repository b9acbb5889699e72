import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Card } from '../cards/model.js';
import { SandboxPlatform, type SandboxMessage } from '../src/platform/sandbox/adapter.js';
import { getDeclaration } from '../src/store/declarations.js';
import { ask, startTestApp, type TestApp } from './helpers/app.js';

/**
 * A platform that may not deliver card clicks and cannot show form inputs, as DingTalk robot
 * cards: every card names a code for its buttons, and `点 CODE N` does what the click would.
 * A whole declaration is submitted, rejected with a reason and approved by messages alone.
 */

/** The typed twin of the button labelled `label` on a card: "点 K7Q2 2". */
function typed(card: Card | undefined, label: string): string {
  const note = (card?.elements ?? []).find((e) => e.type === 'note' && e.text.startsWith('如点击按钮没有反应'));
  if (!note || note.type !== 'note') throw new Error(`no typed-button note on ${card?.title}`);
  const m = new RegExp(`点 ([2-9A-Z]{4}) (\\d+)（${label}[^）]*）`).exec(note.text);
  if (!m) throw new Error(`no button ${label} in: ${note.text}`);
  return `点 ${m[1]} ${m[2]}`;
}

describe('pressing card buttons by message (点 CODE N)', () => {
  let t: TestApp;
  beforeAll(async () => {
    const likeDingTalk = Object.assign(new SandboxPlatform(), { supportsForms: false, typedButtons: true });
    t = await startTestApp({ label: 'typed_buttons', platforms: [likeDingTalk] });
  });
  afterAll(async () => {
    await t?.dispose();
  });

  const newest = async (user: string, title: string): Promise<SandboxMessage> => [...(await t.inbox(user))].reverse().find((m) => m.card?.title.includes(title))!;

  it('submits a declaration and rejects it with a reason without a single click', async () => {
    const [preview] = await ask(t, 'S0001', '上缴 礼金 600 患者家属 2026-11-20 事后退还 出院时塞在床头');
    expect(preview.card!.title).toContain('请核对');
    // The declarant's notice (sent while handling), then what the click would have shown: toast and card.
    const [notice, toast, submitted] = await ask(t, 'S0001', typed(preview.card, '确认提交'), 3);
    expect(notice.text).toContain('已提交，正在等待科室负责人审核');
    expect(toast.text).toBe('已提交。');
    expect(submitted.card!.title).toMatch(/^上缴申报已提交 · SB-\d+$/);
    const id = /SB-(\d+)/.exec(submitted.card!.title)![1];
    expect((await getDeclaration(t.app.db, id))!.state).toBe('pending_dept');

    // Someone else typing the head's code is refused by the action's own checks; nothing moves.
    const headCard = await newest('S0003', `SB-${id}`);
    const [stranger] = await ask(t, 'S0006', typed(headCard.card, '同意'));
    expect(stranger.text).toBe('没有找到这条申报，或您无权查看。');
    expect((await getDeclaration(t.app.db, id))!.state).toBe('pending_dept');

    // The reject form became a "fill in step by step" button; its typed twin asks for the reason.
    // Two answers: the dialogue's first question, then the click's toast. Waiting for one let
    // the toast count as the answer to the reason, read before the rejection was made.
    const [ask1, started] = await ask(t, 'S0003', typed(headCard.card, '逐项填写并驳回'), 2);
    expect(ask1.text).toContain('驳回理由');
    expect(started.text).toBe('请在对话中逐项填写。');
    await ask(t, 'S0003', '请补充退还的时间和方式');
    expect((await getDeclaration(t.app.db, id))!.state).toBe('rejected');

    // Bad codes are answered, never guessed.
    expect((await ask(t, 'S0003', '点'))[0].text).toBe('请写明代码。请按卡片上的提示回复，例如“点 K7Q2 1”。');
    expect((await ask(t, 'S0003', '点 ZZZZ 1'))[0].text).toContain('找不到代码为“ZZZZ”的卡片按钮');
    const code = typed(headCard.card, '同意').split(' ')[1];
    expect((await ask(t, 'S0003', `点 ${code} 9`))[0].text).toMatch(/^这张卡片只有 \d 个按钮/);
    // The head's old card is stale now: pressing 同意 by message changes nothing, like a click.
    const [stale] = await ask(t, 'S0003', typed(headCard.card, '同意'));
    expect(stale.text).toContain('您已驳回过这条申报');
    expect((await getDeclaration(t.app.db, id))!.state).toBe('rejected');
  });

  it('marks the month’s study done from the pushed card by message', async () => {
    const [task] = await ask(t, 'S0007', '学习');
    const [toast] = await ask(t, 'S0007', typed(task.card, '我已学习'), 1);
    expect(toast.text).toMatch(/^已记录：您已完成\d{4}年\d{1,2}月的学习，谢谢！$/);
  });
});
