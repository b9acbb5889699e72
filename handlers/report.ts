import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  REPORT_CANCEL as CANCEL,
  REPORT_CONFIRM as CONFIRM,
  REPORT_EDIT as EDIT,
  reportCancelledCard,
  reportConfirmationText,
  reportConfirmCard,
  reportFormCard as formCard,
  reportMonthTitle as monthTitle,
  REPORT_OPEN as OPEN,
  reportOverdueCard,
  reportReminderCard,
  REPORT_SUBMIT as SUBMIT,
  reportSubmittedCard,
  reportViewCard,
} from '../cards/report.js';
import type { Card } from '../cards/model.js';
import { dailyAt, hasScheduling, scheduling } from '../scheduler/index.js';
import type { CampaignResult, Preview, Staged } from '../scheduler/outbound.js';
import { department, flag, month, opt } from '../src/bot/args.js';
import type { Bot } from '../src/bot/bot.js';
import { reportRemindedCard, reportReminderPreviewCard } from '../cards/push.js';
import { addPushTarget } from './push.js';
import { addMonths, daysBetween, localDate, MONTH_KEY, monthFromKey, monthKey, monthOf, type Month } from '../src/domain/calendar.js';
import {
  deadlineOf,
  draftFromForm,
  mayReportFor,
  mayViewReport,
  reportSteps,
  type Department,
  type ManualRound,
  reportDraftSchema,
  type ReportDraft,
  type Submission,
} from '../src/domain/report.js';
import { UserError } from '../src/errors.js';
import { type Staff } from '../src/store/staff.js';

/**
 * The 20th-of-month report: `上报` (or the button on a reminder) opens a form — progress
 * summary and the named figures — then a confirmation; reminders go to departments that have
 * not reported, and the day after the deadline leadership and the discipline office get the
 * list of those still missing.
 */

const monthSchema = z.object({ m: z.string().regex(MONTH_KEY) });
const submitSchema = z.object({ m: z.string().regex(MONTH_KEY), d: z.coerce.number().int().positive() });
/** 确认提交, 修改 and 取消 on the confirmation all name the waiting draft only. */
const confirmSchema = z.object({ id: z.string().uuid() });

export const reportKeys = {
  remind: (month: string, daysLeft: number) => `report.${month}.remind-${daysLeft}`,
  manual: (month: string, today: string) => `report.${month}.remind-manual-${today}`,
  overdue: (month: string) => `report.${month}.overdue`,
};

function tz(bot: Bot): string {
  return bot.timeZone;
}

/** The card with the form, for one department and month. */
async function reportFormCard(bot: Bot, staff: Staff, month: Month, now: Date, draft?: ReportDraft): Promise<Card> {
  const { settings } = bot.deps;
  const timeZone = tz(bot);
  const key = monthKey(month);
  const deadline = deadlineOf(month, settings.report, timeZone);
  const prev = await bot.repos.report.currentSubmission(key, staff.departmentId);
  return formCard({
    month: key,
    department: { id: staff.departmentId, name: staff.department },
    deadline: deadline.date,
    late: now.getTime() >= deadline.endsAt.getTime(),
    ...(prev ? { prev } : {}),
    ...(draft ? { draft } : {}),
    figures: settings.report.figures,
    timeZone,
  });
}

/**
 * The months a report can be filed for now: this month, and last month (late) because its
 * reminder or form may be clicked after the 1st. A card value is never trusted for more.
 */
function reportableMonths(bot: Bot, now: Date): string[] {
  const current = monthOf(now, tz(bot));
  return [monthKey(addMonths(current, -1)), monthKey(current)];
}

function checkReportMonth(bot: Bot, month: string, now: Date): void {
  if (!reportableMonths(bot, now).includes(month)) {
    throw new UserError(`这份表单对应${monthTitle(month)}，该月的报告现在不能提交。请发送“上报”打开本月的报告。`);
  }
}

async function reporterFor(bot: Bot, staff: Staff): Promise<Department> {
  if (!mayReportFor(staff)) throw new UserError('“上报”用于科室负责人或报告联络员报送本科室的月度专项整治进展。您目前不是报告联络员，如有需要请联系管理员。');
  const required = await bot.repos.report.requiredDepartments(bot.deps.settings.report);
  const dept = required.find((d) => d.id === staff.departmentId);
  if (!dept) throw new UserError(`${staff.department}不在需要按月报送的重点责任科室名单中，无需上报。`);
  return dept;
}

/**
 * `上报 查看`: a department's current report for a month, text and every figure. Leadership
 * and the discipline office read any department's, a department head their own.
 */
export async function viewReport(bot: Bot, staff: Staff, departmentName: string, month: Month): Promise<Card | string> {
  const name = departmentName.trim();
  const dept = (await bot.repos.staff.listDepartments()).find((d) => d.name === name);
  // Those who may read no report are refused before the name is checked: they learn nothing about which departments exist.
  if (mayViewReport(staff, dept?.id ?? -1) === 'no') return '抱歉，查看科室报告仅限院领导、纪检监察、科室负责人使用。';
  if (!dept) return `没有名为“${name}”的科室，请核对科室名称。`;
  if (mayViewReport(staff, dept.id) === 'own-only') return `抱歉，科室负责人只能查看本科室（${staff.department}）的报告。`;
  const key = monthKey(month);
  const submission = await bot.repos.report.submissionWithSubmitter(key, dept.id);
  if (!submission) return `该科室${monthTitle(key)}尚未上报。`;
  return reportViewCard({ month: key, department: dept.name, submission, figures: bot.deps.settings.report.figures, timeZone: tz(bot) });
}

// ---- campaigns -------------------------------------------------------------------------

/** Owners of every department that has not reported for the month. */
export async function reminderRecipients(bot: Bot, month: string): Promise<{ staff: Staff; department: Department }[]> {
  const missing = await bot.repos.report.missingDepartments(bot.deps.settings.report, month);
  const out: { staff: Staff; department: Department }[] = [];
  for (const d of missing) for (const s of await bot.repos.report.ownersOf(d.id)) out.push({ staff: s, department: d });
  return out;
}

export async function remindReports(
  bot: Bot,
  now: Date,
  /** `again` (with `manual`): a new round to the departments still missing, even if one went out today. */
  opts: { daysLeft?: number; manual?: boolean; again?: boolean; createdBy?: string; month?: Month } = {},
): Promise<CampaignResult & { manual?: ManualRound }> {
  const timeZone = tz(bot);
  const month = opts.month ?? monthOf(now, timeZone);
  const key = monthKey(month);
  const today = localDate(now, timeZone);
  const deadline = deadlineOf(month, bot.deps.settings.report, timeZone).date;
  // Negative once the deadline has passed: a reminder then says how late, not 截止当天.
  const daysLeft = opts.daysLeft ?? daysBetween(today, deadline);
  const people = await reminderRecipients(bot, key);
  const deptOf = new Map(people.map((p) => [p.staff.staffId, p.department.name]));
  const departments = new Set(deptOf.values()).size;
  let manual: ManualRound | undefined;
  let campaignKey = reportKeys.remind(key, daysLeft);
  if (opts.manual) {
    // A repeated 推送 adds to the day's latest round (only people not yet in it get it); 再次
    // with departments still missing starts the next round, keyed `-2`, `-3`…
    const base = reportKeys.manual(key, today);
    const rounds = await bot.repos.campaigns.campaignRounds(base);
    const last = rounds.at(-1);
    const next = last && opts.again && departments > 0;
    const round = next ? rounds.length + 1 : Math.max(rounds.length, 1);
    campaignKey = round === 1 ? base : `${base}-${round}`;
    manual = {
      round,
      missing: departments,
      // The bot's clock (meta.at), not the database's, says when: the two differ in tests and a sandbox.
      ...(last ? { previous: { at: typeof last.meta.at === 'string' ? new Date(last.meta.at) : last.createdAt, departments: last.departments } } : {}),
    };
  }
  const r = await scheduling(bot).outbound.createCampaign({
    key: campaignKey,
    ...(opts.manual ? { meta: { at: now.toISOString() } } : {}),
    kind: 'report.remind',
    title: `${monthTitle(key)}报告提醒（${daysLeft < 0 ? `已逾期 ${-daysLeft} 天` : daysLeft === 0 ? '截止当天' : `还剩 ${daysLeft} 天`}）`,
    recipients: people.map((p) => p.staff),
    ...(opts.createdBy ? { createdBy: opts.createdBy } : {}),
    render: (s) => reportReminderCard(key, deadline, today, daysLeft, deptOf.get(s.staffId) ?? s.department, Boolean(opts.manual)),
  });
  return manual ? { ...r, manual } : r;
}

export async function previewReportReminder(bot: Bot, now: Date): Promise<Preview & { departments: string[] }> {
  const key = monthKey(monthOf(now, tz(bot)));
  const people = await reminderRecipients(bot, key);
  return { ...scheduling(bot).outbound.preview(people.map((p) => p.staff)), departments: [...new Set(people.map((p) => p.department.name))] };
}

/** The day after the deadline: leadership and the discipline office get the missing list. */
export async function escalateReports(bot: Bot, month: Month, today: string): Promise<CampaignResult | undefined> {
  const key = monthKey(month);
  const { settings } = bot.deps;
  const missing = await bot.repos.report.missingDepartments(settings.report, key);
  if (missing.length === 0) return undefined;
  const deadline = deadlineOf(month, settings.report, tz(bot)).date;
  const rows: { department: string; owners: string[] }[] = [];
  for (const d of missing) rows.push({ department: d.name, owners: (await bot.repos.report.ownersOf(d.id)).map((s) => s.name) });
  const required = await bot.repos.report.requiredDepartments(settings.report);
  const staff = await bot.repos.staff.listActiveStaff();
  const recipients = staff.filter((s) => settings.report.escalateTo.some((r) => s.roles.includes(r)));
  const body = reportOverdueCard(key, { today, deadline, required: required.length, missing: rows });
  return scheduling(bot).outbound.createCampaign({
    key: reportKeys.overdue(key),
    kind: 'report.overdue',
    title: `${monthTitle(key)}报告未报送名单`,
    recipients,
    render: () => body,
  });
}

export async function runReportDaily(bot: Bot, now: Date): Promise<string[]> {
  const timeZone = tz(bot);
  const today = localDate(now, timeZone);
  const current = monthOf(now, timeZone);
  const { report } = bot.deps.settings;
  const done: string[] = [];
  for (const month of [addMonths(current, -1), current]) {
    const deadline = deadlineOf(month, report, timeZone).date;
    for (const step of reportSteps(deadline, report.reminderDaysBefore, today)) {
      if (step.kind === 'remind') {
        const r = await remindReports(bot, now, { daysLeft: step.daysLeft, month });
        done.push(`remind ${monthKey(month)} ${step.daysLeft}d +${r.added}`);
      } else {
        const r = await escalateReports(bot, month, today);
        done.push(`overdue ${monthKey(month)} +${r?.added ?? 0}`);
      }
    }
  }
  return done;
}

// ---- registration ----------------------------------------------------------------------

const draftKey = (id: string): string => `report-draft:${id}`;
const DRAFT_TTL_MS = 24 * 3600 * 1000;

export function registerReport(bot: Bot): void {
  /** The waiting draft of the reporter's own department, or the toast that says why there is none. */
  async function ownDraft(staff: Staff, id: string): Promise<{ draft: ReportDraft; dept: Department } | { toast: string }> {
    const dept = await reporterFor(bot, staff);
    // A draft of another shape (written before a deploy) is as good as expired: the form is asked again.
    const read = await bot.state.get(draftKey(id), reportDraftSchema);
    if (!read || !('value' in read)) return { toast: '这份待确认的报告已过期或已提交，请发送“上报”查看。' };
    if (read.value.departmentId !== dept.id) return { toast: '这份报告不属于您所在的科室。' };
    return { draft: read.value, dept };
  }

  bot.command(
    { names: ['上报', 'report'], roles: ['dept_head', 'report_owner'], summary: '报送本科室本月的专项整治进展和数据（科室负责人、报告联络员）；院领导和纪检监察室可查看各科室的报告', group: '学习与上报' },
    async (ctx) => {
      await reporterFor(bot, ctx.staff);
      return reportFormCard(bot, ctx.staff, monthOf(ctx.now, tz(bot)), ctx.now);
    },
  );

  bot.command(
    // The text and figures of a department's report: for leadership and the discipline office (a head: their own).
    { names: ['上报 查看', '上报 view'], args: [department('department'), opt(month('month'))], example: '上报 查看 心血管内科 2026-11', roles: ['leader', 'discipline', 'dept_head'], summary: '查看科室报告', group: '学习与上报', confidential: true },
    (ctx) => viewReport(bot, ctx.staff, ctx.params.department.name, ctx.params.month ?? monthOf(ctx.now, tz(bot))),
  );

  bot.action(
    OPEN,
    async (ctx) => {
      await reporterFor(bot, ctx.staff);
      const month = String(ctx.value.m);
      // A reminder from last month clicked today opens that month's report; any other month, this one.
      const target = reportableMonths(bot, ctx.now).includes(month) ? monthFromKey(month) : monthOf(ctx.now, tz(bot));
      const c = await reportFormCard(bot, ctx.staff, target, ctx.now);
      // Sent as a new message so the reminder stays readable; the form is what matters.
      await ctx.reply(c);
      return { toast: '已打开报告表单。' };
    },
    { schema: monthSchema },
  );

  bot.action(
    SUBMIT,
    async (ctx) => {
      const dept = await reporterFor(bot, ctx.staff);
      const { m, d } = ctx.value as { m: string; d: number };
      if (d !== dept.id) throw new UserError('这张表单不属于您所在的科室，请发送“上报”重新打开。');
      checkReportMonth(bot, m, ctx.now);
      const draft = draftFromForm(ctx.form, bot.deps.settings.report.figures, m, d, bot.deps.settings.report.rules);
      const id = randomUUID();
      await bot.state.set(draftKey(id), draft, DRAFT_TTL_MS);
      return { card: reportConfirmCard(draft, dept.name, bot.deps.settings.report.figures, id) };
    },
    { schema: submitSchema },
  );

  bot.action(
    CONFIRM,
    async (ctx) => {
      const got = await ownDraft(ctx.staff, String(ctx.value.id));
      if ('toast' in got) return got;
      const { draft, dept } = got;
      // The draft may have waited past a month's end.
      checkReportMonth(bot, draft.month, ctx.now);
      const timeZone = tz(bot);
      const draftId = String(ctx.value.id);
      const confirmed = (submission: Submission, replaced: boolean): Card => reportSubmittedCard(dept.name, draft.month, submission, replaced, bot.deps.settings.report.figures, timeZone);
      let staged: Staged = [];
      // Keyed by the confirmation: clicked again, or redelivered after a crash, it finds its version.
      const { submission, replaced } = await bot.repos.report.submitReport(draft, ctx.staff, ctx.now, bot.deps.settings.report, timeZone, {
        draftId,
        followUps: async (tx, r) => {
          // The confirmed card, written over the one clicked, with the submission: a crash
          // before the click is answered still shows the reporter that it went in.
          if (!ctx.messageId || !hasScheduling(bot)) return;
          staged = await scheduling(bot).outbound.stage(tx, {
            key: `report.confirm.${draftId}`,
            kind: 'report.confirm',
            title: '报告提交确认',
            updates: [{ staffId: ctx.staff.staffId, platform: ctx.platform, messageId: ctx.messageId, card: confirmed(r.submission, r.replaced) }],
          });
        },
      });
      await bot.state.delete(draftKey(draftId));
      if (staged.length) await scheduling(bot).outbound.deliver(staged);
      return { toast: reportConfirmationText(dept.name, draft.month, submission, replaced), card: confirmed(submission, replaced) };
    },
    { schema: confirmSchema },
  );

  bot.action(
    EDIT,
    async (ctx) => {
      const got = await ownDraft(ctx.staff, String(ctx.value.id));
      if ('toast' in got) return got;
      checkReportMonth(bot, got.draft.month, ctx.now);
      // Submitting the form again makes a new draft; this one simply expires.
      return { card: await reportFormCard(bot, ctx.staff, monthFromKey(got.draft.month), ctx.now, got.draft) };
    },
    { schema: confirmSchema },
  );

  bot.action(
    CANCEL,
    async (ctx) => {
      // No draft (already confirmed, say): the card is left as it is, never turned into 已取消 over a submission.
      const got = await ownDraft(ctx.staff, String(ctx.value.id));
      if ('toast' in got) return got;
      await bot.state.delete(draftKey(String(ctx.value.id)));
      return { toast: '已取消，未提交。', card: reportCancelledCard(got.draft.month, got.dept.name) };
    },
    { schema: confirmSchema },
  );

  if (!hasScheduling(bot)) return;
  addPushTarget(bot, {
    words: ['报告提醒', '报告', 'report'],
    // 再次: today's manual reminder went out already and the admin insists (a new round for those still missing).
    args: [opt(flag('again', ['再次', 'again']))],
    previewArgs: [],
    run: async (ctx) => reportRemindedCard(await remindReports(bot, ctx.now, { manual: true, again: ctx.params.again === true, createdBy: ctx.staff.staffId }), bot.timeZone),
    preview: async (ctx) => reportReminderPreviewCard(await previewReportReminder(bot, ctx.now)),
  });
  scheduling(bot).scheduler.every('report.daily', dailyAt(bot.deps.settings.report.reminderTime), async ({ now }) => {
    const done = await runReportDaily(bot, now);
    if (done.length) bot.log.info({ steps: done }, 'report daily check');
  });
}
