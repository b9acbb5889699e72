import { KeyedQueue } from './keyed-queue.js';
import type { Lock, StateStore } from './store.js';

export interface UserLockTiming {
  /** Lock lifetime; a running handler extends it every third of this, so only a dead replica lets it lapse. */
  ttlMs: number;
  pollMs: number;
  /** An earlier ticket whose replica shows no sign of life for this long is skipped. */
  skipDeadAfterMs: number;
  /** Waiting longer than this gives up: the event is answered as temporarily unavailable. */
  maxWaitMs: number;
}

const DEFAULT_TIMING: UserLockTiming = { ttlMs: 15_000, pollMs: 15, skipDeadAfterMs: 5_000, maxWaitMs: 120_000 };

/** The lock could not be had in time (or the store failed): nothing of the event has run. */
export class LockUnavailable extends Error {}

/**
 * One user's events, one at a time and in arrival order, across every replica: a queue per
 * user inside this process (so one replica stays FIFO without polling), and inside it the
 * store's fair lock (so two replicas take turns in the order the events reached the store).
 */
export class UserLock {
  private queue = new KeyedQueue();
  private timing: UserLockTiming;

  constructor(
    private store: StateStore,
    timing: Partial<UserLockTiming> = {},
  ) {
    this.timing = { ...DEFAULT_TIMING, ...timing };
  }

  private key(userKey: string): string {
    return `lock:${userKey}`;
  }

  /** Takes the event's place in line; call it as the event arrives. Throws when the store is away. */
  enter(userKey: string): Promise<number> {
    return this.store.takeTicket(this.key(userKey));
  }

  /** Runs `task` when it is this ticket's turn; LockUnavailable when that turn does not come. */
  run<T>(userKey: string, ticket: number, task: () => Promise<T>): Promise<T> {
    return this.queue.run(userKey, async () => {
      const lock = await this.acquire(this.key(userKey), ticket);
      const { ttlMs } = this.timing;
      const keepAlive = setInterval(() => void this.store.extendLock(lock, ttlMs).catch(() => false), ttlMs / 3);
      keepAlive.unref();
      try {
        return await task();
      } finally {
        clearInterval(keepAlive);
        // Unreleased, the lock lapses after its lifetime; the next event only waits that long.
        await this.store.releaseLock(lock).catch(() => {});
      }
    });
  }

  private async acquire(key: string, ticket: number): Promise<Lock> {
    const { ttlMs, pollMs, skipDeadAfterMs, maxWaitMs } = this.timing;
    const started = Date.now();
    let seen = '';
    let progressAt = started;
    let jump = false;
    try {
      for (;;) {
        const r = await this.store.tryLock(key, ticket, ttlMs, jump);
        if ('lock' in r) return r.lock;
        const now = Date.now();
        if (r.busy !== seen) {
          seen = r.busy;
          progressAt = now;
        }
        // Nobody holds it and nobody was served for a while: the ticket before us died unserved.
        jump = r.busy.startsWith('-|') && now - progressAt >= skipDeadAfterMs;
        if (now - started >= maxWaitMs) break;
        await new Promise((res) => setTimeout(res, pollMs));
      }
    } catch (e) {
      await this.store.releaseLock({ key, ticket, token: '' }).catch(() => {});
      throw new LockUnavailable(`state store failed while waiting for ${key}: ${(e as Error).message}`);
    }
    // Our turn is given up, so those after us need not wait for it.
    await this.store.releaseLock({ key, ticket, token: '' }).catch(() => {});
    throw new LockUnavailable(`timed out waiting for ${key}`);
  }

  get size(): number {
    return this.queue.size;
  }

  /** Resolves when every queued task has finished (for shutdown). */
  drain(): Promise<void> {
    return this.queue.drain();
  }
}
