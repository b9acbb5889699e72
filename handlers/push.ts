import type { Card } from '../cards/model.js';
import { pushTargetsText } from '../cards/push.js';
import type { ArgList, Params } from '../src/bot/args.js';
import type { Bot } from '../src/bot/bot.js';
import type { CommandContext } from '../src/bot/context.js';

/**
 * Administrators run a campaign now (`推送 …`) or count who it would reach (`预览 …`). Each
 * feature declares its own target with addPushTarget from its register function (study,
 * reports, exams); a manual push uses the same campaign key as the scheduled one, so it never
 * sends twice. This module owns only the two first words and what they answer alone.
 */

export interface PushTarget<A extends ArgList> {
  /** Words after 推送/预览, e.g. ['考试', 'exam']. */
  words: string[];
  args?: A;
  /** What 预览 takes, where it differs (a preview needs no 确认). */
  previewArgs?: A;
  run(ctx: CommandContext<Params<A>>): Promise<Card | string>;
  preview(ctx: CommandContext<Params<A>>): Promise<Card | string>;
}

const ADMIN = { roles: ['admin' as const], group: '管理员' };

/** `推送 <words> …` and `预览 <words> …`, with the target's declared arguments. */
export function addPushTarget<A extends ArgList = []>(bot: Bot, t: PushTarget<A>): void {
  const args = t.args ?? ([] as unknown as A);
  bot.command({ names: t.words.map((w) => `推送 ${w}`), args, summary: '立即推送', ...ADMIN }, (ctx) => t.run(ctx));
  bot.command({ names: t.words.map((w) => `预览 ${w}`), args: t.previewArgs ?? args, summary: '预览推送', ...ADMIN }, (ctx) => t.preview(ctx));
}

export function registerPush(bot: Bot): void {
  // `推送 学校`: a typo of a known target is answered with the closest, as unknown commands are.
  const hint = (usages: string[]) => pushTargetsText(usages.map((u) => u.replace(/^\S+ /, '')));
  bot.commandGroup({ names: ['推送', 'push'], summary: '立即推送本月学习任务、报告提醒或考试通知（不会重复发给已收到的人）', noun: '推送内容', hint, ...ADMIN });
  bot.commandGroup({ names: ['预览', 'preview'], summary: '统计一次推送会发给多少人，不发送', noun: '推送内容', hint, ...ADMIN });
}
