// The server's own zone is UTC here, as on most hosts; every schedule must still follow Asia/Shanghai.
process.env.TZ = 'UTC';

import { defaultRepeatStrategy, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { dailyAt } from '../scheduler/index.js';
import { bullConnection, CRON_QUEUE, Scheduler } from '../scheduler/scheduler.js';
import { fileSchema } from '../src/config.js';
import { deadlineOf, isLate, reportSteps } from '../src/domain/report.js';
import { localDate, resolvePlan, studySteps, type StudyPlan } from '../src/domain/study.js';
import { createLogger } from '../src/logger.js';
import { REDIS_URL, uniqueName } from './helpers/db.js';
import { waitFor } from './fakes/recorder/seed.js';

const TZ = 'Asia/Shanghai';
const next = (pattern: string, fromIso: string): string =>
  new Date(defaultRepeatStrategy(new Date(fromIso).getTime(), { pattern, tz: TZ }) as number).toISOString();

describe('cron patterns in Asia/Shanghai on a UTC server', () => {
  it('really runs in UTC', () => {
    expect(new Date(2026, 0, 1).getTimezoneOffset()).toBe(0);
  });

  it('fires the daily check at 09:05 Shanghai across a month end', () => {
    expect(dailyAt('09:05')).toBe('5 9 * * *');
    expect(next('5 9 * * *', '2026-01-31T01:06:00Z')).toBe('2026-02-01T01:05:00.000Z');
    expect(next('5 9 * * *', '2026-12-31T02:00:00Z')).toBe('2027-01-01T01:05:00.000Z');
  });

  it('knows February: 28 days in 2026, 29 in 2028', () => {
    expect(next('5 9 * * *', '2026-02-28T01:06:00Z')).toBe('2026-03-01T01:05:00.000Z');
    expect(next('5 9 * * *', '2028-02-28T01:06:00Z')).toBe('2028-02-29T01:05:00.000Z');
  });

  it('puts the monthly push on the 1st in Shanghai while UTC still says the 31st', () => {
    // 2026-01-31T17:00Z is already 1 February 01:00 in Shanghai.
    expect(next('5 9 1 * *', '2026-01-31T17:00:00Z')).toBe('2026-02-01T01:05:00.000Z');
    expect(localDate(new Date('2026-01-31T17:00:00Z'), TZ)).toBe('2026-02-01');
  });

  it('puts midnight of the 20th on the 19th in UTC', () => {
    expect(next('0 0 20 * *', '2026-11-01T00:00:00Z')).toBe('2026-11-19T16:00:00.000Z');
    expect(localDate(new Date('2026-11-19T16:00:00Z'), TZ)).toBe('2026-11-20');
    expect(localDate(new Date('2026-11-19T15:59:59Z'), TZ)).toBe('2026-11-19');
  });

  it('counts the whole 20th as on time and midnight after it as late', () => {
    const report = fileSchema.parse({}).report;
    const m = { year: 2026, month: 11 };
    expect(deadlineOf(m, report, TZ)).toEqual({ date: '2026-11-20', endsAt: new Date('2026-11-20T16:00:00Z') });
    expect(isLate(new Date('2026-11-20T15:59:59Z'), m, report, TZ)).toBe(false);
    expect(isLate(new Date('2026-11-20T16:00:00Z'), m, report, TZ)).toBe(true);
  });

  it('reminds 5 and 2 days before and on the morning of the deadline, escalates the day after', () => {
    const steps = (d: string) => reportSteps('2026-11-20', [5, 2, 0], d);
    expect(steps('2026-11-15')).toEqual([{ kind: 'remind', daysLeft: 5 }]);
    expect(steps('2026-11-16')).toEqual([]);
    expect(steps('2026-11-18')).toEqual([{ kind: 'remind', daysLeft: 2 }]);
    expect(steps('2026-11-20')).toEqual([{ kind: 'remind', daysLeft: 0 }]);
    expect(steps('2026-11-21')).toEqual([{ kind: 'overdue' }]);
    expect(steps('2026-11-30')).toEqual([]);
  });

  it('ends the February study on the 28th and lists those overdue on 1 March', async () => {
    const study = fileSchema.parse({}).study;
    const noDb = { query: async () => ({ rows: [], rowCount: 0 }) };
    const plan: StudyPlan = await resolvePlan(noDb, study, { year: 2026, month: 2 });
    expect(plan.dueOn).toBe('2026-02-28');
    expect(plan.topic).toContain('欺诈骗保');
    expect(studySteps(plan, '2026-02-01')).toEqual([{ kind: 'push' }]);
    expect(studySteps(plan, '2026-02-21')).toEqual([{ kind: 'push' }, { kind: 'remind', daysLeft: 7 }]);
    expect(studySteps(plan, '2026-02-27')).toEqual([{ kind: 'push' }, { kind: 'remind', daysLeft: 1 }]);
    expect(studySteps(plan, '2026-03-01')).toEqual([{ kind: 'overdue' }]);
    const leap = await resolvePlan(noDb, study, { year: 2028, month: 2 });
    expect(leap.dueOn).toBe('2028-02-29');
  });
});

/** Schedulers on one prefix, as replicas of one bot; cleaned up after the describe. */
function replicaKit(label: string) {
  const prefix = `test:${uniqueName(label)}`;
  const logger = createLogger('silent');
  const made: Scheduler[] = [];
  const connections: Redis[] = [];
  afterAll(async () => {
    for (const s of made) await s.stop();
    // quit, not disconnect: a command still in flight on a cut connection rejects unhandled.
    for (const c of connections) await c.quit().catch(() => c.disconnect());
    const r = new Redis(REDIS_URL);
    const keys = await r.keys(`${prefix}:*`);
    if (keys.length) await r.del(...keys);
    r.disconnect();
  });
  const connect = () => {
    const c = bullConnection(REDIS_URL);
    connections.push(c);
    return c;
  };
  return {
    scheduler(calendarJobs = true): Scheduler {
      const s = new Scheduler({ connection: connect(), prefix, timeZone: TZ, logger, now: () => new Date(), calendarJobs });
      made.push(s);
      return s;
    },
    queue: () => new Queue(CRON_QUEUE, { connection: connect(), prefix }),
  };
}

describe('job schedulers on real Redis, two replicas', () => {
  const kit = replicaKit('cron');
  function replica(runs: string[]): Scheduler {
    const s = kit.scheduler();
    s.every('study.daily', '5 9 * * *', async () => {});
    s.every('report.daily', '5 9 * * *', async () => {});
    s.interval('tick', 700, async ({ firedAt }) => {
      runs.push(firedAt.toISOString());
      // Long enough that the other replica would grab the same occurrence if it could.
      await new Promise((r) => setTimeout(r, 50));
    });
    return s;
  }

  it('declares each schedule once and runs each occurrence once', async () => {
    const runs: string[] = [];
    const a = replica(runs);
    const b = replica(runs);
    await Promise.all([a.start(), b.start()]);
    await b.stop();
    await b.start(); // a restart declares again: still one schedule each

    const q = kit.queue();
    const schedulers = await q.getJobSchedulers();
    expect(schedulers.map((s) => s.key).sort()).toEqual(['report.daily', 'study.daily', 'tick']);
    const daily = schedulers.find((s) => s.key === 'study.daily')!;
    expect(daily.tz).toBe(TZ);
    // The next 09:05 in Shanghai is 01:05 UTC.
    expect(new Date(daily.next!).toISOString()).toMatch(/T01:05:00\.000Z$/);
    const delayed = (await q.getDelayed()).filter((j) => j.repeatJobKey === 'study.daily');
    expect(delayed).toHaveLength(1);

    await waitFor('five ticks', async () => runs.length >= 5, 30_000);
    expect(new Set(runs).size).toBe(runs.length);
    await q.close();
  }, 60_000);
});

describe('a replica with calendar jobs off (SCHEDULED_JOBS=off)', () => {
  const kit = replicaKit('cronoff');
  function replica(calendarJobs: boolean, extra: string): Scheduler {
    const s = kit.scheduler(calendarJobs);
    s.every('study.daily', '5 9 * * *', async () => {});
    s.every(extra, '0 8 * * *', async () => {});
    s.interval(`tick.${extra}`, 60_000, async () => {});
    return s;
  }

  it('declares none of its calendar jobs and leaves the other replicas’ schedules alone', async () => {
    await replica(true, 'on.only').start();
    await replica(false, 'off.only').start();
    const q = kit.queue();
    const keys = (await q.getJobSchedulers()).map((s) => s.key).sort();
    // The "on" replica's calendar jobs survive; the "off" one adds only its housekeeping interval.
    expect(keys).toEqual(['on.only', 'study.daily', 'tick.off.only', 'tick.on.only']);
    await q.close();
  });
});
