import type { DeclarationInput, Giver, Handling, Kind, State } from '../domain/declaration.js';
import { MAX_ATTACHMENTS, type Attachment, type Declaration, type MonthlyTotal, type Resubmission, type TrailEntry } from '../domain/declaration/record.js';
import type { Queryable } from './db.js';

/** SQL for declarations. The record's type lives in src/domain/declaration/record.ts, its transitions in workflow.ts. */

interface Row {
  id: string;
  declarant_id: string;
  declarant_name: string;
  department_id: number;
  department: string;
  state: State;
  version: number;
  revision: number;
  previous_id: string | null;
  kind: Kind;
  amount: string;
  received_on: string;
  giver: Giver;
  handling: Handling;
  description: string;
  receipt_no: string | null;
  last_reason: string | null;
  created_at: Date;
  submitted_at: Date | null;
  step_started_at: Date | null;
  reminded_at: Date | null;
  escalated_at: Date | null;
  registered_at: Date | null;
  attachments: Attachment[] | string | null;
}

// Dates and money as text: a `date` parsed into a JS Date shifts with the server's zone, and
// numeric must never become a float.
const COLUMNS = `d.id::text, d.declarant_id, s.name AS declarant_name, d.department_id, dep.name AS department, d.state, d.version,
  d.revision, d.previous_id::text, d.kind, d.amount::text AS amount, d.received_on::text AS received_on, d.giver, d.handling,
  d.description, d.receipt_no, d.last_reason, d.created_at, d.submitted_at, d.step_started_at, d.reminded_at, d.escalated_at,
  d.registered_at, d.attachments`;
const FROM = `declarations d JOIN staff s ON s.staff_id = d.declarant_id JOIN departments dep ON dep.id = d.department_id`;

const toDeclaration = (r: Row): Declaration => ({
  id: r.id,
  declarantId: r.declarant_id,
  declarantName: r.declarant_name,
  departmentId: r.department_id,
  department: r.department,
  state: r.state,
  version: r.version,
  revision: r.revision,
  previousId: r.previous_id,
  kind: r.kind,
  amount: r.amount,
  receivedOn: r.received_on,
  giver: r.giver,
  handling: r.handling,
  description: r.description,
  receiptNo: r.receipt_no,
  lastReason: r.last_reason,
  createdAt: r.created_at,
  submittedAt: r.submitted_at,
  stepStartedAt: r.step_started_at,
  remindedAt: r.reminded_at,
  escalatedAt: r.escalated_at,
  registeredAt: r.registered_at,
  // pg parses jsonb; be tolerant of a driver that hands back the text.
  attachments: typeof r.attachments === 'string' ? (JSON.parse(r.attachments) as Attachment[]) : (r.attachments ?? []),
});

export async function getDeclaration(q: Queryable, id: string): Promise<Declaration | undefined> {
  if (!/^\d{1,18}$/.test(id)) return undefined;
  const r = await q.query<Row>(`SELECT ${COLUMNS} FROM ${FROM} WHERE d.id = $1`, [id]);
  return r.rows[0] ? toDeclaration(r.rows[0]) : undefined;
}

/**
 * Locks the declaration's row for the rest of the transaction and says where it stands: a
 * decision (a guarded UPDATE of the same row) either commits before this or waits for it.
 */
export async function lockDeclaration(q: Queryable, id: string): Promise<{ state: State; version: number } | undefined> {
  const r = await q.query<{ state: State; version: number }>('SELECT state, version FROM declarations WHERE id = $1 FOR UPDATE', [id]);
  return r.rows[0];
}

export async function getDeclarationByReceipt(q: Queryable, receiptNo: string): Promise<Declaration | undefined> {
  const r = await q.query<Row>(`SELECT ${COLUMNS} FROM ${FROM} WHERE d.receipt_no = $1`, [receiptNo]);
  return r.rows[0] ? toDeclaration(r.rows[0]) : undefined;
}

export async function insertDraft(
  q: Queryable,
  d: DeclarationInput & { declarantId: string; departmentId: number; previousId?: string; revision?: number; attachments?: Attachment[] },
): Promise<string> {
  const r = await q.query<{ id: string }>(
    `INSERT INTO declarations (declarant_id, department_id, state, kind, amount, received_on, giver, handling, description, previous_id, revision, attachments)
     VALUES ($1, $2, 'draft', $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb) RETURNING id::text`,
    [d.declarantId, d.departmentId, d.kind, d.amount, d.receivedOn, d.giver, d.handling, d.description, d.previousId ?? null, d.revision ?? 1, JSON.stringify(d.attachments ?? [])],
  );
  return r.rows[0].id;
}

/**
 * Appends attachments to a draft of this declarant, never beyond MAX_ATTACHMENTS: the guard is
 * in the statement, so two messages arriving together cannot both slip past the limit.
 * Returns the new count, or undefined when nothing was added.
 */
export async function appendAttachments(q: Queryable, id: string, declarantId: string, add: Attachment[]): Promise<number | undefined> {
  const r = await q.query<{ n: number }>(
    `UPDATE declarations SET attachments = attachments || $3::jsonb, version = version + 1
      WHERE id = $1 AND declarant_id = $2 AND state = 'draft' AND jsonb_array_length(attachments) + $4 <= $5
      RETURNING jsonb_array_length(attachments)::int AS n`,
    [id, declarantId, JSON.stringify(add), add.length, MAX_ATTACHMENTS],
  );
  return r.rows[0]?.n;
}

/** Edits a draft's content; guarded like every transition. Returns the new version or undefined. */
export async function updateDraft(q: Queryable, id: string, version: number, d: DeclarationInput): Promise<number | undefined> {
  const r = await q.query<{ version: number }>(
    `UPDATE declarations SET kind = $3, amount = $4, received_on = $5, giver = $6, handling = $7, description = $8, version = version + 1
     WHERE id = $1 AND state = 'draft' AND version = $2 RETURNING version`,
    [id, version, d.kind, d.amount, d.receivedOn, d.giver, d.handling, d.description],
  );
  return r.rows[0]?.version;
}

/**
 * The one guarded statement behind every transition: it changes nothing unless the row is
 * still in `from` at `version`, so of two concurrent decisions exactly one takes effect.
 */
export async function transition(
  q: Queryable,
  id: string,
  from: State,
  version: number,
  to: State,
  opts: { now: Date; reason?: string | null; submitted?: boolean },
): Promise<boolean> {
  const pending = to.startsWith('pending_');
  const r = await q.query(
    `UPDATE declarations
        SET state = $4, version = version + 1,
            last_reason = COALESCE($5, last_reason),
            submitted_at = CASE WHEN $6 THEN $7 ELSE submitted_at END,
            step_started_at = CASE WHEN $8 THEN $7 ELSE NULL END,
            reminded_at = NULL, escalated_at = NULL,
            registered_at = CASE WHEN $4 = 'registered' THEN $7 ELSE registered_at END
      WHERE id = $1 AND state = $2 AND version = $3`,
    [id, from, version, to, opts.reason ?? null, opts.submitted ?? false, opts.now, pending],
  );
  return r.rowCount === 1;
}

/**
 * Takes the next receipt number of `year`. Must run in the registering transaction: the
 * counter row stays locked until it commits, and a rollback gives the number back.
 */
export async function nextReceiptNumber(q: Queryable, year: number): Promise<number> {
  const r = await q.query<{ last_number: number }>(
    `INSERT INTO declaration_receipt_counters (year, last_number) VALUES ($1, 1)
     ON CONFLICT (year) DO UPDATE SET last_number = declaration_receipt_counters.last_number + 1
     RETURNING last_number`,
    [year],
  );
  return r.rows[0].last_number;
}

export async function setReceiptNo(q: Queryable, id: string, receiptNo: string): Promise<void> {
  await q.query('UPDATE declarations SET receipt_no = $2 WHERE id = $1', [id, receiptNo]);
}

export async function listByDeclarant(q: Queryable, staffId: string, limit = 20): Promise<Declaration[]> {
  const r = await q.query<Row>(`SELECT ${COLUMNS} FROM ${FROM} WHERE d.declarant_id = $1 AND d.state <> 'cancelled' ORDER BY d.id DESC LIMIT $2`, [staffId, limit]);
  return r.rows.map(toDeclaration);
}

/** Everything submitted (drafts and cancelled drafts are nobody's business but the author's). */
export async function listSubmitted(q: Queryable, opts: { limit?: number } = {}): Promise<Declaration[]> {
  const r = await q.query<Row>(
    `SELECT ${COLUMNS} FROM ${FROM} WHERE d.state NOT IN ('draft', 'cancelled') ORDER BY d.id DESC LIMIT $1`,
    [opts.limit ?? 100_000],
  );
  return r.rows.map(toDeclaration);
}

/** Whether a rejected declaration already has an amendment that is not cancelled. */
export async function hasLiveAmendment(q: Queryable, id: string): Promise<boolean> {
  const r = await q.query(`SELECT 1 FROM declarations WHERE previous_id = $1 AND state <> 'cancelled' LIMIT 1`, [id]);
  return r.rows.length > 0;
}

/**
 * The live (not cancelled) amendment of each of these declarations, keyed by the one it amends;
 * the database allows at most one per declaration.
 */
export async function amendmentsOf(q: Queryable, ids: string[]): Promise<Map<string, Resubmission>> {
  const out = new Map<string, Resubmission>();
  if (ids.length === 0) return out;
  const r = await q.query<{ previous_id: string; id: string; state: State }>(
    `SELECT previous_id::text, id::text, state FROM declarations WHERE previous_id = ANY($1::bigint[]) AND state <> 'cancelled'`,
    [ids],
  );
  for (const x of r.rows) out.set(x.previous_id, { id: x.id, state: x.state });
  return out;
}

/**
 * One declarant's declarations by state, each resubmission chain once, by its latest version:
 * a rejected one amended since counts as whatever its amendment is now. Cancelled drafts are
 * left out, and so the rejected one they amended counts as rejected again.
 */
export async function latestStateCounts(q: Queryable, declarantId: string): Promise<{ state: State; n: number }[]> {
  const r = await q.query<{ state: State; n: number }>(
    `SELECT d.state, count(*)::int AS n FROM declarations d
      WHERE d.declarant_id = $1 AND d.state <> 'cancelled'
        AND NOT EXISTS (SELECT 1 FROM declarations a WHERE a.previous_id = d.id AND a.state <> 'cancelled')
      GROUP BY d.state ORDER BY d.state`,
    [declarantId],
  );
  return r.rows;
}

export async function listPending(q: Queryable): Promise<Declaration[]> {
  const r = await q.query<Row>(`SELECT ${COLUMNS} FROM ${FROM} WHERE d.state LIKE 'pending\\_%' ORDER BY d.id`);
  return r.rows.map(toDeclaration);
}

/**
 * Drafts begun in [from, before) whose author has not had the draft reminder: that reminder is
 * its own follow-up campaign (decl.<id>.draft-remind), so its row is what says it was sent.
 */
export async function draftsToRemind(q: Queryable, from: Date, before: Date): Promise<Declaration[]> {
  const r = await q.query<Row>(
    `SELECT ${COLUMNS} FROM ${FROM}
     WHERE d.state = 'draft' AND d.created_at >= $1 AND d.created_at < $2
       AND NOT EXISTS (SELECT 1 FROM campaigns c WHERE c.key = 'decl.' || d.id::text || '.draft-remind')
     ORDER BY d.id`,
    [from, before],
  );
  return r.rows.map(toDeclaration);
}

/** Claims the reminder (or escalation) of a step once, even with two schedulers running. */
export async function claimDeadline(q: Queryable, id: string, version: number, which: 'reminded_at' | 'escalated_at', now: Date): Promise<boolean> {
  const r = await q.query(`UPDATE declarations SET ${which} = $3 WHERE id = $1 AND version = $2 AND ${which} IS NULL`, [id, version, now]);
  return r.rowCount === 1;
}

/** Counts and amounts by month received and department: no names, by construction. */
export async function monthlyTotals(q: Queryable): Promise<MonthlyTotal[]> {
  const r = await q.query<{ month: string; department: string; registered: number; registered_amount: string; pending: number }>(
    `SELECT to_char(d.received_on, 'YYYY-MM') AS month, dep.name AS department,
            count(*) FILTER (WHERE d.state = 'registered')::int AS registered,
            COALESCE(sum(d.amount) FILTER (WHERE d.state = 'registered'), 0)::text AS registered_amount,
            count(*) FILTER (WHERE d.state LIKE 'pending\\_%')::int AS pending
       FROM declarations d JOIN departments dep ON dep.id = d.department_id
      WHERE d.state IN ('registered', 'pending_dept', 'pending_discipline', 'pending_finance')
      GROUP BY 1, 2 ORDER BY 1 DESC, 2`,
  );
  return r.rows.map((x) => ({ month: x.month, department: x.department, registered: x.registered, registeredAmount: x.registered_amount, pending: x.pending }));
}

/**
 * Declarations registered in [start, end) by department, whatever month they were received
 * in: a gift received last month and registered today counts here, not in its received month.
 */
export async function registeredBetween(q: Queryable, start: Date, end: Date): Promise<{ departmentId: number; registered: number }[]> {
  const r = await q.query<{ department_id: number; registered: number }>(
    `SELECT department_id, count(*)::int AS registered FROM declarations
      WHERE state = 'registered' AND registered_at >= $1 AND registered_at < $2
      GROUP BY department_id`,
    [start, end],
  );
  return r.rows.map((x) => ({ departmentId: x.department_id, registered: x.registered }));
}

/**
 * The histories of many declarations in one statement, each in the order it happened (see
 * auditTrail), with the actor's name joined in: an export reads thousands of declarations
 * without a query per declaration or per actor.
 */
export async function trailsOf(q: Queryable, ids: string[]): Promise<Map<string, TrailEntry[]>> {
  const out = new Map<string, TrailEntry[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return out;
  const r = await q.query<{ entity_id: string; at: Date; actor: string | null; actor_name: string | null; action: string; from_state: string | null; to_state: string | null; reason: string | null }>(
    `SELECT a.entity_id, a.at, a.actor, CASE WHEN a.actor = 'system' THEN '系统' ELSE COALESCE(s.name, a.actor) END AS actor_name,
            a.action, a.from_state, a.to_state, a.reason
       FROM audit_log a LEFT JOIN staff s ON s.staff_id = a.actor
      WHERE a.entity_type = 'declaration' AND a.entity_id = ANY($1::text[])
      ORDER BY a.at, a.seq`,
    [ids],
  );
  for (const x of r.rows) {
    out.get(x.entity_id)?.push({ declarationId: x.entity_id, at: x.at, actor: x.actor, actorName: x.actor_name ?? '', action: x.action, fromState: x.from_state, toState: x.to_state, reason: x.reason });
  }
  return out;
}

// ---- approval cards ---------------------------------------------------------------------

export interface ApprovalCard {
  declarationId: string;
  state: State;
  version: number;
  staffId: string;
  platform: string;
  messageId: string;
}

export async function recordCard(q: Queryable, c: ApprovalCard): Promise<void> {
  await q.query(
    `INSERT INTO declaration_cards (declaration_id, state, version, staff_id, platform, message_id) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (declaration_id, version, staff_id) DO UPDATE SET platform = EXCLUDED.platform, message_id = EXCLUDED.message_id`,
    [c.declarationId, c.state, c.version, c.staffId, c.platform, c.messageId],
  );
}

export async function cardsFor(q: Queryable, declarationId: string, version: number): Promise<ApprovalCard[]> {
  const r = await q.query<{ state: State; version: number; staff_id: string; platform: string; message_id: string }>(
    'SELECT state, version, staff_id, platform, message_id FROM declaration_cards WHERE declaration_id = $1 AND version = $2 ORDER BY id',
    [declarationId, version],
  );
  return r.rows.map((x) => ({ declarationId, state: x.state, version: x.version, staffId: x.staff_id, platform: x.platform, messageId: x.message_id }));
}

/**
 * Everyone named as an approver when one of the declaration's steps began, and whoever decided
 * a step; undefined when no step recorded its approvers (steps begun before they were recorded).
 */
export async function recordedApprovers(q: Queryable, declarationId: string): Promise<string[] | undefined> {
  const r = await q.query<{ approvers: string[] | string | null; decider: string | null }>(
    `SELECT detail->'approvers' AS approvers,
            CASE WHEN action IN ('declaration.approve', 'declaration.register', 'declaration.reject') THEN actor END AS decider
       FROM audit_log
      WHERE entity_type = 'declaration' AND entity_id = $1
        AND (detail ? 'approvers' OR action IN ('declaration.approve', 'declaration.register', 'declaration.reject'))`,
    [declarationId],
  );
  if (!r.rows.some((x) => x.approvers !== null)) return undefined;
  // pg parses jsonb; be tolerant of a driver that hands back the text.
  const named = r.rows.flatMap((x) => (x.approvers === null ? [] : typeof x.approvers === 'string' ? (JSON.parse(x.approvers) as string[]) : x.approvers));
  return [...named, ...r.rows.flatMap((x) => (x.decider ? [x.decider] : []))];
}

/** Whether this staff member was ever sent an approval card for the declaration (its approvers may see it). */
export async function wasApprover(q: Queryable, declarationId: string, staffId: string): Promise<boolean> {
  const r = await q.query('SELECT 1 FROM declaration_cards WHERE declaration_id = $1 AND staff_id = $2 LIMIT 1', [declarationId, staffId]);
  return r.rows.length > 0;
}
