import { randomUUID } from 'node:crypto';
import type { ZodType } from 'zod';
import { checked, TICKET_TTL_MS, type Lock, type StateRead, type StateStore } from './store.js';

interface Entry {
  value: string;
  expiresAt: number;
}

/**
 * The same contract in one process's memory: for a single instance without Redis and for
 * tests. Values are stored as JSON text so a read sees a copy, as it would from Redis.
 */
export class MemoryStateStore implements StateStore {
  private entries = new Map<string, Entry>();

  constructor(private now: () => number = Date.now) {}

  private live(key: string): Entry | undefined {
    const e = this.entries.get(key);
    if (e && e.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  private put(key: string, value: string, ttlMs: number): void {
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs });
  }

  async get<T>(key: string, schema: ZodType<T>): Promise<StateRead<T>> {
    const e = this.live(key);
    return e ? checked(JSON.parse(e.value), schema) : undefined;
  }

  async set(key: string, value: unknown, ttlMs: number): Promise<void> {
    this.put(key, JSON.stringify(value), ttlMs);
  }

  async setIfAbsent(key: string, value: unknown, ttlMs: number): Promise<boolean> {
    if (this.live(key)) return false;
    this.put(key, JSON.stringify(value), ttlMs);
    return true;
  }

  async claimAll(keys: string[], ttlMs: number): Promise<boolean> {
    let fresh = keys.length > 0;
    for (const key of keys) if (!(await this.setIfAbsent(key, 1, ttlMs))) fresh = false;
    return fresh;
  }

  async delete(...keys: string[]): Promise<void> {
    for (const key of keys) this.entries.delete(key);
  }

  async ttlMs(key: string): Promise<number | undefined> {
    const e = this.live(key);
    return e ? e.expiresAt - this.now() : undefined;
  }

  async takeTicket(key: string): Promise<number> {
    const t = Number(this.live(`${key}:next`)?.value ?? 0) + 1;
    this.put(`${key}:next`, String(t), TICKET_TTL_MS);
    const served = this.live(`${key}:served`);
    if (served) this.put(`${key}:served`, served.value, TICKET_TTL_MS);
    return t;
  }

  async tryLock(key: string, ticket: number, ttlMs: number, jumpQueue: boolean): Promise<{ lock: Lock } | { busy: string }> {
    const holder = this.live(key);
    const served = Number(this.live(`${key}:served`)?.value ?? 0);
    if (!holder && (ticket <= served + 1 || jumpQueue)) {
      const token = randomUUID();
      this.put(key, token, ttlMs);
      return { lock: { key, ticket, token } };
    }
    return { busy: `${holder?.value ?? '-'}|${served}` };
  }

  async extendLock(lock: Lock, ttlMs: number): Promise<boolean> {
    if (this.live(lock.key)?.value !== lock.token) return false;
    this.put(lock.key, lock.token, ttlMs);
    return true;
  }

  async releaseLock(lock: Lock): Promise<void> {
    if (this.live(lock.key)?.value === lock.token) this.entries.delete(lock.key);
    const served = Number(this.live(`${lock.key}:served`)?.value ?? 0);
    if (lock.ticket > served) this.put(`${lock.key}:served`, String(lock.ticket), TICKET_TTL_MS);
  }
}
