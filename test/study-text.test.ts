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
    // The date is when the database recorded it (its own clock, not the test's).
    expect(again.text).toMatch(/^您已于\d{4}年\d{1,2}月\d{1,2}日确认完成2026年11月的学习，无需重复确认。$/);
    const [after] = await ask(t, 'S0006', '学习');
    expect(JSON.stringify(after.card)).toContain('感谢您完成2026年11月的学习');
  });
});
