import type { ZodType } from 'zod';

/**
 * Everything the bot keeps between events (dialogue steps, dedupe marks, typed buttons, form
 * specs, per-user locks) goes through this one interface, so a replica never reaches for raw
 * Redis and tests can run the same contract against memory. Keys are relative to the store's
 * prefix. Values are JSON; every read is checked against a schema, because a value written by
 * an older deploy must be noticed, not trusted.
 */
export interface StateStore {
  /** The value under `key`, `{ invalid: true }` when it no longer fits `schema`, undefined when absent. */
  get<T>(key: string, schema: ZodType<T>): Promise<StateRead<T>>;
  set(key: string, value: unknown, ttlMs: number): Promise<void>;
  /** Writes only when the key is absent; true when written. */
  setIfAbsent(key: string, value: unknown, ttlMs: number): Promise<boolean>;
  /** Marks every key (where absent) in one step; true only when none of them was there before. */
  claimAll(keys: string[], ttlMs: number): Promise<boolean>;
  delete(...keys: string[]): Promise<void>;
  /** Remaining lifetime in ms, or undefined when the key is absent or has none. */
  ttlMs(key: string): Promise<number | undefined>;

  /**
   * A fair lock shared by every replica using the same store: callers take a ticket when an
   * event arrives, and a ticket may hold the lock only after the one before it has been served,
   * so one user's events run in the order they reached the store, whichever replica got them.
   */
  takeTicket(key: string): Promise<number>;
  /**
   * Takes the lock for `ticket` when it is free and it is this ticket's turn (or `jumpQueue`,
   * when an earlier ticket's holder is gone). Otherwise a fingerprint of who holds it and who
   * was served last, so a waiter can tell progress from a dead replica.
   */
  tryLock(key: string, ticket: number, ttlMs: number, jumpQueue: boolean): Promise<{ lock: Lock } | { busy: string }>;
  /** Extends a lock still held by this token; false when it was lost. */
  extendLock(lock: Lock, ttlMs: number): Promise<boolean>;
  /** Frees the lock if this token still holds it, and marks the ticket served either way. */
  releaseLock(lock: Lock): Promise<void>;
}

export type StateRead<T> = { value: T } | { invalid: true } | undefined;

export interface Lock {
  key: string;
  ticket: number;
  /** Random per acquisition: release and extend act only while this token holds the lock. */
  token: string;
}

/** How long ticket counters outlive a user's last event; far beyond any handler. */
export const TICKET_TTL_MS = 24 * 3600 * 1000;

export function checked<T>(raw: unknown, schema: ZodType<T>): StateRead<T> {
  const parsed = schema.safeParse(raw);
  return parsed.success ? { value: parsed.data } : { invalid: true };
}
