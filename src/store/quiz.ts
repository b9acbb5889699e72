import type { Question, QuestionVersion } from '../domain/quiz/question.js';
import { sameContent } from '../domain/quiz/question.js';
import type { Queryable } from './db.js';

/**
 * SQL for the question bank, attempts and exam results. Question versions are immutable
 * once written, which is what lets an attempt keep showing and scoring the exact text it
 * was given, and lets callers cache versions freely.
 */

/** A version as it comes out of SQL: the question's fields, keyed by question_id. */
type VersionRow = Omit<Question, 'id'> & { question_id: string; version: number };

const VERSION_COLUMNS = 'v.question_id, v.version, v.type, v.rule, v.topic, v.stem, v.options, v.answer, v.explanation, v.source';

const toVersion = (r: VersionRow): QuestionVersion => ({
  id: r.question_id,
  version: r.version,
  type: r.type,
  rule: r.rule === null ? null : Number(r.rule),
  topic: r.topic,
  stem: r.stem,
  options: r.options,
  answer: r.answer,
  explanation: r.explanation,
  source: r.source,
});

/** The current version of each question; retired ones only when asked for. */
export async function currentQuestions(q: Queryable, opts: { includeRetired?: boolean } = {}): Promise<QuestionVersion[]> {
  const r = await q.query<VersionRow>(
    `SELECT ${VERSION_COLUMNS} FROM quiz_questions c
     JOIN quiz_question_versions v ON v.question_id = c.id AND v.version = c.version
     ${opts.includeRetired ? '' : 'WHERE c.retired_at IS NULL'}
     ORDER BY c.id`,
  );
  return r.rows.map(toVersion);
}

export async function retiredQuestionIds(q: Queryable): Promise<string[]> {
  return (await q.query<{ id: string }>('SELECT id FROM quiz_questions WHERE retired_at IS NOT NULL ORDER BY id')).rows.map((r) => r.id);
}

/**
 * Retires or restores questions. Returns the ids whose state changed and those unknown;
 * ids already in the asked state are neither.
 */
export async function setRetired(tx: Queryable, ids: string[], retired: boolean): Promise<{ changed: string[]; unknown: string[] }> {
  const known = new Set((await tx.query<{ id: string }>('SELECT id FROM quiz_questions WHERE id = ANY($1::text[])', [ids])).rows.map((r) => r.id));
  const changed = (
    await tx.query<{ id: string }>(
      retired
        ? 'UPDATE quiz_questions SET retired_at = now() WHERE id = ANY($1::text[]) AND retired_at IS NULL RETURNING id'
        : 'UPDATE quiz_questions SET retired_at = NULL WHERE id = ANY($1::text[]) AND retired_at IS NOT NULL RETURNING id',
      [ids],
    )
  ).rows
    .map((r) => r.id)
    .sort();
  return { changed, unknown: ids.filter((id) => !known.has(id)) };
}

export async function countQuestions(q: Queryable): Promise<number> {
  return (await q.query<{ n: number }>('SELECT count(*)::int AS n FROM quiz_questions WHERE retired_at IS NULL')).rows[0].n;
}

export async function questionVersions(q: Queryable, keys: { id: string; version: number }[]): Promise<QuestionVersion[]> {
  if (keys.length === 0) return [];
  const r = await q.query<VersionRow>(
    `SELECT ${VERSION_COLUMNS} FROM quiz_question_versions v
     JOIN unnest($1::text[], $2::int[]) AS k(id, version) ON k.id = v.question_id AND k.version = v.version`,
    [keys.map((k) => k.id), keys.map((k) => k.version)],
  );
  return r.rows.map(toVersion);
}

export interface UpsertSummary {
  added: string[];
  updated: string[];
  unchanged: number;
}

/**
 * Adds new questions and gives changed ones a new version (the old version stays for the
 * attempts that used it). Call inside a transaction: an import is all or nothing.
 */
export async function upsertQuestions(tx: Queryable, questions: Question[]): Promise<UpsertSummary> {
  // Retired questions too: re-importing one updates its content and leaves it retired.
  const current = new Map((await currentQuestions(tx, { includeRetired: true })).map((v) => [v.id, v]));
  const summary: UpsertSummary = { added: [], updated: [], unchanged: 0 };
  for (const question of questions) {
    const prev = current.get(question.id);
    if (prev && sameContent(prev, question)) {
      summary.unchanged++;
      continue;
    }
    const version = prev ? prev.version + 1 : 1;
    if (!prev) await tx.query('INSERT INTO quiz_questions (id, version) VALUES ($1, 0)', [question.id]);
    await tx.query(
      `INSERT INTO quiz_question_versions (question_id, version, type, rule, topic, stem, options, answer, explanation, source)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [question.id, version, question.type, question.rule, question.topic, question.stem, JSON.stringify(question.options), JSON.stringify(question.answer), question.explanation, question.source],
    );
    await tx.query('UPDATE quiz_questions SET version = $2, updated_at = now() WHERE id = $1', [question.id, version]);
    current.set(question.id, { ...question, version });
    (prev ? summary.updated : summary.added).push(question.id);
  }
  return summary;
}

export async function getMeta(q: Queryable, key: string): Promise<string | undefined> {
  return (await q.query<{ value: string }>('SELECT value FROM quiz_meta WHERE key = $1', [key])).rows[0]?.value;
}
export async function setMeta(q: Queryable, key: string, value: string): Promise<void> {
  await q.query('INSERT INTO quiz_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, at = now()', [key, value]);
}

// ---- attempts -----------------------------------------------------------------------------

export type AttemptState = 'active' | 'finished' | 'expired';

export interface AttemptItem {
  idx: number;
  questionId: string;
  questionVersion: number;
  optionOrder: number[];
  pending: number[];
  selected: number[] | null;
  correct: boolean | null;
}

export interface Attempt {
  id: string;
  staffId: string;
  departmentId: number;
  examId: string | null;
  state: AttemptState;
  currentIndex: number;
  questionCount: number;
  passMark: number;
  startedAt: Date;
  expiresAt: Date;
  finishedAt: Date | null;
  correctCount: number | null;
  score: number | null;
  passed: boolean | null;
  items: AttemptItem[];
}

interface AttemptRow {
  id: string;
  staff_id: string;
  department_id: number;
  exam_id: string | null;
  state: AttemptState;
  current_index: number;
  question_count: number;
  pass_mark: number;
  started_at: Date | string;
  expires_at: Date | string;
  finished_at: Date | string | null;
  correct_count: number | null;
  score: number | null;
  passed: boolean | null;
  items: { idx: number; question_id: string; question_version: number; option_order: number[]; pending: number[]; selected: number[] | null; correct: boolean | null }[] | string | null;
}

const date = (d: Date | string): Date => (d instanceof Date ? d : new Date(d));

function toAttempt(r: AttemptRow): Attempt {
  const items = typeof r.items === 'string' ? (JSON.parse(r.items) as Exclude<AttemptRow['items'], string>) : r.items;
  return {
    id: String(r.id),
    staffId: r.staff_id,
    departmentId: r.department_id,
    examId: r.exam_id,
    state: r.state,
    currentIndex: r.current_index,
    questionCount: r.question_count,
    passMark: r.pass_mark,
    startedAt: date(r.started_at),
    expiresAt: date(r.expires_at),
    finishedAt: r.finished_at === null ? null : date(r.finished_at),
    correctCount: r.correct_count,
    score: r.score,
    passed: r.passed,
    items: (items ?? []).map((i) => ({
      idx: i.idx,
      questionId: i.question_id,
      questionVersion: i.question_version,
      optionOrder: i.option_order,
      pending: i.pending,
      selected: i.selected,
      correct: i.correct,
    })),
  };
}

const ATTEMPT_SELECT = `
  SELECT a.id::text AS id, a.staff_id, a.department_id, a.exam_id, a.state, a.current_index, a.question_count, a.pass_mark,
         a.started_at, a.expires_at, a.finished_at, a.correct_count, a.score, a.passed,
         (SELECT json_agg(json_build_object('idx', i.idx, 'question_id', i.question_id, 'question_version', i.question_version,
                 'option_order', i.option_order, 'pending', i.pending, 'selected', i.selected, 'correct', i.correct) ORDER BY i.idx)
          FROM quiz_attempt_items i WHERE i.attempt_id = a.id) AS items
  FROM quiz_attempts a`;

/** The attempt with its items; `lock` takes a row lock so concurrent clicks queue up. */
export async function getAttempt(q: Queryable, id: string, lock = false): Promise<Attempt | undefined> {
  if (!/^\d{1,18}$/.test(id)) return undefined;
  const r = await q.query<AttemptRow>(`${ATTEMPT_SELECT} WHERE a.id = $1${lock ? ' FOR UPDATE OF a' : ''}`, [id]);
  return r.rows[0] ? toAttempt(r.rows[0]) : undefined;
}

export async function activeAttemptOf(q: Queryable, staffId: string, lock = false): Promise<Attempt | undefined> {
  const r = await q.query<AttemptRow>(`${ATTEMPT_SELECT} WHERE a.staff_id = $1 AND a.state = 'active'${lock ? ' FOR UPDATE OF a' : ''}`, [staffId]);
  return r.rows[0] ? toAttempt(r.rows[0]) : undefined;
}

export interface NewAttempt {
  staffId: string;
  departmentId: number;
  examId: string | null;
  passMark: number;
  startedAt: Date;
  expiresAt: Date;
  items: { questionId: string; questionVersion: number; optionOrder: number[] }[];
}

export async function insertAttempt(tx: Queryable, a: NewAttempt): Promise<string> {
  const r = await tx.query<{ id: string }>(
    `INSERT INTO quiz_attempts (staff_id, department_id, exam_id, state, question_count, pass_mark, started_at, expires_at)
     VALUES ($1, $2, $3, 'active', $4, $5, $6, $7) RETURNING id::text AS id`,
    [a.staffId, a.departmentId, a.examId, a.items.length, a.passMark, a.startedAt, a.expiresAt],
  );
  const id = r.rows[0].id;
  await tx.query(
    `INSERT INTO quiz_attempt_items (attempt_id, idx, question_id, question_version, option_order)
     SELECT $1::bigint, t.idx - 1, t.qid, t.ver, t.ord::jsonb
     FROM unnest($2::text[], $3::int[], $4::text[]) WITH ORDINALITY AS t(qid, ver, ord, idx)`,
    [id, a.items.map((i) => i.questionId), a.items.map((i) => i.questionVersion), a.items.map((i) => JSON.stringify(i.optionOrder))],
  );
  return id;
}

/** Records an answer; false when the item was already answered (a double click elsewhere). */
export async function recordAnswer(tx: Queryable, attemptId: string, idx: number, selected: number[], correct: boolean, at: Date): Promise<boolean> {
  const r = await tx.query(
    `UPDATE quiz_attempt_items SET selected = $3, correct = $4, answered_at = $5
     WHERE attempt_id = $1 AND idx = $2 AND answered_at IS NULL`,
    [attemptId, idx, JSON.stringify(selected), correct, at],
  );
  return r.rowCount === 1;
}

/**
 * Records the answer to a question that is not the last, and moves to the next, in one
 * statement guarded by the attempt's state: the attempt row is updated (and locked) first,
 * the item only if that succeeded. False when anything changed under the caller.
 */
export async function answerAndAdvance(q: Queryable, attemptId: string, idx: number, selected: number[], correct: boolean, at: Date): Promise<boolean> {
  const r = await q.query(
    `WITH a AS (
       UPDATE quiz_attempts SET current_index = $2 + 1
       WHERE id = $1 AND current_index = $2 AND state = 'active' AND expires_at > $5 AND current_index + 1 < question_count
       RETURNING id)
     UPDATE quiz_attempt_items SET selected = $3, correct = $4, answered_at = $5
     WHERE attempt_id = (SELECT id FROM a) AND idx = $2 AND answered_at IS NULL`,
    [attemptId, idx, JSON.stringify(selected), correct, at],
  );
  return r.rowCount === 1;
}

/** Ticks for a multiple-choice question, guarded like an answer; false when it is not current. */
export async function setPendingGuarded(q: Queryable, attemptId: string, idx: number, pending: number[], at: Date): Promise<boolean> {
  const r = await q.query(
    `UPDATE quiz_attempt_items i SET pending = $3
     FROM quiz_attempts a
     WHERE i.attempt_id = $1 AND i.idx = $2 AND i.answered_at IS NULL
       AND a.id = i.attempt_id AND a.state = 'active' AND a.current_index = $2 AND a.expires_at > $4`,
    [attemptId, idx, JSON.stringify(pending), at],
  );
  return r.rowCount === 1;
}

export async function setPending(tx: Queryable, attemptId: string, idx: number, pending: number[]): Promise<void> {
  await tx.query('UPDATE quiz_attempt_items SET pending = $3 WHERE attempt_id = $1 AND idx = $2 AND answered_at IS NULL', [attemptId, idx, JSON.stringify(pending)]);
}

export async function advance(tx: Queryable, attemptId: string, from: number): Promise<boolean> {
  const r = await tx.query(`UPDATE quiz_attempts SET current_index = $2 + 1 WHERE id = $1 AND current_index = $2 AND state = 'active'`, [attemptId, from]);
  return r.rowCount === 1;
}

export async function closeAttempt(
  tx: Queryable,
  attemptId: string,
  state: 'finished' | 'expired',
  result: { correct: number; score: number; passed: boolean; at: Date },
): Promise<boolean> {
  const r = await tx.query(
    `UPDATE quiz_attempts SET state = $2, finished_at = $3, correct_count = $4, score = $5, passed = $6
     WHERE id = $1 AND state = 'active'`,
    [attemptId, state, result.at, result.correct, result.score, result.passed],
  );
  return r.rowCount === 1;
}

export async function recordExamResult(
  tx: Queryable,
  r: { examId: string; staffId: string; departmentId: number; score: number; passed: boolean; at: Date },
): Promise<void> {
  await tx.query(
    `INSERT INTO quiz_exam_results AS x (exam_id, staff_id, department_id, attempts, best_score, passed, first_finished_at, last_finished_at)
     VALUES ($1, $2, $3, 1, $4, $5, $6, $6)
     ON CONFLICT (exam_id, staff_id) DO UPDATE SET
       department_id = EXCLUDED.department_id,
       attempts = x.attempts + 1,
       best_score = GREATEST(x.best_score, EXCLUDED.best_score),
       passed = x.passed OR EXCLUDED.passed,
       last_finished_at = EXCLUDED.last_finished_at`,
    [r.examId, r.staffId, r.departmentId, r.score, r.passed, r.at],
  );
}

export async function countExamAttempts(q: Queryable, examId: string, staffId: string): Promise<number> {
  return (await q.query<{ n: number }>('SELECT count(*)::int AS n FROM quiz_attempts WHERE exam_id = $1 AND staff_id = $2', [examId, staffId])).rows[0].n;
}

/** Active attempts whose time is up, oldest first: for a periodic sweep. */
export async function expiredActiveIds(q: Queryable, now: Date, limit = 500): Promise<string[]> {
  const r = await q.query<{ id: string }>(`SELECT id::text AS id FROM quiz_attempts WHERE state = 'active' AND expires_at <= $1 ORDER BY expires_at LIMIT $2`, [now, limit]);
  return r.rows.map((x) => x.id);
}

export interface AttemptSummary {
  id: string;
  examId: string | null;
  state: AttemptState;
  startedAt: Date;
  finishedAt: Date | null;
  score: number | null;
  passed: boolean | null;
  correctCount: number | null;
  questionCount: number;
}

export async function attemptsOf(q: Queryable, staffId: string, limit = 10): Promise<AttemptSummary[]> {
  const r = await q.query<{ id: string; exam_id: string | null; state: AttemptState; started_at: Date | string; finished_at: Date | string | null; score: number | null; passed: boolean | null; correct_count: number | null; question_count: number }>(
    `SELECT id::text AS id, exam_id, state, started_at, finished_at, score, passed, correct_count, question_count
     FROM quiz_attempts WHERE staff_id = $1 ORDER BY id DESC LIMIT $2`,
    [staffId, limit],
  );
  return r.rows.map((x) => ({
    id: x.id,
    examId: x.exam_id,
    state: x.state,
    startedAt: date(x.started_at),
    finishedAt: x.finished_at === null ? null : date(x.finished_at),
    score: x.score,
    passed: x.passed,
    correctCount: x.correct_count,
    questionCount: x.question_count,
  }));
}

export interface BestScore {
  examId: string | null;
  attempts: number;
  best: number;
  passed: boolean;
}

export async function bestScoresOf(q: Queryable, staffId: string): Promise<BestScore[]> {
  const r = await q.query<{ exam_id: string | null; attempts: number; best: number; passed: boolean }>(
    `SELECT exam_id, count(*)::int AS attempts, max(score)::int AS best, bool_or(passed) AS passed
     FROM quiz_attempts WHERE staff_id = $1 AND state <> 'active'
     GROUP BY exam_id ORDER BY exam_id NULLS FIRST`,
    [staffId],
  );
  return r.rows.map((x) => ({ examId: x.exam_id, attempts: x.attempts, best: x.best, passed: x.passed }));
}

export interface WrongAnswer {
  attemptId: string;
  idx: number;
  at: Date;
  questionId: string;
  questionVersion: number;
  optionOrder: number[];
  selected: number[] | null;
}

/** Wrong or unanswered questions of closed attempts, newest first, one per question. */
export async function wrongAnswersOf(q: Queryable, staffId: string): Promise<WrongAnswer[]> {
  const r = await q.query<{ attempt_id: string; idx: number; at: Date | string; question_id: string; question_version: number; option_order: number[]; selected: number[] | null }>(
    `SELECT DISTINCT ON (i.question_id) i.attempt_id::text AS attempt_id, i.idx, COALESCE(a.finished_at, a.started_at) AS at,
            i.question_id, i.question_version, i.option_order, i.selected
     FROM quiz_attempt_items i JOIN quiz_attempts a ON a.id = i.attempt_id
     WHERE a.staff_id = $1 AND a.state <> 'active' AND i.correct IS NOT TRUE
     ORDER BY i.question_id, a.id DESC`,
    [staffId],
  );
  return r.rows
    .map((x) => ({ attemptId: x.attempt_id, idx: x.idx, at: date(x.at), questionId: x.question_id, questionVersion: x.question_version, optionOrder: x.option_order, selected: x.selected }))
    .sort((a, b) => Number(b.attemptId) - Number(a.attemptId) || a.idx - b.idx);
}

export interface ExamResultRow {
  staffId: string;
  departmentId: number;
  attempts: number;
  bestScore: number;
  passed: boolean;
}

export async function examResults(q: Queryable, examId: string): Promise<ExamResultRow[]> {
  const r = await q.query<{ staff_id: string; department_id: number; attempts: number; best_score: number; passed: boolean }>(
    'SELECT staff_id, department_id, attempts, best_score, passed FROM quiz_exam_results WHERE exam_id = $1 ORDER BY staff_id',
    [examId],
  );
  return r.rows.map((x) => ({ staffId: x.staff_id, departmentId: x.department_id, attempts: x.attempts, bestScore: x.best_score, passed: x.passed }));
}
