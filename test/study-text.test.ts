import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completionOf } from '../src/domain/study.js';
import { ask, startTestApp, type TestApp } from './helpers/app.js';

/** “学习 完成”: the 我已学习 button's twin, for clients where card clicks do not arrive. */
describe('confirming the month’s study by message', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ label: 'study_text', now: () => new Date('2026-11-25T02:00:00Z') });
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('records once, says so the second time, and refuses what it cannot read', async () => {
    const [task] = await ask(t, 'S0006', '学习');
    expect(JSON.stringify(task.card)).toContain('或回复“学习 完成”');
    const [unclear] = await ask(t, 'S0006', '学习 明天再说');
    expect(unclear.text).toBe('没有看懂“明天再说”。发送“学习”查看本月任务，“学习 上月”或“学习 2026-10”查看其他月份，学完后发送“学习 完成”确认。');
    expect(await completionOf(t.app.db, '2026-11', 'S0006')).toBeUndefined();

    const [done] = await ask(t, 'S0006', '学习 完成');
    expect(done.text).toBe('已记录：您已完成2026年11月的学习，谢谢！');
    expect(await completionOf(t.app.db, '2026-11', 'S0006')).toBeInstanceOf(Date);
    const [again] = await ask(t, 'S0006', '学习 已学习');
    // The date is the bot's clock, which records it.
    expect(again.text).toBe('您已于2026年11月25日确认完成2026年11月的学习，无需重复确认。');
    const [after] = await ask(t, 'S0006', '学习');
    expect(JSON.stringify(after.card)).toContain('感谢您完成2026年11月的学习');
  });

  it('16 a button’s label typed as a message does what clicking it does, on the latest card only', async () => {
    const [task] = await ask(t, 'S0007', '学习');
    expect(JSON.stringify(task.card)).toContain('我已学习');
    const replies = await ask(t, 'S0007', '我已学习。');
    expect(replies.map((r) => r.text ?? r.card?.title)).toContain('已记录：您已完成2026年11月的学习，谢谢！');
    expect(await completionOf(t.app.db, '2026-11', 'S0007')).toBeInstanceOf(Date);
    // Without such a button on the latest card the words are not a command.
    const [help] = await ask(t, 'S0008', '我已学习');
    expect(help.text).toContain('没有“我已学习”这个命令');
    expect(await completionOf(t.app.db, '2026-11', 'S0008')).toBeUndefined();
  });
});
