import { createHash } from 'node:crypto';
import type { Queryable } from './db.js';

/**
 * Checks the audit log's hash chain (migration 008) from outside the database: the hashes
 * are recomputed here, in Node, from the stored columns, so a rewritten trigger or function
 * in the database cannot vouch for itself.
 */

export const GENESIS = '0'.repeat(64);

export interface ChainHead {
  seq: number;
  hash: string;
  /** The head row's time, ISO UTC with microseconds. */
  at: string;
}

interface ChainRow {
  id: string;
  seq: string;
  prev_hash: string;
  hash: string;
  at_text: string;
  actor: string | null;
  action: string;
  entity_type: string | null;
  entity_id: string | null;
  from_state: string | null;
  to_state: string | null;
  reason: string | null;
  detail_text: string | null;
}

// The same rendering of `at` the trigger hashes; to_char ignores the session's DateStyle.
// Queries alias the table and order by a.seq: the output column `seq` is text, and text order
// would put 10 before 9.
const AT_TEXT = `to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Must equal audit_log_hash in 008_audit_chain.sql, byte for byte. */
export function rowHash(r: Omit<ChainRow, 'hash'>): string {
  const fields = [r.prev_hash, r.seq, r.id, r.at_text, r.actor, r.action, r.entity_type, r.entity_id, r.from_state, r.to_state, r.reason, r.detail_text];
  const canon = ['qinglian-audit-v1', ...fields.map((f) => (f === null ? '-' : `${Buffer.byteLength(f, 'utf8')}:${f}`))].join('|');
  return createHash('sha256').update(canon, 'utf8').digest('hex');
}

export async function chainHead(q: Queryable): Promise<ChainHead | undefined> {
  const r = await q.query<{ seq: string; hash: string; at_text: string }>(`SELECT seq::text, hash, ${AT_TEXT} AS at_text FROM audit_log a ORDER BY a.seq DESC LIMIT 1`);
  const h = r.rows[0];
  return h ? { seq: Number(h.seq), hash: h.hash, at: h.at_text } : undefined;
}

export type BreakKind = 'altered' | 'missing_before' | 'relinked';

export interface ChainBreak {
  kind: BreakKind;
  id: string;
  seq: number;
  at: string;
  action: string;
}

export interface VerifyResult {
  checked: number;
  head?: ChainHead;
  broken?: ChainBreak;
  /** Set when a kept head was given: whether the chain still holds it. */
  keptHead?: { hash: string; seq?: number; found: boolean };
}

/**
 * Walks the chain in seq order, in pages so a long log does not sit in memory. The first
 * row that does not follow is reported: content that no longer matches its hash (changed),
 * a gap in seq (a row before it deleted), or a prev_hash that is not the previous row's hash
 * (the previous row was changed and rehashed).
 */
export async function verifyChain(q: Queryable, kept?: { hash: string; seq?: number }, pageSize = 2000): Promise<VerifyResult> {
  let prevHash = GENESIS;
  let expectSeq = 1;
  let checked = 0;
  let head: ChainHead | undefined;
  let keptFound = false;
  for (;;) {
    const rows = (
      await q.query<ChainRow>(
        `SELECT id::text, seq::text, prev_hash, hash, ${AT_TEXT} AS at_text, actor, action, entity_type, entity_id,
                from_state, to_state, reason, detail::text AS detail_text
         FROM audit_log a WHERE a.seq >= $1 ORDER BY a.seq LIMIT $2`,
        [expectSeq, pageSize],
      )
    ).rows;
    for (const r of rows) {
      const seq = Number(r.seq);
      const at = r.at_text;
      const where = { id: r.id, seq, at, action: r.action };
      if (seq !== expectSeq) return { checked, ...(head ? { head } : {}), broken: { kind: 'missing_before', ...where } };
      if (rowHash(r) !== r.hash) return { checked, ...(head ? { head } : {}), broken: { kind: 'altered', ...where } };
      if (r.prev_hash !== prevHash) return { checked, ...(head ? { head } : {}), broken: { kind: 'relinked', ...where } };
      checked++;
      head = { seq, hash: r.hash, at };
      if (kept && r.hash === kept.hash && (kept.seq === undefined || kept.seq === seq)) keptFound = true;
      prevHash = r.hash;
      expectSeq = seq + 1;
    }
    if (rows.length < pageSize) break;
  }
  return { checked, ...(head ? { head } : {}), ...(kept ? { keptHead: { ...kept, found: keptFound } } : {}) };
}
