import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { loadDefaultBank } from '../src/domain/quiz/bank.js';
import { toShown } from '../src/domain/quiz/draw.js';
import { OPTION_LETTERS } from '../src/domain/quiz/question.js';
import { parseTypedAnswer } from '../src/domain/quiz/typed-answer.js';
import { activeAttemptOf, getAttempt, questionVersions } from '../src/store/quiz.js';
import { ask, startTestApp, type TestApp } from './helpers/app.js';

const bank = loadDefaultBank();
const first = (type: string) => bank.find((q) => q.type === type)!;
const EXAM = [first('multiple'), first('single'), first('judge')];

describe('reading a typed answer', () => {
  const single = { type: 'single' as const, options: ['甲', '乙', '丙', '丁'] };
  const judge = { type: 'judge' as const, options: ['正确', '错误'] };
  it('takes letters as shown, 对/错 for true/false, and says why otherwise', () => {
    expect(parseTypedAnswer(' b ', single, [2, 0, 1, 3])).toEqual([1]);
    expect(parseTypedAnswer('A，C、d', { ...single, type: 'multiple' }, [0, 1, 2, 3])).toEqual([0, 2, 3]);
    expect(parseTypedAnswer('AB', single, [0, 1, 2, 3])).toBe('这道单选题只能选一个答案。');
    expect(parseTypedAnswer('E', single, [0, 1, 2, 3])).toBe('这道题的选项是 A、B、C、D，请回复例如“答 B”。');
    expect(parseTypedAnswer('', single, [0, 1, 2, 3])).toBe('请写出选项字母，例如“答 B”。');
    // Shown order [1, 0]: 错误 is shown first, so 错 is position 0.
    expect(parseTypedAnswer('错', judge, [1, 0])).toEqual([0]);
    expect(parseTypedAnswer('正确', judge, [1, 0])).toEqual([1]);
    expect(parseTypedAnswer('也许', judge, [1, 0])).toBe('这是判断题，请回复“答 对”或“答 错”。');
  });
});

describe('answering a quiz by message (答 …) through the sandbox', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      label: 'quiz_typed',
      now: () => new Date('2026-11-25T02:00:00Z'),
      settings: { quiz: { exams: [{ id: 'typed', title: '文字作答考试', questions: EXAM.map((q) => q.id), opensOn: '2026-11-01', dueOn: '2026-11-30' }] } },
    });
  });
  afterAll(async () => {
    await t?.dispose();
  });

  /** The right answer as the user would type it, read from the server's own records. */
  async function rightAnswer(app: App, staffId: string): Promise<{ typed: string; type: string }> {
    const a = (await activeAttemptOf(app.db, staffId))!;
    const item = (await getAttempt(app.db, a.id))!.items[a.currentIndex];
    const [q] = await questionVersions(app.db, [{ id: item.questionId, version: item.questionVersion }]);
    if (q.type === 'judge') return { typed: q.options[q.answer[0]] === '正确' ? '对' : '错', type: q.type };
    return { typed: toShown(item.optionOrder, q.answer).map((s) => OPTION_LETTERS[s]).join(''), type: q.type };
  }

  it('answers every type by message, refuses what it cannot read, and scores it like clicks', async () => {
    const [none] = await ask(t, 'S0001', '答 A');
    expect(none.text).toBe('您当前没有进行中的测验。发送“考试”开始一次测验。');

    const [q1] = await ask(t, 'S0001', '考试 typed');
    expect(q1.card!.title).toContain('第 1/3 题');
    expect(JSON.stringify(q1.card)).toContain('也可回复“答 AC”作答');
    const [bad] = await ask(t, 'S0001', '答 Z');
    expect(bad.text).toMatch(/^这道题的选项是 A、B、C、D/);

    for (let i = 0; i < 3; i++) {
      const { typed } = await rightAnswer(t.app, 'S0001');
      const [verdict, next] = await ask(t, 'S0001', `答 ${typed}`, 2);
      expect(verdict.card!.title).toContain('回答正确');
      expect(JSON.stringify(verdict.card)).toContain('出处');
      expect(next.card!.title).toBe(i < 2 ? `文字作答考试 · 第 ${i + 2}/3 题` : '文字作答考试 · 100 分 · 通过');
    }
    const [after] = await ask(t, 'S0001', '答 B');
    expect(after.text).toBe('您当前没有进行中的测验。发送“考试”开始一次测验。');
  });
});
