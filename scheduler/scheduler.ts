import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from '../src/logger.js';

/**
 * Periodic jobs on BullMQ job schedulers (cron patterns in the bot's time zone).
 *
 * Features register handlers before start; start() declares one job scheduler per handler.
 * BullMQ names each occurrence `repeat:<name>:<millis>`, so replicas that upsert the same
 * scheduler share one job per occurrence and a worker lock runs it once. A handler that dies
 * midway is retried after the stall check, so handlers must be idempotent (ours create
 * campaigns by deterministic key, which makes a rerun a no-op).
 *
 *   scheduling.scheduler.every('declaration.remind', '35 9 * * *', async ({ now }) => { ... });
 */

export interface JobRun {
  name: string;
  /** The occurrence's scheduled instant (or the enqueue time for one-off jobs). */
  firedAt: Date;
  /** The bot's clock (injected in tests). */
  now: Date;
  data: Record<string, unknown>;
}
export type JobHandler = (run: JobRun) => Promise<void>;

interface Periodic {
  pattern?: string;
  everyMs?: number;
  handler: JobHandler;
}

export const CRON_QUEUE = 'cron';

/** A connection as BullMQ requires it: blocking commands must not be cut off by a retry limit. */
export function bullConnection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true });
}

/**
 * A Worker's own connection: BullMQ treats any ioredis instance it is handed as shared and
 * never closes it, so whoever creates one for a Worker must close it after the Worker.
 */
export function workerConnection(shared: Redis, logger: Logger): Redis {
  const c = shared.duplicate();
  // duplicate() copies options, not listeners; BullMQ's own comes and goes with the Worker.
  c.on('error', (err: Error) => logger.warn({ err: err.message }, 'worker redis connection error'));
  return c;
}

/**
 * Waits (a little) for a new Worker's connections. A Worker closed while it is still connecting
 * leaves a command behind that rejects "Connection is closed" with nobody to catch it
 * (taskforcesh/bullmq#2437, #3546); bounded, so a start with Redis away is not held up.
 */
export async function workerReady(worker: Worker, maxMs = 3_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([worker.waitUntilReady().catch(() => undefined), new Promise((r) => (timer = setTimeout(r, maxMs)))]);
  clearTimeout(timer);
}

/** Closes a connection this process owns: gracefully when it is up, at once when it is not. */
export async function closeConnection(c: Redis | undefined): Promise<void> {
  if (!c || c.status === 'end') return;
  // QUIT on a connection that is reconnecting would wait for Redis to come back.
  if (c.status !== 'ready') return c.disconnect();
  await c.quit().catch(() => c.disconnect());
}

export interface SchedulerOptions {
  connection: Redis;
  prefix: string;
  timeZone: string;
  logger: Logger;
  now: () => Date;
  /** False: cron-pattern jobs are not declared here (they still run by runNow). Default true. */
  calendarJobs?: boolean;
}

export class Scheduler {
  private periodic = new Map<string, Periodic>();
  private oneOff = new Map<string, JobHandler>();
  private queue?: Queue;
  private worker?: Worker;
  private workerRedis?: Redis;

  constructor(private opts: SchedulerOptions) {}

  /** A cron job (5 fields, local to BOT_TIMEZONE). Register before start(). */
  every(name: string, pattern: string, handler: JobHandler): this {
    if (this.periodic.has(name)) throw new Error(`scheduled job registered twice: ${name}`);
    this.periodic.set(name, { pattern, handler });
    return this;
  }

  /** A job repeating every `ms` milliseconds (housekeeping, not user-facing times). */
  interval(name: string, ms: number, handler: JobHandler): this {
    if (this.periodic.has(name)) throw new Error(`scheduled job registered twice: ${name}`);
    this.periodic.set(name, { everyMs: ms, handler });
    return this;
  }

  /** A handler for one-off jobs enqueued with runAt(). */
  handle(name: string, handler: JobHandler): this {
    this.oneOff.set(name, handler);
    return this;
  }

  /** Runs a one-off job at an instant; the same jobId twice is one job. */
  async runAt(name: string, at: Date, data: Record<string, unknown>, jobId: string): Promise<void> {
    if (!this.oneOff.has(name)) throw new Error(`no handler for one-off job ${name}`);
    await this.requireQueue().add(name, data, {
      jobId,
      delay: Math.max(0, at.getTime() - Date.now()),
      attempts: 3,
      backoff: { type: 'exponential', delay: 5_000 },
      removeOnComplete: { age: 7 * 24 * 3600 },
      removeOnFail: { age: 30 * 24 * 3600 },
    });
  }

  /** Runs a registered handler now, in this process (administrators, tests). */
  async runNow(name: string, data: Record<string, unknown> = {}): Promise<void> {
    const h = this.periodic.get(name)?.handler ?? this.oneOff.get(name);
    if (!h) throw new Error(`unknown job ${name}`);
    const now = this.opts.now();
    await h({ name, firedAt: now, now, data });
  }

  names(): string[] {
    return [...this.periodic.keys()];
  }

  private requireQueue(): Queue {
    if (!this.queue) {
      this.queue = new Queue(CRON_QUEUE, { connection: this.opts.connection, prefix: this.opts.prefix });
      // Without a listener BullMQ prints every connection error to stderr while Redis is away.
      this.queue.on('error', (err) => this.opts.logger.warn({ err: err.message }, 'scheduler queue error'));
    }
    return this.queue;
  }

  /** Declares the schedulers (idempotent) and starts the worker. */
  async start(): Promise<void> {
    await this.declare();
    this.workerRedis = workerConnection(this.opts.connection, this.opts.logger);
    this.worker = new Worker(CRON_QUEUE, (job) => this.process(job), {
      connection: this.workerRedis,
      prefix: this.opts.prefix,
      concurrency: 4,
      // Study pushes of a few thousand rows take seconds; keep the lock well beyond that.
      lockDuration: 120_000,
    });
    this.worker.on('failed', (job, err) => this.opts.logger.error({ err, job: job?.name }, 'scheduled job failed'));
    this.worker.on('error', (err) => this.opts.logger.warn({ err: err.message }, 'scheduler worker error'));
    await workerReady(this.worker);
  }

  /** Upserts one job scheduler per registered job; also after Redis lost them (scheduler/redis-loss.ts). */
  async declare(): Promise<void> {
    const queue = this.requireQueue();
    const calendar = this.opts.calendarJobs !== false;
    if (!calendar) this.opts.logger.info({ jobs: this.names().filter((n) => this.periodic.get(n)?.pattern) }, 'calendar jobs off (SCHEDULED_JOBS=off)');
    for (const [name, p] of this.periodic) {
      if (p.pattern && !calendar) continue;
      try {
        await queue.upsertJobScheduler(
          name,
          p.pattern ? { pattern: p.pattern, tz: this.opts.timeZone } : { every: p.everyMs! },
          { name, data: {}, opts: { attempts: 3, backoff: { type: 'exponential', delay: 10_000 }, removeOnComplete: { count: 100 }, removeOnFail: { count: 500 } } },
        );
      } catch (err) {
        // Another replica upserting at the very same moment can collide on the occurrence id;
        // the scheduler then exists already, which is all we need.
        this.opts.logger.warn({ err: (err as Error).message, job: name }, 'job scheduler upsert collided');
      }
    }
    // Schedulers no longer declared (a job renamed or removed) would otherwise fire forever.
    // A process with calendar jobs off leaves the others' schedulers alone.
    if (calendar) {
      for (const s of await queue.getJobSchedulers(0, -1)) {
        if (s && !this.periodic.has(s.key)) await queue.removeJobScheduler(s.key);
      }
    }
  }

  private async process(job: Job): Promise<void> {
    const handler = this.periodic.get(job.name)?.handler ?? this.oneOff.get(job.name);
    if (!handler) {
      this.opts.logger.warn({ job: job.name }, 'no handler for scheduled job; skipped');
      return;
    }
    const firedAt = new Date(job.opts.prevMillis ?? job.timestamp);
    const started = Date.now();
    await handler({ name: job.name, firedAt, now: this.opts.now(), data: (job.data ?? {}) as Record<string, unknown> });
    this.opts.logger.info({ job: job.name, firedAt: firedAt.toISOString(), ms: Date.now() - started }, 'scheduled job done');
  }

  /** Next occurrences as BullMQ stores them (for `预览` and tests). */
  async nextRun(name: string): Promise<Date | undefined> {
    const s = await this.requireQueue().getJobScheduler(name);
    return s?.next ? new Date(s.next) : undefined;
  }

  async stop(): Promise<void> {
    await this.worker?.close();
    await this.queue?.close();
    await closeConnection(this.workerRedis);
    this.worker = undefined;
    this.queue = undefined;
    this.workerRedis = undefined;
  }
}
