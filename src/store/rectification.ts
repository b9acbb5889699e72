import type { CampaignSpec } from '../domain/rectification/campaign-file.js';
import type { EvidenceFile, LedgerFigures, Problem, ProblemSource, ProblemState } from '../domain/rectification/ledger.js';
import type { Queryable } from './db.js';

/** SQL for 自查自纠 campaigns, their rounds and reports, and the 问题清单 ledger. */

// ---- campaigns and rounds -----------------------------------------------------------------

export interface CampaignRow {
  id: string;
  title: string;
  spec: CampaignSpec;
  active: boolean;
}

export interface RoundRow {
  campaignId: string;
  round: number;
  startsOn: string;
  dueOn: string;
  openedAt: Date | null;
}

const json = <T>(v: T | string): T => (typeof v === 'string' ? (JSON.parse(v) as T) : v);

/** Imports (or re-imports) a campaign; rounds already opened keep their dates. Returns whether it was new. */
export async function saveCampaign(q: Queryable, spec: CampaignSpec, rounds: { round: number; startsOn: string; dueOn: string }[], actor: string): Promise<boolean> {
  const r = await q.query<{ created: boolean }>(
    `INSERT INTO rectification_campaigns (id, title, spec, imported_by) VALUES ($1, $2, $3::jsonb, $4)
     ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title, spec = EXCLUDED.spec, imported_by = EXCLUDED.imported_by, imported_at = now(), active = true
     RETURNING (xmax = 0) AS created`,
    [spec.id, spec.title, JSON.stringify(spec), actor],
  );
  for (const x of rounds) {
    await q.query(
      `INSERT INTO rectification_rounds (campaign_id, round, starts_on, due_on) VALUES ($1, $2, $3, $4)
       ON CONFLICT (campaign_id, round) DO UPDATE SET starts_on = EXCLUDED.starts_on, due_on = EXCLUDED.due_on
       WHERE rectification_rounds.opened_at IS NULL`,
      [spec.id, x.round, x.startsOn, x.dueOn],
    );
  }
  // Rounds beyond a shortened repeat that never opened go away with it.
  await q.query(`DELETE FROM rectification_rounds WHERE campaign_id = $1 AND round > $2 AND opened_at IS NULL`, [spec.id, rounds.length]);
  return r.rows[0].created;
}

export async function getCampaign(q: Queryable, id: string): Promise<CampaignRow | undefined> {
  const r = await q.query<{ id: string; title: string; spec: CampaignSpec | string; active: boolean }>('SELECT id, title, spec, active FROM rectification_campaigns WHERE id = $1', [id]);
  return r.rows[0] ? { ...r.rows[0], spec: json(r.rows[0].spec) } : undefined;
}

export async function listCampaigns(q: Queryable): Promise<CampaignRow[]> {
  const r = await q.query<{ id: string; title: string; spec: CampaignSpec | string; active: boolean }>('SELECT id, title, spec, active FROM rectification_campaigns ORDER BY imported_at DESC, id');
  return r.rows.map((x) => ({ ...x, spec: json(x.spec) }));
}

const ROUND_COLUMNS = `campaign_id AS "campaignId", round, starts_on::text AS "startsOn", due_on::text AS "dueOn", opened_at AS "openedAt"`;

export async function listRounds(q: Queryable, campaignId?: string): Promise<RoundRow[]> {
  const r = await q.query<RoundRow>(
    `SELECT ${ROUND_COLUMNS} FROM rectification_rounds r WHERE ($1::text IS NULL OR campaign_id = $1)
       AND EXISTS (SELECT 1 FROM rectification_campaigns c WHERE c.id = r.campaign_id AND c.active)
     ORDER BY campaign_id, round`,
    [campaignId ?? null],
  );
  return r.rows;
}

export async function getRound(q: Queryable, campaignId: string, round: number): Promise<RoundRow | undefined> {
  const r = await q.query<RoundRow>(`SELECT ${ROUND_COLUMNS} FROM rectification_rounds WHERE campaign_id = $1 AND round = $2`, [campaignId, round]);
  return r.rows[0];
}

/** Rounds whose start has come and that nobody opened yet. */
export async function dueRounds(q: Queryable, today: string): Promise<RoundRow[]> {
  const r = await q.query<RoundRow>(
    `SELECT ${ROUND_COLUMNS} FROM rectification_rounds r
      WHERE r.opened_at IS NULL AND r.starts_on <= $1::date
        AND EXISTS (SELECT 1 FROM rectification_campaigns c WHERE c.id = r.campaign_id AND c.active)
      ORDER BY campaign_id, round`,
    [today],
  );
  return r.rows;
}

/** Claims the opening of a round once, even with two schedulers (or an administrator) at once. */
export async function claimRound(q: Queryable, campaignId: string, round: number, now: Date): Promise<boolean> {
  const r = await q.query('UPDATE rectification_rounds SET opened_at = $3 WHERE campaign_id = $1 AND round = $2 AND opened_at IS NULL', [campaignId, round, now]);
  return r.rowCount === 1;
}

// ---- department reports -------------------------------------------------------------------

export interface ReportAnswer {
  item: string;
  found: boolean;
  description?: string;
}

export interface ReportRow {
  campaignId: string;
  round: number;
  departmentId: number;
  submittedBy: string;
  submittedByName: string;
  submittedAt: Date;
  answers: ReportAnswer[];
}

/** The first report of a department for a round wins; returns false when one was there already. */
export async function insertReport(q: Queryable, r: { campaignId: string; round: number; departmentId: number; submittedBy: string; answers: ReportAnswer[]; now: Date }): Promise<boolean> {
  const x = await q.query(
    `INSERT INTO rectification_reports (campaign_id, round, department_id, submitted_by, submitted_at, answers) VALUES ($1, $2, $3, $4, $5, $6::jsonb)
     ON CONFLICT DO NOTHING`,
    [r.campaignId, r.round, r.departmentId, r.submittedBy, r.now, JSON.stringify(r.answers)],
  );
  return x.rowCount === 1;
}

export async function getReport(q: Queryable, campaignId: string, round: number, departmentId: number): Promise<ReportRow | undefined> {
  const r = await q.query<Omit<ReportRow, 'answers'> & { answers: ReportAnswer[] | string }>(
    `SELECT r.campaign_id AS "campaignId", r.round, r.department_id AS "departmentId", r.submitted_by AS "submittedBy", s.name AS "submittedByName",
            r.submitted_at AS "submittedAt", r.answers
       FROM rectification_reports r JOIN staff s ON s.staff_id = r.submitted_by
      WHERE r.campaign_id = $1 AND r.round = $2 AND r.department_id = $3`,
    [campaignId, round, departmentId],
  );
  return r.rows[0] ? { ...r.rows[0], answers: json(r.rows[0].answers) } : undefined;
}

export async function reportedDepartments(q: Queryable, campaignId: string, round: number): Promise<Set<number>> {
  const r = await q.query<{ department_id: number }>('SELECT department_id FROM rectification_reports WHERE campaign_id = $1 AND round = $2', [campaignId, round]);
  return new Set(r.rows.map((x) => x.department_id));
}

// ---- the ledger ----------------------------------------------------------------------------

interface ProblemRowDb {
  id: string;
  department_id: number | null;
  department: string | null;
  campaign_id: string | null;
  round: number | null;
  item_id: string | null;
  source: ProblemSource;
  description: string;
  owner_id: string;
  owner_name: string;
  confirm_department_id: number | null;
  confirm_department: string | null;
  measure: string | null;
  deadline: string;
  evidence: string | null;
  evidence_files: EvidenceFile[] | string;
  state: ProblemState;
  merged_into: string | null;
  version: number;
  last_reason: string | null;
  created_at: Date;
  applied_at: Date | null;
  closed_at: Date | null;
  reminded_at: Date | null;
  escalated_at: Date | null;
}

const PROBLEM_COLUMNS = `p.id::text, p.department_id, d.name AS department, p.campaign_id, p.round, p.item_id, p.source, p.description, p.owner_id,
  o.name AS owner_name, p.confirm_department_id, cd.name AS confirm_department, p.measure, p.deadline::text AS deadline, p.evidence, p.evidence_files,
  p.state, p.merged_into::text, p.version, p.last_reason, p.created_at, p.applied_at, p.closed_at, p.reminded_at, p.escalated_at`;
const PROBLEM_FROM = `rectification_problems p JOIN staff o ON o.staff_id = p.owner_id
  LEFT JOIN departments d ON d.id = p.department_id LEFT JOIN departments cd ON cd.id = p.confirm_department_id`;

const toProblem = (r: ProblemRowDb): Problem => ({
  id: r.id,
  departmentId: r.department_id,
  department: r.department,
  campaignId: r.campaign_id,
  round: r.round,
  itemId: r.item_id,
  source: r.source,
  description: r.description,
  ownerId: r.owner_id,
  ownerName: r.owner_name,
  confirmDepartmentId: r.confirm_department_id,
  confirmDepartment: r.confirm_department,
  measure: r.measure,
  deadline: r.deadline,
  evidence: r.evidence,
  evidenceFiles: json(r.evidence_files) ?? [],
  state: r.state,
  mergedInto: r.merged_into,
  version: r.version,
  lastReason: r.last_reason,
  createdAt: r.created_at,
  appliedAt: r.applied_at,
  closedAt: r.closed_at,
  remindedAt: r.reminded_at,
  escalatedAt: r.escalated_at,
});

export interface ProblemInsert {
  departmentId: number | null;
  campaignId?: string;
  round?: number;
  itemId?: string;
  source: ProblemSource;
  description: string;
  ownerId: string;
  confirmDepartmentId?: number | null;
  deadline: string;
  createdBy: string;
}

export async function insertProblem(q: Queryable, p: ProblemInsert): Promise<string> {
  const r = await q.query<{ id: string }>(
    `INSERT INTO rectification_problems (department_id, campaign_id, round, item_id, source, description, owner_id, confirm_department_id, deadline, state, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', $10) RETURNING id::text`,
    [p.departmentId, p.campaignId ?? null, p.round ?? null, p.itemId ?? null, p.source, p.description, p.ownerId, p.confirmDepartmentId ?? null, p.deadline, p.createdBy],
  );
  return r.rows[0].id;
}

export async function getProblem(q: Queryable, id: string): Promise<Problem | undefined> {
  if (!/^\d{1,18}$/.test(id)) return undefined;
  const r = await q.query<ProblemRowDb>(`SELECT ${PROBLEM_COLUMNS} FROM ${PROBLEM_FROM} WHERE p.id = $1`, [id]);
  return r.rows[0] ? toProblem(r.rows[0]) : undefined;
}

export async function listProblems(q: Queryable, f: { departmentId?: number; ownerId?: string; states?: ProblemState[]; mergedInto?: string; limit?: number } = {}): Promise<Problem[]> {
  const r = await q.query<ProblemRowDb>(
    `SELECT ${PROBLEM_COLUMNS} FROM ${PROBLEM_FROM}
      WHERE ($1::int IS NULL OR p.department_id = $1) AND ($2::text IS NULL OR p.owner_id = $2)
        AND ($3::text[] IS NULL OR p.state = ANY($3::text[])) AND ($4::bigint IS NULL OR p.merged_into = $4)
      ORDER BY p.id LIMIT $5`,
    [f.departmentId ?? null, f.ownerId ?? null, f.states ?? null, f.mergedInto ?? null, f.limit ?? 100_000],
  );
  return r.rows.map(toProblem);
}

/**
 * The one guarded statement behind every move: nothing changes unless the row is still in
 * `from` at `version`, so of two concurrent decisions exactly one takes effect.
 */
export async function moveProblem(
  q: Queryable,
  id: string,
  from: ProblemState,
  version: number,
  to: ProblemState,
  set: { now: Date; measure?: string; deadline?: string; evidence?: string; evidenceFiles?: EvidenceFile[]; reason?: string; mergedInto?: string },
): Promise<boolean> {
  const r = await q.query(
    `UPDATE rectification_problems
        SET state = $4, version = version + 1,
            measure = COALESCE($5, measure),
            deadline = COALESCE($6::date, deadline),
            evidence = COALESCE($7, evidence),
            evidence_files = COALESCE($8::jsonb, evidence_files),
            last_reason = CASE WHEN $9::text IS NOT NULL THEN $9 ELSE last_reason END,
            merged_into = COALESCE($10::bigint, merged_into),
            applied_at = CASE WHEN $4 = 'applied' THEN $11 ELSE applied_at END,
            closed_at = CASE WHEN $4 = 'closed' THEN $11 ELSE closed_at END,
            -- A new deadline is a new chance: its reminder and escalation are owed afresh.
            reminded_at = CASE WHEN $6::date IS NOT NULL AND $6::date <> deadline THEN NULL ELSE reminded_at END,
            escalated_at = CASE WHEN $6::date IS NOT NULL AND $6::date <> deadline THEN NULL ELSE escalated_at END
      WHERE id = $1 AND state = $2 AND version = $3`,
    [id, from, version, to, set.measure ?? null, set.deadline ?? null, set.evidence ?? null, set.evidenceFiles ? JSON.stringify(set.evidenceFiles) : null, set.reason ?? null, set.mergedInto ?? null, set.now],
  );
  return r.rowCount === 1;
}

/**
 * Adds evidence to a row being rectified, never beyond `max` files: the guard is in the
 * statement, so two messages arriving together cannot both slip past it. The version stays,
 * so the owner's card (and its 申请销号 form) remains current. Returns the new count.
 */
export async function appendEvidenceFiles(q: Queryable, id: string, files: EvidenceFile[], max: number): Promise<number | undefined> {
  const r = await q.query<{ n: number }>(
    `UPDATE rectification_problems SET evidence_files = evidence_files || $2::jsonb
      WHERE id = $1 AND state = 'in_progress' AND jsonb_array_length(evidence_files) + $3 <= $4
      RETURNING jsonb_array_length(evidence_files)::int AS n`,
    [id, JSON.stringify(files), files.length, max],
  );
  return r.rows[0]?.n;
}

/** Rows still to be rectified whose deadline has passed. */
export async function overdueProblems(q: Queryable, today: string): Promise<Problem[]> {
  const r = await q.query<ProblemRowDb>(`SELECT ${PROBLEM_COLUMNS} FROM ${PROBLEM_FROM} WHERE p.state IN ('pending', 'in_progress') AND p.deadline < $1::date ORDER BY p.id`, [today]);
  return r.rows.map(toProblem);
}

/** Claims a row's overdue reminder (or escalation) once: a rerun or a second scheduler gets false. */
export async function claimOverdue(q: Queryable, id: string, version: number, which: 'reminded_at' | 'escalated_at', now: Date): Promise<boolean> {
  const r = await q.query(`UPDATE rectification_problems SET ${which} = $3 WHERE id = $1 AND version = $2 AND ${which} IS NULL AND state IN ('pending', 'in_progress')`, [id, version, now]);
  return r.rowCount === 1;
}

/**
 * Found / closed / overdue by department, self-found against inspected. A row merged into an
 * institutional item counts for the department that found it, in the item's state and by the
 * item's deadline; the item itself is not counted again.
 */
export async function ledgerByDepartment(q: Queryable, today: string, departmentId?: number): Promise<(LedgerFigures & { departmentId: number; department: string })[]> {
  const r = await q.query<LedgerFigures & { departmentId: number; department: string }>(
    `WITH rows AS (
       SELECT p.department_id, p.source, COALESCE(m.state, p.state) AS state, COALESCE(m.deadline, p.deadline) AS deadline
         FROM rectification_problems p LEFT JOIN rectification_problems m ON m.id = p.merged_into
        WHERE p.department_id IS NOT NULL AND ($2::int IS NULL OR p.department_id = $2)
     )
     SELECT x.department_id AS "departmentId", d.name AS department,
            count(*)::int AS found,
            count(*) FILTER (WHERE x.state = 'closed')::int AS closed,
            count(*) FILTER (WHERE x.state = 'applied')::int AS applied,
            count(*) FILTER (WHERE x.state IN ('pending', 'in_progress') AND x.deadline < $1::date)::int AS overdue,
            count(*) FILTER (WHERE x.source = 'self')::int AS "selfFound",
            count(*) FILTER (WHERE x.source = 'inspection')::int AS inspected
       FROM rows x JOIN departments d ON d.id = x.department_id
      GROUP BY x.department_id, d.name
      ORDER BY d.name`,
    [today, departmentId ?? null],
  );
  return r.rows;
}
