import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { studyPlanSchema, type Settings } from '../config.js';
import type { Db, Queryable } from '../store/db.js';
import { appendAudit } from '../store/audit.js';
import { listActiveStaff, type Staff } from '../store/staff.js';
import { dateLabel, dayOfMonth, daysBetween, lastDayOfMonth, localDate, localTime, monthFromKey, monthKey, shortDateLabel, type Month } from './calendar.js';
import type { Role } from './roles.js';
import { decodeText, FileFormatError } from './tabular.js';
import { cleanDeep } from './text.js';

/**
 * Monthly study tasks: which plan applies to a month, who must study, who has, and what the
 * daily check should do on a given local date. No chat here; handlers/study.ts sends.
 */

export const DEFAULT_PLAN_PATH = join(dirname(fileURLToPath(import.meta.url)), 'study', 'default-plan.json');

const defaultMonthSchema = z.object({
  month: z.number().int().min(1).max(12),
  topic: z.string().min(1),
  summary: z.string().min(1),
  keyPoints: z.array(z.string().min(1)).min(1),
  source: z.string().min(1),
  // null for months on related regulations rather than one of the nine rules.
  rule: z.number().int().min(1).max(9).nullable().optional(),
});
const defaultPlanSchema = z
  .object({ months: z.array(defaultMonthSchema).length(12) })
  .refine((p) => new Set(p.months.map((m) => m.month)).size === 12, 'one entry per month 1..12');

export type DefaultMonth = z.infer<typeof defaultMonthSchema>;
let defaultPlan: DefaultMonth[] | undefined;

/** The twelve-month plan shipped with the bot, validated once. */
export function loadDefaultPlan(path = DEFAULT_PLAN_PATH): DefaultMonth[] {
  if (path === DEFAULT_PLAN_PATH && defaultPlan) return defaultPlan;
  const parsed = defaultPlanSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  if (path === DEFAULT_PLAN_PATH) defaultPlan = parsed.months;
  return parsed.months;
}

export type PlanInput = z.infer<typeof studyPlanSchema>;

export interface StudyPlan {
  month: string;
  topic: string;
  summary?: string;
  keyPoints: string[];
  source?: string;
  material?: { text?: string; url?: string };
  audience: { departments?: string[]; roles?: Role[] };
  pushDay: number;
  pushTime: string;
  /** Local date YYYY-MM-DD, inclusive. */
  dueOn: string;
  reminderDaysBeforeDue: number[];
  origin: 'imported' | 'config' | 'default';
}

// ---- local dates: the calendar's, re-exported for the study handlers ------------------

export { dateLabel, localDate, localTime, monthFromKey, shortDateLabel };

// ---- plans ------------------------------------------------------------------------------

function fromInput(p: PlanInput, settings: Settings['study'], origin: StudyPlan['origin']): StudyPlan {
  const m = monthFromKey(p.month);
  return {
    month: p.month,
    topic: p.topic,
    ...(p.summary ? { summary: p.summary } : {}),
    keyPoints: p.keyPoints ?? [],
    ...(p.source ? { source: p.source } : {}),
    ...(p.material ? { material: p.material } : {}),
    audience: p.audience ?? {},
    pushDay: p.pushDay ?? settings.pushDay,
    pushTime: p.pushTime ?? settings.pushTime,
    dueOn: p.dueOn ?? dayOfMonth(m, lastDayOfMonth(m)),
    reminderDaysBeforeDue: p.reminderDaysBeforeDue ?? settings.reminderDaysBeforeDue,
    origin,
  };
}

/** The plan for a month: imported (cli) first, then qinglian.yaml, then the shipped plan. */
export async function resolvePlan(q: Queryable, settings: Settings['study'], month: Month): Promise<StudyPlan> {
  const key = monthKey(month);
  const r = await q.query<{ plan: PlanInput }>('SELECT plan FROM study_plans WHERE month = $1', [key]);
  if (r.rows[0]) return fromInput(studyPlanSchema.parse(r.rows[0].plan), settings, 'imported');
  const configured = settings.plans.find((p) => p.month === key);
  if (configured) return fromInput(configured, settings, 'config');
  const d = loadDefaultPlan().find((x) => x.month === month.month)!;
  return fromInput({ month: key, topic: d.topic, summary: d.summary, keyPoints: d.keyPoints, source: d.source }, settings, 'default');
}

export class PlanImportError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'PlanImportError';
  }
}

const importFileSchema = z.object({ plans: z.array(studyPlanSchema).min(1) }).strict();

/** Parses a plan file (JSON or YAML: a list of plans, or {plans: [...]}); throws with every problem. */
export function parsePlanFile(fileName: string, data: Buffer | string): PlanInput[] {
  let text: string;
  try {
    text = typeof data === 'string' ? data : decodeText(data);
  } catch (e) {
    if (e instanceof FileFormatError) throw new PlanImportError([`${fileName}：${e.message}`]);
    throw e;
  }
  let raw: unknown;
  try {
    raw = cleanDeep(/\.json$/i.test(fileName) ? JSON.parse(text) : parseYaml(text));
  } catch (e) {
    throw new PlanImportError([`${fileName}：不是有效的 ${/\.json$/i.test(fileName) ? 'JSON' : 'YAML'}（${(e as Error).message.split('\n')[0]}）`]);
  }
  // A bare list is accepted as well as {plans: [...]}; one schema keeps every problem listed.
  const parsed = importFileSchema.safeParse(Array.isArray(raw) ? { plans: raw } : raw);
  if (!parsed.success) {
    throw new PlanImportError(parsed.error.issues.map((i) => `${i.path.join('.') || '（顶层）'}：${i.message}`));
  }
  const plans = parsed.data.plans;
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const p of plans) {
    if (seen.has(p.month)) problems.push(`${p.month}：同一个月份出现了两次`);
    seen.add(p.month);
    if (p.dueOn && p.dueOn.slice(0, 7) < p.month) problems.push(`${p.month}：截止日期 ${p.dueOn} 早于该月`);
  }
  if (problems.length) throw new PlanImportError(problems);
  return plans;
}

export async function importPlans(db: Db, plans: PlanInput[], actor: string): Promise<string[]> {
  return db.transaction(async (tx) => {
    for (const p of plans) {
      await tx.query(
        `INSERT INTO study_plans (month, plan, imported_by) VALUES ($1, $2, $3)
         ON CONFLICT (month) DO UPDATE SET plan = EXCLUDED.plan, imported_by = EXCLUDED.imported_by, imported_at = now()`,
        [p.month, JSON.stringify(p), actor],
      );
    }
    await appendAudit(tx, { actor, action: 'study.import', entityType: 'study_plan', detail: { months: plans.map((p) => p.month) } });
    return plans.map((p) => p.month);
  });
}

// ---- audience and completion ------------------------------------------------------------

export function inAudience(plan: StudyPlan, s: Staff): boolean {
  const { departments, roles } = plan.audience;
  if (departments?.length && !departments.includes(s.department)) return false;
  if (roles?.length && !roles.some((r) => s.roles.includes(r))) return false;
  return true;
}

export async function audienceOf(q: Queryable, plan: StudyPlan): Promise<Staff[]> {
  return (await listActiveStaff(q)).filter((s) => inAudience(plan, s));
}

/**
 * A completion is late (逾期) when its date in the bot's zone is after the plan's due date:
 * the one rule the confirmation, the study card and 进度/导出 学习 read.
 */
export const isLateCompletion = (plan: Pick<StudyPlan, 'dueOn'>, at: Date, timeZone: string): boolean => localDate(at, timeZone) > plan.dueOn;

/** `at` is the bot's clock (the database's own by default): lateness is judged against it. */
export async function recordCompletion(db: Db, month: string, staffId: string, at?: Date): Promise<{ first: boolean; at: Date }> {
  return db.transaction(async (tx) => {
    const ins = await tx.query<{ completed_at: Date }>(
      `INSERT INTO study_completions (month, staff_id, completed_at) VALUES ($1, $2, COALESCE($3::timestamptz, now())) ON CONFLICT DO NOTHING RETURNING completed_at`,
      [month, staffId, at ?? null],
    );
    if (ins.rows[0]) {
      await appendAudit(tx, { actor: staffId, action: 'study.complete', entityType: 'study', entityId: month });
      return { first: true, at: ins.rows[0].completed_at };
    }
    const r = await tx.query<{ completed_at: Date }>('SELECT completed_at FROM study_completions WHERE month = $1 AND staff_id = $2', [month, staffId]);
    return { first: false, at: r.rows[0].completed_at };
  });
}

export async function completionOf(q: Queryable, month: string, staffId: string): Promise<Date | undefined> {
  const r = await q.query<{ completed_at: Date }>('SELECT completed_at FROM study_completions WHERE month = $1 AND staff_id = $2', [month, staffId]);
  return r.rows[0]?.completed_at;
}

export async function completedIds(q: Queryable, month: string): Promise<Set<string>> {
  const r = await q.query<{ staff_id: string }>('SELECT staff_id FROM study_completions WHERE month = $1', [month]);
  return new Set(r.rows.map((x) => x.staff_id));
}

export interface DepartmentProgress {
  department: string;
  departmentId: number;
  audience: number;
  done: number;
  missing: Staff[];
}

export async function progressByDepartment(q: Queryable, plan: StudyPlan): Promise<DepartmentProgress[]> {
  const [people, done] = await Promise.all([audienceOf(q, plan), completedIds(q, plan.month)]);
  const byDept = new Map<number, DepartmentProgress>();
  for (const s of people) {
    const d = byDept.get(s.departmentId) ?? { department: s.department, departmentId: s.departmentId, audience: 0, done: 0, missing: [] };
    d.audience++;
    if (done.has(s.staffId)) d.done++;
    else d.missing.push(s);
    byDept.set(s.departmentId, d);
  }
  return [...byDept.values()].sort((a, b) => a.departmentId - b.departmentId);
}

// ---- the daily check --------------------------------------------------------------------

export type StudyStep = { kind: 'push' } | { kind: 'remind'; daysLeft: number } | { kind: 'overdue' };

/** How many days after the due date the overdue lists may still go out (the bot was down). */
export const OVERDUE_CATCH_UP_DAYS = 5;

/**
 * What the daily check does for a plan on a local date. The push repeats every day until the
 * due date because it is idempotent per recipient: it only reaches staff who joined since.
 */
export function studySteps(plan: StudyPlan, today: string): StudyStep[] {
  const steps: StudyStep[] = [];
  const pushOn = dayOfMonth(monthFromKey(plan.month), plan.pushDay);
  if (today >= pushOn && today <= plan.dueOn) steps.push({ kind: 'push' });
  const left = daysBetween(today, plan.dueOn);
  if (today > pushOn && plan.reminderDaysBeforeDue.includes(left)) steps.push({ kind: 'remind', daysLeft: left });
  if (left < 0 && -left <= OVERDUE_CATCH_UP_DAYS) steps.push({ kind: 'overdue' });
  return steps;
}
