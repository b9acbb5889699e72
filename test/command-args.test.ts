import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_ROSTER } from '../src/app.js';
import { choice, count, department, flag, many, matchArgs, month, opt, ref, text, usageOf, word } from '../src/bot/args.js';
import { Bot } from '../src/bot/bot.js';
import { fileSchema } from '../src/config.js';
import { monthKey } from '../src/domain/calendar.js';
import { importRosterFile } from '../src/domain/roster.js';
import { createLogger } from '../src/logger.js';
import type { IncomingMessage } from '../src/platform/types.js';
import { freshDb, REDIS_URL, uniqueName } from './helpers/db.js';
import { RecordingPlatform } from './helpers/recording-platform.js';

/** 14: commands declare their arguments; the router parses them and generates the usage. */

const env = { now: new Date('2026-11-15T04:00:00Z'), timeZone: 'Asia/Shanghai', departments: [{ id: 1, name: '心血管内科' }, { id: 2, name: '普外科' }] };
const split = (t: string) => (t ? t.split(' ') : []);
const match = (args: Parameters<typeof matchArgs>[0], t: string, o: { anyOrder?: boolean; hint?: string } = {}) => matchArgs(args, split(t), split(t), env, { usage: usageOf('命令', args), ...o });

describe('declared arguments, matched without a bot', () => {
  it('14 generates the usage from the declaration', () => {
    expect(usageOf('驳回', [ref('id', 'SB'), text('reason', '理由')])).toBe('驳回 SB-编号 理由');
    expect(usageOf('进度', [opt(choice('area', { 学习: 'study', 考试: 'exam' })), opt(month('month'))])).toBe('进度 [学习|考试] [月份]');
    expect(usageOf('合并问题', [many(ref('ids', 'WT'), 2), text('d', '描述')])).toBe('合并问题 WT-编号 WT-编号 描述');
  });

  it('14 places words positionally, skips optional ones that do not fit, keeps free text as typed', () => {
    const args = [ref('id', 'SB'), opt(flag('urgent', ['加急'])), text('reason', '理由')];
    expect(match(args, 'SB-12 金额 不符')).toEqual({ ok: true, params: { id: 12, reason: '金额 不符' } });
    expect(match(args, '12 加急 金额不符')).toEqual({ ok: true, params: { id: 12, urgent: true, reason: '金额不符' } });
    const m = match([opt(month('month')), opt(flag('done', ['完成']))], '上月 完成');
    expect(m.ok && monthKey(m.params.month as never)).toBe('2026-10');
  });

  it('14 answers a word it cannot place, or a missing argument, with the usage', () => {
    expect(match([ref('id', 'SB'), text('reason', '理由')], '明天')).toEqual({ ok: false, message: '没有看懂“明天”，请写明SB-编号。用法：命令 SB-编号 理由。' });
    expect(match([ref('id', 'SB'), text('reason', '理由')], 'SB-3')).toEqual({ ok: false, message: '请写明理由。用法：命令 SB-编号 理由。' });
    expect(match([opt(count('n', '序号'))], '1 2')).toMatchObject({ ok: false, message: expect.stringMatching(/^没有看懂“2”。用法：命令 \[序号\]。$/) });
    expect(match([], '多余', { hint: '这个命令不需要参数。' })).toEqual({ ok: false, message: '没有看懂“多余”。这个命令不需要参数。' });
  });

  it('14 takes arguments in any order where declared, and departments by name', () => {
    const args = [opt(choice('area', { 学习: 'study' })), opt(month('month')), opt(department('dept'))];
    const m = match(args, '普外 2026-09 学习', { anyOrder: true });
    expect(m.ok && { ...m.params, month: monthKey(m.params.month as never) }).toEqual({ area: 'study', month: '2026-09', dept: { id: 2, name: '普外科', typed: '普外' } });
    expect(match(args, '口腔科', { anyOrder: true })).toMatchObject({ ok: false, message: expect.stringContaining('人员名单中没有科室“口腔科”') });
    expect(match([many(ref('ids', 'WT'), 2), text('d', '描述')], 'WT-3 统一整改')).toMatchObject({ ok: false, message: expect.stringContaining('请写明WT-编号 WT-编号') });
  });
});

let seq = 0;
const msg = (userId: string, text: string): IncomingMessage => ({
  kind: 'message',
  platform: 'sandbox',
  eventId: `args${++seq}`,
  platformUserId: userId,
  conversation: { type: 'direct', platformUserId: userId },
  text,
  mentioned: true,
  receivedAt: new Date(),
});

describe('declared arguments through the router (real Redis, PGlite)', () => {
  const prefix = `test:${uniqueName('args')}`;
  let db: Awaited<ReturnType<typeof freshDb>>;
  let redis: Redis;
  let bot: Bot;
  const p = new RecordingPlatform('sandbox');
  const ran: unknown[] = [];
  const say = async (user: string, text: string) => {
    await bot.onMessage(msg(user, text));
    return p.to(user).at(-1);
  };

  beforeAll(async () => {
    db = await freshDb('pglite', 'args');
    await importRosterFile(db, 'roster.csv', readFileSync(SAMPLE_ROSTER));
    redis = new Redis(REDIS_URL);
    bot = new Bot({ db, redis, settings: fileSchema.parse({}), redisPrefix: prefix, logger: createLogger('silent') });
    bot.addPlatform(p);
    bot.command({ names: ['记录', 'note'], args: [ref('id', 'SB'), opt(text('note', '说明'))], example: '记录 SB-1 已核实', summary: '测试', group: '测试' }, async (ctx) => {
      // Typed: id is a number, note a string or undefined.
      const id: number = ctx.params.id;
      ran.push({ id, note: ctx.params.note ?? null });
      return `记录 ${id}`;
    });
    bot.commandGroup({ names: ['发送', 'send'], summary: '发送', group: '测试', noun: '发送内容', roles: ['admin'] });
    bot.command({ names: ['发送 学习', '发送 study'], args: [opt(month('month'))], summary: '发送学习', group: '测试', roles: ['admin'] }, async (ctx) => `学习 ${ctx.params.month ? monthKey(ctx.params.month) : '本月'}`);
    bot.command({ names: ['发送 考试'], args: [word('exam', '编号')], summary: '发送考试', group: '测试', roles: ['admin'] }, async (ctx) => `考试 ${ctx.params.exam}`);
    await p.start(bot);
  });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await db.dispose();
  });

  it('14 hands the handler typed params and never runs it on a word it cannot place', async () => {
    expect(await say('S0001', '记录 SB-7 已核实，情况属实。')).toBe('记录 7');
    expect(ran.at(-1)).toEqual({ id: 7, note: '已核实，情况属实。' });
    const before = ran.length;
    expect(await say('S0001', '记录 昨天')).toBe('没有看懂“昨天”，请写明SB-编号。用法：记录 SB-编号 [说明]，例如“记录 SB-1 已核实”。');
    expect(await say('S0001', '记录')).toBe('请写明SB-编号。用法：记录 SB-编号 [说明]，例如“记录 SB-1 已核实”。');
    expect(ran.length).toBe(before);
  });

  it('14 finds subcommands under any name of their first word, and answers the first word alone with them', async () => {
    expect(await say('S0002', '发送 学习 2026-10')).toBe('学习 2026-10');
    expect(await say('S0002', 'send study')).toBe('学习 本月');
    expect(await say('S0002', 'send 考试 nov')).toBe('考试 nov');
    expect(await say('S0002', '发送')).toBe('用法：发送 学习 [月份] | 发送 考试 编号。');
    expect(await say('S0002', '发送 学校')).toBe('没有“学校”这项发送内容。您是想发送“发送 学习”吗？用法：发送 学习 [月份] | 发送 考试 编号。');
    expect(await say('S0002', '发送 考试')).toBe('请写明编号。用法：发送 考试 编号。');
    expect(await say('S0001', '发送 学习')).toContain('仅限管理员');
  });

  it('14 lists a command with its subcommands on one help line, generated, and only what the person may run', async () => {
    const admin = (await bot.repos.staff.getStaff('S0002'))!;
    const staff = (await bot.repos.staff.getStaff('S0001'))!;
    const line = (s: typeof admin, name: string) => bot.commandsFor(s).find((l) => l.names[0] === name);
    expect(line(admin, '发送')?.usage).toBe('发送 学习 [月份] | 发送 考试 编号');
    expect(line(admin, '记录')?.usage).toBe('记录 SB-编号 [说明]');
    expect(line(staff, '发送')).toBeUndefined();
    expect(bot.commandsFor(admin).some((l) => l.names[0]!.includes(' '))).toBe(false);
  });
});
