import type { Attachment } from '../domain/declaration/record.js';
import type { Sealed } from '../domain/tipoff/sealing.js';
import type { Disposition, MonthStateCount, Source, Tipoff, TipoffState, TrailEntry } from '../domain/tipoff/record.js';
import type { Queryable } from './db.js';

/** SQL for tip-offs. The record's type and state machine live in src/domain/tipoff/. */

interface Row {
  id: string;
  source: Source;
  real_name: boolean;
  state: TipoffState;
  version: number;
  occurred: string;
  place: string;
  department: string;
  persons: string;
  matter: string;
  source_detail: string | null;
  attachments: Attachment[] | string | null;
  handler_id: string | null;
  handler_name: string | null;
  disposition: Disposition | null;
  reply: string | null;
  replied_at: Date | null;
  merged_into: string | null;
  created_at: Date;
  state_since: Date;
  due_on: string | null;
  reminded_at: Date | null;
  escalated_at: Date | null;
  feedback_due_on: string | null;
  closed_at: Date | null;
}

const COLUMNS = `t.id::text, t.source, t.real_name, t.state, t.version, t.occurred, t.place, t.department, t.persons, t.matter,
  t.source_detail, t.attachments, t.handler_id, h.name AS handler_name, t.disposition, t.reply, t.replied_at, t.merged_into::text,
  t.created_at, t.state_since, t.due_on::text AS due_on, t.reminded_at, t.escalated_at, t.feedback_due_on::text AS feedback_due_on, t.closed_at`;
const FROM = 'tipoffs t LEFT JOIN staff h ON h.staff_id = t.handler_id';

const toTipoff = (r: Row): Tipoff => ({
  id: r.id,
  source: r.source,
  realName: r.real_name,
  state: r.state,
  version: r.version,
  occurred: r.occurred,
  place: r.place,
  department: r.department,
  persons: r.persons,
  matter: r.matter,
  sourceDetail: r.source_detail,
  // pg parses jsonb; be tolerant of a driver that hands back the text.
  attachments: typeof r.attachments === 'string' ? (JSON.parse(r.attachments) as Attachment[]) : (r.attachments ?? []),
  handlerId: r.handler_id,
  handlerName: r.handler_name,
  disposition: r.disposition,
  reply: r.reply,
  repliedAt: r.replied_at,
  mergedInto: r.merged_into,
  createdAt: r.created_at,
  stateSince: r.state_since,
  dueOn: r.due_on,
  remindedAt: r.reminded_at,
  escalatedAt: r.escalated_at,
  feedbackDueOn: r.feedback_due_on,
  closedAt: r.closed_at,
});

export interface NewTipoff {
  source: Source;
  realName: boolean;
  occurred: string;
  place: string;
  department: string;
  persons: string;
  matter: string;
  sourceDetail?: string | null;
  attachments: Attachment[];
  queryCodeHash?: string | null;
  dueOn: string;
  feedbackDueOn?: string | null;
  now: Date;
}

export async function insertTipoff(q: Queryable, t: NewTipoff): Promise<string> {
  const r = await q.query<{ id: string }>(
    `INSERT INTO tipoffs (source, real_name, state, occurred, place, department, persons, matter, source_detail, attachments, query_code_hash,
                          due_on, feedback_due_on, created_at, state_since)
     VALUES ($1, $2, 'received', $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12, $13, $13) RETURNING id::text`,
    [t.source, t.realName, t.occurred, t.place, t.department, t.persons, t.matter, t.sourceDetail ?? null, JSON.stringify(t.attachments), t.queryCodeHash ?? null, t.dueOn, t.feedbackDueOn ?? null, t.now],
  );
  return r.rows[0].id;
}

export async function getTipoff(q: Queryable, id: string): Promise<Tipoff | undefined> {
  if (!/^\d{1,12}$/.test(id)) return undefined;
  const r = await q.query<Row>(`SELECT ${COLUMNS} FROM ${FROM} WHERE t.id = $1`, [id]);
  return r.rows[0] ? toTipoff(r.rows[0]) : undefined;
}

export async function findByQueryCode(q: Queryable, codeHash: string): Promise<Tipoff | undefined> {
  const r = await q.query<Row>(`SELECT ${COLUMNS} FROM ${FROM} WHERE t.query_code_hash = $1`, [codeHash]);
  return r.rows[0] ? toTipoff(r.rows[0]) : undefined;
}

export interface ListFilter {
  state?: TipoffState;
  source?: Source;
  /** Only cases past their state's deadline, or 实名 past their feedback day, on `today`. */
  overdueOn?: string;
  limit?: number;
}

export async function listTipoffs(q: Queryable, f: ListFilter = {}): Promise<Tipoff[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const p = (v: unknown) => `$${params.push(v)}`;
  if (f.state) where.push(`t.state = ${p(f.state)}`);
  if (f.source) where.push(`t.source = ${p(f.source)}`);
  if (f.overdueOn) {
    const day = p(f.overdueOn);
    where.push(`t.state NOT IN ('closed', 'merged') AND (t.due_on < ${day}::date OR (t.real_name AND t.replied_at IS NULL AND t.feedback_due_on < ${day}::date))`);
  }
  const r = await q.query<Row>(`SELECT ${COLUMNS} FROM ${FROM} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY t.id DESC LIMIT ${p(f.limit ?? 100_000)}`, params);
  return r.rows.map(toTipoff);
}

/** Open cases whose state's deadline has passed (due before `today`), for the deadline job. */
export async function listPastDue(q: Queryable, today: string): Promise<Tipoff[]> {
  const r = await q.query<Row>(`SELECT ${COLUMNS} FROM ${FROM} WHERE t.state NOT IN ('closed', 'merged') AND t.due_on < $1::date ORDER BY t.id`, [today]);
  return r.rows.map(toTipoff);
}

/**
 * The one guarded statement behind every move: nothing changes unless the case is still in
 * `from` at `version`, so of two concurrent moves exactly one takes effect.
 */
export async function moveTipoff(
  q: Queryable,
  id: string,
  from: TipoffState,
  version: number,
  to: TipoffState,
  opts: { now: Date; dueOn: string | null; disposition?: Disposition; reply?: string; mergedInto?: string },
): Promise<boolean> {
  const r = await q.query(
    `UPDATE tipoffs
        SET state = $4, version = version + 1, state_since = $5, due_on = $6, reminded_at = NULL, escalated_at = NULL,
            disposition = COALESCE($7, disposition),
            reply = COALESCE($8, reply), replied_at = CASE WHEN $8::text IS NOT NULL THEN $5 ELSE replied_at END,
            merged_into = COALESCE($9::bigint, merged_into),
            closed_at = CASE WHEN $4 IN ('closed', 'merged') THEN $5 ELSE closed_at END
      WHERE id = $1 AND state = $2 AND version = $3`,
    [id, from, version, to, opts.now, opts.dueOn, opts.disposition ?? null, opts.reply ?? null, opts.mergedInto ?? null],
  );
  return r.rowCount === 1;
}

export async function setHandler(q: Queryable, id: string, version: number, handlerId: string): Promise<boolean> {
  const r = await q.query(`UPDATE tipoffs SET handler_id = $3, version = version + 1 WHERE id = $1 AND version = $2 AND state NOT IN ('closed', 'merged')`, [id, version, handlerId]);
  return r.rowCount === 1;
}

/** Claims a state's reminder (or escalation) once, even with two schedulers running. */
export async function claimTipoffDeadline(q: Queryable, id: string, version: number, which: 'reminded_at' | 'escalated_at', now: Date): Promise<boolean> {
  const r = await q.query(`UPDATE tipoffs SET ${which} = $3 WHERE id = $1 AND version = $2 AND ${which} IS NULL`, [id, version, now]);
  return r.rowCount === 1;
}

// ---- the sealed reporter ------------------------------------------------------------------

export async function insertReporter(q: Queryable, tipoffId: string, s: Sealed): Promise<void> {
  await q.query('INSERT INTO tipoff_reporters (tipoff_id, key_id, iv, tag, sealed) VALUES ($1, $2, $3, $4, $5)', [tipoffId, s.keyId, s.iv, s.tag, s.sealed]);
}

export async function readReporter(q: Queryable, tipoffId: string): Promise<Sealed | undefined> {
  const r = await q.query<{ key_id: string; iv: Uint8Array; tag: Uint8Array; sealed: Uint8Array }>('SELECT key_id, iv, tag, sealed FROM tipoff_reporters WHERE tipoff_id = $1', [tipoffId]);
  const x = r.rows[0];
  // node-postgres gives a Buffer, PGlite a Uint8Array.
  const buf = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
  return x ? { keyId: x.key_id, iv: buf(x.iv), tag: buf(x.tag), sealed: buf(x.sealed) } : undefined;
}

// ---- links --------------------------------------------------------------------------------

export async function addLink(q: Queryable, tipoffId: string, kind: 'declaration' | 'staff', ref: string): Promise<boolean> {
  const r = await q.query('INSERT INTO tipoff_links (tipoff_id, kind, ref) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [tipoffId, kind, ref]);
  return r.rowCount === 1;
}

export async function linksOf(q: Queryable, tipoffId: string): Promise<{ kind: 'declaration' | 'staff'; ref: string; name: string | null }[]> {
  const r = await q.query<{ kind: 'declaration' | 'staff'; ref: string; name: string | null }>(
    `SELECT l.kind, l.ref, s.name FROM tipoff_links l LEFT JOIN staff s ON l.kind = 'staff' AND s.staff_id = l.ref WHERE l.tipoff_id = $1 ORDER BY l.kind, l.ref`,
    [tipoffId],
  );
  return r.rows;
}

/** Staff named by link in a case: never told anything about it by the bot. */
export async function linkedStaffIds(q: Queryable, tipoffId: string): Promise<Set<string>> {
  const r = await q.query<{ ref: string }>(`SELECT ref FROM tipoff_links WHERE tipoff_id = $1 AND kind = 'staff'`, [tipoffId]);
  return new Set(r.rows.map((x) => x.ref));
}

// ---- history and counts -------------------------------------------------------------------

/** A case's history in the order it happened; the reporter's own filing shows as 举报人, never by name. */
export async function tipoffTrail(q: Queryable, id: string): Promise<TrailEntry[]> {
  const r = await q.query<{ at: Date; actor_name: string; action: string; from_state: string | null; to_state: string | null; reason: string | null }>(
    `SELECT a.at, CASE WHEN a.actor IS NULL THEN '举报人' WHEN a.actor = 'system' THEN '系统' ELSE COALESCE(s.name, a.actor) END AS actor_name,
            a.action, a.from_state, a.to_state, a.reason
       FROM audit_log a LEFT JOIN staff s ON s.staff_id = a.actor
      WHERE a.entity_type = 'tipoff' AND a.entity_id = $1
      ORDER BY a.at, a.seq`,
    [id],
  );
  return r.rows.map((x) => ({ at: x.at, actorName: x.actor_name, action: x.action, fromState: x.from_state, toState: x.to_state, reason: x.reason }));
}

/** Counts by month filed (in the zone) and state: nothing else leaves for leadership. */
export async function countsByMonthAndState(q: Queryable, timeZone: string): Promise<MonthStateCount[]> {
  const r = await q.query<{ month: string; state: TipoffState; count: number }>(
    `SELECT to_char(created_at AT TIME ZONE $1, 'YYYY-MM') AS month, state, count(*)::int AS count
       FROM tipoffs GROUP BY 1, 2 ORDER BY 1 DESC, 2`,
    [timeZone],
  );
  return r.rows;
}

/** One month's figures for 进度: received, handled within every deadline so far, 实名 replied / due. */
export async function monthFigures(q: Queryable, range: { start: Date; end: Date }, today: string): Promise<{ received: number; inTime: number; realName: number; realNameReplied: number }> {
  const r = await q.query<{ received: number; in_time: number; real_name: number; replied: number }>(
    `SELECT count(*)::int AS received,
            count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.entity_type = 'tipoff' AND a.entity_id = t.id::text AND a.action = 'tipoff.remind')
                               AND NOT (t.state NOT IN ('closed', 'merged') AND t.due_on < $3::date))::int AS in_time,
            count(*) FILTER (WHERE t.real_name)::int AS real_name,
            count(*) FILTER (WHERE t.real_name AND t.replied_at IS NOT NULL)::int AS replied
       FROM tipoffs t WHERE t.created_at >= $1 AND t.created_at < $2`,
    [range.start, range.end, today],
  );
  const x = r.rows[0];
  return { received: x.received, inTime: x.in_time, realName: x.real_name, realNameReplied: x.replied };
}

