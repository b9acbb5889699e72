import type { QuestionType } from './question.js';

/**
 * Scoring. Every question weighs the same; a multiple-choice answer counts only when it is
 * exactly the set of correct options (no partial credit: picking one right option of three
 * is not knowing the rule). An unanswered question counts as wrong.
 */
export interface ScoredItem {
  type: QuestionType;
  /** Correct option indexes (original order). */
  answer: number[];
  /** Chosen option indexes (original order); undefined when not answered. */
  selected?: number[];
}

export function isCorrect(answer: number[], selected: number[] | undefined): boolean {
  if (!selected || selected.length === 0) return false;
  const want = new Set(answer);
  const got = new Set(selected);
  if (want.size !== got.size) return false;
  for (const a of got) if (!want.has(a)) return false;
  return true;
}

export interface Score {
  correct: number;
  total: number;
  /** 0..100, rounded to a whole number. */
  score: number;
}

export function scoreItems(items: ScoredItem[]): Score {
  const total = items.length;
  const correct = items.filter((i) => isCorrect(i.answer, i.selected)).length;
  return { correct, total, score: total === 0 ? 0 : Math.round((100 * correct) / total) };
}

export const passed = (score: number, passMark: number): boolean => score >= passMark;
