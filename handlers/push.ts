import { card, fields, note } from '../cards/builders.js';
import type { Card } from '../cards/model.js';
import { scheduling } from '../scheduler/index.js';
import type { CampaignResult, Preview } from '../scheduler/outbound.js';
import type { Bot } from '../src/bot/bot.js';
import { PLATFORM_LABELS, type PlatformName } from '../src/platform/types.js';
import type { CommandContext } from '../src/bot/context.js';
import { monthLabel, monthOf, parseMonth } from '../src/domain/calendar.js';
import { UserError } from '../src/errors.js';
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

export function previewFields(p: Preview): [string, string | number][] {
  return [
    ['收件人数', p.total],
    ...Object.entries(p.byPlatform).map(([k, v]) => [`经${PLATFORM_LABELS[k as PlatformName]}`, v] as [string, number]),
    ['无法送达（未绑定可用账号）', p.unreachable],
  ];
}

export function resultCard(title: string, r: CampaignResult): Card {
  return card(title, [
    fields([
      ['本次新发出', r.added - r.unreachable],
      ['无法送达（未绑定可用账号）', r.unreachable],
    ]),
    note(r.created ? '推送已进入发送队列，会按平台限速逐一发出；未送达的人员会汇总发给管理员。' : '这项推送此前已经发起过，已收到的人员不会再收到一次；本次只补发给新增的人员。'),
  ], 'green');
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
        const r = await pushStudy(bot, month, ctx.staff.staffId);
        return resultCard(`已推送${monthLabel(month)}学习任务`, r);
      },
      async preview(ctx, args) {
        const month = monthArg(ctx, args);
        const p = await previewStudy(bot, month);
        return card(`预览：${monthLabel(month)}学习任务（不会发送）`, [
          fields([['学习主题', p.plan.topic], ...previewFields(p), ['已完成学习（不再推送）', p.alreadyDone], ['此前已推送', p.alreadySent]]),
          note('发送“推送 学习”即按此名单推送；此前已收到的人员不会重复收到。'),
        ]);
      },
    },
    {
      words: ['报告提醒', '报告', 'report'],
      label: '报告提醒',
      async run(ctx) {
        const r = await remindReports(bot, ctx.now, { manual: true, createdBy: ctx.staff.staffId });
        return resultCard('已推送本月报告提醒', r);
      },
      async preview(ctx) {
        const p = await previewReportReminder(bot, ctx.now);
        return card('预览：本月报告提醒（不会发送）', [
          fields([...previewFields(p), ['未报送科室', p.departments.join('、') || '无，全部已报送']]),
          note('发送“推送 报告提醒”即提醒这些科室的报告联络员。'),
        ]);
      },
    },
  ];
}

function find(bot: Bot, word: string | undefined): PushTarget {
  const all = [...builtin(bot), ...(targets.get(bot) ?? [])];
  const hit = all.find((t) => t.words.includes(word ?? ''));
  if (!hit) throw new UserError(`请指定要推送的内容：${all.map((t) => t.label).join('、')}。例如“推送 学习 2026-11”，或先用“预览 学习”查看会发给多少人。`);
  return hit;
}

export function registerPush(bot: Bot): void {
  bot.command(
    { names: ['推送', 'push'], usage: '推送 学习 [YYYY-MM] | 推送 报告提醒 | 推送 考试 [编号]', summary: '立即推送本月学习任务、报告提醒或考试通知（不会重复发给已收到的人）', roles: ['admin'], group: '管理员' },
    async (ctx) => find(bot, ctx.args[0]).run(ctx, ctx.args.slice(1)),
  );
  bot.command(
    { names: ['预览', 'preview'], usage: '预览 学习 [YYYY-MM] | 预览 报告提醒 | 预览 考试 [编号]', summary: '统计一次推送会发给多少人，不发送', roles: ['admin'], group: '管理员' },
    async (ctx) => find(bot, ctx.args[0]).preview(ctx, ctx.args.slice(1)),
  );
}
