import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { LOG_GUARD_MS, Pacer, paceFor } from '../scheduler/pace.js';
import { deleteRedisKeys, REDIS_URL, uniqueName } from './helpers/db.js';

/** The most sends found in any window of `ms` (open at its start, as the fake counts). */
function mostInWindow(times: number[], ms: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i] - sorted[j] >= ms) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe('15 the outbound pacer', () => {
  const redis = new Redis(REDIS_URL);
  const prefix = `test:${uniqueName('pace')}`;
  afterAll(async () => {
    await deleteRedisKeys(prefix);
    redis.disconnect();
  });

  it('15 paces at margin × the platform quota: 20 calls/s at margin 1, 19 at the default 0.95', () => {
    // The margin is the whole allowance for jitter; no second one hidden in the arithmetic.
    expect(paceFor([{ max: 20, seconds: 1 }], 1)!.perSecond).toBeCloseTo(20, 9);
    expect(paceFor([{ max: 20, seconds: 1 }], 0.95)!.perSecond).toBeCloseTo(19, 9);
    expect(paceFor([{ max: 20, seconds: 1 }], 0.95)!.intervalMs).toBeCloseTo(1000 / 19, 9);
    expect(paceFor([{ max: 50, seconds: 1 }, { max: 1000, seconds: 60 }], 1)!.perSecond).toBeCloseTo(1000 / 60, 9);
  });

  it('15 holds a call back rather than crowd a quota window when earlier slots were reached late', async () => {
    const pacer = new Pacer(redis, prefix);
    const windows = [{ max: 5, seconds: 1 }];
    const sent: number[] = [];
    const t0 = performance.now();
    const sends = Array.from({ length: 7 }, () => pacer.wait('late', windows, 1).then(() => sent.push(performance.now() - t0)));
    // Slots every 200 ms; the first leaves, then the process stalls past the next three slots,
    // which then all leave at once, 600 ms late: without the log of calls made, the 7th (on
    // time at 1200 ms) would be the 6th call inside one second.
    while (sent.length === 0) await new Promise((r) => setTimeout(r, 1));
    const stallUntil = performance.now() + 600;
    while (performance.now() < stallUntil);
    await Promise.all(sends);
    expect(sent).toHaveLength(7);
    // 50 ms short of a second: the time from the Redis stamp to this test seeing the call.
    expect(mostInWindow(sent, 950)).toBeLessThanOrEqual(5);
    // The 7th waited for the late ones to age out (a window and the guard after them), not less.
    expect(Math.max(...sent)).toBeGreaterThanOrEqual(600 + 1000 + LOG_GUARD_MS - 30);
  });

  it('15 shares of a call and calls the adapter paces itself are not logged as calls', async () => {
    const pacer = new Pacer(redis, prefix);
    const windows = [{ max: 2, seconds: 1 }];
    // Forty twentieths are two calls' worth of slots; none of them is a call of its own.
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 40 }, () => pacer.wait('shares', windows, 1, 1 / 20)));
    expect(await pacer.wait('shares', windows, 1, 0)).toBe(0);
    expect(performance.now() - t0).toBeLessThan(1500);
    expect(await redis.exists(`${prefix}:pace:shares:log:2/1`)).toBe(0);
  });
});
