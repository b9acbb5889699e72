import type { Settings } from '../config.js';
import type { Queryable } from '../store/db.js';
import { latestStateCounts, monthlyTotals, registeredBetween } from '../store/declarations.js';
import { monthKey, monthRange, slashMonthDayTimeLabel, type Month } from './calendar.js';
import { requiredDepartments } from './report.js';
import { isLateCompletion, resolvePlan } from './study.js';

/**
 * Where the hospital stands in a month, for leadership: study completion, exam participation
 * and pass rate, monthly reports, and registered declarations (counts and amounts, never
 * names). Aggregates are computed in SQL so a 10,000-person hospital answers quickly.
 * A scope limits everything to one department (a department head's view).
 */

export type Area = 'study' | 'exam' | 'report' | 'declaration' | 'ledger';
export const AREA_NAMES: Record<Area, string> = { study: '学习', exam: '考试', report: '上报', declaration: '上缴', ledger: '问题清单' };
export const AREA_ALIASES: Record<string, Area> = {
  学习: 'study', study: 'study',
  考试: 'exam', 测验: 'exam', exam: 'exam', quiz: 'exam',
  上报: 'report', 报告: 'report', report: 'report',
  上缴: 'declaration', 申报: 'declaration', 红包: 'declaration', declaration: 'declaration',
  问题清单: 'ledger', 问题: 'ledger', 整改: 'ledger', 销号: 'ledger', ledger: 'ledger',
};

export interface Scope {
  /** Limit to one department; undefined = the whole hospital. */
  departmentId?: number;
}

export interface Ratio {
  done: number;
  total: number;
}
export const percent = (r: Ratio): number | null => (r.total === 0 ? null : (100 * r.done) / r.total);
export const formatPercent = (r: Ratio): string => {
  const p = percent(r);
  return p === null ? '—' : `${p.toFixed(1)}%`;
};

export interface DepartmentRow<T> {
  departmentId: number;
  department: string;
  figures: T;
}

export interface StudyFigures {
  audience: number;
  done: number;
}
export interface ExamFigures {
  staff: number;
  took: number;
  passed: number;
}
export interface ReportFigures {
  submitted: boolean;
  late: boolean;
  submittedAt?: Date;
  submittedBy?: string;
  /** The report itself, for the workbook (`导出 上报`). */
  summary?: string;
  values?: Record<string, number>;
}
/**
 * `received`, `registered`, `amount` and `pending` count the declarations received in the
 * month (by the date the gift was received); `registeredInMonth` those registered during the
 * month, whenever received. Both are shown, so a registration today is seen today.
 */
export interface DeclarationFigures {
  received: number;
  registered: number;
  amount: number;
  pending: number;
  registeredInMonth: number;
}

export interface ProgressDeps {
  db: Queryable;
  settings: Settings;
  timeZone: string;
}

// ---- study ----------------------------------------------------------------------------

export async function studyByDepartment(deps: ProgressDeps, month: Month, scope: Scope = {}): Promise<DepartmentRow<StudyFigures>[]> {
  const plan = await resolvePlan(deps.db, deps.settings.study, month);
  const r = await deps.db.query<{ id: number; name: string; audience: number; done: number }>(
    `SELECT d.id, d.name, count(*)::int AS audience, count(c.staff_id)::int AS done
       FROM staff s JOIN departments d ON d.id = s.department_id
       LEFT JOIN study_completions c ON c.month = $1 AND c.staff_id = s.staff_id
      WHERE s.active
        AND ($2::text[] IS NULL OR d.name = ANY($2))
        AND ($3::text[] IS NULL OR EXISTS (SELECT 1 FROM staff_roles x WHERE x.staff_id = s.staff_id AND x.role = ANY($3)))
        AND ($4::int IS NULL OR d.id = $4)
      GROUP BY d.id, d.name ORDER BY d.id`,
    [monthKey(month), plan.audience.departments?.length ? plan.audience.departments : null, plan.audience.roles?.length ? plan.audience.roles : null, scope.departmentId ?? null],
  );
  return r.rows.map((x) => ({ departmentId: x.id, department: x.name, figures: { audience: x.audience, done: x.done } }));
}

export interface PersonRow {
  staffId: string;
  name: string;
  status: string;
  detail: string;
  /** The figures behind `detail`, for exports that write them as typed cells. */
  completedAt?: Date | null;
  /** Completed after the study plan's due date. */
  late?: boolean;
  attempts?: number;
  best?: number | null;
}

export async function studyPeople(deps: ProgressDeps, month: Month, departmentId: number): Promise<PersonRow[]> {
  const plan = await resolvePlan(deps.db, deps.settings.study, month);
  const r = await deps.db.query<{ staff_id: string; name: string; completed_at: Date | null }>(
    `SELECT s.staff_id, s.name, c.completed_at FROM staff s
       LEFT JOIN study_completions c ON c.month = $1 AND c.staff_id = s.staff_id
      WHERE s.active AND s.department_id = $2 ORDER BY (c.completed_at IS NOT NULL), s.staff_id`,
    [monthKey(month), departmentId],
  );
  return r.rows.map((x) => {
    const late = x.completed_at !== null && isLateCompletion(plan, x.completed_at, deps.timeZone);
    return { staffId: x.staff_id, name: x.name, status: x.completed_at ? (late ? '已学习（逾期）' : '已学习') : '未学习', detail: x.completed_at ? slashMonthDayTimeLabel(x.completed_at, deps.timeZone) : '', completedAt: x.completed_at, late };
  });
}

// ---- exams ----------------------------------------------------------------------------

/** Who took a quiz or exam in the month (finished or timed out), and who passed at least once. */
export async function examByDepartment(deps: ProgressDeps, month: Month, scope: Scope = {}): Promise<DepartmentRow<ExamFigures>[]> {
  const { start, end } = monthRange(month, deps.timeZone);
  const r = await deps.db.query<{ id: number; name: string; staff: number; took: number; passed: number }>(
    `WITH taken AS (
       SELECT a.staff_id, bool_or(a.passed) AS passed FROM quiz_attempts a
        WHERE a.state IN ('finished', 'expired') AND a.finished_at >= $1 AND a.finished_at < $2
        GROUP BY a.staff_id)
     SELECT d.id, d.name, count(*)::int AS staff, count(t.staff_id)::int AS took, count(*) FILTER (WHERE t.passed)::int AS passed
       FROM staff s JOIN departments d ON d.id = s.department_id
       LEFT JOIN taken t ON t.staff_id = s.staff_id
      WHERE s.active AND ($3::int IS NULL OR d.id = $3)
      GROUP BY d.id, d.name ORDER BY d.id`,
    [start, end, scope.departmentId ?? null],
  );
  return r.rows.map((x) => ({ departmentId: x.id, department: x.name, figures: { staff: x.staff, took: x.took, passed: x.passed } }));
}

export async function examPeople(deps: ProgressDeps, month: Month, departmentId: number): Promise<PersonRow[]> {
  const { start, end } = monthRange(month, deps.timeZone);
  const r = await deps.db.query<{ staff_id: string; name: string; attempts: number; best: number | null; passed: boolean | null }>(
    `SELECT s.staff_id, s.name, count(a.id)::int AS attempts, max(a.score) AS best, bool_or(a.passed) AS passed
       FROM staff s LEFT JOIN quiz_attempts a ON a.staff_id = s.staff_id AND a.state IN ('finished', 'expired') AND a.finished_at >= $1 AND a.finished_at < $2
      WHERE s.active AND s.department_id = $3
      GROUP BY s.staff_id, s.name ORDER BY count(a.id) > 0, bool_or(a.passed) NULLS FIRST, s.staff_id`,
    [start, end, departmentId],
  );
  return r.rows.map((x) => ({
    staffId: x.staff_id,
    name: x.name,
    status: x.attempts === 0 ? '未参加' : x.passed ? '已通过' : '未通过',
    detail: x.attempts === 0 ? '' : `${x.attempts} 次，最高 ${x.best ?? 0} 分`,
    attempts: x.attempts,
    best: x.attempts === 0 ? null : Number(x.best ?? 0),
  }));
}

// ---- reports --------------------------------------------------------------------------

export async function reportsByDepartment(deps: ProgressDeps, month: Month, scope: Scope = {}): Promise<DepartmentRow<ReportFigures>[]> {
  const required = (await requiredDepartments(deps.db, deps.settings.report)).filter((d) => scope.departmentId === undefined || d.id === scope.departmentId);
  const r = await deps.db.query<{ department_id: number; late: boolean; submitted_at: Date; name: string; summary: string; figures: Record<string, number> }>(
    `SELECT r.department_id, r.late, r.submitted_at, s.name, r.summary, r.figures FROM report_submissions r JOIN staff s ON s.staff_id = r.submitted_by
      WHERE r.month = $1 AND r.current`,
    [monthKey(month)],
  );
  const byDept = new Map(r.rows.map((x) => [x.department_id, x]));
  return required.map((d) => {
    const s = byDept.get(d.id);
    return {
      departmentId: d.id,
      department: d.name,
      figures: s ? { submitted: true, late: s.late, submittedAt: s.submitted_at, submittedBy: s.name, summary: s.summary, values: s.figures } : { submitted: false, late: false },
    };
  });
}

// ---- declarations ---------------------------------------------------------------------

/** Declarations by department, received in the month and registered in it (see DeclarationFigures): no names. */
export async function declarationsByDepartment(deps: ProgressDeps, month: Month, scope: Scope = {}): Promise<DepartmentRow<DeclarationFigures>[]> {
  const key = monthKey(month);
  const { start, end } = monthRange(month, deps.timeZone);
  const depts = (await deps.db.query<{ id: number; name: string }>('SELECT id, name FROM departments WHERE active AND ($1::int IS NULL OR id = $1) ORDER BY id', [scope.departmentId ?? null])).rows;
  const totals = (await monthlyTotals(deps.db)).filter((t) => t.month === key);
  const done = await registeredBetween(deps.db, start, end);
  return depts.map((d) => {
    const t = totals.find((x) => x.department === d.name);
    const registered = t?.registered ?? 0;
    const pending = t?.pending ?? 0;
    const registeredInMonth = done.find((x) => x.departmentId === d.id)?.registered ?? 0;
    return { departmentId: d.id, department: d.name, figures: { received: registered + pending, registered, amount: Number(t?.registeredAmount ?? 0), pending, registeredInMonth } };
  });
}

// ---- overview -------------------------------------------------------------------------

export interface Overview {
  study: Ratio;
  examTook: Ratio;
  examPassed: Ratio;
  reports: { submitted: number; required: number; late: number };
  declarations: { received: number; registered: number; amount: number; registeredInMonth: number };
}

const sum = <T>(rows: DepartmentRow<T>[], f: (x: T) => number): number => rows.reduce((a, r) => a + f(r.figures), 0);

export async function overview(deps: ProgressDeps, month: Month, scope: Scope = {}): Promise<Overview> {
  const [study, exam, reports, decl] = await Promise.all([
    studyByDepartment(deps, month, scope),
    examByDepartment(deps, month, scope),
    reportsByDepartment(deps, month, scope),
    declarationsByDepartment(deps, month, scope),
  ]);
  const took = sum(exam, (x) => x.took);
  return {
    study: { done: sum(study, (x) => x.done), total: sum(study, (x) => x.audience) },
    examTook: { done: took, total: sum(exam, (x) => x.staff) },
    examPassed: { done: sum(exam, (x) => x.passed), total: took },
    reports: { submitted: reports.filter((r) => r.figures.submitted).length, required: reports.length, late: reports.filter((r) => r.figures.late).length },
    declarations: { received: sum(decl, (x) => x.received), registered: sum(decl, (x) => x.registered), amount: sum(decl, (x) => x.amount), registeredInMonth: sum(decl, (x) => x.registeredInMonth) },
  };
}

/** A month after `current` has not begun: its 0% would read as a month gone wrong, so it has no progress. */
export const isFutureMonth = (month: Month, current: Month): boolean => monthKey(month) > monthKey(current);

/** True when nothing at all was recorded for the month in this scope. */
export function isEmpty(o: Overview): boolean {
  return o.study.done === 0 && o.examTook.done === 0 && o.reports.submitted === 0 && o.declarations.received === 0 && o.declarations.registeredInMonth === 0;
}

/** One's own declarations by state (for 我的进度): counts only, each resubmission chain once. */
export async function ownDeclarationCounts(q: Queryable, staffId: string): Promise<{ label: string; n: number }[]> {
  const rows = await latestStateCounts(q, staffId);
  const labels: Record<string, string> = { registered: '已登记', rejected: '已驳回', draft: '草稿' };
  const out = new Map<string, number>();
  for (const x of rows) {
    const label = labels[x.state] ?? '审批中';
    out.set(label, (out.get(label) ?? 0) + x.n);
  }
  return [...out].map(([label, n]) => ({ label, n }));
}
