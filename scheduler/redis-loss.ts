import type { Redis } from 'ioredis';
import type { Logger } from '../src/logger.js';
import { localTime } from '../src/domain/calendar.js';

/**
 * Redis holds the queues and job schedulers, never the records. A Redis that restarts without
 * persistence, or is flushed, forgets every scheduler and every queued send while the bot keeps
 * running and nothing fails loudly. A key written at start and looked for periodically tells
 * us: when it is gone, `recover` declares the schedulers again and re-queues every pending send
 * from the ledger (PostgreSQL), then the key is written again.
 *
 * The check runs on a plain timer, not a BullMQ job: a job scheduler would vanish with the data
 * it is meant to notice.
 */

export interface RedisLoss {
  /** When this process noticed the loss and restored what it could. */
  at: Date;
  /** Pending sends queued again from the ledger. */
  requeued: number;
}

export interface SentinelOptions {
  connection: Redis;
  prefix: string;
  intervalMs: number;
  logger: Logger;
  /** Restores what Redis lost; resolves with the number of sends queued again. */
  recover: () => Promise<number>;
  onLoss?: (loss: RedisLoss) => void;
}

/** How long /healthz keeps reporting a loss, so a morning look still sees a night's event. */
export const LOSS_REPORTED_FOR_MS = 24 * 3600_000;

export class RedisSentinel {
  private timer?: NodeJS.Timeout;
  private checking?: Promise<RedisLoss | undefined>;
  last?: RedisLoss;

  constructor(private opts: SentinelOptions) {}

  get key(): string {
    return `${this.opts.prefix}:sentinel`;
  }

  async start(): Promise<void> {
    await this.write();
    this.timer = setInterval(() => void this.check(), this.opts.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    // A check waiting on an unreachable Redis must not hold up shutdown; closing the
    // connection afterwards ends it.
    await Promise.race([this.checking, new Promise((r) => setTimeout(r, 2_000).unref())]);
  }

  private async write(): Promise<void> {
    await this.opts.connection.set(this.key, JSON.stringify({ since: new Date().toISOString(), pid: process.pid }));
  }

  /** Looks for the key once; restores and reports when it is missing. Overlapping calls share one check. */
  check(): Promise<RedisLoss | undefined> {
    this.checking ??= this.checkOnce().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async checkOnce(): Promise<RedisLoss | undefined> {
    try {
      if ((await this.opts.connection.exists(this.key)) === 1) return undefined;
      this.opts.logger.warn({ key: this.key }, 'Redis lost its data (sentinel key missing): declaring job schedulers again and re-queueing pending sends from the ledger');
      const requeued = await this.opts.recover();
      // Written last: if recovery fails halfway, the next check tries again.
      await this.write();
      const loss = { at: new Date(), requeued };
      this.last = loss;
      this.opts.onLoss?.(loss);
      this.opts.logger.warn({ requeued }, 'recovered from Redis data loss: job schedulers declared, pending sends re-queued');
      return loss;
    } catch (err) {
      // Redis unreachable right now: nothing to decide until it answers again.
      this.opts.logger.warn({ err: (err as Error).message }, 'Redis sentinel check failed; trying again at the next interval');
      return undefined;
    }
  }
}

/** The /healthz line for a recent loss, with the time in the bot's zone. */
export function describeRedisLoss(loss: RedisLoss | undefined, now: Date, timeZone: string): string | undefined {
  if (!loss || now.getTime() - loss.at.getTime() > LOSS_REPORTED_FOR_MS) return undefined;
  const hhmm = localTime(loss.at, timeZone);
  return `Redis 数据在 ${hhmm} 前后丢失，已自动恢复排程和 ${loss.requeued} 条待发送消息，无需人工处理。`;
}
