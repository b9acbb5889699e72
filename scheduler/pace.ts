import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Paces sends to a platform across every worker and replica, in two steps, both on the Redis
 * clock so that replicas agree:
 *  1. each send reserves the next slot on a per-platform timeline (a GCRA "theoretical arrival
 *     time"), then sleeps until it: sends go out evenly at `margin` of the quota;
 *  2. a send that is one whole platform call then checks a log of the calls actually made in
 *     each quota window and, if the window is already full, waits for its oldest call to age
 *     out. A slot reached late (a busy event loop, a descheduled process) would otherwise
 *     leave less than a window between it and the call `max` places later, which a platform
 *     counting a sliding window refuses.
 *
 * Why not BullMQ's `limiter`: it counts jobs per fixed window opened by the first job, and
 * each window then waits for the worker to wake up again; measured on the fan-out bench that
 * costs 7-14% of the quota, and bursts at window starts drew 429s from a fake enforcing a
 * sliding window. Even slots lose nothing to wake-ups (a late slot does not push the next one
 * back) and never burst; the log only holds a call back when lateness would crowd a window.
 */

type RateWindow = { max: number; seconds: number };

/**
 * Added to every window when checking the log: the time from our stamp (Redis clock) to the
 * platform counting the call (the reply from Redis, the HTTP request) varies by a few
 * milliseconds. It only binds when a window is full, i.e. at `margin` 1.
 */
export const LOG_GUARD_MS = 20;

/**
 * The spacing between sends: `margin` of the strictest sustained rate over the platform's
 * windows (Feishu: 50/s and 1000/min, so 1000/min wins). Sent evenly at the full rate, any
 * window of T seconds (open at one end, as platforms count) holds max sends, so `margin` is
 * the whole allowance for jitter: 0.95 leaves a twentieth of a window.
 */
export function paceFor(windows: RateWindow[], margin: number): { intervalMs: number; perSecond: number } | undefined {
  if (windows.length === 0) return undefined;
  const perSecond = Math.min(...windows.map((w) => w.max / w.seconds)) * margin;
  return { intervalMs: 1000 / perSecond, perSecond };
}

// KEYS[1] timeline; ARGV[1] interval in microseconds. Returns the wait in microseconds.
const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
redis.call('SET', KEYS[1], string.format('%.0f', tat + interval), 'PX', math.ceil((tat + interval - now) / 1000) + 60000)
return tat - now
`;

// KEYS: one sorted set of call times per window. ARGV[1] this call's member, then per key its
// max and its length in microseconds (guard included). Stamps the call in every window and
// returns 0, or stamps nothing and returns the microseconds until every window has room.
const ADMIT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local wait = 0
for i, key in ipairs(KEYS) do
  local max = tonumber(ARGV[2 * i])
  local len = tonumber(ARGV[2 * i + 1])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - len)
  if redis.call('ZCARD', key) >= max then
    local oldest = tonumber(redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2])
    wait = math.max(wait, oldest + len - now + 1)
  end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[1])
  redis.call('PEXPIRE', key, math.ceil(tonumber(ARGV[2 * i + 1]) / 1000) + 1000)
end
return 0
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Pacer {
  constructor(
    private redis: Redis,
    private prefix: string,
  ) {}

  /**
   * Waits for this send's slot; returns the milliseconds waited. `cost` is the share of one
   * platform call the send takes (a twentieth when twenty recipients share one call, 0 when
   * the adapter paces the shared call itself).
   */
  async wait(platform: string, windows: RateWindow[], margin: number, cost = 1): Promise<number> {
    const pace = paceFor(windows, margin);
    if (!pace || cost <= 0) return 0;
    const started = performance.now();
    const waitUs = Number(await this.redis.eval(RESERVE, 1, `${this.prefix}:pace:${platform}`, Math.round(pace.intervalMs * cost * 1000)));
    if (waitUs > 0) await sleep(waitUs / 1000);
    // Shares of a call are not calls: the log counts the call the adapter makes for them.
    if (cost >= 1) {
      const keys = windows.map((w) => `${this.prefix}:pace:${platform}:log:${w.max}/${w.seconds}`);
      const args = windows.flatMap((w) => [w.max, Math.round((w.seconds * 1000 + LOG_GUARD_MS) * 1000)]);
      const member = randomUUID();
      for (;;) {
        const more = Number(await this.redis.eval(ADMIT, keys.length, ...keys, member, ...args));
        if (more <= 0) break;
        await sleep(Math.ceil(more / 1000));
      }
    }
    return performance.now() - started;
  }
}
