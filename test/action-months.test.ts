import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Card } from '../cards/model.js';
import { STALE_ACTION } from '../src/bot/bot.js';
import { ask, startTestApp, type TestApp } from './helpers/app.js';

/**
 * Months carried in card values are claims: forged ones must be refused, with a clear message,
 * never stored and never an internal error. Clock: 10 Dec 2026 in Shanghai.
 */
const clock = new Date('2026-12-10T02:00:00Z');
const formOf = (card: Card) => card.elements.find((e) => e.type === 'form') as Extract<Card['elements'][number], { type: 'form' }> | undefined;
const buttonOf = (card: Card, actionId: string) =>
  card.elements.flatMap((e) => (e.type === 'actions' ? e.buttons : [])).find((b) => b.kind === 'button' && b.actionId === actionId) as
    | { actionId: string; value: Record<string, string> }
    | undefined;

describe('13.12 months from cards are checked against what the server allows now', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ label: 'action_months', now: () => clock });
  });
  afterAll(async () => {
    await t?.dispose();
  });

  const count = async (sql: string) => Number((await t.app.db.query<{ n: string }>(sql)).rows[0].n);

  it('13.12 report.submit for a future, an old or a non-existent month is refused and nothing is stored', async () => {
    const [msg] = await ask(t, 'S0004', '上报');
    const form = formOf(msg.card!)!;
    const value = form.value as Record<string, string>;
    expect(value.m).toBe('2026-12');
    for (const m of ['2027-06', '2020-05']) {
      const r = await t.click('S0004', msg.id, 'report.submit', { ...value, m }, { summary: '伪造的月份' });
      expect(r.status).toBe(200);
      expect(r.body.toast).toContain('该月的报告现在不能提交');
    }
    for (const m of ['2026-13', '2026-00', '2026-99', '00', '99']) {
      const r = await t.click('S0004', msg.id, 'report.submit', { ...value, m }, { summary: '伪造的月份' });
      expect(r.body.toast, m).toBe(STALE_ACTION);
    }
    // The genuine month still goes through, and last month is accepted as late.
    const ok = await t.click('S0004', msg.id, 'report.submit', value, { summary: '本月开展专题学习。' });
    expect(ok.body.toast).toBeUndefined();
    const last = await t.click('S0004', msg.id, 'report.submit', { ...value, m: '2026-11' }, { summary: '补报上月。' });
    expect(last.body.toast).toBeUndefined();
    expect(await count(`SELECT count(*)::text AS n FROM report_submissions`)).toBe(0);
  });

  it('13.12 report.open with a forged month opens this month, never an internal error', async () => {
    const [msg] = await ask(t, 'S0004', '上报');
    for (const m of ['2020-05', '2027-06']) {
      const before = (await t.inbox('S0004')).length;
      const r = await t.click('S0004', msg.id, 'report.open', { m });
      expect(r.body.toast).toBe('已打开报告表单。');
      const [opened] = await t.waitForReplies('S0004', before);
      expect((formOf(opened.card!)!.value as Record<string, string>).m).toBe('2026-12');
    }
    const bad = await t.click('S0004', msg.id, 'report.open', { m: '2026-13' });
    expect(bad.body.toast).toBe(STALE_ACTION);
  });

  it('13.12 study.done for a month long closed, a future one or "2026-13"/"00"/"99" records nothing', async () => {
    const [task] = await ask(t, 'S0001', '学习');
    const b = buttonOf(task.card!, 'study.done')!;
    expect(b.value.m).toBe('2026-12');
    const old = await t.click('S0001', task.id, 'study.done', { m: '2020-05' });
    expect(old.body.toast).toContain('已于2020年5月31日截止');
    const future = await t.click('S0001', task.id, 'study.done', { m: '2027-06' });
    expect(future.body.toast).toContain('还没有开始');
    for (const m of ['2026-13', '2026-00', '2026-99', '00', '99']) {
      const r = await t.click('S0001', task.id, 'study.done', { m });
      expect(r.body.toast, m).toBe(STALE_ACTION);
    }
    // Last month's task ended on 30 November: closed too.
    const last = await t.click('S0001', task.id, 'study.done', { m: '2026-11' });
    expect(last.body.toast).toContain('已于2026年11月30日截止');
    expect(await count(`SELECT count(*)::text AS n FROM study_completions WHERE staff_id = 'S0001'`)).toBe(0);
    const ok = await t.click('S0001', task.id, 'study.done', b.value);
    expect(ok.body.toast).toContain('已记录');
    expect(await count(`SELECT count(*)::text AS n FROM study_completions WHERE staff_id = 'S0001'`)).toBe(1);
  });

  it('13.12 study.done for a month whose task is not for this person is refused', async () => {
    await t.app.db.query(
      `INSERT INTO study_plans (month, plan, imported_by) VALUES ('2026-12', $1, 'test')
       ON CONFLICT (month) DO UPDATE SET plan = EXCLUDED.plan`,
      [JSON.stringify({ month: '2026-12', topic: '财务专题', audience: { roles: ['finance'] } })],
    );
    const [msg] = await ask(t, 'S0006', '帮助');
    const r = await t.click('S0006', msg.id, 'study.done', { m: '2026-12' });
    expect(r.body.toast).toContain('您不在本次学习范围内');
    expect(await count(`SELECT count(*)::text AS n FROM study_completions WHERE staff_id = 'S0006'`)).toBe(0);
  });
});
