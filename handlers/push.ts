import type { Card } from '../cards/model.js';
import { otherMonthStudyCard, STUDY_PUSH_CONFIRM_ACTION, reportRemindedCard, reportReminderPreviewCard, pushTargetsText, studyPushedCard, studyPushPreviewCard } from '../cards/push.js';
import { scheduling } from '../scheduler/index.js';
import type { Bot } from '../src/bot/bot.js';
import type { CommandContext } from '../src/bot/context.js';
import { z } from 'zod';
import { MONTH_KEY, monthKey, monthOf, parseMonth } from '../src/domain/calendar.js';
import { monthFromKey } from '../src/domain/study.js';

const CONFIRM_WORDS = new Set(['确认', 'confirm']);
import { UserError } from '../src/errors.js';
import { closest } from '../src/bot/command-parser.js';
import { quoteTyped } from '../src/bot/small-talk.js';
import { previewReportReminder, remindReports } from './report.js';
import { previewStudy, pushStudy } from './study.js';

/**
 * Administrators run a campaign now (`推送 …`) or count who it would reach (`预览 …`). Other
 * features add their own targets with addPushTarget(bot, {...}) from their register function;
 * a manual push uses the same campaign key as the scheduled one, so it never sends twice.
 */

export interface PushTarget {
  /** Words after 推送/预览, e.g. ['考试', 'quiz']. */
  words: string[];
  label: string;
  run(ctx: CommandContext, args: string[]): Promise<Card | string>;
  preview(ctx: CommandContext, args: string[]): Promise<Card | string>;
}

const targets = new WeakMap<Bot, PushTarget[]>();

export function addPushTarget(bot: Bot, t: PushTarget): void {
  targets.set(bot, [...(targets.get(bot) ?? []), t]);
}

function builtin(bot: Bot): PushTarget[] {
  const monthArg = (ctx: CommandContext, args: string[]) => {
    const tz = scheduling(bot).timeZone;
    if (!args[0]) return monthOf(ctx.now, tz);
    const p = parseMonth(args[0], ctx.now, tz);
    if (!p.ok) throw new UserError(p.message);
    return p.month;
  };
  return [
    {
      words: ['学习', 'study'],
      label: '学习 [YYYY-MM]',
      async run(ctx, args) {
        const month = monthArg(ctx, args);
        const current = monthOf(ctx.now, scheduling(bot).timeZone);
        // Another month's task reaches everyone at once (a past one already late): shown first, sent on 确认.
        if (monthKey(month) !== monthKey(current) && !CONFIRM_WORDS.has(args[1] ?? '')) {
          const p = await previewStudy(bot, month);
          return otherMonthStudyCard(month, { ...p, topic: p.plan.topic }, monthKey(month) < monthKey(current));
        }
        const r = await pushStudy(bot, month, ctx.staff.staffId);
        return studyPushedCard(month, r);
      },
      async preview(ctx, args) {
        const month = monthArg(ctx, args);
        const p = await previewStudy(bot, month);
        return studyPushPreviewCard(month, { ...p, topic: p.plan.topic });
      },
    },
    {
      words: ['报告提醒', '报告', 'report'],
      label: '报告提醒',
      async run(ctx, args) {
        const r = await remindReports(bot, ctx.now, { manual: true, again: args[0] === '再次', createdBy: ctx.staff.staffId });
        return reportRemindedCard(r, scheduling(bot).timeZone);
      },
      async preview(ctx) {
        return reportReminderPreviewCard(await previewReportReminder(bot, ctx.now));
      },
    },
  ];
}

function find(bot: Bot, word: string | undefined, verb: '推送' | '预览'): PushTarget {
  const all = [...builtin(bot), ...(targets.get(bot) ?? [])];
  const hit = all.find((t) => t.words.includes(word ?? ''));
  if (hit) return hit;
  // `推送 学校`: a typo of a known target, answered as an unknown command word is.
  const guess = word ? closest(word, all.flatMap((t) => t.words)) : undefined;
  throw new UserError(guess ? `没有“${quoteTyped(word!)}”这项推送内容。您是想发送“${verb} ${guess}”吗？${pushTargetsText(all.map((t) => t.label))}` : pushTargetsText(all.map((t) => t.label)));
}

export function registerPush(bot: Bot): void {
  bot.action(
    STUDY_PUSH_CONFIRM_ACTION,
    async (ctx) => {
      const month = monthFromKey(String(ctx.value.m));
      const r = await pushStudy(bot, month, ctx.staff.staffId);
      return { card: studyPushedCard(month, r) };
    },
    { schema: z.object({ m: z.string().regex(MONTH_KEY) }), roles: ['admin'] },
  );
  bot.command(
    { names: ['推送', 'push'], usage: '推送 学习 [YYYY-MM] | 推送 报告提醒 | 推送 考试 [编号]', summary: '立即推送本月学习任务、报告提醒或考试通知（不会重复发给已收到的人）', roles: ['admin'], group: '管理员' },
    async (ctx) => find(bot, ctx.args[0], '推送').run(ctx, ctx.args.slice(1)),
  );
  bot.command(
    { names: ['预览', 'preview'], usage: '预览 学习 [YYYY-MM] | 预览 报告提醒 | 预览 考试 [编号]', summary: '统计一次推送会发给多少人，不发送', roles: ['admin'], group: '管理员' },
    async (ctx) => find(bot, ctx.args[0], '预览').preview(ctx, ctx.args.slice(1)),
  );
}
