import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Card } from '../cards/model.js';
import { card, fields, note, table } from '../cards/builders.js';
import type { Bot } from '../src/bot/bot.js';
import type { Settings } from '../src/config.js';
import { PlatformError } from '../src/errors.js';
import type { Logger } from '../src/logger.js';
import type { PlatformName, TextBatchResult } from '../src/platform/types.js';
import type { Queryable } from '../src/store/db.js';
import {
  campaignCounts,
  countPending,
  getCampaignByKey,
  insertLedgerRows,
  ledgerStaffIds,
  listPendingKeys,
  markFailed,
  markRetry,
  markSent,
  pendingAndProblems,
  problemRows,
  readLedgerRow,
  readPendingBatch,
  setLedgerBatches,
  tryFinishCampaign,
  unfinishedCampaignIds,
  upsertCampaign,
  type CampaignCounts,
  type LedgerInsert,
  type LedgerRow,
} from '../src/store/campaigns.js';
import { asQueuedSend } from '../src/platform/retries.js';
import { listActiveStaff, type Staff } from '../src/store/staff.js';
import { Pacer } from './pace.js';
import { closeConnection, workerConnection, workerReady } from './scheduler.js';

/**
 * The outbound queue: every push the bot makes on its own goes through here.
 *
 * API for features (quiz exams, declaration reminders, ...):
 *
 *   const { outbound } = scheduling(bot);          // scheduler/index.ts
 *   await outbound.createCampaign({
 *     key: 'quiz.2026-11.open',                     // deterministic; [A-Za-z0-9_.-], no ':' or '/'
 *     kind: 'quiz.open',                            // free label, shown to administrators
 *     title: '2026年11月 廉洁从业考试',
 *     recipients: staffList,                        // Staff[] (src/store/staff.ts)
 *     render: (staff) => card(...),                 // Card or text for one recipient
 *   });
 *
 * Calling it again with the same key sends nothing twice: it only adds recipients not yet in
 * the campaign (staff who joined since), which is how late joiners get a push too.
 * `outbound.preview(recipients)` counts without sending; `outbound.status(key)` counts sends.
 *
 * How exactly-once holds: the campaign row and one ledger row per recipient (key
 * `<campaign>/<staffId>`, unique) are committed before anything is queued; each ledger row
 * becomes a BullMQ job whose jobId is the ledger key (a second add is a no-op), on a queue per
 * platform, paced to that platform's quota (scheduler/pace.ts). The worker skips rows no longer pending, sends with
 * idempotencyKey = ledger key (Feishu uuid / DingTalk outTrackId, so a send repeated after a
 * crash between "platform accepted" and "ledger marked" is dropped by the platform), then marks
 * the row sent with the platform's message id. At start-up and every minute, pending rows whose
 * job vanished (a crash between commit and enqueue) are queued again under the same jobId.
 *
 * One job per batch: where recipients of a campaign get the same text and the platform
 * can carry several people in one call (ChatPlatform.sendTextBatch: DingTalk batchSend, 20
 * ids), the rows are grouped, as they are inserted, into batches of up to that many, each
 * row naming its batch (send_ledger.batch = `<first row's key>/batch`, written in the same
 * transaction). A batch is then one job under that id instead of a job per row: it reads the
 * batch's pending rows in one query, makes one call (paced as one call), marks the rows sent
 * in one UPDATE and the invalid recipients failed (reported like any failure); if some were
 * flow-controlled, the job fails that attempt and its retry sends only the rows still
 * pending (those), so each recipient is sent once and counts attempts as a job of its own
 * would. A job ends only when none of its rows is pending (or, if batching has been turned
 * off since, after queueing each on its own), so recovery can queue a pending batch row
 * under its batch's id: a live job makes that a no-op, a lost one is queued again, and no
 * row is ever in two live jobs. Cards, card updates, personalised texts and follow-ups
 * (stage) keep a job per row. The one window left is the one a single DingTalk text has too
 * (batchSend takes no idempotency key): a process killed between the platform's answer and
 * the UPDATE sends that call's recipients again when BullMQ takes the stalled job back.
 *
 * Retrying is this queue's alone: inside a send every platform call makes one attempt
 * (src/platform/retries.ts), so a 5xx costs exactly one of `outbound.attempts`.
 * Retryable failures (PlatformError.retryable, network errors) back off exponentially; a
 * platform's "slow down" (retryAfterMs) pauses the queue without spending an attempt; after
 * the last attempt the row is marked failed and, once the campaign has nothing pending,
 * administrators get one summary card listing every recipient that was not reached.
 *
 * Follow-ups (the next approver's card, the declarant's notice, a confirmed report's card) use
 * the same ledger, written inside the transaction of the state change they follow:
 *
 *   const staged = await db.transaction(async (tx) => {
 *     ...the guarded UPDATE and its audit row...
 *     return outbound.stage(tx, { key: `decl.${id}.v${version}.cards`, kind: 'decl.approval', title, to: [{ staff, content }] });
 *   });
 *   await outbound.deliver(staged, { waitMs: 1000 });   // after commit; recover() covers a crash here
 *
 * so a process that dies after the commit still has its follow-ups sent by whichever process
 * runs next. `onSent(kind, hook)` runs in the transaction that marks a row of that campaign
 * kind sent (recording an approval card's message id, say), in whichever process sent it.
 */

export interface CampaignSpec {
  key: string;
  kind: string;
  title: string;
  recipients: Staff[];
  render: (staff: Staff) => Card | string | Promise<Card | string>;
  createdBy?: string;
  meta?: Record<string, unknown>;
}

export interface CampaignResult {
  campaignId: string;
  key: string;
  /** False when the campaign existed already (a second trigger). */
  created: boolean;
  /** Recipients added by this call (0 on a repeated trigger with nobody new). */
  added: number;
  /** Added recipients the bot cannot reach on any running platform. */
  unreachable: number;
}

export interface Preview {
  total: number;
  byPlatform: Partial<Record<PlatformName, number>>;
  unreachable: number;
}

/** Messages that follow one state change, staged in its transaction (see Outbound.stage). */
export interface FollowUp {
  /** Deterministic from the change, e.g. `decl.12.v3.cards`; same rules as a campaign key. */
  key: string;
  kind: string;
  /** An internal label; follow-ups never produce the administrators' failure summary. */
  title: string;
  meta?: Record<string, unknown>;
  /** Cards or texts to staff members' direct chats. */
  to?: { staff: Staff; content: Card | string }[];
  /** Cards written over messages sent earlier (each keyed by whose message it was). */
  updates?: { staffId: string; platform: PlatformName; messageId: string; card: Card }[];
}

/** Ledger rows staged by Outbound.stage, to hand to deliver() once their transaction commits. */
export type Staged = { key: string; platform: PlatformName | null }[];

/**
 * Runs in the transaction that marks a row sent; its failure leaves the row to be sent
 * (idempotently) again. What it stages is delivered once that transaction commits.
 */
export type SentHook = (tx: Queryable, row: LedgerRow, messageId: string) => Promise<Staged | void>;

export const CAMPAIGN_KEY = /^[A-Za-z0-9_.-]{1,120}$/;
export const FAILURE_SUMMARY_KIND = 'outbound.failures';
export const outboundQueueName = (p: PlatformName): string => `outbound-${p}`;
export const ledgerKey = (campaignKey: string, staffId: string): string => `${campaignKey}/${staffId}`;
/** A batch's name (send_ledger.batch) and queue job id: after its first row, never a ledger key. */
export const batchId = (firstLedgerKey: string): string => `${firstLedgerKey}/batch`;

/** A ledger row to queue: in a batch, its batch's job; else its own. */
type Queued = { key: string; platform: PlatformName; batch?: string | null };

export interface OutboundOptions {
  bot: Bot;
  connection: Redis;
  prefix: string;
  settings: Settings['outbound'];
  logger: Logger;
}

export class Outbound {
  private queues = new Map<PlatformName, Queue>();
  private workers: Worker[] = [];
  private workerRedis: Redis[] = [];
  private started = false;
  /**
   * Campaigns known here to have failed or unreachable recipients: only these need the
   * "anything still pending?" check after each send, to report promptly. Others (and any
   * this process forgot by restarting) are finished by the periodic sweep.
   */
  private withProblems = new Set<string>();
  private pacer: Pacer;
  private hooks = new Map<string, SentHook>();

  constructor(private opts: OutboundOptions) {
    this.pacer = new Pacer(opts.connection, opts.prefix);
  }

  private get db() {
    return this.opts.bot.db;
  }

  queue(platform: PlatformName): Queue {
    let q = this.queues.get(platform);
    if (!q) {
      q = new Queue(outboundQueueName(platform), { connection: this.opts.connection, prefix: this.opts.prefix });
      // Without a listener BullMQ prints every connection error to stderr while Redis is away.
      q.on('error', (err) => this.opts.logger.warn({ err: err.message, platform }, 'outbound queue error'));
      this.queues.set(platform, q);
    }
    return q;
  }

  /** Where each recipient would be reached; counts only. */
  preview(recipients: Staff[]): Preview {
    const byPlatform: Partial<Record<PlatformName, number>> = {};
    let unreachable = 0;
    for (const s of recipients) {
      const reach = this.opts.bot.reachFor(s);
      if (!reach) unreachable++;
      else byPlatform[reach.platform] = (byPlatform[reach.platform] ?? 0) + 1;
    }
    return { total: recipients.length, byPlatform, unreachable };
  }

  async createCampaign(spec: CampaignSpec): Promise<CampaignResult> {
    if (!CAMPAIGN_KEY.test(spec.key)) throw new Error(`invalid campaign key ${spec.key}`);
    const recipients = dedupeStaff(spec.recipients);
    let campaign: { id: string; created: boolean } | undefined;
    let fresh: Staff[] = [];
    const inserted: { key: string; platform: PlatformName | null }[] = [];
    // In chunks, so the first sends leave while later rows are still being written (a small
    // first one, so they leave at once). The campaign row commits with its first chunk: no
    // campaign is ever left without recipients.
    for (let i = 0, size = 100; !campaign || i < fresh.length; i += size, size = 1000) {
      const chunk = await this.db.transaction(async (tx) => {
        if (!campaign) {
          campaign = await upsertCampaign(tx, spec);
          const already = campaign.created ? new Set<string>() : await ledgerStaffIds(tx, campaign.id);
          fresh = recipients.filter((s) => !already.has(s.staffId));
        }
        const rows: LedgerInsert[] = [];
        for (const s of fresh.slice(i, i + size)) rows.push(this.rowFor(s, ledgerKey(spec.key, s.staffId), await spec.render(s)));
        return rows.length ? this.intoBatches(tx, rows, await insertLedgerRows(tx, campaign.id, rows)) : [];
      });
      // Committed before queueing: a crash in between is repaired by recover().
      await this.enqueue(chunk.filter((r) => r.platform !== null) as Queued[]);
      inserted.push(...chunk);
    }
    const { id, created } = campaign;
    const unreachable = inserted.filter((r) => r.platform === null).length;
    if (inserted.length > 0) {
      this.opts.logger.info({ campaign: spec.key, added: inserted.length, unreachable }, 'campaign recipients queued');
    }
    if (unreachable > 0) this.withProblems.add(id);
    if (unreachable > 0 || inserted.length === 0) await this.maybeFinish(id);
    return { campaignId: id, key: spec.key, created, added: inserted.length, unreachable };
  }

  /**
   * Groups the rows just inserted that can share one platform call (the same text to people
   * on a platform with sendTextBatch) into batches of up to its textBatchMax, and records
   * each row's batch in the same transaction. Named after a row this transaction inserted,
   * a batch only ever holds rows committed together. A text nobody else gets, a card, or a
   * platform without batching keeps a job per row.
   */
  private async intoBatches(tx: Queryable, rows: LedgerInsert[], inserted: Staged): Promise<(Staged[number] & { batch: string | null })[]> {
    const byKey = new Map(rows.map((r) => [r.key, r]));
    const runs = new Map<string, { key: string; target: string }[][]>();
    for (const r of inserted) {
      const row = byKey.get(r.key)!;
      const max = r.platform ? this.batchMax(r.platform) : 0;
      if (max < 2 || row.content.text === undefined || row.content.card || !row.target) continue;
      const group = `${r.platform}\u0000${row.content.text}`;
      const list = runs.get(group) ?? [];
      runs.set(group, list);
      let run = list.at(-1);
      // The same person twice is two messages: a batch names each person once.
      if (!run || run.length >= max || run.some((x) => x.target === row.target)) list.push((run = []));
      run.push({ key: r.key, target: row.target });
    }
    const batchOf = new Map<string, string>();
    for (const list of runs.values()) for (const run of list) if (run.length > 1) for (const x of run) batchOf.set(x.key, batchId(run[0].key));
    await setLedgerBatches(tx, [...batchOf].map(([key, batch]) => ({ key, batch })));
    return inserted.map((r) => ({ ...r, batch: batchOf.get(r.key) ?? null }));
  }

  /** How many recipients one call of the platform can carry (0: no batching). */
  private batchMax(platform: PlatformName): number {
    const p = this.opts.bot.platform(platform);
    return p?.sendTextBatch ? (p.textBatchMax ?? 0) : 0;
  }

  private rowFor(s: Staff, key: string, content: Card | string): LedgerInsert {
    const reach = this.opts.bot.reachFor(s);
    return {
      key,
      staffId: s.staffId,
      platform: reach?.platform ?? null,
      target: reach ? (reach.conversation.type === 'direct' ? reach.conversation.platformUserId : reach.conversation.chatId) : null,
      content: typeof content === 'string' ? { text: content } : { card: content },
    };
  }

  /**
   * Writes a follow-up's ledger rows in the caller's transaction (the one making the state
   * change). Nothing is queued here: pass the result to deliver() after the commit.
   */
  async stage(tx: Queryable, f: FollowUp): Promise<Staged> {
    if (!CAMPAIGN_KEY.test(f.key)) throw new Error(`invalid follow-up key ${f.key}`);
    const rows: LedgerInsert[] = [
      ...dedupeStaff((f.to ?? []).map((t) => t.staff)).map((s) => this.rowFor(s, ledgerKey(f.key, s.staffId), f.to!.find((t) => t.staff.staffId === s.staffId)!.content)),
      ...(f.updates ?? []).map((u) => ({ key: ledgerKey(f.key, u.staffId), staffId: u.staffId, platform: u.platform, target: u.messageId, content: { card: u.card, update: true } })),
    ];
    if (rows.length === 0) return [];
    const { id } = await upsertCampaign(tx, { key: f.key, kind: f.kind, title: f.title, meta: { ...f.meta, followUp: true } });
    return insertLedgerRows(tx, id, rows);
  }

  /**
   * Queues committed follow-up rows now rather than at the next sweep, and waits up to
   * `waitMs` for them to leave, so a click's answer comes after the messages it announces.
   */
  async deliver(staged: Staged, opts: { waitMs?: number } = {}): Promise<void> {
    const live = staged.filter((r) => r.platform !== null) as { key: string; platform: PlatformName }[];
    if (live.length === 0) return;
    await this.enqueue(live);
    const deadline = Date.now() + (opts.waitMs ?? 0);
    const keys = live.map((r) => r.key);
    while (Date.now() < deadline && (await countPending(this.db, keys)) > 0) await new Promise((r) => setTimeout(r, 20));
  }

  /** A hook run when a row of a campaign of this kind is marked sent (see SentHook). */
  onSent(kind: string, hook: SentHook): void {
    this.hooks.set(kind, hook);
  }

  async status(key: string): Promise<CampaignCounts | undefined> {
    const c = await getCampaignByKey(this.db, key);
    return c ? campaignCounts(this.db, c.id) : undefined;
  }

  private async enqueue(rows: Queued[]): Promise<void> {
    const { attempts, backoffMs } = this.opts.settings;
    // jobId → job; a batch is one job however many of its rows are listed.
    const byPlatform = new Map<PlatformName, Map<string, { name: string; data: { key: string } | { batch: string } }>>();
    for (const r of rows) {
      const jobs = byPlatform.get(r.platform) ?? new Map();
      byPlatform.set(r.platform, jobs);
      if (r.batch) jobs.set(r.batch, { name: 'batch', data: { batch: r.batch } });
      else jobs.set(r.key, { name: 'send', data: { key: r.key } });
    }
    for (const [platform, byId] of byPlatform) {
      const q = this.queue(platform);
      const jobs = [...byId];
      for (let i = 0; i < jobs.length; i += 500) {
        await q.addBulk(
          jobs.slice(i, i + 500).map(([jobId, job]) => ({
            ...job,
            opts: {
              jobId,
              attempts,
              backoff: { type: 'exponential', delay: backoffMs },
              // Kept a day so a re-add of the same key within it stays a no-op.
              removeOnComplete: { age: 24 * 3600, count: 50_000 },
              removeOnFail: { age: 7 * 24 * 3600 },
            },
          })),
        );
      }
    }
  }

  /** Queues again the pending rows whose jobs were lost; same jobIds, so live jobs are untouched. */
  async recover(olderThanMs = 0): Promise<number> {
    let total = 0;
    for (;;) {
      const rows = await listPendingKeys(this.db, olderThanMs, 5_000, total);
      if (rows.length === 0) break;
      await this.enqueue(rows);
      total += rows.length;
      if (rows.length < 5_000) break;
    }
    if (total > 0) this.opts.logger.info({ rows: total }, 'pending sends re-queued');
    return total;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const { settings } = this.opts;
    for (const platform of this.opts.bot.allPlatforms()) {
      const connection = workerConnection(this.opts.connection, this.opts.logger);
      this.workerRedis.push(connection);
      platform.usePacer?.((cost) => this.pacer.wait(platform.name, settings.rateLimits[platform.name], settings.margin, cost));
      const worker = new Worker(outboundQueueName(platform.name), (job) => this.process(job, platform.name), {
        connection,
        prefix: this.opts.prefix,
        concurrency: settings.concurrency,
        // A killed process's jobs come back after this; short enough to finish a push promptly.
        lockDuration: 15_000,
        stalledInterval: 5_000,
        maxStalledCount: 1_000,
      });
      worker.on('error', (err) => this.opts.logger.warn({ err: err.message, platform: platform.name }, 'outbound worker error'));
      this.workers.push(worker);
    }
    await Promise.all(this.workers.map((w) => workerReady(w)));
    await this.recover();
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    await Promise.all(this.workerRedis.map(closeConnection));
    this.workers = [];
    this.workerRedis = [];
    this.queues.clear();
    this.started = false;
  }

  private async process(job: Job, platform: PlatformName): Promise<string> {
    const data = job.data as { key?: unknown; batch?: unknown };
    if (typeof data.batch === 'string') return this.processBatch(job, platform, data.batch);
    const key = String(data.key ?? job.id);
    const row = await readLedgerRow(this.db, key);
    if (!row || row.status !== 'pending') return 'skipped';
    let messageId: string;
    try {
      messageId = await asQueuedSend(() => this.sendRow(platform, row, key));
    } catch (e) {
      return this.sendFailed(job, platform, [row], e);
    }
    await this.markRowsSent([row], messageId);
    this.opts.bot.metrics.sends.inc({ platform, outcome: 'ok' });
    if (this.withProblems.has(row.campaign_id)) await this.maybeFinish(row.campaign_id);
    return 'sent';
  }

  /**
   * A batch's job: its rows still pending go in one platform call. Invalid recipients fail for
   * good; flow-controlled ones fail this attempt (and are the only rows the retry sends).
   */
  private async processBatch(job: Job, platform: PlatformName, batch: string): Promise<string> {
    const rows = await readPendingBatch(this.db, batch);
    if (rows.length === 0) return 'skipped';
    const p = this.opts.bot.platform(platform);
    const targets = [...new Set(rows.map((r) => r.target ?? ''))];
    if (!p?.sendTextBatch || rows.length > this.batchMax(platform) || targets.length < rows.length) {
      // Batching was turned off (or narrowed) since these rows were written: a job each after all.
      await this.enqueue(rows.map((r) => ({ key: r.key, platform })));
      return 'split';
    }
    let result: TextBatchResult;
    try {
      result = await asQueuedSend(() => p.sendTextBatch!(targets, rows[0].content.text ?? ''));
    } catch (e) {
      return this.sendFailed(job, platform, rows, e);
    }
    const invalid = new Set(result.invalid);
    const throttled = new Set(result.throttled);
    const sent = rows.filter((r) => !invalid.has(r.target ?? '') && !throttled.has(r.target ?? ''));
    if (sent.length) await this.markRowsSent(sent, result.messageId);
    this.opts.bot.metrics.sends.inc({ platform, outcome: 'ok' }, sent.length);
    const campaign = rows[0].campaign_id;
    const refused = rows.filter((r) => invalid.has(r.target ?? ''));
    if (refused.length) {
      const reason = describeError(new PlatformError('recipient is not a valid staff id', platform, 'invalidStaffId', false));
      await markFailed(this.db, refused.map((r) => r.key), reason);
      this.opts.bot.metrics.sends.inc({ platform, outcome: 'failed' }, refused.length);
      this.opts.logger.warn({ batch, keys: refused.map((r) => r.key), platform, reason }, 'send failed for good');
      this.withProblems.add(campaign);
    }
    const later = rows.filter((r) => throttled.has(r.target ?? ''));
    // No retryAfterMs: that would pause the whole queue for a few people.
    if (later.length) return this.sendFailed(job, platform, later, new PlatformError('recipient is flow-controlled', platform, 'flowControlled', true));
    if (this.withProblems.has(campaign)) await this.maybeFinish(campaign);
    return 'sent';
  }

  /** Marks rows sent by one call; a hook runs with each, in the same transaction. */
  private async markRowsSent(rows: LedgerRow[], messageId: string): Promise<void> {
    const keys = rows.map((r) => r.key);
    const hook = this.hooks.get(rows[0].kind);
    if (!hook) return markSent(this.db, keys, messageId);
    // With the rows: a crash between them resends (the platform drops the repeat) and hooks again.
    const staged = await this.db.transaction(async (tx) => {
      await markSent(tx, keys, messageId);
      const out: Staged = [];
      for (const row of rows) out.push(...((await hook(tx, row, messageId)) ?? []));
      return out;
    });
    if (staged.length) await this.deliver(staged);
  }

  /**
   * A failed attempt for these rows (one campaign's): a platform's "slow down" pauses the
   * queue and comes back without spending an attempt; otherwise the rows are marked for a
   * retry, or failed after the last attempt. Always throws, for BullMQ to act on.
   */
  private async sendFailed(job: Job, platform: PlatformName, rows: LedgerRow[], e: unknown): Promise<never> {
    const err = e instanceof Error ? e : new Error(String(e));
    const retryable = !(e instanceof PlatformError) || e.retryable;
    const metrics = this.opts.bot.metrics.sends;
    if (e instanceof PlatformError && e.retryable && e.retryAfterMs) {
      // The platform asked us to slow down: pause this platform's queue and try the same job again.
      await this.queue(platform).rateLimit(e.retryAfterMs);
      metrics.inc({ platform, outcome: 'throttled' }, rows.length);
      throw Worker.RateLimitError();
    }
    const last = !retryable || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const reason = describeError(err);
    const keys = rows.map((r) => r.key);
    if (!last) {
      await markRetry(this.db, keys, reason);
      metrics.inc({ platform, outcome: 'retried' }, rows.length);
      throw err;
    }
    await markFailed(this.db, keys, reason);
    metrics.inc({ platform, outcome: 'failed' }, rows.length);
    this.opts.logger.warn({ key: keys.length === 1 ? keys[0] : keys, platform, reason }, 'send failed for good');
    this.withProblems.add(rows[0].campaign_id);
    await this.maybeFinish(rows[0].campaign_id);
    throw new UnrecoverableError(reason);
  }

  /** One attempt at a ledger row's send or card update; resolves with the platform's message id. */
  private async sendRow(platform: PlatformName, row: LedgerRow, key: string): Promise<string> {
    const conversation = { type: 'direct' as const, platformUserId: row.target ?? '' };
    const content = row.content.card ?? row.content.text ?? '';
    if (row.content.update && row.content.card) {
      await this.pacer.wait(platform, this.opts.settings.rateLimits[platform], this.opts.settings.margin);
      // Writing the same card over the same message twice shows it once: as safe to retry as a keyed send.
      await this.opts.bot.updateCard(platform, row.target ?? '', row.content.card);
      return row.target ?? '';
    }
    const cost = this.opts.bot.platform(platform)?.sendCost?.({ conversation, idempotencyKey: key }, content) ?? 1;
    await this.pacer.wait(platform, this.opts.settings.rateLimits[platform], this.opts.settings.margin, cost);
    return (await this.opts.bot.send(platform, conversation, content, key)).messageId;
  }

  /** Finishes campaigns with nothing pending left (the periodic sweep). */
  async finishIdle(): Promise<void> {
    for (const id of await unfinishedCampaignIds(this.db)) await this.maybeFinish(id);
  }

  /** Marks the campaign finished when nothing is pending; reports failures once. */
  private async maybeFinish(campaignId: string): Promise<void> {
    const { pending, problems } = await pendingAndProblems(this.db, campaignId);
    if (pending) return;
    this.withProblems.delete(campaignId);
    const finished = await tryFinishCampaign(this.db, campaignId, problems);
    if (!finished || !problems || finished.kind === FAILURE_SUMMARY_KIND) return;
    if (finished.meta?.followUp) {
      // A follow-up's recipients are a declaration's people: naming them to administrators
      // would disclose it. The reasons are on the ledger rows.
      this.opts.logger.warn({ campaign: finished.key }, 'follow-up not delivered to every recipient');
      return;
    }
    const rows = await problemRows(this.db, campaignId);
    const admins = await listActiveStaff(this.db, { role: 'admin' });
    const summary = card(
      `推送未送达汇总 · ${finished.title}`,
      [
        fields([
          ['推送', finished.title],
          ['未送达人数', rows.length],
        ]),
        table(
          ['工号', '姓名', '科室', '原因'],
          rows.slice(0, 50).map((r) => [r.staff_id, r.name ?? '', r.department ?? '', r.status === 'unreachable' ? '未绑定可用的平台账号' : `发送失败：${r.error ?? '未知'}`]),
        ),
        rows.length > 50 ? note(`另有 ${rows.length - 50} 人未列出。`) : null,
        note('请核对这些人员的平台账号（名单中的钉钉ID/飞书ID），修正后可用“推送”命令重新发起。'),
      ],
      'orange',
    );
    await this.createCampaign({
      key: `${finished.key}.failures`.slice(0, 120),
      kind: FAILURE_SUMMARY_KIND,
      title: `未送达汇总 · ${finished.title}`,
      recipients: admins,
      render: () => summary,
    });
  }
}

function dedupeStaff(list: Staff[]): Staff[] {
  const seen = new Set<string>();
  return list.filter((s) => (seen.has(s.staffId) ? false : (seen.add(s.staffId), true)));
}

function describeError(e: Error): string {
  const code = e instanceof PlatformError && e.code !== undefined ? ` (${e.platform} ${String(e.code)})` : '';
  return `${e.message}${code}`.slice(0, 300);
}
