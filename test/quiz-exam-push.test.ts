import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Card } from '../cards/model.js';
import { listActiveStaff } from '../src/store/staff.js';
import { ask, settledCampaign, startTestApp, type TestApp } from './helpers/app.js';

const fieldsOf = (c: Card | undefined): Record<string, string> =>
  Object.fromEntries((c?.elements ?? []).flatMap((e) => (e.type === 'fields' ? e.fields.map((i) => [i.label, String(i.value)]) : [])));

describe('an administrator pushes an exam now (推送 考试 / 预览 考试)', () => {
  let t: TestApp;
  const clock = Date.parse('2026-11-25T03:00:00Z'); // 11:00 in Shanghai
  beforeAll(async () => {
    t = await startTestApp({
      label: 'quiz_exam_push',
      now: () => new Date(clock),
      settings: {
        quiz: {
          exams: [
            { id: 'nov', title: '十一月考试', questions: 2, opensOn: '2026-11-20', dueOn: '2026-11-28', audience: { departments: ['心血管内科'] } },
            { id: 'heads', title: '负责人专场', questions: 2, opensOn: '2026-11-20', dueOn: '2026-11-30', audience: { roles: ['dept_head'] } },
            { id: 'dec', title: '十二月考试', questions: 2, opensOn: '2026-12-01', dueOn: '2026-12-20' },
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('previews, pushes once to those who have not taken it, and refuses what cannot be pushed', async () => {
    const [staffTry] = await ask(t, 'S0001', '推送 考试 nov');
    expect(staffTry.text).toContain('管理员');

    const [which] = await ask(t, 'S0002', '预览 考试');
    expect(which.text).toBe('当前有 2 场考试开放，请写明编号：推送 考试 nov（十一月考试）；推送 考试 heads（负责人专场）。');
    const [early] = await ask(t, 'S0002', '推送 考试 dec');
    expect(early.text).toBe('“十二月考试”将于12月1日开放，开放当天会自动推送；开放前不能推送。');
    const [unknown] = await ask(t, 'S0002', '推送 考试 nope');
    expect(unknown.text).toContain('没有编号为“nope”的考试');

    const audience = (await listActiveStaff(t.app.db)).filter((s) => s.department === '心血管内科');
    const [preview] = await ask(t, 'S0002', '预览 考试 nov');
    expect(preview.card!.title).toBe('预览：考试通知 · 十一月考试（不会发送）');
    expect(fieldsOf(preview.card)).toMatchObject({ 收件人数: String(audience.length), 此前已推送: '0' });
    expect(await t.inbox('S0006')).toHaveLength(0);

    const [pushed] = await ask(t, 'S0002', '推送 考试 nov');
    expect(pushed.card!.title).toBe('已推送考试通知：十一月考试');
    expect(Number(fieldsOf(pushed.card)['本次新发出']) + Number(fieldsOf(pushed.card)['无法送达（未绑定可用账号）'])).toBe(audience.length);
    const s = await settledCampaign(t, 'quiz.exam.nov.open');
    expect(s.total).toBe(audience.length);
    const invites = (await t.inbox('S0006')).filter((m) => m.card?.title === '请参加：十一月考试');
    expect(invites).toHaveLength(1);
    const row = await t.app.db.query<{ created_by: string }>(`SELECT created_by FROM campaigns WHERE key = 'quiz.exam.nov.open'`);
    expect(row.rows[0].created_by).toBe('S0002');

    // Again: the same campaign as the daily check, so nobody gets it twice.
    const [again] = await ask(t, 'S0002', '推送 考试 nov');
    expect(fieldsOf(again.card)['本次新发出']).toBe('0');
    expect(JSON.stringify(again.card)).toContain('已收到的人员不会再收到一次');
    expect((await t.inbox('S0006')).filter((m) => m.card?.title === '请参加：十一月考试')).toHaveLength(1);
  });
});
