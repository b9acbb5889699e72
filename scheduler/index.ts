import type { Bot } from '../src/bot/bot.js';
import type { Logger } from '../src/logger.js';
import { Counter } from 'prom-client';
import { Outbound } from './outbound.js';
import { RedisSentinel, type RedisLoss } from './redis-loss.js';
import { bullConnection, closeConnection, Scheduler } from './scheduler.js';

/**
 * The bot's own initiative: periodic jobs (Scheduler) and pushes (Outbound), one pair per bot.
 * createApp attaches it before handlers register, so a feature's register function can write
 *
 *   const { scheduler, outbound, timeZone } = scheduling(bot);
 *   scheduler.every('declaration.remind', '35 9 * * *', async ({ now }) => { ... });
 *
 * and createApp's start()/stop() start and stop both (declaring the schedulers, starting the
 * workers, re-queueing sends a crash left behind).
 */
export interface Scheduling {
  scheduler: Scheduler;
  outbound: Outbound;
  timeZone: string;
  /** The last Redis data loss this process noticed and repaired, if any. */
  redisLoss(): RedisLoss | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const attached = new WeakMap<Bot, Scheduling>();

export interface SchedulingOptions {
  redisUrl: string;
  timeZone: string;
  logger: Logger;
  calendarJobs?: boolean;
  /** How often to look for the Redis sentinel key (default a minute; shorter in tests). */
  sentinelIntervalMs?: number;
}

export function attachScheduling(bot: Bot, opts: SchedulingOptions): Scheduling {
  const existing = attached.get(bot);
  if (existing) return existing;
  const connection = bullConnection(opts.redisUrl);
  connection.on('error', (err) => opts.logger.warn({ err: err.message }, 'scheduler redis connection error'));
  const prefix = bot.deps.redisPrefix;
  const scheduler = new Scheduler({ connection, prefix, timeZone: opts.timeZone, logger: opts.logger, now: bot.now, calendarJobs: opts.calendarJobs ?? true });
  const outbound = new Outbound({ bot, connection, prefix, settings: bot.deps.settings.outbound, logger: opts.logger });
  // Housekeeping: sends whose job was lost (a crash between commit and enqueue) go out again.
  scheduler.interval('outbound.recover', 60_000, async () => {
    await outbound.recover(60_000);
    await outbound.finishIdle();
  });
  const losses = new Counter({ name: 'qinglian_redis_data_lost_total', help: 'Times Redis was found to have lost its data (sentinel key missing) and schedulers and sends were restored', registers: [bot.metrics.registry] });
  const sentinel = new RedisSentinel({
    connection,
    prefix,
    intervalMs: opts.sentinelIntervalMs ?? 60_000,
    logger: opts.logger,
    recover: async () => {
      await scheduler.declare();
      return outbound.recover();
    },
    onLoss: () => losses.inc(),
  });
  let running = false;
  const s: Scheduling = {
    scheduler,
    outbound,
    timeZone: opts.timeZone,
    redisLoss: () => sentinel.last,
    async start() {
      if (running) return;
      running = true;
      await outbound.start();
      await scheduler.start();
      await sentinel.start();
    },
    async stop() {
      if (!running) {
        connection.disconnect();
        return;
      }
      running = false;
      await sentinel.stop();
      await scheduler.stop();
      await outbound.stop();
      await closeConnection(connection);
    },
  };
  attached.set(bot, s);
  return s;
}

/** The scheduling attached to a bot (throws if createApp did not attach one). */
export function scheduling(bot: Bot): Scheduling {
  const s = attached.get(bot);
  if (!s) throw new Error('scheduling is not attached to this bot; call attachScheduling(bot, ...) before registering handlers');
  return s;
}

export function hasScheduling(bot: Bot): boolean {
  return attached.has(bot);
}

/** A cron pattern for a daily HH:MM. */
export function dailyAt(hhmm: string): string {
  const [h, m] = hhmm.split(':').map(Number);
  return `${m} ${h} * * *`;
}
