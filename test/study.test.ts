import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Card } from '../cards/model.js';
import { runStudyDaily, studyKeys } from '../handlers/study.js';
import { scheduling } from '../scheduler/index.js';
import type { SandboxMessage } from '../src/platform/sandbox/adapter.js';
import { ask, settledCampaign, startTestApp, type TestApp } from './helpers/app.js';

/** Study tasks end to end in the sandbox, on a clock the test moves (Asia/Shanghai = UTC+8). */
let clock = new Date('2026-11-02T02:00:00Z'); // 2 Nov 10:00 in Shanghai
const at = (iso: string) => {
  clock = new Date(iso);
};

const cards = (msgs: SandboxMessage[], titlePart: string) => msgs.filter((m) => m.card?.title.includes(titlePart));
const buttonOf = (card: Card, actionId: string) =>
  card.elements.flatMap((e) => (e.type === 'actions' ? e.buttons : [])).find((b) => b.kind === 'button' && b.actionId === actionId) as
    | { actionId: string; value: Record<string, string> }
    | undefined;

describe('monthly study tasks', () => {
  let t: TestApp;
  const settled = (key: string) => settledCampaign(t, key);

  beforeAll(async () => {
    t = await startTestApp({ label: 'study', now: () => clock });
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('refuses 推送 to someone who is not an administrator', async () => {
    const [r] = await ask(t, 'S0001', '推送 学习');
    expect(r.text).toContain('仅限管理员');
    expect(await scheduling(t.app.bot).outbound.status(studyKeys.push('2026-11'))).toBeUndefined();
  });

  it('16 suggests the closest target for a typo after 推送 and sends nothing', async () => {
    const [r] = await ask(t, 'S0002', '推送 学校');
    expect(r.text).toMatch(/^没有“学校”这项推送内容。您是想发送“推送 学习”吗？请指定要推送的内容：/);
    const [p] = await ask(t, 'S0002', '预览 报告题型');
    expect(p.text).toContain('您是想发送“预览 报告提醒”吗？');
    expect(await scheduling(t.app.bot).outbound.status(studyKeys.push('2026-11'))).toBeUndefined();
  });

  it('previews the recipients without sending anything', async () => {
    const before = (await t.inbox('S0001')).length;
    const [r] = await ask(t, 'S0002', '预览 学习 2026-11');
    expect(r.card!.title).toContain('预览');
    expect(JSON.stringify(r.card)).toContain('"收件人数","value":"42"');
    expect((await t.inbox('S0001')).length).toBe(before);
  });

  it('pushes the month once even when an administrator pushes twice', async () => {
    const [r1] = await ask(t, 'S0002', '推送 学习 2026-11');
    expect(r1.card!.title).toContain('已推送');
    await settled(studyKeys.push('2026-11'));
    const [r2] = await ask(t, 'S0002', '推送 学习');
    expect(JSON.stringify(r2.card)).toContain('此前已经发起过');
    await settled(studyKeys.push('2026-11'));
    for (const id of ['S0001', 'S0006', 'S0012', 'S0040']) {
      const got = cards(await t.inbox(id), '2026年11月廉洁专题学习');
      expect(got, id).toHaveLength(1);
    }
  });

  it('records 我已学习 once and says so on a second click', async () => {
    const [card] = cards(await t.inbox('S0001'), '2026年11月廉洁专题学习');
    const b = buttonOf(card.card!, 'study.done')!;
    const first = await t.click('S0001', card.id, 'study.done', b.value);
    expect(first.body.toast).toContain('已记录');
    const second = await t.click('S0001', card.id, 'study.done', b.value);
    expect(second.body.toast).toContain('无需重复确认');
    const [status] = await ask(t, 'S0001', '学习');
    expect(JSON.stringify(status.card)).toContain('已完成');
    const [other] = await ask(t, 'S0006', '学习');
    expect(JSON.stringify(other.card)).toContain('未完成');
  });

  it('gives the task to staff who join mid-month, and to nobody twice', async () => {
    const dept = (await t.app.db.query<{ id: number }>(`SELECT id FROM departments WHERE name = '儿科'`)).rows[0].id;
    await t.app.db.query(`INSERT INTO staff (staff_id, name, department_id) VALUES ('S0099', '新同事', $1)`, [dept]);
    await t.app.db.query(`INSERT INTO staff_roles (staff_id, role) VALUES ('S0099', 'staff')`);
    const before = cards(await t.inbox('S0006'), '2026年11月廉洁专题学习').length;
    at('2026-11-10T01:05:00Z');
    await runStudyDaily(t.app.bot, clock);
    await settled(studyKeys.push('2026-11'));
    expect(cards(await t.inbox('S0099'), '2026年11月廉洁专题学习')).toHaveLength(1);
    expect(cards(await t.inbox('S0006'), '2026年11月廉洁专题学习')).toHaveLength(before);
  });

  it('reminds only those who have not finished, naming the days left and the date', async () => {
    at('2026-11-23T01:05:00Z'); // 7 days before 30 November
    const steps = await runStudyDaily(t.app.bot, clock);
    expect(steps.some((s) => s.startsWith('remind 2026-11 7d'))).toBe(true);
    await settled(studyKeys.remind('2026-11', 7));
    const reminder = cards(await t.inbox('S0006'), '学习提醒');
    expect(reminder).toHaveLength(1);
    expect(JSON.stringify(reminder[0].card)).toContain('还剩 7 天');
    expect(JSON.stringify(reminder[0].card)).toContain('2026年11月30日');
    expect(cards(await t.inbox('S0001'), '学习提醒')).toHaveLength(0);
    // Running the same day's check again sends nothing new.
    await runStudyDaily(t.app.bot, clock);
    await settled(studyKeys.remind('2026-11', 7));
    expect(cards(await t.inbox('S0006'), '学习提醒')).toHaveLength(1);
  });

  it('after the due date gives each department head only their own list, and leadership the summary', async () => {
    // S0012 (普外科) finishes; S0006 (心血管内科) does not.
    const [c12] = cards(await t.inbox('S0012'), '2026年11月廉洁专题学习');
    await t.click('S0012', c12.id, 'study.done', buttonOf(c12.card!, 'study.done')!.value);
    at('2026-12-01T01:05:00Z');
    await runStudyDaily(t.app.bot, clock);
    await settled(studyKeys.overdue('2026-11'));
    const [cardio] = cards(await t.inbox('S0003'), '本科室未完成');
    const cardioText = JSON.stringify(cardio.card);
    expect(cardioText).toContain('谢婉清'); // S0006
    expect(cardioText).not.toContain('林雨桐'); // S0001 finished
    expect(cardioText).not.toContain('薛梦瑶'); // S0014, 普外科
    const [surgery] = cards(await t.inbox('S0009'), '本科室未完成');
    const surgeryText = JSON.stringify(surgery.card);
    expect(surgeryText).toContain('薛梦瑶');
    expect(surgeryText).not.toContain('邓佳慧'); // S0012 finished
    expect(surgeryText).not.toContain('谢婉清');
    const [summary] = cards(await t.inbox('S0005'), '学习完成情况');
    expect(JSON.stringify(summary.card)).toContain('心血管内科');
    // Plain staff get no list.
    expect(cards(await t.inbox('S0006'), '本科室未完成')).toHaveLength(0);
  });

  it('16 shows last month’s task by 学习 上月 and records a completion after the due day as 逾期', async () => {
    // Now 1 December: S0006 never finished November's task.
    const [task] = await ask(t, 'S0006', '学习 上月');
    expect(task.card!.title).toContain('2026年11月廉洁专题学习');
    expect(JSON.stringify(task.card)).toContain('未完成（已逾期，完成期限为2026年11月30日）');
    expect(task.card!.color).toBe('orange');
    const [done] = await ask(t, 'S0006', '学习 2026-11 完成');
    expect(done.text).toBe('已记录：您已完成2026年11月的学习（完成期限为2026年11月30日，记为逾期完成），谢谢！');
    const [again] = await ask(t, 'S0006', '学习 上月');
    expect(JSON.stringify(again.card)).toContain('逾期完成');
    const [future] = await ask(t, 'S0006', '学习 2027-03');
    expect(future.text).toBe('2027年3月的学习任务还没有开始，开始后会推送给您。');
  });

  it('16 pushes another month only after the administrator confirms', async () => {
    const [ask1] = await ask(t, 'S0002', '推送 学习 2027-01');
    expect(ask1.card!.title).toBe('请确认：推送2027年1月学习任务');
    const confirm = buttonOf(ask1.card!, 'push.study.confirm')!;
    expect(confirm.value).toEqual({ m: '2027-01' });
    expect(await scheduling(t.app.bot).outbound.status(studyKeys.push('2027-01'))).toBeUndefined();
    const [refused] = await ask(t, 'S0001', '推送 学习 2027-01 确认');
    expect(refused.text).toContain('仅限管理员');
    const before = (await t.inbox('S0001')).length;
    expect(await scheduling(t.app.bot).outbound.status(studyKeys.push('2027-01'))).toBeUndefined();
    await t.click('S0002', ask1.id, confirm.actionId, confirm.value);
    await settled(studyKeys.push('2027-01'));
    expect(cards(await t.inbox('S0001'), '2027年1月廉洁专题学习')).toHaveLength(1);
    expect((await t.inbox('S0001')).length).toBe(before + 1);
    const [past] = await ask(t, 'S0002', '推送 学习 2026-10');
    expect(past.text ?? JSON.stringify(past.card)).toContain('已过完成期限');
  });
});
