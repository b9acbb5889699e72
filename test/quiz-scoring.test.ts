import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { drawAcrossRules, optionOrder, shuffle, toOriginal, toShown, type Rng } from '../src/domain/quiz/draw.js';
import { loadDefaultBank } from '../src/domain/quiz/bank.js';
import { isCorrect, passed, scoreItems, type ScoredItem } from '../src/domain/quiz/scoring.js';
import type { QuestionType } from '../src/domain/quiz/question.js';

/** A deterministic rng from a list of fast-check integers. */
const seeded = (seed: number): Rng => {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
};

/** A question shape (type, option count, answer) and any answer set a person could give. */
const itemArb: fc.Arbitrary<ScoredItem> = fc
  .record({ type: fc.constantFrom<QuestionType>('single', 'multiple', 'judge'), n: fc.integer({ min: 2, max: 6 }) })
  .chain(({ type, n }) => {
    const count = type === 'judge' ? 2 : n;
    const answer =
      type === 'multiple'
        ? fc.uniqueArray(fc.integer({ min: 0, max: count - 1 }), { minLength: 2, maxLength: Math.max(2, count - 1) })
        : fc.integer({ min: 0, max: count - 1 }).map((a) => [a]);
    const selected = fc.option(fc.uniqueArray(fc.integer({ min: 0, max: count - 1 }), { maxLength: count }), { nil: undefined });
    return fc.record({ type: fc.constant(type), answer, selected });
  });

describe('quiz scoring (property-based)', () => {
  it('scores any answer set between 0 and 100, as a whole number', () => {
    fc.assert(
      fc.property(fc.array(itemArb, { minLength: 0, maxLength: 60 }), (items) => {
        const s = scoreItems(items);
        expect(Number.isInteger(s.score)).toBe(true);
        expect(s.score).toBeGreaterThanOrEqual(0);
        expect(s.score).toBeLessThanOrEqual(100);
        expect(s.correct).toBeGreaterThanOrEqual(0);
        expect(s.correct).toBeLessThanOrEqual(items.length);
      }),
      { numRuns: 500 },
    );
  });

  it('counts a multiple-choice answer only when it is exactly the correct set', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 3, max: 6 }).chain((n) =>
          fc.record({
            n: fc.constant(n),
            answer: fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { minLength: 2, maxLength: n - 1 }),
            selected: fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { maxLength: n }),
          }),
        ),
        ({ answer, selected }) => {
          const exact = selected.length === answer.length && answer.every((a) => selected.includes(a));
          expect(isCorrect(answer, selected)).toBe(exact);
          expect(scoreItems([{ type: 'multiple', answer, selected }]).score).toBe(exact ? 100 : 0);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('gives full marks for all-correct answers and zero when nothing is answered', () => {
    fc.assert(
      fc.property(fc.array(itemArb, { minLength: 1, maxLength: 30 }), (items) => {
        expect(scoreItems(items.map((i) => ({ ...i, selected: [...i.answer].reverse() }))).score).toBe(100);
        expect(scoreItems(items.map(({ selected: _s, ...i }) => i)).score).toBe(0);
      }),
    );
  });

  it('ignores the order of an answer; a subset or a superset is wrong', () => {
    expect(isCorrect([0, 2, 3], [3, 0, 2])).toBe(true);
    expect(isCorrect([0, 2, 3], [0, 2])).toBe(false);
    expect(isCorrect([0, 2, 3], [0, 1, 2, 3])).toBe(false);
    expect(isCorrect([1], [])).toBe(false);
    expect(isCorrect([1], undefined)).toBe(false);
  });

  it('passes at the pass mark, not below', () => {
    expect(passed(80, 80)).toBe(true);
    expect(passed(79, 80)).toBe(false);
  });
});

describe('shuffling', () => {
  it('keeps answer identity: the shown positions of the correct options map back to the same answer and text', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 6 }).chain((n) =>
          fc.record({
            n: fc.constant(n),
            seed: fc.integer(),
            answer: fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { minLength: 1, maxLength: n }),
          }),
        ),
        ({ n, seed, answer }) => {
          const options = Array.from({ length: n }, (_, i) => `选项${i}`);
          const order = optionOrder('multiple', n, seeded(seed));
          expect([...order].sort((a, b) => a - b)).toEqual(options.map((_, i) => i));
          const shownCorrect = toShown(order, answer);
          expect(toOriginal(order, shownCorrect)).toEqual([...answer].sort((a, b) => a - b));
          // What the person reads at a shown position is the original option's text.
          const shownTexts = order.map((o) => options[o]);
          expect(shownCorrect.map((s) => shownTexts[s]).sort()).toEqual(answer.map((a) => options[a]).sort());
          expect(isCorrect(answer, toOriginal(order, shownCorrect))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps 正确 before 错误 for true/false questions', () => {
    expect(optionOrder('judge', 2, seeded(7))).toEqual([0, 1]);
  });

  it('actually reorders options across attempts', () => {
    const orders = new Set(Array.from({ length: 50 }, (_, i) => optionOrder('single', 4, seeded(i + 1)).join('')));
    expect(orders.size).toBeGreaterThan(5);
  });

  it('shuffle is a permutation', () => {
    fc.assert(fc.property(fc.array(fc.integer()), fc.integer(), (xs, seed) => {
      expect(shuffle(xs, seeded(seed)).sort()).toEqual([...xs].sort());
    }));
  });

  it('draws ten questions from ten different rules or topics of the default bank', () => {
    const bank = loadDefaultBank();
    for (let seed = 1; seed <= 20; seed++) {
      const picked = drawAcrossRules(bank, 10, seeded(seed));
      expect(picked).toHaveLength(10);
      expect(new Set(picked.map((q) => q.id)).size).toBe(10);
      expect(new Set(picked.map((q) => (q.rule === null ? q.topic : q.rule))).size).toBe(10);
      // All nine rules come first in the round-robin, so every quiz of 10 covers all nine.
      expect(new Set(picked.filter((q) => q.rule !== null).map((q) => q.rule)).size).toBe(9);
    }
  });
});
