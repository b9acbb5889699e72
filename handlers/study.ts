import { z } from 'zod';
import { actions, button, card, fields, link, markdown, note, table, text } from '../cards/builders.js';
import { escapeMarkdown } from '../cards/markdown.js';
import type { Card } from '../cards/model.js';
import { dailyAt, hasScheduling, scheduling } from '../scheduler/index.js';
import type { CampaignResult, Preview } from '../scheduler/outbound.js';
import type { Bot } from '../src/bot/bot.js';
import { addMonths, dayOfMonth, MONTH_KEY, monthKey, monthOf, monthTitle, zonedTime, type Month } from '../src/domain/month.js';
import { ROLE_NAMES } from '../src/domain/roles.js';
import {
  audienceOf,
  completedIds,
  completionOf,
  dateLabel,
  inAudience,
  localDate,
  localTime,
  monthFromKey,
  progressByDepartment,
  recordCompletion,
  resolvePlan,
  shortDateLabel,
  studySteps,
  type StudyPlan,
} from '../src/domain/study.js';
import { UserError } from '../src/errors.js';
import { listActiveStaff, type Staff } from '../src/store/staff.js';

/**
 * Monthly study tasks: the push with a "我已学习" button, `学习` to see the task and one's
 * status, reminders to those not done, and after the due date each department head's list
 * and leadership's summary. Campaign keys are per month and step, so every step is once.
 */

const DONE_ACTION = 'study.done';
const DONE_WORDS = new Set(['完成', '已完成', '已学习', '学完了', 'done']);
const doneSchema = z.object({ m: z.string().regex(MONTH_KEY) });


export const studyKeys = {
  push: (month: string) => `study.${month}.push`,
  remind: (month: string, daysLeft: number) => `study.${month}.remind-${daysLeft}`,
  overdue: (month: string) => `study.${month}.overdue`,
};

function materialElements(plan: StudyPlan) {
  return [
    plan.summary ? text(plan.summary) : null,
    plan.keyPoints.length ? markdown(plan.keyPoints.map((p) => `- ${escapeMarkdown(p)}`).join('\n')) : null,
    plan.material?.text ? text(plan.material.text) : null,
    plan.source ? note(`出处：${plan.source}`) : null,
  ];
}

export function studyTaskCard(plan: StudyPlan, opts: { doneAt?: Date; timeZone: string; pushedOn?: string }): Card {
  const buttons = [
    ...(opts.doneAt ? [] : [button('我已学习', DONE_ACTION, { m: plan.month }, { style: 'primary' })]),
    ...(plan.material?.url ? [link('打开学习材料', plan.material.url)] : []),
  ];
  return card(
    `${monthTitle(plan.month)}廉洁专题学习：${plan.topic}`,
    [
      fields([
        ['学习主题', plan.topic],
        ['完成期限', `${dateLabel(plan.dueOn)}前`],
        ['我的状态', opts.doneAt ? `已完成（${dateLabel(localDate(opts.doneAt, opts.timeZone))}）` : '未完成'],
      ]),
      ...materialElements(plan),
      buttons.length ? actions(...buttons) : null,
      note(opts.doneAt ? '感谢您完成本月学习。' : '学习完成后请点击“我已学习”（或回复“学习 完成”），每人每月只需确认一次。'),
      opts.pushedOn ? note(`本通知发送于${dateLabel(opts.pushedOn)}。`) : null,
    ],
    opts.doneAt ? 'green' : 'blue',
  );
}

function reminderCard(plan: StudyPlan, daysLeft: number, today: string): Card {
  return card(
    `学习提醒：${monthTitle(plan.month)}专题学习还剩 ${daysLeft} 天`,
    [
      text(`您好，${monthTitle(plan.month)}的廉洁专题学习“${plan.topic}”将于${dateLabel(plan.dueOn)}截止，今天是${shortDateLabel(today)}，还剩 ${daysLeft} 天。学习后请点击“我已学习”。`),
      ...materialElements(plan),
      actions(button('我已学习', DONE_ACTION, { m: plan.month }, { style: 'primary' }), ...(plan.material?.url ? [link('打开学习材料', plan.material.url)] : [])),
    ],
    'orange',
  );
}

function headListCard(plan: StudyPlan, dept: { department: string; audience: number; done: number; missing: Staff[] }, today: string): Card {
  return card(
    `本科室未完成${monthTitle(plan.month)}学习的人员`,
    [
      text(`“${plan.topic}”已于${dateLabel(plan.dueOn)}截止。${dept.department}应学 ${dept.audience} 人，已完成 ${dept.done} 人，以下 ${dept.missing.length} 人尚未完成，请督促补学：`),
      table(['工号', '姓名'], dept.missing.map((s) => [s.staffId, s.name])),
      note(`统计截至${dateLabel(today)}。`),
    ],
    'orange',
  );
}

function leaderSummaryCard(plan: StudyPlan, rows: { department: string; audience: number; done: number }[], today: string): Card {
  const total = rows.reduce((n, r) => n + r.audience, 0);
  const done = rows.reduce((n, r) => n + r.done, 0);
  const pct = (a: number, b: number) => (b === 0 ? '—' : `${Math.round((a / b) * 1000) / 10}%`);
  return card(
    `${monthTitle(plan.month)}廉洁专题学习完成情况`,
    [
      fields([
        ['学习主题', plan.topic],
        ['截止日期', dateLabel(plan.dueOn)],
        ['全院完成', `${done} / ${total}（${pct(done, total)}）`],
      ]),
      table(['科室', '应学', '已完成', '完成率'], rows.map((r) => [r.department, r.audience, r.done, pct(r.done, r.audience)])),
      note(`统计截至${dateLabel(today)}；未完成名单已分别发给各科室负责人。`),
    ],
    done === total ? 'green' : 'orange',
  );
}

// ---- campaigns -------------------------------------------------------------------------

export async function studyPlanFor(bot: Bot, month: Month): Promise<StudyPlan> {
  return resolvePlan(bot.db, bot.deps.settings.study, month);
}

/** The month's push (idempotent: a second call reaches only staff added since). */
export async function pushStudy(bot: Bot, month: Month, createdBy = 'scheduler'): Promise<CampaignResult> {
  const { outbound, timeZone } = scheduling(bot);
  const plan = await studyPlanFor(bot, month);
  const done = await completedIds(bot.db, plan.month);
  const recipients = (await audienceOf(bot.db, plan)).filter((s) => !done.has(s.staffId));
  const today = localDate(bot.now(), timeZone);
  return outbound.createCampaign({
    key: studyKeys.push(plan.month),
    kind: 'study.push',
    title: `${monthTitle(plan.month)}专题学习：${plan.topic}`,
    recipients,
    createdBy,
    render: () => studyTaskCard(plan, { timeZone, pushedOn: today }),
  });
}

export async function previewStudy(bot: Bot, month: Month): Promise<Preview & { alreadyDone: number; plan: StudyPlan; alreadySent: number }> {
  const { outbound } = scheduling(bot);
  const plan = await studyPlanFor(bot, month);
  const done = await completedIds(bot.db, plan.month);
  const people = await audienceOf(bot.db, plan);
  const status = await outbound.status(studyKeys.push(plan.month));
  return { ...outbound.preview(people.filter((s) => !done.has(s.staffId))), alreadyDone: people.length - people.filter((s) => !done.has(s.staffId)).length, plan, alreadySent: status?.total ?? 0 };
}

export async function remindStudy(bot: Bot, plan: StudyPlan, daysLeft: number, today: string): Promise<CampaignResult> {
  const done = await completedIds(bot.db, plan.month);
  const recipients = (await audienceOf(bot.db, plan)).filter((s) => !done.has(s.staffId));
  return scheduling(bot).outbound.createCampaign({
    key: studyKeys.remind(plan.month, daysLeft),
    kind: 'study.remind',
    title: `${monthTitle(plan.month)}学习提醒（还剩 ${daysLeft} 天）`,
    recipients,
    render: () => reminderCard(plan, daysLeft, today),
  });
}

/** After the due date: each department head gets their own list, leadership the summary. */
export async function escalateStudy(bot: Bot, plan: StudyPlan, today: string): Promise<CampaignResult> {
  const progress = await progressByDepartment(bot.db, plan);
  const byDept = new Map(progress.map((p) => [p.departmentId, p]));
  const staff = await listActiveStaff(bot.db);
  const heads = staff.filter((s) => s.roles.includes('dept_head') && (byDept.get(s.departmentId)?.missing.length ?? 0) > 0);
  const leaders = staff.filter((s) => s.roles.includes('leader'));
  const summary = leaderSummaryCard(plan, progress, today);
  return scheduling(bot).outbound.createCampaign({
    key: studyKeys.overdue(plan.month),
    kind: 'study.overdue',
    title: `${monthTitle(plan.month)}学习未完成名单`,
    recipients: [...heads, ...leaders],
    render: (s) => {
      const own = byDept.get(s.departmentId);
      const isHead = s.roles.includes('dept_head') && own && own.missing.length > 0;
      if (!s.roles.includes('leader')) return headListCard(plan, own!, today);
      if (!isHead) return summary;
      // A leader who also heads a department gets both in one card.
      const list = headListCard(plan, own, today);
      return { ...summary, elements: [...summary.elements, { type: 'divider' }, ...list.elements] };
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

/** What a person is told after confirming the month's study, by button or by message. */
function completedText(r: { first: boolean; at: Date }, month: string, timeZone: string): string {
  return r.first ? `已记录：您已完成${monthTitle(month)}的学习，谢谢！` : `您已于${dateLabel(localDate(r.at, timeZone))}确认完成${monthTitle(month)}的学习，无需重复确认。`;
}

// ---- registration ----------------------------------------------------------------------

export function registerStudy(bot: Bot): void {
  bot.command(
    { names: ['学习', 'study'], usage: '学习 [完成]', summary: '查看本月的廉洁学习任务和自己的完成情况；“学习 完成”确认已学习', group: '学习与上报',
      // The card carries the asker's own completion record.
      confidential: true },
    async (ctx) => {
      const timeZone = hasScheduling(bot) ? scheduling(bot).timeZone : 'Asia/Shanghai';
      const month = monthOf(ctx.now, timeZone);
      const plan = await studyPlanFor(bot, month);
      if (!inAudience(plan, ctx.staff)) {
        return `本月的学习任务“${plan.topic}”面向${describeAudience(plan)}，您不在本次学习范围内。`;
      }
      const arg = ctx.args[0]?.toLowerCase();
      if (arg && !DONE_WORDS.has(arg)) return `没有看懂“${ctx.rest}”。发送“学习”查看本月任务，学完后发送“学习 完成”确认。`;
      if (arg) {
        // The button's twin, for clients where card clicks do not arrive.
        return completedText(await recordCompletion(bot.db, plan.month, ctx.staff.staffId), plan.month, timeZone);
      }
      const doneAt = await completionOf(bot.db, plan.month, ctx.staff.staffId);
      return studyTaskCard(plan, { ...(doneAt ? { doneAt } : {}), timeZone });
    },
  );

  bot.action(
    DONE_ACTION,
    async (ctx) => {
      const timeZone = hasScheduling(bot) ? scheduling(bot).timeZone : 'Asia/Shanghai';
      const month = String(ctx.value.m);
      const current = monthKey(monthOf(ctx.now, timeZone));
      if (month > current) throw new UserError('这项学习任务还没有开始。');
      const plan = await studyPlanFor(bot, monthFromKey(month));
      // The card's month is only a claim: it must name a task open to this person today.
      if (!inAudience(plan, ctx.staff)) throw new UserError(`${monthTitle(month)}的学习任务“${plan.topic}”面向${describeAudience(plan)}，您不在本次学习范围内。`);
      if (month < current && localDate(ctx.now, timeZone) > plan.dueOn) {
        throw new UserError(`${monthTitle(month)}的学习任务已于${dateLabel(plan.dueOn)}截止，不能再确认。发送“学习”可查看本月的任务。`);
      }
      const r = await recordCompletion(bot.db, month, ctx.staff.staffId);
      return {
        toast: completedText(r, month, timeZone),
        card: studyTaskCard(plan, { doneAt: r.at, timeZone }),
      };
    },
    { schema: doneSchema, confidential: true },
  );

  if (!hasScheduling(bot)) return;
  const { scheduler } = scheduling(bot);
  scheduler.every('study.daily', dailyAt(bot.deps.settings.study.pushTime), async ({ now }) => {
    const done = await runStudyDaily(bot, now);
    if (done.length) bot.log.info({ steps: done }, 'study daily check');
  });
  scheduler.handle('study.push', async ({ data }) => {
    await pushStudy(bot, monthFromKey(String(data.month)));
  });
}

export function describeAudience(plan: StudyPlan): string {
  const parts: string[] = [];
  if (plan.audience.departments?.length) parts.push(plan.audience.departments.join('、'));
  if (plan.audience.roles?.length) parts.push(plan.audience.roles.map((r) => ROLE_NAMES[r]).join('、'));
  return parts.length ? parts.join('；') : '全院职工';
}
