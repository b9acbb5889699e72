import { z } from 'zod';
import type { Settings } from '../config.js';
import { FormError, UserError } from '../errors.js';
import { appendAudit } from '../store/audit.js';
import type { Db, Queryable } from '../store/db.js';
import { listActiveStaff, listDepartments, type Staff } from '../store/staff.js';
import { addMonths, dayOfMonth, daysBetween, endOfDay, monthFromKey, MONTH_KEY, type Month } from './calendar.js';
import { stripThousands } from './numbers.js';

/**
 * The monthly report of the key responsible departments (宝鸡市口腔医院 2023 方案：重点责任科室
 * 每月20日前报送本月进展和数据统计表). The deadline is the whole of the deadline day in the bot's
 * time zone: a report at 23:59 on the 20th is on time, one at 00:00 on the 21st is late.
 */

export type ReportSettings = Settings['report'];

export interface Department {
  id: number;
  name: string;
}

export interface Submission {
  id: string;
  month: string;
  departmentId: number;
  version: number;
  summary: string;
  figures: Record<string, number>;
  attachment: string | null;
  submittedBy: string;
  submittedAt: Date;
  late: boolean;
}

export const SUMMARY_MAX = 2000;

/** Departments that must report: those named in the config, else those with a report owner. */
export async function requiredDepartments(q: Queryable, settings: ReportSettings): Promise<Department[]> {
  const all = await listDepartments(q);
  if (settings.departments?.length) return all.filter((d) => settings.departments!.includes(d.name));
  const owners = await listActiveStaff(q, { role: 'report_owner' });
  const ids = new Set(owners.map((s) => s.departmentId));
  return all.filter((d) => ids.has(d.id));
}

/** Who reports for a department: its report owners, else its head. */
export async function ownersOf(q: Queryable, departmentId: number): Promise<Staff[]> {
  const inDept = await listActiveStaff(q, { departmentId });
  const owners = inDept.filter((s) => s.roles.includes('report_owner'));
  return owners.length ? owners : inDept.filter((s) => s.roles.includes('dept_head'));
}

export function mayReportFor(staff: Staff): boolean {
  return staff.roles.includes('report_owner') || staff.roles.includes('dept_head');
}

/** The deadline day (local YYYY-MM-DD) and the instant it ends. */
export function deadlineOf(month: Month, settings: ReportSettings, timeZone: string): { date: string; endsAt: Date } {
  const date = dayOfMonth(month, settings.deadlineDay);
  return { date, endsAt: endOfDay(date, timeZone) };
}

export const isLate = (at: Date, month: Month, settings: ReportSettings, timeZone: string): boolean =>
  at.getTime() >= deadlineOf(month, settings, timeZone).endsAt.getTime();

interface Row {
  id: string;
  month: string;
  department_id: number;
  version: number;
  summary: string;
  figures: Record<string, number>;
  attachment: string | null;
  submitted_by: string;
  submitted_at: Date;
  late: boolean;
}
const toSubmission = (r: Row): Submission => ({
  id: r.id,
  month: r.month,
  departmentId: r.department_id,
  version: r.version,
  summary: r.summary,
  figures: r.figures,
  attachment: r.attachment,
  submittedBy: r.submitted_by,
  submittedAt: r.submitted_at,
  late: r.late,
});
const COLS = 'id::text, month, department_id, version, summary, figures, attachment, submitted_by, submitted_at, late';

export async function currentSubmission(q: Queryable, month: string, departmentId: number): Promise<Submission | undefined> {
  const r = await q.query<Row>(`SELECT ${COLS} FROM report_submissions WHERE month = $1 AND department_id = $2 AND current`, [month, departmentId]);
  return r.rows[0] ? toSubmission(r.rows[0]) : undefined;
}

/** A department's current report with who filed it, for those who read it (上报 查看); null name: no longer on the roster. */
export async function submissionWithSubmitter(q: Queryable, month: string, departmentId: number): Promise<(Submission & { submitterName: string | null }) | undefined> {
  const r = await q.query<Row & { submitter_name: string | null }>(
    `SELECT x.*, (SELECT name FROM staff WHERE staff_id = x.submitted_by) AS submitter_name
     FROM (SELECT ${COLS} FROM report_submissions WHERE month = $1 AND department_id = $2 AND current) x`,
    [month, departmentId],
  );
  return r.rows[0] ? { ...toSubmission(r.rows[0]), submitterName: r.rows[0].submitter_name } : undefined;
}

/** Who may read a department's report: leadership and the discipline office any, a head their own. */
export function mayViewReport(staff: Staff, departmentId: number): 'yes' | 'own-only' | 'no' {
  if (staff.roles.includes('leader') || staff.roles.includes('discipline')) return 'yes';
  if (staff.roles.includes('dept_head')) return staff.departmentId === departmentId ? 'yes' : 'own-only';
  return 'no';
}

export async function submissionHistory(q: Queryable, month: string, departmentId: number): Promise<Submission[]> {
  const r = await q.query<Row>(`SELECT ${COLS} FROM report_submissions WHERE month = $1 AND department_id = $2 ORDER BY version`, [month, departmentId]);
  return r.rows.map(toSubmission);
}

export async function submittedDepartmentIds(q: Queryable, month: string): Promise<Set<number>> {
  const r = await q.query<{ department_id: number }>('SELECT department_id FROM report_submissions WHERE month = $1 AND current', [month]);
  return new Set(r.rows.map((x) => x.department_id));
}

export async function missingDepartments(q: Queryable, settings: ReportSettings, month: string): Promise<Department[]> {
  const [required, done] = await Promise.all([requiredDepartments(q, settings), submittedDepartmentIds(q, month)]);
  return required.filter((d) => !done.has(d.id));
}

export const ATTACHMENT_MAX = 500;

/** Counted in characters as a person counts them (an emoji is one), the same way the sandbox page's counter does. */
function tooLong(ctx: z.RefinementCtx, s: string, max: number, label: string): void {
  const n = [...s].length;
  if (n > max) ctx.addIssue({ code: 'custom', message: `${label}最多 ${max} 字，现在是 ${n} 字，请精简后重新提交` });
}

/** The form's values, as a platform (or the step-by-step dialogue) hands them over. */
export function reportFormSchema(figureNames: string[]) {
  // Each figure's messages name it: with several figures, "请填写整数" alone says not which.
  const figure = (name: string) =>
    z
      .string()
      .trim()
      .transform((s, ctx) => {
        const grouped = stripThousands(s, name);
        if (grouped.ok) return grouped.value;
        ctx.addIssue({ code: 'custom', message: grouped.message.replace(/。$/, '') });
        return z.NEVER;
      })
      .refine((s) => s === '' || /^\d{1,9}$/.test(s), `${name}请填写不小于 0 的整数`)
      .optional();
  return z.object({
    summary: z
      .string()
      .trim()
      .min(1, '请填写本月工作进展')
      .superRefine((s, ctx) => tooLong(ctx, s, SUMMARY_MAX, '工作进展')),
    attachment: z
      .string()
      .trim()
      .superRefine((s, ctx) => tooLong(ctx, s, ATTACHMENT_MAX, '附件说明'))
      .optional(),
    ...Object.fromEntries(figureNames.map((name, i) => [`f${i}`, figure(name)])),
  });
}

/** A checked form waiting for its confirmation click; kept in the state store, read back with this schema. */
export const reportDraftSchema = z.object({
  month: z.string().regex(MONTH_KEY),
  departmentId: z.number().int(),
  summary: z.string(),
  figures: z.record(z.string(), z.number()),
  attachment: z.string().optional(),
});
export type ReportDraft = z.infer<typeof reportDraftSchema>;

export type FigureRule = ReportSettings['rules'][number];

/**
 * The configured rules a draft's figures break, by input name (`f<i>` of the figure that is
 * too big). A rule with a figure left blank is not checked: a blank is "not reported", not 0.
 */
export function figureRuleProblems(figures: Record<string, number>, figureNames: string[], rules: FigureRule[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of rules) {
    const a = figures[r.figure];
    const b = figures[r.lte];
    const input = `f${figureNames.indexOf(r.figure)}`;
    if (a === undefined || b === undefined || a <= b || out[input]) continue;
    out[input] = `${r.figure}（${a}）不能大于${r.lte}（${b}）`;
  }
  return out;
}

export function draftFromForm(form: Record<string, string> | undefined, figureNames: string[], month: string, departmentId: number, rules: FigureRule[] = []): ReportDraft {
  const parsed = reportFormSchema(figureNames).safeParse(form ?? {});
  if (!parsed.success) {
    // Input name → its first problem, for platforms that show it next to the input.
    const fields: Record<string, string> = {};
    for (const i of parsed.error.issues) {
      const name = String(i.path[0] ?? '');
      if (name && !fields[name]) fields[name] = i.message;
    }
    throw new FormError(`报告没有提交：${parsed.error.issues.map((i) => i.message).join('；')}。请修改后重新提交。`, fields);
  }
  const values = parsed.data as Record<string, string | undefined>;
  const figures: Record<string, number> = {};
  figureNames.forEach((name, i) => {
    const v = values[`f${i}`];
    if (v !== undefined && v !== '') figures[name] = Number(v);
  });
  const broken = figureRuleProblems(figures, figureNames, rules);
  if (Object.keys(broken).length) throw new FormError(`报告没有提交：${Object.values(broken).join('；')}，请核对后重新提交。`, broken);
  return { month, departmentId, summary: values.summary!, figures, ...(values.attachment ? { attachment: values.attachment } : {}) };
}

/**
 * Stores a report. Before the deadline a resubmission becomes the current version and the
 * earlier one stays on record; after it, a department that already reported cannot change it.
 */
export async function submitReport(
  db: Db,
  draft: ReportDraft,
  by: Staff,
  now: Date,
  settings: ReportSettings,
  timeZone: string,
  opts: { draftId?: string; followUps?: (tx: Queryable, r: { submission: Submission; replaced: boolean }) => Promise<void> } = {},
): Promise<{ submission: Submission; replaced: boolean; repeated?: boolean }> {
  const month = monthFromKey(draft.month);
  const late = isLate(now, month, settings, timeZone);
  return db.transaction(async (tx) => {
    // Serialises two submitters of one department: the second sees the first's version.
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`report:${draft.month}:${draft.departmentId}`]);
    if (opts.draftId) {
      const done = await tx.query<Row>(`SELECT ${COLS} FROM report_submissions WHERE draft_id = $1`, [opts.draftId]);
      if (done.rows[0]) {
        const submission = toSubmission(done.rows[0]);
        return { submission, replaced: submission.version > 1, repeated: true };
      }
    }
    const prev = await currentSubmission(tx, draft.month, draft.departmentId);
    if (prev && late) throw new UserError(`本科室${draft.month}的报告已于截止日期前提交，截止后不能再修改。如需更正，请联系纪检监察室或管理员。`);
    if (prev) await tx.query('UPDATE report_submissions SET current = false WHERE id = $1', [prev.id]);
    const r = await tx.query<Row>(
      `INSERT INTO report_submissions (month, department_id, version, summary, figures, attachment, submitted_by, submitted_at, late, draft_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ${COLS}`,
      [draft.month, draft.departmentId, (prev?.version ?? 0) + 1, draft.summary, JSON.stringify(draft.figures), draft.attachment ?? null, by.staffId, now, late, opts.draftId ?? null],
    );
    const submission = toSubmission(r.rows[0]);
    await appendAudit(tx, {
      actor: by.staffId,
      action: prev ? 'report.resubmit' : 'report.submit',
      entityType: 'report',
      entityId: `${draft.month}:${draft.departmentId}`,
      toState: late ? 'late' : 'on_time',
      detail: { version: submission.version },
    });
    const out = { submission, replaced: Boolean(prev) };
    await opts.followUps?.(tx, out);
    return out;
  });
}

/** What a manual reminder round did, beside the campaign's counts: what the administrator is told. */
export interface ManualRound {
  /** 1 for the day's first manual reminder, 2 for the first `再次`, … */
  round: number;
  /** The day's latest round before this call, if there was one. */
  previous?: { at: Date; departments: number };
  /** Departments still missing their report (those a round reminds). */
  missing: number;
}

export type ReportStep = { kind: 'remind'; daysLeft: number } | { kind: 'overdue' };

/** What the daily check does for a month's report on a local date. */
export function reportSteps(deadline: string, offsets: number[], today: string): ReportStep[] {
  const left = daysBetween(today, deadline);
  if (left >= 0 && offsets.includes(left)) return [{ kind: 'remind', daysLeft: left }];
  // The day after; a few more days of catch-up if the bot was down (the campaign key is the same).
  if (left < 0 && left >= -5) return [{ kind: 'overdue' }];
  return [];
}

/** The report month a local date belongs to: this month's report. */
export const reportMonthOf = (today: string): Month => monthFromKey(today.slice(0, 7));
export const previousMonth = (m: Month): Month => addMonths(m, -1);
