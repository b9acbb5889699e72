import { randomInt } from 'node:crypto';
import { ruleGroup } from './rules.js';

/** A source of randomness: returns an integer in [0, n). Tests pass a seeded one. */
export type Rng = (n: number) => number;
export const cryptoRng: Rng = (n) => randomInt(n);

/** A fair (Fisher–Yates) shuffle; returns a new array. */
export function shuffle<T>(items: readonly T[], rng: Rng = cryptoRng): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng(i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/**
 * The order options are shown in for one attempt: `order[shown] = original index`.
 * True/false keeps 正确 before 错误: shuffling them only confuses.
 */
export function optionOrder(type: string, optionCount: number, rng: Rng = cryptoRng): number[] {
  const identity = Array.from({ length: optionCount }, (_, i) => i);
  return type === 'judge' ? identity : shuffle(identity, rng);
}

/** Shown positions → original indexes. */
export const toOriginal = (order: number[], shown: number[]): number[] => shown.map((s) => order[s]).sort((a, b) => a - b);
/** Original indexes → shown positions. */
export const toShown = (order: number[], original: number[]): number[] => original.map((o) => order.indexOf(o)).sort((a, b) => a - b);

export interface Drawable {
  id: string;
  rule: number | null;
  topic: string;
}

/**
 * Draws `count` questions spread across the rules: the groups (one per rule, one per topic of
 * the related documents) are visited round-robin in a random order, a random question from
 * each, so ten questions touch ten different groups whenever the bank has them.
 */
export function drawAcrossRules<T extends Drawable>(pool: readonly T[], count: number, rng: Rng = cryptoRng): T[] {
  const groups = new Map<string, T[]>();
  for (const q of pool) {
    const key = ruleGroup(q.rule, q.topic);
    groups.set(key, [...(groups.get(key) ?? []), q]);
  }
  // Rules first, then the related topics: the nine rules are what every quiz must cover.
  const keys = [...groups.keys()];
  const ruleKeys = shuffle(keys.filter((k) => k.startsWith('rule:')), rng);
  const topicKeys = shuffle(keys.filter((k) => !k.startsWith('rule:')), rng);
  const queues = [...ruleKeys, ...topicKeys].map((k) => shuffle(groups.get(k)!, rng));
  const out: T[] = [];
  while (out.length < count && queues.some((q) => q.length > 0)) {
    for (const q of queues) {
      if (out.length >= count) break;
      const next = q.shift();
      if (next) out.push(next);
    }
  }
  return shuffle(out, rng);
}
