import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ZodType } from 'zod';
import { checked, TICKET_TTL_MS, type Lock, type StateRead, type StateStore } from './store.js';

// Lock, ticket counter and "last served" live side by side: `<lock>`, `<lock>:next`, `<lock>:served`.
const TAKE_TICKET = `
local t = redis.call('incr', KEYS[1])
redis.call('pexpire', KEYS[1], ARGV[1])
redis.call('pexpire', KEYS[2], ARGV[1])
return t`;

const TRY_LOCK = `
local holder = redis.call('get', KEYS[1])
local served = tonumber(redis.call('get', KEYS[2]) or '0')
local ticket = tonumber(ARGV[1])
if not holder and (ticket <= served + 1 or ARGV[4] == '1') then
  redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return ''
end
return (holder or '-') .. '|' .. served`;

const EXTEND_LOCK = `
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0`;

const RELEASE_LOCK = `
if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[1]) end
local served = tonumber(redis.call('get', KEYS[2]) or '0')
if tonumber(ARGV[2]) > served then redis.call('set', KEYS[2], ARGV[2], 'PX', ARGV[3]) end
return 1`;

/** The store every replica shares: keys under `<prefix>:` in Redis. */
export class RedisStateStore implements StateStore {
  constructor(
    private redis: Redis,
    private prefix: string,
  ) {}

  private k(key: string): string {
    return `${this.prefix}:${key}`;
  }

  async get<T>(key: string, schema: ZodType<T>): Promise<StateRead<T>> {
    const raw = await this.redis.get(this.k(key));
    if (raw === null) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return { invalid: true };
    }
    return checked(json, schema);
  }

  async set(key: string, value: unknown, ttlMs: number): Promise<void> {
    await this.redis.set(this.k(key), JSON.stringify(value), 'PX', ttlMs);
  }

  async setIfAbsent(key: string, value: unknown, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(this.k(key), JSON.stringify(value), 'PX', ttlMs, 'NX')) === 'OK';
  }

  async claimAll(keys: string[], ttlMs: number): Promise<boolean> {
    const multi = this.redis.multi();
    for (const key of keys) multi.set(this.k(key), '1', 'PX', ttlMs, 'NX');
    const results = (await multi.exec()) ?? [];
    return results.length > 0 && results.every(([err, r]) => !err && r === 'OK');
  }

  async delete(...keys: string[]): Promise<void> {
    if (keys.length) await this.redis.del(...keys.map((key) => this.k(key)));
  }

  async ttlMs(key: string): Promise<number | undefined> {
    const ms = await this.redis.pttl(this.k(key));
    return ms >= 0 ? ms : undefined;
  }

  async takeTicket(key: string): Promise<number> {
    const k = this.k(key);
    return Number(await this.redis.eval(TAKE_TICKET, 2, `${k}:next`, `${k}:served`, TICKET_TTL_MS));
  }

  async tryLock(key: string, ticket: number, ttlMs: number, jumpQueue: boolean): Promise<{ lock: Lock } | { busy: string }> {
    const k = this.k(key);
    const token = randomUUID();
    const busy = String(await this.redis.eval(TRY_LOCK, 2, k, `${k}:served`, ticket, token, ttlMs, jumpQueue ? '1' : '0'));
    return busy === '' ? { lock: { key, ticket, token } } : { busy };
  }

  async extendLock(lock: Lock, ttlMs: number): Promise<boolean> {
    return Number(await this.redis.eval(EXTEND_LOCK, 1, this.k(lock.key), lock.token, ttlMs)) === 1;
  }

  async releaseLock(lock: Lock): Promise<void> {
    const k = this.k(lock.key);
    await this.redis.eval(RELEASE_LOCK, 2, k, `${k}:served`, lock.token, lock.ticket, TICKET_TTL_MS);
  }
}
