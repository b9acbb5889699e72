import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scheduling } from '../scheduler/index.js';
import { examSchema } from '../src/config.js';
import { closesAt, examWindow, inAudience, opensAt, reminderDays, startOfDay } from '../src/domain/quiz/exams.js';
import { REFUSE_ANSWERED, QuizService } from '../src/domain/quiz/service.js';
import { UserError } from '../src/errors.js';
import { getAttempt } from '../src/store/quiz.js';
import { getStaff } from '../src/store/staff.js';
import { ask, startTestApp, type TestApp } from './helpers/app.js';

const exam = examSchema.parse({ id: 'dec', title: '十二月考试', questions: 5, opensOn: '2026-12-01', dueOn: '2026-12-20', remindDaysBeforeDue: [3, 1, 25] });

describe('exam calendar in the hospital time zone', () => {
  it('opens at local midnight and closes after the due day', () => {
    expect(startOfDay('2026-12-01', 'Asia/Shanghai').toISOString()).toBe('2026-11-30T16:00:00.000Z');
    expect(opensAt(exam, 'Asia/Shanghai').toISOString()).toBe('2026-11-30T16:00:00.000Z');
    expect(closesAt(exam, 'Asia/Shanghai').toISOString()).toBe('2026-12-20T16:00:00.000Z');
    expect(examWindow(exam, new Date('2026-11-30T15:59:59Z'), 'Asia/Shanghai')).toBe('upcoming');
    expect(examWindow(exam, new Date('2026-11-30T16:00:00Z'), 'Asia/Shanghai')).toBe('open');
    expect(examWindow(exam, new Date('2026-12-20T15:59:59Z'), 'Asia/Shanghai')).toBe('open');
    expect(examWindow(exam, new Date('2026-12-20T16:00:00Z'), 'Asia/Shanghai')).toBe('closed');
  });

  it('reminds on the configured days before the due day, never before it opens', () => {
    expect(reminderDays(exam)).toEqual(['2026-12-17', '2026-12-19']);
  });

  it('limits the audience by department and role', () => {
    const scoped = examSchema.parse({ ...exam, audience: { departments: ['医务科'], roles: ['dept_head'] } });
    expect(inAudience(scoped, { department: '医务科', roles: ['staff', 'dept_head'], active: true })).toBe(true);
    expect(inAudience(scoped, { department: '医务科', roles: ['staff'], active: true })).toBe(false);
    expect(inAudience(scoped, { department: '药剂科', roles: ['dept_head'], active: true })).toBe(false);
    expect(inAudience(exam, { department: '药剂科', roles: ['staff'], active: false })).toBe(false);
  });

  it('refuses a config whose due date is before its opening', () => {
    expect(examSchema.safeParse({ ...exam, dueOn: '2026-11-30' }).success).toBe(false);
  });
});

describe('monthly exams through the scheduler, expiry sweep, concurrent answers', () => {
  let t: TestApp;
  let clock = Date.parse('2026-11-25T01:10:00Z'); // 09:10 in Shanghai
  beforeAll(async () => {
    t = await startTestApp({
      label: 'quiz_exams',
      now: () => new Date(clock),
      settings: {
        quiz: {
          exams: [{ id: 'nov', title: '十一月考试', questions: 2, opensOn: '2026-11-25', dueOn: '2026-11-28', audience: { departments: ['心血管内科'] }, remindDaysBeforeDue: [1] }],
        },
      },
    });
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('pushes an open exam to its audience once, then reminds only those who have not taken it', async () => {
    const { scheduler } = scheduling(t.app.bot);
    await scheduler.runNow('quiz.exams');
    const [invite] = await t.waitForReplies('S0006', 0, 1, 20_000);
    expect(invite.card!.title).toBe('请参加：十一月考试');
    expect(JSON.stringify(invite.card)).toContain('考试 nov');
    await t.waitForReplies('S0001', 0, 1, 20_000);
    expect(await t.inbox('S0002')).toHaveLength(0); // 医务科: not in the audience

    // A second run the same day sends nothing new.
    await scheduler.runNow('quiz.exams');

    // S0001 takes the exam; two days later (one day before due) only the others are reminded.
    // Questions are drawn at random: answer each the way its type needs (multiple choice: tick, then submit).
    const answer = async (m: { id: string; card?: { elements: unknown[] } }) => {
      const actions = m.card!.elements.find((e) => (e as { type: string }).type === 'actions') as { buttons: { actionId: string; value: Record<string, number | string> }[] };
      const first = actions.buttons[0].value;
      if (actions.buttons.some((b) => b.actionId === 'quiz.submit')) {
        await t.click('S0001', m.id, 'quiz.tick', { ...first, s: 1 });
        await t.click('S0001', m.id, 'quiz.submit', { t: first.t, q: first.q });
      } else await t.click('S0001', m.id, 'quiz.answer', first);
    };
    const [q1] = await ask(t, 'S0001', '考试 nov');
    await answer(q1);
    await answer((await t.inbox('S0001')).at(-1)!);
    expect((await t.inbox('S0001')).at(-1)!.card!.title).toMatch(/^十一月考试 · \d+ 分/);
    const s1 = (await t.inbox('S0001')).length;

    clock = Date.parse('2026-11-27T01:10:00Z');
    await scheduler.runNow('quiz.exams');
    const [reminder] = await t.waitForReplies('S0006', 1, 1, 20_000);
    expect(reminder.card!.title).toBe('提醒：十一月考试将于11月28日截止');
    expect(await t.inbox('S0006')).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 500));
    expect(await t.inbox('S0001')).toHaveLength(s1);

    const { rows } = await t.app.db.query<{ staff_id: string; department_id: number }>(`SELECT staff_id, department_id FROM quiz_exam_results WHERE exam_id = 'nov'`);
    expect(rows.map((r) => r.staff_id)).toEqual(['S0001']);
  });

  it('16 starts the exam from the invitation’s button, and asks before handing in with questions left', async () => {
    const [invite] = await t.inbox('S0006');
    const begin = (invite!.card!.elements.find((e) => e.type === 'actions') as { buttons: { label: string; actionId: string; value: Record<string, string> }[] }).buttons[0]!;
    expect(begin).toMatchObject({ label: '开始答题', actionId: 'quiz.begin', value: { e: 'nov' } });
    const before = (await t.inbox('S0006')).length;
    expect((await t.click('S0006', invite!.id, begin.actionId, begin.value)).body.toast).toBe('已开始答题，题目已发送。');
    const [q1] = await t.waitForReplies('S0006', before, 1);
    expect(q1!.card!.title).toContain('第 1/2 题');

    const [confirm] = await ask(t, 'S0006', '考试 交卷');
    expect(confirm!.card!.title).toBe('确认交卷：十一月考试');
    expect(JSON.stringify(confirm!.card)).toContain('还有 **2 题**（共 2 题）没有作答');
    const buttons = (confirm!.card!.elements.find((e) => e.type === 'actions') as { buttons: { label: string; actionId: string; style?: string; value: Record<string, string> }[] }).buttons;
    expect(buttons.map((b) => [b.label, b.style])).toEqual([['确认交卷', 'danger'], ['继续答题', 'primary']]);
    // Nothing was handed in by asking.
    const n = (await t.inbox('S0006')).length;
    await t.click('S0006', confirm!.id, 'quiz.resume', buttons[1]!.value);
    const [again] = await t.waitForReplies('S0006', n, 1);
    expect(again!.card!.title).toContain('第 1/2 题');

    const [score] = await ask(t, 'S0006', '考试 交卷 确认');
    expect(score!.card!.title).toMatch(/^十一月考试 · 0 分/);
    // The confirmation card is spent with its attempt.
    expect((await t.click('S0006', confirm!.id, 'quiz.handin', buttons[0]!.value)).body.toast).toContain('已经结束');
  });

  it('closes attempts left past their time limit and sends the score card', async () => {
    const [q] = await ask(t, 'S0002', '考试');
    expect(q.card!.title).toContain('第 1/10 题');
    const before = (await t.inbox('S0002')).length;
    clock += 31 * 60_000;
    await scheduling(t.app.bot).scheduler.runNow('quiz.expire');
    const [score] = await t.waitForReplies('S0002', before, 1, 20_000);
    expect(score.card!.title).toBe('廉洁从业知识测验 · 0 分 · 未通过');
    expect(JSON.stringify(score.card)).toContain('答题时间已到');
    await scheduling(t.app.bot).scheduler.runNow('quiz.expire');
    await new Promise((r) => setTimeout(r, 300));
    expect(await t.inbox('S0002')).toHaveLength(before + 1);
    // The old question card is now refused, and changes nothing.
    const v = (q.card!.elements.find((e) => e.type === 'actions') as { buttons: { actionId: string; value: Record<string, string | number> }[] }).buttons[0];
    expect((await t.click('S0002', q.id, v.actionId, v.value)).body.toast).toContain('已经结束');
  });

  it('lets exactly one of two simultaneous answers to the same question through (no per-user queue)', async () => {
    const service = new QuizService(t.app.db, t.app.config.settings.quiz, { timeZone: t.app.bot.timeZone });
    const staff = (await getStaff(t.app.db, 'S0007'))!;
    for (let round = 0; round < 5; round++) {
      const started = await service.start(staff, undefined, new Date(clock));
      const a = started.view.attempt;
      const single = started.view.questions[0].type !== 'multiple';
      const results = await Promise.allSettled(
        [0, 1].map((o) => (single ? service.answer(staff, a.id, 0, o, new Date(clock)) : service.tick(staff, a.id, 0, o, true, new Date(clock)).then(() => service.submit(staff, a.id, 0, new Date(clock))))),
      );
      const ok = results.filter((r) => r.status === 'fulfilled');
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(ok).toHaveLength(1);
      expect(refused).toHaveLength(1);
      expect(refused[0].reason).toBeInstanceOf(UserError);
      expect((refused[0].reason as Error).message).toBe(REFUSE_ANSWERED);
      const after = (await getAttempt(t.app.db, a.id))!;
      expect(after.currentIndex).toBe(1);
      expect(after.items[0].selected).not.toBeNull();
      expect(after.items[1].selected).toBeNull();
      await service.handIn(staff, new Date(clock));
    }
  });
});
