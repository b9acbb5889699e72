import type { Card } from '../../cards/model.js';
import type { HandlerContext } from './context.js';

/**
 * Multi-step conversations: one per user, state in the shared state store with a timeout, `取消` ends it.
 * Every answer is validated and a wrong one is answered with what is expected, keeping the
 * step. Features use this wherever a platform has no form inputs.
 */

export type StepResult<T> = { ok: true; value: T } | { ok: false; message: string };

export interface DialogueStep {
  key: string;
  prompt(data: Record<string, unknown>): string | Card;
  /** `files` are the attachments of the answering message, if it had any. */
  parse(text: string, data: Record<string, unknown>, files?: { name: string; ref: string }[]): StepResult<unknown> | Promise<StepResult<unknown>>;
  /** Skipped when this returns true (e.g. a field already given). */
  skip?(data: Record<string, unknown>): boolean;
}

export interface DialogueSpec {
  name: string;
  /**
   * Raise it whenever the steps change in a way that moves or re-means a step: a user midway
   * through an older version is asked to start again rather than have answers land in the
   * wrong field. Default 1.
   */
  version?: number;
  /** Steps may depend on the initial data (a form turned into a dialogue). */
  steps(initial: Record<string, unknown>): DialogueStep[];
  complete(ctx: HandlerContext, data: Record<string, unknown>): Promise<Card | string | void>;
  /** What `取消` answers, where the default ("nothing was saved") would not be true. */
  cancelMessage?: string;
  /**
   * False where the prompts say themselves how to finish and how to stop (a dialogue that stays
   * open for files): the generic “取消” hints would repeat them, and “逐项填写” would be untrue.
   */
  hints?: boolean;
}

export interface DialogueState {
  name: string;
  /** The spec's version when this state was written. */
  version: number;
  step: number;
  data: Record<string, unknown>;
  initial: Record<string, unknown>;
  /** Started by confidential content: answers typed in a group are still answered privately. */
  confidential?: boolean;
}

export const CANCEL_WORDS = new Set(['取消', 'cancel', '退出', '算了']);

export function firstOpenStep(steps: DialogueStep[], from: number, data: Record<string, unknown>): number {
  let i = from;
  while (i < steps.length && steps[i].skip?.(data)) i++;
  return i;
}
