import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Card } from '../cards/model.js';
import { exportQuestionFile, importQuestionFile, retireQuestions } from '../src/domain/quiz/bank.js';
import { UserError } from '../src/errors.js';
import { currentQuestions, getAttempt, retiredQuestionIds } from '../src/store/quiz.js';
import { ask, startTestApp, type TestApp } from './helpers/app.js';

type Btn = { actionId: string; value: { t: string; q: number } };
const firstButton = (card: Card | undefined): Btn =>
  (card?.elements ?? []).flatMap((e) => (e.type === 'actions' ? (e.buttons.filter((b) => b.kind === 'button') as unknown as Btn[]) : []))[0];

async function refused(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof UserError) return e.message;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('retiring questions from the bank', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      label: 'quiz_retire',
      settings: { quiz: { exams: [{ id: 'pinned', title: '指定题目考试', questions: ['Q0001', 'Q0002'], opensOn: '2026-01-01', dueOn: '2099-12-31' }] } },
    });
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('draws no retired question, keeps the attempts that showed one, and restores on request', async () => {
    // S0001 starts a quiz while the whole bank is in use; one of its questions is then retired.
    const [card] = await ask(t, 'S0001', '考试');
    const all = await currentQuestions(t.app.db);
    expect(all.length).toBeGreaterThanOrEqual(150);
    const attemptId = firstButton(card.card).value.t;
    const shown = (await getAttempt(t.app.db, attemptId))!.items.map((i) => i.questionId);

    // Keep 12 in use; everything else, including a question S0001 is looking at, is retired.
    const pinnedIds = ['Q0001', 'Q0002'];
    const keep = all.filter((q) => !shown.includes(q.id) && !pinnedIds.includes(q.id)).slice(0, 12).map((q) => q.id);
    const retire = all.map((q) => q.id).filter((id) => !keep.includes(id));
    const s = await retireQuestions(t.app.db, retire, { actor: 'S0002' });
    expect(s).toMatchObject({ retire: true, already: [], active: 12 });
    expect(s.changed).toHaveLength(retire.length);
    expect(await retiredQuestionIds(t.app.db)).toEqual([...retire].sort());

    // The attempt in progress keeps its questions: its next card is still one of them.
    expect((await getAttempt(t.app.db, attemptId))!.items.map((i) => i.questionId)).toEqual(shown);

    // A new quiz draws only from the 12.
    for (const who of ['S0004', 'S0006', 'S0007']) {
      await ask(t, who, '考试');
      const a = (await t.app.db.query<{ id: string }>(`SELECT id::text FROM quiz_attempts WHERE staff_id = $1 AND state = 'active'`, [who])).rows[0];
      const ids = (await getAttempt(t.app.db, a.id))!.items.map((i) => i.questionId);
      expect(ids).toHaveLength(10);
      for (const id of ids) expect(keep, `${who} drew ${id}`).toContain(id);
    }

    // An exam pinned to a retired question says so, in Chinese, to the person starting it.
    const [pinned] = await ask(t, 'S0008', '考试 pinned');
    expect(pinned.text ?? JSON.stringify(pinned.card)).toContain('Q0001（已停用）');

    // Export leaves the retired out, and re-importing one updates it without reviving it.
    const out = await exportQuestionFile(t.app.db, 'bank.json');
    expect(out).toMatchObject({ count: 12, retired: retire.length });
    const q1 = (await currentQuestions(t.app.db, { includeRetired: true })).find((q) => q.id === 'Q0001')!;
    const imp = await importQuestionFile(t.app.db, 'one.json', Buffer.from(JSON.stringify([{ ...q1, topic: '停用后修订' }])));
    expect(imp.updated).toEqual(['Q0001']);
    expect(await retiredQuestionIds(t.app.db)).toContain('Q0001');

    const back = await retireQuestions(t.app.db, ['Q0001', 'Q0002', keep[0]], { restore: true, actor: 'S0002' });
    expect(back).toMatchObject({ retire: false, changed: ['Q0001', 'Q0002'], already: [keep[0]], active: 14 });
    const [pinnedAgain] = await ask(t, 'S0009', '考试 pinned');
    expect(pinnedAgain.card?.title).toContain('第 1/2 题');

    const audit = await t.app.db.query<{ action: string; actor: string }>(`SELECT action, actor FROM audit_log WHERE action LIKE 'quiz.questions_re%' ORDER BY id`);
    expect(audit.rows).toEqual([
      { action: 'quiz.questions_retired', actor: 'S0002' },
      { action: 'quiz.questions_restored', actor: 'S0002' },
    ]);
  });

  it('changes nothing when an id is unknown or when nothing would be left to draw', async () => {
    const before = await retiredQuestionIds(t.app.db);
    const active = (await currentQuestions(t.app.db)).map((q) => q.id);
    expect(await refused(retireQuestions(t.app.db, [active[0], 'NOPE-1']))).toBe('题库中没有这些题号：NOPE-1。没有做任何改动。');
    expect(await refused(retireQuestions(t.app.db, active))).toContain('没有可用的题目');
    expect(await refused(retireQuestions(t.app.db, ['  ']))).toContain('请写出要停用');
    expect(await retiredQuestionIds(t.app.db)).toEqual(before);
  });
});
