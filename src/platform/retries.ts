import { AsyncLocalStorage } from 'node:async_hooks';
import { PlatformError } from '../errors.js';

/**
 * Who tries a failed platform call again, decided once for every client: exactly one layer.
 *
 * - A send from the outbound queue (scheduler/outbound.ts runs it inside `asQueuedSend`) is
 *   retried by BullMQ: its attempts and exponential backoff, and a queue pause when the platform
 *   names a wait. Inside it a client makes one attempt and classifies the failure as a
 *   PlatformError {retryable, code, retryAfterMs}; retrying here too would multiply the
 *   attempts (and let one send sleep through a platform's wait while holding a worker slot).
 * - A call made while answering a user (a reply, a card update, an upload, a download) has no
 *   queue behind it, and one 429 should not cost the user the answer: it gets a short retry,
 *   at most `attempts` in all and only when the wait is no longer than `maxWaitMs`; a longer
 *   wait fails at once with the retryable error.
 *
 * Calls nested in one already being retried (a token fetch inside a send) make one attempt:
 * the outer call's retry covers them.
 */

export interface DirectRetry {
  /** Attempts in all for a call outside the outbound queue, the first included. */
  attempts: number;
  /** A wait longer than this (the platform's or the backoff's) is not waited out. */
  maxWaitMs: number;
  /** The wait before attempt `n + 1` when the platform names none. */
  backoffMs: (n: number) => number;
  sleep?: (ms: number) => Promise<void>;
  onRetry?: (err: PlatformError, attempt: number, waitMs: number) => void;
}

/** Default for direct calls: two more tries within about ten seconds. */
export const DIRECT_ATTEMPTS = 3;
export const DIRECT_MAX_WAIT_MS = 10_000;

const owner = new AsyncLocalStorage<'queue' | 'direct'>();

/** Runs a queued send: every platform call inside makes one attempt and leaves retrying to BullMQ. */
export function asQueuedSend<T>(fn: () => Promise<T>): Promise<T> {
  return owner.run('queue', fn);
}

/** Whether a retry inside a platform client is allowed here (outside queued sends and outer retries). */
export function mayRetryHere(): boolean {
  return owner.getStore() === undefined;
}

/** Runs one platform call, retried per `policy` only when nobody further out retries it. */
export async function withDirectRetry<T>(fn: () => Promise<T>, policy: DirectRetry): Promise<T> {
  if (!mayRetryHere()) return fn();
  const sleep = policy.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      return await owner.run('direct', fn);
    } catch (e) {
      if (!(e instanceof PlatformError) || !e.retryable || attempt >= policy.attempts) throw e;
      const waitMs = e.retryAfterMs ?? policy.backoffMs(attempt);
      if (waitMs > policy.maxWaitMs) throw e;
      policy.onRetry?.(e, attempt, waitMs);
      await sleep(waitMs);
    }
  }
}
