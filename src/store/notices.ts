import type { Role } from '../domain/roles.js';
import type { QuestionVersion } from '../domain/quiz/question.js';
import { appendAudit } from './audit.js';
import type { Db, Queryable } from './db.js';
import { readFiles, saveFile, type StoredFile } from './files.js';
import { currentQuestions } from './quiz.js';
import { listActiveStaff, listDepartments, type Staff } from './staff.js';

/**
 * 通报 and their read receipts (migration 013): the feature's one way to the database. The
 * lower functions take a transaction; the operations below them (compose, publish, discard,
 * read) each run one, with their audit row in it.
 */

export type NoticeState = 'draft' | 'published' | 'discarded';
export type NoticeKind = 'general' | 'warning';

export interface NoticeAudience {
  departments?: string[];
  roles?: Role[];
}

export interface Notice {
  id: string;
  state: NoticeState;
  kind: NoticeKind;
  rule: number | null;
  title: string;
  body: string;
  fileId: string | null;
  audience: NoticeAudience;
  createdBy: string;
  createdAt: Date;
  publishedAt: Date | null;
  remindAfterHours: number | null;
  pushedAt: Date | null;
  remindedAt: Date | null;
}

interface Row {
  id: string;
  state: NoticeState;
  kind: NoticeKind;
  rule: number | null;
  title: string;
  body: string;
  file_id: string | null;
  audience: NoticeAudience;
  created_by: string;
  created_at: Date;
  published_at: Date | null;
  remind_after_hours: number | null;
  pushed_at: Date | null;
  reminded_at: Date | null;
}

const columns = (a: string): string =>
  `${a}.id::text AS id, ${a}.state, ${a}.kind, ${a}.rule, ${a}.title, ${a}.body, ${a}.file_id::text AS file_id, ${a}.audience, ${a}.created_by, ${a}.created_at, ${a}.published_at, ${a}.remind_after_hours, ${a}.pushed_at, ${a}.reminded_at`;

const toNotice = (r: Row): Notice => ({
  id: r.id,
  state: r.state,
  kind: r.kind,
  rule: r.rule === null ? null : Number(r.rule),
  title: r.title,
  body: r.body,
  fileId: r.file_id,
  audience: r.audience ?? {},
  createdBy: r.created_by,
  createdAt: r.created_at,
  publishedAt: r.published_at,
  remindAfterHours: r.remind_after_hours,
  pushedAt: r.pushed_at,
  remindedAt: r.reminded_at,
});

export interface NewNotice {
  kind: NoticeKind;
  rule: number | null;
  title: string;
  body: string;
  fileId: string | null;
  audience: NoticeAudience;
  createdBy: string;
  at: Date;
}

export async function insertDraft(tx: Queryable, n: NewNotice): Promise<string> {
  const r = await tx.query<{ id: string }>(
    `INSERT INTO notices (kind, rule, title, body, file_id, audience, created_by, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id::text`,
    [n.kind, n.rule, n.title, n.body, n.fileId, JSON.stringify(n.audience), n.createdBy, n.at],
  );
  return r.rows[0].id;
}

export async function getNotice(q: Queryable, id: string): Promise<Notice | undefined> {
  const r = await q.query<Row>(`SELECT ${columns('n')} FROM notices n WHERE n.id = $1`, [id]);
  return r.rows[0] ? toNotice(r.rows[0]) : undefined;
}

/**
 * draft → published by its author, fixing the recipients. False when the draft is no longer a
 * draft of this author (published by a second click, discarded, or someone else's).
 */
export async function publishDraft(
  tx: Queryable,
  p: { id: string; authorId: string; at: Date; remindAfterHours: number; recipients: { staffId: string; departmentId: number }[] },
): Promise<boolean> {
  const r = await tx.query(
    `UPDATE notices SET state = 'published', published_at = $3, remind_after_hours = $4
     WHERE id = $1 AND created_by = $2 AND state = 'draft'`,
    [p.id, p.authorId, p.at, p.remindAfterHours],
  );
  if (r.rowCount !== 1) return false;
  for (let i = 0; i < p.recipients.length; i += 5000) {
    const chunk = p.recipients.slice(i, i + 5000);
    await tx.query(
      `INSERT INTO notice_recipients (notice_id, staff_id, department_id)
       SELECT $1::bigint, s, d FROM unnest($2::text[], $3::int[]) AS x(s, d) ON CONFLICT DO NOTHING`,
      [p.id, chunk.map((x) => x.staffId), chunk.map((x) => x.departmentId)],
    );
  }
  return true;
}

export async function discardDraft(tx: Queryable, id: string, authorId: string): Promise<boolean> {
  const r = await tx.query(`UPDATE notices SET state = 'discarded' WHERE id = $1 AND created_by = $2 AND state = 'draft'`, [id, authorId]);
  return r.rowCount === 1;
}

export async function markPushed(q: Queryable, id: string, at: Date): Promise<void> {
  await q.query('UPDATE notices SET pushed_at = $2 WHERE id = $1 AND pushed_at IS NULL', [id, at]);
}

/** Published notices whose push was not (yet) fully queued: a crash after the publish commit. */
export async function unpushedIds(q: Queryable): Promise<string[]> {
  const r = await q.query<{ id: string }>(`SELECT id::text FROM notices WHERE state = 'published' AND pushed_at IS NULL ORDER BY id LIMIT 100`);
  return r.rows.map((x) => x.id);
}

export async function recipientIds(q: Queryable, id: string, opts: { unreadOnly?: boolean } = {}): Promise<string[]> {
  const r = await q.query<{ staff_id: string }>(
    `SELECT staff_id FROM notice_recipients WHERE notice_id = $1 AND ($2::boolean IS NOT TRUE OR read_at IS NULL) ORDER BY staff_id`,
    [id, opts.unreadOnly ?? false],
  );
  return r.rows.map((x) => x.staff_id);
}

export type ReadOutcome = { kind: 'read'; at: Date } | { kind: 'already'; at: Date } | { kind: 'not_recipient' };

/** The reader's own receipt, and only theirs: the statement is keyed by who is acting. */
export async function markRead(tx: Queryable, id: string, staffId: string, via: 'card' | 'message', at: Date): Promise<ReadOutcome> {
  const r = await tx.query<{ read_at: Date }>(
    `UPDATE notice_recipients SET read_at = $3, read_via = $4
     WHERE notice_id = $1 AND staff_id = $2 AND read_at IS NULL RETURNING read_at`,
    [id, staffId, at, via],
  );
  if (r.rows[0]) return { kind: 'read', at: r.rows[0].read_at };
  const before = await receiptOf(tx, id, staffId);
  return before?.readAt ? { kind: 'already', at: before.readAt } : { kind: 'not_recipient' };
}

export async function receiptOf(q: Queryable, id: string, staffId: string): Promise<{ readAt: Date | null } | undefined> {
  const r = await q.query<{ read_at: Date | null }>('SELECT read_at FROM notice_recipients WHERE notice_id = $1 AND staff_id = $2', [id, staffId]);
  return r.rows[0] ? { readAt: r.rows[0].read_at } : undefined;
}

export interface OwnNotice {
  notice: Notice;
  readAt: Date | null;
}

/** The notices sent to one person, most recent first, with their own read state. */
export async function noticesFor(q: Queryable, staffId: string, opts: { unreadOnly?: boolean; limit?: number } = {}): Promise<OwnNotice[]> {
  const r = await q.query<Row & { read_at: Date | null }>(
    `SELECT ${columns('n')}, x.read_at
       FROM notice_recipients x JOIN notices n ON n.id = x.notice_id
      WHERE x.staff_id = $1 AND n.state = 'published' AND ($2::boolean IS NOT TRUE OR x.read_at IS NULL)
      ORDER BY n.published_at DESC, n.id DESC LIMIT $3`,
    [staffId, opts.unreadOnly ?? false, opts.limit ?? 20],
  );
  return r.rows.map((x) => ({ notice: toNotice(x), readAt: x.read_at }));
}

/** Notices whose reminder is due at `now` and not claimed by a live sweep. */
export async function dueReminderIds(q: Queryable, now: Date, leaseMs: number): Promise<string[]> {
  const r = await q.query<{ id: string }>(
    `SELECT id::text FROM notices
      WHERE state = 'published' AND pushed_at IS NOT NULL AND reminded_at IS NULL
        AND published_at + remind_after_hours * interval '1 hour' <= $1
        AND (remind_claimed_at IS NULL OR remind_claimed_at <= $1::timestamptz - $2::int * interval '1 millisecond')
      ORDER BY id LIMIT 100`,
    [now, leaseMs],
  );
  return r.rows.map((x) => x.id);
}

/** The once-only claim: true for exactly one caller until the lease runs out (a crashed sweep). */
export async function claimReminder(q: Queryable, id: string, now: Date, leaseMs: number): Promise<boolean> {
  const r = await q.query(
    `UPDATE notices SET remind_claimed_at = $2
      WHERE id = $1 AND reminded_at IS NULL
        AND (remind_claimed_at IS NULL OR remind_claimed_at <= $2::timestamptz - $3::int * interval '1 millisecond')`,
    [id, now, leaseMs],
  );
  return r.rowCount === 1;
}

export async function markReminded(q: Queryable, id: string, at: Date): Promise<void> {
  await q.query('UPDATE notices SET reminded_at = $2 WHERE id = $1 AND reminded_at IS NULL', [id, at]);
}

// ---- figures ----------------------------------------------------------------------------

export interface NoticeRate {
  id: string;
  title: string;
  kind: NoticeKind;
  publishedAt: Date;
  total: number;
  read: number;
}

/** Read rates of published notices in [start, end), most recent first, optionally one department's recipients. */
export async function noticeRates(q: Queryable, range: { start: Date; end: Date }, departmentId?: number): Promise<NoticeRate[]> {
  const r = await q.query<{ id: string; title: string; kind: NoticeKind; published_at: Date; total: number; read: number }>(
    `SELECT n.id::text, n.title, n.kind, n.published_at, count(x.staff_id)::int AS total, count(x.read_at)::int AS read
       FROM notices n JOIN notice_recipients x ON x.notice_id = n.id AND ($3::int IS NULL OR x.department_id = $3)
      WHERE n.state = 'published' AND n.published_at >= $1 AND n.published_at < $2
      GROUP BY n.id ORDER BY n.published_at DESC, n.id DESC`,
    [range.start, range.end, departmentId ?? null],
  );
  return r.rows.map((x) => ({ id: x.id, title: x.title, kind: x.kind, publishedAt: x.published_at, total: x.total, read: x.read }));
}

export interface DepartmentReads {
  departmentId: number;
  department: string;
  total: number;
  read: number;
}

export async function readsByDepartment(q: Queryable, id: string, departmentId?: number): Promise<DepartmentReads[]> {
  const r = await q.query<{ id: number; name: string; total: number; read: number }>(
    `SELECT d.id, d.name, count(*)::int AS total, count(x.read_at)::int AS read
       FROM notice_recipients x JOIN departments d ON d.id = x.department_id
      WHERE x.notice_id = $1 AND ($2::int IS NULL OR x.department_id = $2)
      GROUP BY d.id, d.name ORDER BY d.id`,
    [id, departmentId ?? null],
  );
  return r.rows.map((x) => ({ departmentId: x.id, department: x.name, total: x.total, read: x.read }));
}

export interface Receipt {
  staffId: string;
  name: string;
  department: string;
  readAt: Date | null;
  via: 'card' | 'message' | null;
}

/** Per-person receipts: for the discipline office only (the handler decides). Unread first. */
export async function receipts(q: Queryable, id: string): Promise<Receipt[]> {
  const r = await q.query<{ staff_id: string; name: string; department: string; read_at: Date | null; read_via: 'card' | 'message' | null }>(
    `SELECT x.staff_id, s.name, d.name AS department, x.read_at, x.read_via
       FROM notice_recipients x JOIN staff s ON s.staff_id = x.staff_id JOIN departments d ON d.id = x.department_id
      WHERE x.notice_id = $1 ORDER BY (x.read_at IS NOT NULL), d.id, x.staff_id`,
    [id],
  );
  return r.rows.map((x) => ({ staffId: x.staff_id, name: x.name, department: x.department, readAt: x.read_at, via: x.read_via }));
}

// ---- operations (one transaction each, audited) ---------------------------------------

export async function composeDraft(db: Db, n: NewNotice): Promise<string> {
  return db.transaction(async (tx) => {
    const id = await insertDraft(tx, n);
    await appendAudit(tx, { actor: n.createdBy, action: 'notice.draft', entityType: 'notice', entityId: id, toState: 'draft', detail: { kind: n.kind, rule: n.rule, audience: n.audience } });
    return id;
  });
}

export async function publishNotice(db: Db, p: Parameters<typeof publishDraft>[1]): Promise<boolean> {
  return db.transaction(async (tx) => {
    if (!(await publishDraft(tx, p))) return false;
    await appendAudit(tx, { actor: p.authorId, action: 'notice.publish', entityType: 'notice', entityId: p.id, fromState: 'draft', toState: 'published', detail: { recipients: p.recipients.length } });
    return true;
  });
}

export async function discardNotice(db: Db, id: string, authorId: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    if (!(await discardDraft(tx, id, authorId))) return false;
    await appendAudit(tx, { actor: authorId, action: 'notice.discard', entityType: 'notice', entityId: id, fromState: 'draft', toState: 'discarded' });
    return true;
  });
}

/** 已阅: the receipt and its audit row together; a repeat or a non-recipient changes nothing. */
export async function confirmRead(db: Db, id: string, staffId: string, via: 'card' | 'message', at: Date): Promise<ReadOutcome> {
  return db.transaction(async (tx) => {
    const out = await markRead(tx, id, staffId, via, at);
    if (out.kind === 'read') await appendAudit(tx, { actor: staffId, action: 'notice.read', entityType: 'notice', entityId: id, detail: { via } });
    return out;
  });
}

// ---- what the feature reads from other records ------------------------------------------

export const activeStaff = (q: Queryable): Promise<Staff[]> => listActiveStaff(q);
export const departmentNames = async (q: Queryable): Promise<string[]> => (await listDepartments(q)).map((d) => d.name);

/** The recipients still on the roster, as the outbound queue needs them. */
export async function recipientStaff(q: Queryable, id: string, opts: { unreadOnly?: boolean } = {}): Promise<Staff[]> {
  const ids = new Set(await recipientIds(q, id, opts));
  return (await listActiveStaff(q)).filter((s) => ids.has(s.staffId));
}

export async function saveNoticeFile(q: Queryable, f: { name: string; mime: string; data: Buffer; uploadedBy: string }): Promise<string> {
  return (await saveFile(q, f)).id;
}

export async function noticeFile(q: Queryable, fileId: string): Promise<StoredFile | undefined> {
  return (await readFiles(q, [fileId]))[0];
}

/** The file's name only (cards show it), without reading its bytes. */
export async function noticeFileName(q: Queryable, fileId: string | null): Promise<string | undefined> {
  if (!fileId) return undefined;
  const r = await q.query<{ name: string }>('SELECT name FROM stored_files WHERE id = $1', [fileId]);
  return r.rows[0]?.name;
}

/** The bank's current questions tagged with one rule of the nine (quiz_question_versions.rule). */
export async function ruleQuestions(q: Queryable, rule: number): Promise<QuestionVersion[]> {
  return (await currentQuestions(q)).filter((x) => x.rule === rule);
}
