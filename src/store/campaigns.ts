import type { Card } from '../../cards/model.js';
import type { PlatformName } from '../platform/types.js';
import type { Queryable } from './db.js';

/** Campaigns and their send ledger (see scheduler/outbound.ts for how they make sends exactly once). */

export interface CampaignRow {
  id: string;
  key: string;
  kind: string;
  title: string;
  created_at: Date;
  finished_at: Date | null;
  meta?: Record<string, unknown>;
}

/**
 * What a ledger row sends: a card or a text to the recipient's direct chat, or, with `update`,
 * the card written over the message `target` already names (a decided approval card, a
 * confirmed report), which is as safe to repeat as a send with an idempotency key.
 */
export interface LedgerContent {
  card?: Card;
  text?: string;
  update?: boolean;
}

export interface LedgerInsert {
  key: string;
  staffId: string;
  platform: PlatformName | null;
  target: string | null;
  content: LedgerContent;
}

export interface LedgerRow {
  key: string;
  campaign_id: string;
  staff_id: string;
  platform: PlatformName | null;
  target: string | null;
  content: LedgerContent;
  status: 'pending' | 'sent' | 'failed' | 'unreachable';
  attempts: number;
  message_id: string | null;
  error: string | null;
  /** The campaign's kind and meta, for the post-send hooks (scheduler/outbound.ts). */
  kind: string;
  meta: Record<string, unknown>;
}

export interface CampaignCounts {
  total: number;
  pending: number;
  sent: number;
  failed: number;
  unreachable: number;
}

export async function upsertCampaign(
  db: Queryable,
  c: { key: string; kind: string; title: string; createdBy?: string; meta?: Record<string, unknown> },
): Promise<{ id: string; created: boolean }> {
  const ins = await db.query<{ id: string }>(
    `INSERT INTO campaigns (key, kind, title, created_by, meta) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (key) DO NOTHING RETURNING id::text`,
    [c.key, c.kind, c.title, c.createdBy ?? null, JSON.stringify(c.meta ?? {})],
  );
  if (ins.rows[0]) return { id: ins.rows[0].id, created: true };
  const got = await db.query<{ id: string }>('SELECT id::text FROM campaigns WHERE key = $1', [c.key]);
  // A campaign that gains recipients is open again until they are sent.
  await db.query('UPDATE campaigns SET finished_at = NULL WHERE key = $1 AND finished_at IS NOT NULL', [c.key]);
  return { id: got.rows[0].id, created: false };
}

export async function getCampaignByKey(q: Queryable, key: string): Promise<CampaignRow | undefined> {
  const r = await q.query<CampaignRow>('SELECT id::text, key, kind, title, created_at, finished_at FROM campaigns WHERE key = $1', [key]);
  return r.rows[0];
}

export async function ledgerStaffIds(q: Queryable, campaignId: string): Promise<Set<string>> {
  const r = await q.query<{ staff_id: string }>('SELECT staff_id FROM send_ledger WHERE campaign_id = $1', [campaignId]);
  return new Set(r.rows.map((x) => x.staff_id));
}

/** Inserts rows not present yet; returns those actually inserted. */
export async function insertLedgerRows(db: Queryable, campaignId: string, rows: LedgerInsert[]): Promise<{ key: string; platform: PlatformName | null }[]> {
  const out: { key: string; platform: PlatformName | null }[] = [];
  for (let i = 0; i < rows.length; i += 1000) {
    const chunk = rows.slice(i, i + 1000);
    const r = await db.query<{ key: string; platform: PlatformName | null }>(
      `INSERT INTO send_ledger (key, campaign_id, staff_id, platform, target, content, status)
       SELECT k, $1::bigint, s, p, t, c::jsonb, CASE WHEN p IS NULL THEN 'unreachable' ELSE 'pending' END
       FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS x(k, s, p, t, c)
       ON CONFLICT DO NOTHING
       RETURNING key, platform`,
      [
        campaignId,
        chunk.map((x) => x.key),
        chunk.map((x) => x.staffId),
        chunk.map((x) => x.platform),
        chunk.map((x) => x.target),
        chunk.map((x) => JSON.stringify(x.content)),
      ],
    );
    out.push(...r.rows);
  }
  // The minute sweep may have finished this campaign while it had no rows yet; new rows reopen it.
  if (out.length > 0) await db.query('UPDATE campaigns SET finished_at = NULL WHERE id = $1 AND finished_at IS NOT NULL', [campaignId]);
  return out;
}

/** Puts rows just inserted into their batches (send_ledger.batch: the batch's queue job id). */
export async function setLedgerBatches(q: Queryable, rows: { key: string; batch: string }[]): Promise<void> {
  if (rows.length === 0) return;
  await q.query(`UPDATE send_ledger l SET batch = x.b FROM unnest($1::text[], $2::text[]) AS x(k, b) WHERE l.key = x.k`, [
    rows.map((r) => r.key),
    rows.map((r) => r.batch),
  ]);
}

/** A batch's rows still pending, in key order. */
export async function readPendingBatch(q: Queryable, batch: string): Promise<LedgerRow[]> {
  const r = await q.query<LedgerRow>(
    `SELECT l.key, l.campaign_id::text, l.staff_id, l.platform, l.target, l.content, l.status, l.attempts, l.message_id, l.error, c.kind, c.meta
     FROM send_ledger l JOIN campaigns c ON c.id = l.campaign_id WHERE l.batch = $1 AND l.status = 'pending' ORDER BY l.key`,
    [batch],
  );
  return r.rows;
}

export async function readLedgerRow(q: Queryable, key: string): Promise<LedgerRow | undefined> {
  const r = await q.query<LedgerRow>(
    `SELECT l.key, l.campaign_id::text, l.staff_id, l.platform, l.target, l.content, l.status, l.attempts, l.message_id, l.error, c.kind, c.meta
     FROM send_ledger l JOIN campaigns c ON c.id = l.campaign_id WHERE l.key = $1`,
    [key],
  );
  return r.rows[0];
}

// The mark* functions take one key or a batch's keys: one statement either way.
const keyList = (keys: string | string[]): string[] => (typeof keys === 'string' ? [keys] : keys);

export async function markSent(q: Queryable, keys: string | string[], messageId: string): Promise<void> {
  await q.query(
    `UPDATE send_ledger SET status = 'sent', message_id = $2, sent_at = now(), attempts = attempts + 1, error = NULL
     WHERE key = ANY($1::text[]) AND status = 'pending'`,
    [keyList(keys), messageId],
  );
}

/** How many of these rows are still waiting to be sent. */
export async function countPending(q: Queryable, keys: string[]): Promise<number> {
  const r = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM send_ledger WHERE key = ANY($1::text[]) AND status = 'pending'`, [keys]);
  return r.rows[0].n;
}

export async function markRetry(q: Queryable, keys: string | string[], error: string): Promise<void> {
  await q.query(`UPDATE send_ledger SET attempts = attempts + 1, error = $2 WHERE key = ANY($1::text[]) AND status = 'pending'`, [keyList(keys), error]);
}

export async function markFailed(q: Queryable, keys: string | string[], error: string): Promise<void> {
  await q.query(`UPDATE send_ledger SET status = 'failed', attempts = attempts + 1, error = $2 WHERE key = ANY($1::text[]) AND status = 'pending'`, [keyList(keys), error]);
}

export async function pendingAndProblems(q: Queryable, campaignId: string): Promise<{ pending: boolean; problems: boolean }> {
  const r = await q.query<{ pending: boolean; problems: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM send_ledger WHERE campaign_id = $1 AND status = 'pending') AS pending,
            EXISTS (SELECT 1 FROM send_ledger WHERE campaign_id = $1 AND status IN ('failed', 'unreachable')) AS problems`,
    [campaignId],
  );
  return r.rows[0];
}

/**
 * Marks a campaign finished; with problems, also claims the one failure report. Returns the
 * campaign when this call is the one that must send the report (or just finished it).
 */
export async function tryFinishCampaign(q: Queryable, campaignId: string, problems: boolean): Promise<CampaignRow | undefined> {
  await q.query('UPDATE campaigns SET finished_at = now() WHERE id = $1 AND finished_at IS NULL', [campaignId]);
  if (!problems) return undefined;
  const r = await q.query<CampaignRow>(
    `UPDATE campaigns SET failures_reported_at = now() WHERE id = $1 AND failures_reported_at IS NULL
     RETURNING id::text, key, kind, title, created_at, finished_at, meta`,
    [campaignId],
  );
  return r.rows[0];
}

export async function problemRows(q: Queryable, campaignId: string): Promise<{ staff_id: string; name: string | null; department: string | null; status: string; error: string | null }[]> {
  const r = await q.query<{ staff_id: string; name: string | null; department: string | null; status: string; error: string | null }>(
    `SELECT l.staff_id, s.name, d.name AS department, l.status, l.error
     FROM send_ledger l LEFT JOIN staff s ON s.staff_id = l.staff_id LEFT JOIN departments d ON d.id = s.department_id
     WHERE l.campaign_id = $1 AND l.status IN ('failed', 'unreachable') ORDER BY l.staff_id`,
    [campaignId],
  );
  return r.rows;
}

export async function listPendingKeys(q: Queryable, olderThanMs: number, limit: number, offset: number): Promise<{ key: string; platform: PlatformName; batch: string | null }[]> {
  const r = await q.query<{ key: string; platform: PlatformName; batch: string | null }>(
    `SELECT key, platform, batch FROM send_ledger
     WHERE status = 'pending' AND created_at <= now() - ($1::int * interval '1 millisecond')
     ORDER BY campaign_id, created_at, key LIMIT $2 OFFSET $3`,
    [olderThanMs, limit, offset],
  );
  return r.rows;
}

export async function campaignCounts(q: Queryable, campaignId: string): Promise<CampaignCounts> {
  const r = await q.query<CampaignCounts>(
    `SELECT count(*)::int AS total,
            count(*) FILTER (WHERE status = 'pending')::int AS pending,
            count(*) FILTER (WHERE status = 'sent')::int AS sent,
            count(*) FILTER (WHERE status = 'failed')::int AS failed,
            count(*) FILTER (WHERE status = 'unreachable')::int AS unreachable
     FROM send_ledger WHERE campaign_id = $1`,
    [campaignId],
  );
  return r.rows[0];
}

export async function unfinishedCampaignIds(q: Queryable): Promise<string[]> {
  const r = await q.query<{ id: string }>('SELECT id::text FROM campaigns WHERE finished_at IS NULL ORDER BY id LIMIT 500');
  return r.rows.map((x) => x.id);
}

/**
 * A campaign and those keyed `<key>-2`, `<key>-3`… (repeated rounds of it), oldest first,
 * with how many departments each round's recipients are in.
 */
export async function campaignRounds(q: Queryable, key: string): Promise<{ key: string; createdAt: Date; meta: Record<string, unknown>; departments: number }[]> {
  const r = await q.query<{ key: string; created_at: Date; meta: Record<string, unknown>; departments: number }>(
    `SELECT c.key, c.created_at, c.meta,
            (SELECT count(DISTINCT s.department_id)::int FROM send_ledger l JOIN staff s ON s.staff_id = l.staff_id WHERE l.campaign_id = c.id) AS departments
     FROM campaigns c
     WHERE c.key = $1 OR (left(c.key, length($1) + 1) = $1 || '-' AND substr(c.key, length($1) + 2) ~ '^[0-9]+$')
     ORDER BY c.created_at, c.id`,
    [key],
  );
  return r.rows.map((x) => ({ key: x.key, createdAt: x.created_at, meta: x.meta, departments: x.departments }));
}
