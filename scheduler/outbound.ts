import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Card } from '../cards/model.js';
import { card, fields, note, table } from '../cards/builders.js';
import type { Bot } from '../src/bot/bot.js';
import type { Settings } from '../src/config.js';
import { PlatformError } from '../src/errors.js';
import type { Logger } from '../src/logger.js';
import type { PlatformName } from '../src/platform/types.js';
import {
  campaignCounts,
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
  tryFinishCampaign,
  unfinishedCampaignIds,
  upsertCampaign,
  type CampaignCounts,
  type LedgerInsert,
} from '../src/store/campaigns.js';
import { listActiveStaff, type Staff } from '../src/store/staff.js';
import { Pacer } from './pace.js';

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
 * Retryable failures (PlatformError.retryable, network errors) back off exponentially; a
 * platform's "slow down" (retryAfterMs) pauses the queue without spending an attempt; after
 * the last attempt the row is marked failed and, once the campaign has nothing pending,
 * administrators get one summary card listing every recipient that was not reached.
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

export const CAMPAIGN_KEY = /^[A-Za-z0-9_.-]{1,120}$/;
export const FAILURE_SUMMARY_KIND = 'outbound.failures';
export const outboundQueueName = (p: PlatformName): string => `outbound-${p}`;
export const ledgerKey = (campaignKey: string, staffId: string): string => `${campaignKey}/${staffId}`;

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
  private started = false;
  /**
   * Campaigns known here to have failed or unreachable recipients: only these need the
   * "anything still pending?" check after each send, to report promptly. Others (and any
   * this process forgot by restarting) are finished by the periodic sweep.
   */
  private withProblems = new Set<string>();
  private pacer: Pacer;

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
    const { id, created } = await upsertCampaign(this.db, spec);
    const already = created ? new Set<string>() : await ledgerStaffIds(this.db, id);
    const fresh = dedupeStaff(spec.recipients).filter((s) => !already.has(s.staffId));
    const inserted: { key: string; platform: PlatformName | null }[] = [];
    // In chunks, so the first sends leave while later rows are still being written.
    for (let i = 0; i < fresh.length; i += 1000) {
      const rows: LedgerInsert[] = [];
      for (const s of fresh.slice(i, i + 1000)) {
        const reach = this.opts.bot.reachFor(s);
        const content = await spec.render(s);
        rows.push({
          key: ledgerKey(spec.key, s.staffId),
          staffId: s.staffId,
          platform: reach?.platform ?? null,
          target: reach ? (reach.conversation.type === 'direct' ? reach.conversation.platformUserId : reach.conversation.chatId) : null,
          content: typeof content === 'string' ? { text: content } : { card: content },
        });
      }
      // Committed before queueing: a crash in between is repaired by recover().
      const chunk = await insertLedgerRows(this.db, id, rows);
      await this.enqueue(chunk.filter((r) => r.platform !== null) as { key: string; platform: PlatformName }[]);
      inserted.push(...chunk);
    }
    const unreachable = inserted.filter((r) => r.platform === null).length;
    if (inserted.length > 0) {
      this.opts.logger.info({ campaign: spec.key, added: inserted.length, unreachable }, 'campaign recipients queued');
    }
    if (unreachable > 0) this.withProblems.add(id);
    if (unreachable > 0 || inserted.length === 0) await this.maybeFinish(id);
    return { campaignId: id, key: spec.key, created, added: inserted.length, unreachable };
  }

  async status(key: string): Promise<CampaignCounts | undefined> {
    const c = await getCampaignByKey(this.db, key);
    return c ? campaignCounts(this.db, c.id) : undefined;
  }

  private async enqueue(rows: { key: string; platform: PlatformName }[]): Promise<void> {
    const { attempts, backoffMs } = this.opts.settings;
    const byPlatform = new Map<PlatformName, string[]>();
    for (const r of rows) byPlatform.set(r.platform, [...(byPlatform.get(r.platform) ?? []), r.key]);
    for (const [platform, keys] of byPlatform) {
      const q = this.queue(platform);
      for (let i = 0; i < keys.length; i += 500) {
        await q.addBulk(
          keys.slice(i, i + 500).map((key) => ({
            name: 'send',
            data: { key },
            opts: {
              jobId: key,
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
      const worker = new Worker(outboundQueueName(platform.name), (job) => this.process(job, platform.name), {
        connection: this.opts.connection.duplicate(),
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
    await this.recover();
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.workers = [];
    this.queues.clear();
    this.started = false;
  }

  private async process(job: Job, platform: PlatformName): Promise<string> {
    const key = String((job.data as { key?: unknown }).key ?? job.id);
    const row = await readLedgerRow(this.db, key);
    if (!row || row.status !== 'pending') return 'skipped';
    const conversation = { type: 'direct' as const, platformUserId: row.target ?? '' };
    let messageId: string;
    try {
      const content = row.content.card ?? row.content.text ?? '';
      const cost = this.opts.bot.platform(platform)?.sendCost?.({ conversation, idempotencyKey: key }, content) ?? 1;
      await this.pacer.wait(platform, this.opts.settings.rateLimits[platform], this.opts.settings.margin, cost);
      messageId = (await this.opts.bot.send(platform, conversation, content, key)).messageId;
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      const retryable = !(e instanceof PlatformError) || e.retryable;
      if (e instanceof PlatformError && e.retryable && e.retryAfterMs) {
        // The platform asked us to slow down: pause this platform's queue and try the same job again.
        await this.queue(platform).rateLimit(e.retryAfterMs);
        this.opts.bot.metrics.sends.inc({ platform, outcome: 'throttled' });
        throw Worker.RateLimitError();
      }
      const last = !retryable || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const reason = describeError(err);
      if (!last) {
        await markRetry(this.db, key, reason);
        this.opts.bot.metrics.sends.inc({ platform, outcome: 'retried' });
        throw err;
      }
      await markFailed(this.db, key, reason);
      this.opts.bot.metrics.sends.inc({ platform, outcome: 'failed' });
      this.opts.logger.warn({ key, platform, reason }, 'send failed for good');
      this.withProblems.add(row.campaign_id);
      await this.maybeFinish(row.campaign_id);
      throw new UnrecoverableError(reason);
    }
    await markSent(this.db, key, messageId);
    this.opts.bot.metrics.sends.inc({ platform, outcome: 'ok' });
    if (this.withProblems.has(row.campaign_id)) await this.maybeFinish(row.campaign_id);
    return 'sent';
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
