import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Card } from '../cards/model.js';
import { createApp, type App } from '../src/app.js';
import { loadDefaultBank } from '../src/domain/quiz/bank.js';
import { toShown } from '../src/domain/quiz/draw.js';
import { REFUSE_ANSWERED, REFUSE_CLOSED, REFUSE_NOT_YOURS } from '../src/domain/quiz/service.js';
import { createLogger } from '../src/logger.js';
import { SandboxPlatform, type SandboxMessage } from '../src/platform/sandbox/adapter.js';
import { getAttempt, questionVersions } from '../src/store/quiz.js';
import { ask, startTestApp, type TestApp } from './helpers/app.js';

type Btn = { label: string; actionId: string; value: { t: string; q: number; o?: number; s?: number } };
const buttonsOf = (card: Card | undefined): Btn[] =>
  (card?.elements ?? []).flatMap((e) => (e.type === 'actions' ? (e.buttons.filter((b) => b.kind === 'button') as unknown as Btn[]) : []));
const textOf = (card: Card | undefined) => JSON.stringify(card ?? null);

const bank = loadDefaultBank();
const idsOf = (type: string, n: number) => bank.filter((q) => q.type === type).slice(0, n).map((q) => q.id);
const EXAM_IDS = [idsOf('multiple', 1)[0], idsOf('single', 1)[0], idsOf('judge', 1)[0]];

/** The shown positions of the right options, read from the server's own records. */
async function solution(app: App, attemptId: string, idx: number): Promise<{ right: number[]; count: number }> {
  const a = (await getAttempt(app.db, attemptId))!;
  const item = a.items[idx];
  const [q] = await questionVersions(app.db, [{ id: item.questionId, version: item.questionVersion }]);
  return { right: toShown(item.optionOrder, q.answer), count: q.options.length };
}

interface Driver {
  app: App;
  click(userId: string, messageId: string, actionId: string, value?: unknown): Promise<{ status: number; body: { toast?: string; error?: string } }>;
  inbox(userId: string): Promise<SandboxMessage[]>;
}

/** Answers the question on `msg` (right or wrong) the way a person would: buttons only. */
async function answer(d: Driver, user: string, msg: SandboxMessage, right: boolean): Promise<void> {
  const btns = buttonsOf(msg.card);
  const { t, q } = btns[0].value;
  const { right: sol, count } = await solution(d.app, t, q);
  const wrong = Array.from({ length: count }, (_, i) => i).find((i) => !sol.includes(i))!;
  if (btns.some((b) => b.actionId === 'quiz.submit')) {
    for (const o of right ? sol : [wrong]) expect((await d.click(user, msg.id, 'quiz.tick', { t, q, o, s: 1 })).body).toEqual({});
    expect((await d.click(user, msg.id, 'quiz.submit', { t, q })).body).toEqual({});
  } else {
    expect((await d.click(user, msg.id, 'quiz.answer', { t, q, o: right ? sol[0] : wrong })).body).toEqual({});
  }
}

const last = async (d: Driver, user: string) => (await d.inbox(user)).at(-1)!;

describe('quiz in chat through the sandbox API (real Redis + PostgreSQL)', () => {
  let t: TestApp;
  let clock = Date.parse('2026-11-25T02:00:00Z');
  beforeAll(async () => {
    t = await startTestApp({
      label: 'quiz_e2e',
      now: () => new Date(clock),
      settings: {
        quiz: {
          exams: [
            { id: 'nov', title: '十一月廉洁从业考试', questions: EXAM_IDS, opensOn: '2026-11-01', dueOn: '2026-11-30', attemptsAllowed: 2 },
            { id: 'once', title: '一次性考试', questions: 2, opensOn: '2026-11-01', dueOn: '2026-11-30', attemptsAllowed: 1 },
            { id: 'dec', title: '十二月考试', questions: 5, opensOn: '2026-12-01', dueOn: '2026-12-20' },
            { id: 'med', title: '医务科专场', questions: 5, opensOn: '2026-11-01', dueOn: '2026-11-30', audience: { departments: ['医务科'] } },
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('runs a whole quiz: question cards, verdict and explanation in place, score card, 成绩 and 错题', async () => {
    const [first] = await ask(t, 'S0001', '考试');
    expect(first.card!.title).toContain('第 1/10 题');
    expect(buttonsOf(first.card).length).toBeGreaterThanOrEqual(2);
    let msg = first;
    for (let i = 0; i < 10; i++) {
      const before = await t.inbox('S0001');
      expect(msg.card!.title).toContain(`第 ${i + 1}/10 题`);
      // Nothing on the card gives the answer away: no explanation, only positions in the payload.
      const { t: at, q } = buttonsOf(msg.card)[0].value;
      const a = (await getAttempt(t.app.db, at))!;
      const [question] = await questionVersions(t.app.db, [{ id: a.items[q].questionId, version: a.items[q].questionVersion }]);
      expect(textOf(msg.card)).not.toContain(question.explanation);
      for (const b of buttonsOf(msg.card)) expect(Object.keys(b.value).sort()).toEqual(b.actionId === 'quiz.submit' ? ['q', 't'] : b.actionId === 'quiz.tick' ? ['o', 'q', 's', 't'] : ['o', 'q', 't']);

      await answer(t, 'S0001', msg, i < 8);
      const after = await t.inbox('S0001');
      expect(after).toHaveLength(before.length + 1);
      const answered = after.find((m) => m.id === msg.id)!;
      expect(answered.card!.title).toContain(i < 8 ? '回答正确' : '回答错误');
      expect(textOf(answered.card)).toContain(question.explanation);
      expect(textOf(answered.card)).toContain('出处');
      expect(buttonsOf(answered.card)).toEqual([]);
      msg = after.at(-1)!;
    }
    expect(msg.card!.title).toBe('廉洁从业知识测验 · 80 分 · 通过');
    expect(textOf(msg.card)).toContain('8 / 10 题');
    expect(textOf(msg.card)).toContain('建议复习');

    const [scores] = await ask(t, 'S0001', '成绩');
    expect(textOf(scores.card)).toContain('80 分');
    expect(textOf(scores.card)).toContain('十一月廉洁从业考试');
    const [wrong] = await ask(t, 'S0001', '错题');
    expect(wrong.card!.title).toContain('共 2 题');
    expect(textOf(wrong.card)).toContain('解析');
  });

  it('ticks then submits a multiple-choice answer; ticking twice is idempotent, an empty submit is refused', async () => {
    const [card] = await ask(t, 'S0002', '考试 nov');
    expect(card.card!.title).toContain('十一月廉洁从业考试 · 第 1/3 题');
    const { t: at, q } = buttonsOf(card.card)[0].value;
    expect((await t.click('S0002', card.id, 'quiz.submit', { t: at, q })).body.toast).toContain('请先选择');
    const { right } = await solution(t.app, at, q);
    for (let k = 0; k < 2; k++) await t.click('S0002', card.id, 'quiz.tick', { t: at, q, o: right[0], s: 1 });
    expect((await getAttempt(t.app.db, at))!.items[0].pending).toEqual([right[0]]);
    const ticked = (await t.inbox('S0002')).find((m) => m.id === card.id)!;
    expect(buttonsOf(ticked.card).find((b) => b.value.o === right[0])!.label).toMatch(/^☑/);
    await t.click('S0002', card.id, 'quiz.tick', { t: at, q, o: right[0], s: 0 });
    await answer(t, 'S0002', (await t.inbox('S0002')).find((m) => m.id === card.id)!, true);
    expect((await t.inbox('S0002')).find((m) => m.id === card.id)!.card!.title).toContain('回答正确');
    await answer(t, 'S0002', await last(t, 'S0002'), true);
    await answer(t, 'S0002', await last(t, 'S0002'), false);
    const score = await last(t, 'S0002');
    expect(score.card!.title).toBe('十一月廉洁从业考试 · 67 分 · 未通过');
    expect(textOf(score.card)).toContain('还可以再参加 1 次');
  });

  it('double clicks, stale cards and other people’s cards change nothing', async () => {
    const [card] = await ask(t, 'S0003', '考试');
    const { t: at, q } = buttonsOf(card.card)[0].value;
    const { right } = await solution(t.app, at, q);
    const isMultiple = buttonsOf(card.card).some((b) => b.actionId === 'quiz.submit');
    if (isMultiple) for (const o of right) await t.click('S0003', card.id, 'quiz.tick', { t: at, q, o, s: 1 });
    const [actionId, value] = isMultiple ? ['quiz.submit', { t: at, q }] : ['quiz.answer', { t: at, q, o: right[0] }];
    const before = (await t.inbox('S0003')).length;
    const results = await Promise.all([t.click('S0003', card.id, actionId, value), t.click('S0003', card.id, actionId, value)]);
    expect(results.map((r) => r.body.toast ?? 'ok').sort()).toEqual(['ok', REFUSE_ANSWERED].sort());
    const inbox = await t.inbox('S0003');
    expect(inbox).toHaveLength(before + 1);
    const answered = inbox.find((m) => m.id === card.id)!;
    expect(answered.card!.title).toContain('回答正确');

    // The old card again, even with another option: refused, the card and attempt unchanged.
    const attemptBefore = await getAttempt(t.app.db, at);
    const again = await t.click('S0003', card.id, 'quiz.answer', { t: at, q, o: 0 });
    expect(again.body.toast).toBe(REFUSE_ANSWERED);
    expect((await t.inbox('S0003')).find((m) => m.id === card.id)!.card).toEqual(answered.card);
    expect(await getAttempt(t.app.db, at)).toEqual(attemptBefore);

    // Someone else pressing this person's current question (e.g. a forwarded card).
    const current = inbox.at(-1)!;
    const v = buttonsOf(current.card)[0];
    const foreign = await t.app.bot.onAction({
      kind: 'action', platform: 'sandbox', eventId: 'foreign-1', platformUserId: 'S0004',
      conversation: { type: 'direct', platformUserId: 'S0004' }, messageId: current.id, actionId: v.actionId, value: v.value as never, receivedAt: new Date(),
    });
    expect(foreign).toEqual({ toast: REFUSE_NOT_YOURS });
    expect(await getAttempt(t.app.db, at)).toEqual(attemptBefore);
    // A made-up attempt id and a malformed payload are refused the same way.
    expect((await t.click('S0003', current.id, 'quiz.answer', { t: '999999', q: 0, o: 0 })).body.toast).toBe(REFUSE_NOT_YOURS);
    expect((await t.click('S0003', current.id, 'quiz.answer', { t: at, q: 'x' as never, o: 0 })).body.toast).toContain('已失效');

    // Hand in; a card of the closed attempt is refused.
    const [handed] = await ask(t, 'S0003', '考试 交卷 确认');
    expect(handed.card!.title).toMatch(/10 分 · 未通过/);
    expect((await t.click('S0003', current.id, v.actionId, v.value)).body.toast).toBe(REFUSE_CLOSED);
  });

  it('keeps one active attempt per person: 考试 again resumes it', async () => {
    const [first] = await ask(t, 'S0004', '考试');
    await answer(t, 'S0004', first, true);
    const [resumed] = await ask(t, 'S0004', '考试 nov');
    expect(resumed.card!.title).toContain('第 2/10 题');
    expect(textOf(resumed.card)).toContain('未完成');
    expect(textOf(resumed.card)).toContain('交卷');
    const { rows } = await t.app.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM quiz_attempts WHERE staff_id = 'S0004' AND state = 'active'`);
    expect(rows[0].n).toBe(1);
    await ask(t, 'S0004', '考试 交卷 确认');
  });

  it('enforces the attempts allowed, the exam window and its audience, and stores results per department', async () => {
    const [c1] = await ask(t, 'S0006', '考试 once');
    await answer(t, 'S0006', c1, true);
    await answer(t, 'S0006', await last(t, 'S0006'), true);
    expect((await last(t, 'S0006')).card!.title).toBe('一次性考试 · 100 分 · 通过');
    const [refused] = await ask(t, 'S0006', '考试 once');
    expect(refused.text).toContain('每人可参加 1 次');
    expect((await ask(t, 'S0006', '考试 dec'))[0].text).toContain('12月1日开放');
    expect((await ask(t, 'S0001', '考试 med'))[0].text).toContain('不面向');
    expect((await ask(t, 'S0001', '考试 nope'))[0].text).toContain('没有编号为“nope”的考试');

    const { rows } = await t.app.db.query<{ staff_id: string; best_score: number; passed: boolean; attempts: number }>(
      `SELECT staff_id, best_score, passed, attempts FROM quiz_exam_results WHERE exam_id = 'once'`,
    );
    expect(rows).toEqual([{ staff_id: 'S0006', best_score: 100, passed: true, attempts: 1 }]);
    const [progress] = await ask(t, 'S0005', '考试情况 once');
    expect(progress.card!.title).toContain('一次性考试');
    expect(textOf(progress.card)).toContain('已参加');
    expect((await ask(t, 'S0001', '考试情况'))[0].text).toContain('仅限');
  });

  it('closes an attempt when its time is up and scores it as it stands', async () => {
    const [card] = await ask(t, 'S0007', '考试');
    await answer(t, 'S0007', card, true);
    const next = await last(t, 'S0007');
    clock += 31 * 60_000;
    const v = buttonsOf(next.card)[0];
    const r = await t.click('S0007', next.id, v.actionId, v.value);
    expect(r.body.toast).toContain('时间已到');
    const score = await last(t, 'S0007');
    expect(score.card!.title).toBe('廉洁从业知识测验 · 10 分 · 未通过');
    expect(textOf(score.card)).toContain('答题时间已到');
    expect((await t.inbox('S0007')).find((m) => m.id === next.id)!.card!.title).toContain('已超时');

    // An attempt left alone past its limit is closed by the next 考试, which starts afresh.
    await ask(t, 'S0007', '考试');
    clock += 31 * 60_000;
    const replies = await ask(t, 'S0007', '考试', 2);
    expect(replies[0].card!.title).toBe('廉洁从业知识测验 · 0 分 · 未通过');
    expect(replies[1].card!.title).toContain('第 1/10 题');
  });
});

describe('an attempt survives a restart mid-quiz (same database and Redis prefix)', () => {
  it('continues from the pre-restart card and by 考试 on the new process', async () => {
    const t = await startTestApp({ label: 'quiz_restart' });
    let app2: App | undefined;
    try {
      const [card] = await ask(t, 'S0001', '考试');
      await answer(t, 'S0001', card, true);
      await answer(t, 'S0001', await last(t, 'S0001'), false);
      const third = await last(t, 'S0001');
      expect(third.card!.title).toContain('第 3/10 题');
      await t.app.stop();

      app2 = await createApp({ config: t.app.config, db: t.app.db, platforms: [new SandboxPlatform()], logger: createLogger('silent') });
      const url = await app2.start();
      const json = { 'content-type': 'application/json' };
      const d: Driver = {
        app: app2,
        async inbox(user) {
          return ((await (await fetch(`${url}/sandbox/api/inbox/${user}`)).json()) as { messages: SandboxMessage[] }).messages;
        },
        async click(userId, messageId, actionId, value) {
          const r = await fetch(`${url}/sandbox/api/actions`, { method: 'POST', headers: json, body: JSON.stringify({ userId, messageId, actionId, value }) });
          return { status: r.status, body: (await r.json()) as { toast?: string } };
        },
      };
      // The card sent before the restart still works: the platform keeps it, the database the state.
      const v = buttonsOf(third.card)[0];
      const { right } = await solution(app2, v.value.t, v.value.q);
      const isMultiple = buttonsOf(third.card).some((b) => b.actionId === 'quiz.submit');
      const send = (actionId: string, value: object) =>
        app2!.bot.onAction({
          kind: 'action', platform: 'sandbox', eventId: `restart-${actionId}-${JSON.stringify(value)}`, platformUserId: 'S0001',
          conversation: { type: 'direct', platformUserId: 'S0001' }, messageId: third.id, actionId, value: value as never, receivedAt: new Date(),
        });
      if (isMultiple) for (const o of right) await send('quiz.tick', { t: v.value.t, q: 2, o, s: 1 });
      const result = isMultiple ? await send('quiz.submit', { t: v.value.t, q: 2 }) : await send('quiz.answer', { t: v.value.t, q: 2, o: right[0] });
      expect(result.card!.title).toContain('第 3/10 题 · 回答正确');

      // On the new process the person asks again and carries on to the end.
      // (The answer above already sent question 4 into the new sandbox's inbox.)
      const seen = (await d.inbox('S0001')).length;
      await fetch(`${url}/sandbox/api/messages`, { method: 'POST', headers: json, body: JSON.stringify({ userId: 'S0001', text: '考试' }) });
      for (let i = 0; (await d.inbox('S0001')).length === seen && i < 400; i++) await new Promise((r) => setTimeout(r, 25));
      let msg = await last(d, 'S0001');
      expect(msg.card!.title).toContain('第 4/10 题');
      expect(textOf(msg.card)).toContain('已答 3 题');
      for (let i = 3; i < 10; i++) {
        await answer(d, 'S0001', msg, true);
        msg = await last(d, 'S0001');
      }
      expect(msg.card!.title).toBe('廉洁从业知识测验 · 90 分 · 通过');
    } finally {
      await app2?.stop();
      await t.dispose();
    }
  });
});
