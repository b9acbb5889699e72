import { z } from 'zod';
import {
  describeAudience,
  STUDY_DONE_ACTION,
  studyCompletedText,
  studyHeadListCard,
  studyLeaderAndHeadCard,
  studyLeaderSummaryCard,
  studyReminderCard,
  studyTaskCard,
} from '../cards/study.js';
import { dailyAt, hasScheduling, scheduling } from '../scheduler/index.js';
import { ledgerKey, type CampaignResult, type Preview } from '../scheduler/outbound.js';
import { flag, month as monthArg, opt } from '../src/bot/args.js';
import type { Bot } from '../src/bot/bot.js';
import { otherMonthStudyCard, STUDY_PUSH_CONFIRM_ACTION, studyPushedCard, studyPushPreviewCard } from '../cards/push.js';
import { addPushTarget } from './push.js';
import { addMonths, dayOfMonth, MONTH_KEY, monthKey, monthOf, monthTitle, zonedTime, type Month } from '../src/domain/calendar.js';
import {
  dateLabel,
  inAudience,
  localDate,
  localTime,
  monthFromKey,
  studySteps,
  type StudyPlan,
} from '../src/domain/study.js';
import { UserError } from '../src/errors.js';

/**
 * Monthly study tasks: the push with a "我已学习" button, `学习` to see the task and one's
 * status, reminders to those not done, and after the due date each department head's list
 * and leadership's summary. Campaign keys are per month and step, so every step is once.
 */

const DONE_WORDS = new Set(['完成', '已完成', '已学习', '学完了', 'done']);
const STUDY_HINT = '发送“学习”查看本月任务，“学习 上月”或“学习 2026-10”查看其他月份，学完后发送“学习 完成”确认。';
const doneSchema = z.object({ m: z.string().regex(MONTH_KEY) });

export const studyKeys = {
  push: (month: string) => `study.${month}.push`,
  remind: (month: string, daysLeft: number) => `study.${month}.remind-${daysLeft}`,
  overdue: (month: string) => `study.${month}.overdue`,
};

// ---- campaigns -------------------------------------------------------------------------

export async function studyPlanFor(bot: Bot, month: Month): Promise<StudyPlan> {
  return bot.repos.study.resolvePlan(bot.deps.settings.study, month);
}

/** The month's push (idempotent: a second call reaches only staff added since). */
export async function pushStudy(bot: Bot, month: Month, createdBy = 'scheduler'): Promise<CampaignResult> {
  const { outbound, timeZone } = scheduling(bot);
  const plan = await studyPlanFor(bot, month);
  const done = await bot.repos.study.completedIds(plan.month);
  const recipients = (await bot.repos.study.audienceOf(plan)).filter((s) => !done.has(s.staffId));
  const today = localDate(bot.now(), timeZone);
  return outbound.createCampaign({
    key: studyKeys.push(plan.month),
    kind: 'study.push',
    title: `${monthTitle(plan.month)}专题学习：${plan.topic}`,
    recipients,
    createdBy,
    render: () => studyTaskCard(plan, { timeZone, pushedOn: today, today }),
  });
}

export async function previewStudy(bot: Bot, month: Month): Promise<Preview & { alreadyDone: number; plan: StudyPlan; alreadySent: number }> {
  const { outbound } = scheduling(bot);
  const plan = await studyPlanFor(bot, month);
  const done = await bot.repos.study.completedIds(plan.month);
  const people = await bot.repos.study.audienceOf(plan);
  const status = await outbound.status(studyKeys.push(plan.month));
  return { ...outbound.preview(people.filter((s) => !done.has(s.staffId))), alreadyDone: people.length - people.filter((s) => !done.has(s.staffId)).length, plan, alreadySent: status?.total ?? 0 };
}

export async function remindStudy(bot: Bot, plan: StudyPlan, daysLeft: number, today: string): Promise<CampaignResult> {
  const done = await bot.repos.study.completedIds(plan.month);
  const recipients = (await bot.repos.study.audienceOf(plan)).filter((s) => !done.has(s.staffId));
  return scheduling(bot).outbound.createCampaign({
    key: studyKeys.remind(plan.month, daysLeft),
    kind: 'study.remind',
    title: `${monthTitle(plan.month)}学习提醒（还剩 ${daysLeft} 天）`,
    recipients,
    render: () => studyReminderCard(plan, daysLeft, today),
  });
}

/** After the due date: each department head gets their own list, leadership the summary. */
export async function escalateStudy(bot: Bot, plan: StudyPlan, today: string): Promise<CampaignResult> {
  const progress = await bot.repos.study.progressByDepartment(plan);
  const byDept = new Map(progress.map((p) => [p.departmentId, p]));
  const staff = await bot.repos.staff.listActiveStaff();
  const heads = staff.filter((s) => s.roles.includes('dept_head') && (byDept.get(s.departmentId)?.missing.length ?? 0) > 0);
  const leaders = staff.filter((s) => s.roles.includes('leader'));
  const summary = studyLeaderSummaryCard(plan, progress, today);
  return scheduling(bot).outbound.createCampaign({
    key: studyKeys.overdue(plan.month),
    kind: 'study.overdue',
    title: `${monthTitle(plan.month)}学习未完成名单`,
    recipients: [...heads, ...leaders],
    render: (s) => {
      const own = byDept.get(s.departmentId);
      const isHead = s.roles.includes('dept_head') && own && own.missing.length > 0;
      if (!s.roles.includes('leader')) return studyHeadListCard(plan, own!, today);
      if (!isHead) return summary;
      return studyLeaderAndHeadCard(summary, studyHeadListCard(plan, own, today));
    },
  });
}

/** The daily check: this month's push (and late joiners), reminders, last month's lists. */
export async function runStudyDaily(bot: Bot, now: Date): Promise<string[]> {
  const { timeZone, scheduler } = scheduling(bot);
  const today = localDate(now, timeZone);
  const current = monthOf(now, timeZone);
  const done: string[] = [];
  for (const month of [addMonths(current, -1), current]) {
    const plan = await studyPlanFor(bot, month);
    for (const step of studySteps(plan, today)) {
      if (step.kind === 'push') {
        const pushOn = dayOfMonth(month, plan.pushDay);
        if (today === pushOn && plan.pushTime > localTime(now, timeZone)) {
          // The plan names a later time today: a one-off job then (the same id twice is one job).
          const [h, m] = plan.pushTime.split(':').map(Number);
          const at = zonedTime(month.year, month.month, plan.pushDay, h, m, timeZone);
          await scheduler.runAt('study.push', at, { month: plan.month }, `study-push-${plan.month}-${plan.pushTime.replace(':', '')}`);
          done.push(`push ${plan.month} at ${plan.pushTime}`);
        } else {
          const r = await pushStudy(bot, month);
          done.push(`push ${plan.month} +${r.added}`);
        }
      } else if (step.kind === 'remind') {
        const r = await remindStudy(bot, plan, step.daysLeft, today);
        done.push(`remind ${plan.month} ${step.daysLeft}d +${r.added}`);
      } else {
        const r = await escalateStudy(bot, plan, today);
        done.push(`overdue ${plan.month} +${r.added}`);
      }
    }
  }
  return done;
}

// ---- registration ----------------------------------------------------------------------

/**
 * A past month's task may be confirmed late by whoever was given it (it was pushed to them):
 * the task is still owed, and the completion is shown as 逾期. A month never given to them,
 * after its due day, stays closed (a card value naming an old month changes nothing).
 */
async function mayStillConfirm(bot: Bot, plan: StudyPlan, staffId: string, today: string): Promise<void> {
  if (today <= plan.dueOn) return;
  const given = await bot.repos.campaigns.readLedgerRow(ledgerKey(studyKeys.push(plan.month), staffId));
  if (given?.status === 'sent') return;
  throw new UserError(`${monthTitle(plan.month)}的学习任务已于${dateLabel(plan.dueOn)}截止，不能再确认。发送“学习”可查看本月的任务。`);
}

const zoneOf = (bot: Bot): string => (hasScheduling(bot) ? scheduling(bot).timeZone : 'Asia/Shanghai');

export function registerStudy(bot: Bot): void {
  bot.command(
    { names: ['学习', 'study'], args: [opt(monthArg('month')), opt(flag('done', [...DONE_WORDS], '完成'))], hint: STUDY_HINT, summary: '查看本月（或写明的月份，如“学习 上月”）的廉洁学习任务和自己的完成情况；“学习 完成”确认已学习', group: '学习与上报',
      // The card carries the asker's own completion record.
      confidential: true },
    async (ctx) => {
      const timeZone = zoneOf(bot);
      const current = monthOf(ctx.now, timeZone);
      const month = ctx.params.month ?? current;
      const done = ctx.params.done === true;
      if (monthKey(month) > monthKey(current)) return `${monthTitle(monthKey(month))}的学习任务还没有开始，开始后会推送给您。`;
      const plan = await studyPlanFor(bot, month);
      const which = monthKey(month) === monthKey(current) ? '本月' : monthTitle(plan.month);
      if (!inAudience(plan, ctx.staff)) {
        return `${which}的学习任务“${plan.topic}”面向${describeAudience(plan)}，您不在本次学习范围内。`;
      }
      if (done) {
        if (monthKey(month) < monthKey(current)) await mayStillConfirm(bot, plan, ctx.staff.staffId, localDate(ctx.now, timeZone));
        // The button's twin, for clients where card clicks do not arrive.
        return studyCompletedText(await bot.repos.study.recordCompletion(plan.month, ctx.staff.staffId, ctx.now), plan.month, timeZone, plan.dueOn);
      }
      const doneAt = await bot.repos.study.completionOf(plan.month, ctx.staff.staffId);
      return studyTaskCard(plan, { ...(doneAt ? { doneAt } : {}), timeZone, today: localDate(ctx.now, timeZone) });
    },
  );

  bot.action(
    STUDY_DONE_ACTION,
    async (ctx) => {
      const timeZone = zoneOf(bot);
      const month = String(ctx.value.m);
      const current = monthKey(monthOf(ctx.now, timeZone));
      if (month > current) throw new UserError('这项学习任务还没有开始。');
      const plan = await studyPlanFor(bot, monthFromKey(month));
      // The card's month is only a claim: it must name a task open to this person today.
      if (!inAudience(plan, ctx.staff)) throw new UserError(`${monthTitle(month)}的学习任务“${plan.topic}”面向${describeAudience(plan)}，您不在本次学习范围内。`);
      if (month < current) await mayStillConfirm(bot, plan, ctx.staff.staffId, localDate(ctx.now, timeZone));
      const r = await bot.repos.study.recordCompletion(month, ctx.staff.staffId, ctx.now);
      return {
        toast: studyCompletedText(r, month, timeZone, plan.dueOn),
        card: studyTaskCard(plan, { doneAt: r.at, timeZone }),
      };
    },
    { schema: doneSchema, confidential: true },
  );

  if (!hasScheduling(bot)) return;
  bot.action(
    STUDY_PUSH_CONFIRM_ACTION,
    async (ctx) => {
      const month = monthFromKey(ctx.value.m);
      return { card: studyPushedCard(month, await pushStudy(bot, month, ctx.staff.staffId)) };
    },
    { schema: z.object({ m: z.string().regex(MONTH_KEY) }), roles: ['admin'] },
  );
  addPushTarget(bot, {
    words: ['学习', 'study'],
    args: [opt(monthArg('month', 'YYYY-MM')), opt(flag('confirmed', ['确认', 'confirm']))],
    previewArgs: [opt(monthArg('month', 'YYYY-MM'))],
    async run(ctx) {
      const current = monthOf(ctx.now, bot.timeZone);
      const month = ctx.params.month ?? current;
      // Another month's task reaches everyone at once (a past one already late): shown first, sent on 确认.
      if (monthKey(month) !== monthKey(current) && !ctx.params.confirmed) {
        const p = await previewStudy(bot, month);
        return otherMonthStudyCard(month, { ...p, topic: p.plan.topic }, monthKey(month) < monthKey(current));
      }
      return studyPushedCard(month, await pushStudy(bot, month, ctx.staff.staffId));
    },
    async preview(ctx) {
      const month = ctx.params.month ?? monthOf(ctx.now, bot.timeZone);
      const p = await previewStudy(bot, month);
      return studyPushPreviewCard(month, { ...p, topic: p.plan.topic });
    },
  });
  const { scheduler } = scheduling(bot);
  scheduler.every('study.daily', dailyAt(bot.deps.settings.study.pushTime), async ({ now }) => {
    const done = await runStudyDaily(bot, now);
    if (done.length) bot.log.info({ steps: done }, 'study daily check');
  });
  scheduler.handle('study.push', async ({ data }) => {
    await pushStudy(bot, monthFromKey(String(data.month)));
  });
}
