import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { form as formEl, card } from '../cards/builders.js';
import { SAMPLE_ROSTER } from '../src/app.js';
import { count, opt, word, words } from '../src/bot/args.js';
import { Bot, NOT_ON_ROSTER, STALE_ACTION } from '../src/bot/bot.js';
import { closest, parseCommand } from '../src/bot/command-parser.js';
import { fileSchema } from '../src/config.js';
import { importRosterFile } from '../src/domain/roster.js';
import { UserError } from '../src/errors.js';
import { createLogger } from '../src/logger.js';
import type { CardAction, IncomingMessage } from '../src/platform/types.js';
import { freshDb, REDIS_URL, uniqueName } from './helpers/db.js';
import { RecordingPlatform } from './helpers/recording-platform.js';

let seq = 0;
const msg = (userId: string, text: string, extra: Partial<IncomingMessage> = {}): IncomingMessage => ({
  kind: 'message',
  platform: 'sandbox',
  eventId: `ev${++seq}`,
  platformUserId: userId,
  conversation: { type: 'direct', platformUserId: userId },
  text,
  mentioned: true,
  receivedAt: new Date(),
  ...extra,
});
const act = (userId: string, actionId: string, value?: Record<string, string | number>, form?: Record<string, string>): CardAction => ({
  kind: 'action',
  platform: 'sandbox',
  eventId: `ev${++seq}`,
  platformUserId: userId,
  conversation: { type: 'direct', platformUserId: userId },
  messageId: 'm1',
  actionId,
  ...(value ? { value } : {}),
  ...(form ? { form } : {}),
  receivedAt: new Date(),
});

describe('command parsing', () => {
  it('splits the word and arguments, strips @-mentions and tolerates full-width spaces', () => {
    expect(parseCommand('@清廉助手 进度\u3000学习  2026-11')).toEqual({ word: '进度', args: ['学习', '2026-11'], rest: '学习 2026-11' });
    expect(parseCommand('/HELP')).toMatchObject({ word: 'help', args: [] });
    expect(parseCommand('  @_user_1  ')).toBeUndefined();
  });
  it('16 takes a sentence’s closing mark off the words, not off the text as typed', () => {
    expect(parseCommand('帮助。')).toEqual({ word: '帮助', args: [], rest: '' });
    expect(parseCommand('帮助？！')).toMatchObject({ word: '帮助' });
    expect(parseCommand('进度 学习。')).toEqual({ word: '进度', args: ['学习'], rest: '学习。' });
    expect(parseCommand('驳回 SB-12 金额不对。')).toEqual({ word: '驳回', args: ['SB-12', '金额不对'], rest: 'SB-12 金额不对。' });
    expect(parseCommand('。')).toMatchObject({ word: '。' });
  });
  it('suggests a close command and nothing for a far one', () => {
    expect(closest('hlep', ['帮助', 'help'])).toBe('help');
    expect(closest('考式', ['考试', '学习'])).toBe('考试');
    expect(closest('天气预报', ['考试', '学习'])).toBeUndefined();
  });
});

describe('the router on real Redis and a database', () => {
  const prefix = `test:${uniqueName('router')}`;
  let db: Awaited<ReturnType<typeof freshDb>>;
  let redis: Redis;
  let bot: Bot;
  const p = new RecordingPlatform('sandbox');
  const seen: string[] = [];

  beforeAll(async () => {
    db = await freshDb('pglite', 'router');
    await importRosterFile(db, 'roster.csv', readFileSync(SAMPLE_ROSTER));
    redis = new Redis(REDIS_URL);
    bot = new Bot({ db, redis, settings: fileSchema.parse({ dialogue: { timeoutMinutes: 1 } }), redisPrefix: prefix, logger: createLogger('silent') });
    bot.addPlatform(p);
    bot.command({ names: ['回声', 'echo'], args: [opt(words('w', '文本'))], summary: '复述', group: '测试' }, async (ctx) => `${ctx.word}|${(ctx.params.w ?? []).join(',')}|${(ctx.params.w ?? []).join(' ')}`);
    bot.command({ names: ['慢', 'slow'], args: [count('ms', 'n'), word('tag', '标记')], summary: '记录顺序', group: '测试' }, async (ctx) => {
      await new Promise((r) => setTimeout(r, ctx.params.ms));
      seen.push(ctx.params.tag);
    });
    bot.command({ names: ['管理'], summary: '仅管理员', roles: ['admin'], group: '测试' }, async () => '管理 ok');
    bot.command({ names: ['出错'], args: [opt(word('kind', '类型'))], summary: '抛错', group: '测试' }, async (ctx) => {
      if (ctx.params.kind === 'user') throw new UserError('金额需要是正数。');
      throw new Error('secret internal detail');
    });
    bot.action('t.pick', async (ctx) => ({ toast: `picked ${String(ctx.value.n)}` }), { schema: z.object({ n: z.number().int() }) });
    bot.action('t.form', async (ctx) => ({ toast: `form ${JSON.stringify(ctx.form)}` }));
    bot.dialogue({
      name: 'age',
      steps: () => [
        { key: 'name', prompt: () => '请输入姓名：', parse: (t) => (t.length <= 4 ? { ok: true, value: t } : { ok: false, message: '姓名最多 4 个字。' }) },
        { key: 'age', prompt: (d) => `${String(d.name)}，请输入年龄：`, parse: (t) => (/^\d+$/.test(t) ? { ok: true, value: Number(t) } : { ok: false, message: '年龄需要是整数，例如 35。' }) },
      ],
      complete: async (_ctx, d) => `完成：${String(d.name)} ${String(d.age)}`,
    });
    bot.command({ names: ['填表'], summary: '对话', group: '测试' }, async (ctx) => {
      await ctx.startDialogue('age');
    });
    await p.start(bot);
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await db.dispose();
  });

  it('routes Chinese and English aliases with arguments and @-mentions removed', async () => {
    await bot.onMessage(msg('S0001', '@清廉助手 回声 一 二'));
    await bot.onMessage(msg('S0001', 'ECHO a'));
    expect(p.to('S0001').slice(-2)).toEqual(['回声|一,二|一 二', 'echo|a|a']);
    await bot.onMessage(msg('S0001', '回声。'));
    expect(p.to('S0001').at(-1)).toBe('回声||');
  });

  it('ignores group messages that do not mention the bot', async () => {
    const before = p.sent.length;
    await bot.onMessage(msg('S0001', '回声 x', { conversation: { type: 'group', chatId: 'g1' }, mentioned: false }));
    expect(p.sent.length).toBe(before);
    await bot.onMessage(msg('S0001', '@清廉助手 回声 x', { conversation: { type: 'group', chatId: 'g1' }, mentioned: true }));
    expect(p.sent.at(-1)).toMatchObject({ target: { conversation: { type: 'group', chatId: 'g1' } }, text: '回声|x|x' });
  });

  it('suggests the closest command for a near miss, and help for a far one', async () => {
    await bot.onMessage(msg('S0001', 'ecoh'));
    await bot.onMessage(msg('S0001', '今天天气怎么样'));
    expect(p.to('S0001').slice(-2)).toEqual([
      '没有“ecoh”这个命令。您是想发送“echo”吗？发送“帮助”可查看全部命令。',
      '没有“今天天气怎么样”这个命令。发送“帮助”可查看您可以使用的全部命令。',
    ]);
  });

  it('16 answers small talk like a person, and quotes only the start of a long unknown message', async () => {
    await bot.onMessage(msg('S0001', '你好。'));
    expect(p.to('S0001').at(-1)).toMatch(/^.+，您好！我是清廉助手，一直在线。发送“我的进度”/);
    await bot.onMessage(msg('S0001', '谢谢您！'));
    expect(p.to('S0001').at(-1)).toMatch(/^不客气，.+！/);
    await bot.onMessage(msg('S0001', '@清廉助手 在吗？'));
    expect(p.to('S0001').at(-1)).toContain('您好！');
    const paste = '廉'.repeat(4000);
    await bot.onMessage(msg('S0001', paste));
    const answer = p.to('S0001').at(-1)!;
    expect(answer).toBe(`没有“${'廉'.repeat(12)}…”这个命令。发送“帮助”可查看您可以使用的全部命令。`);
  });

  it('refuses a command the role does not allow, politely', async () => {
    await bot.onMessage(msg('S0001', '管理'));
    expect(p.to('S0001').at(-1)).toBe('抱歉，“管理”仅限管理员使用。发送“帮助”查看您可以使用的命令。');
    await bot.onMessage(msg('S0002', '管理'));
    expect(p.to('S0002').at(-1)).toBe('管理 ok');
  });

  it('answers a user not on the roster with the roster message', async () => {
    await bot.onMessage(msg('NOT-HERE', '帮助'));
    expect(p.to('NOT-HERE')).toEqual([NOT_ON_ROSTER]);
  });

  it('handles a redelivered event once', async () => {
    const m = msg('S0003', '回声 once');
    await Promise.all([bot.onMessage(m), bot.onMessage({ ...m }), bot.onMessage({ ...m })]);
    await bot.onMessage({ ...m });
    expect(p.to('S0003').filter((t) => t === '回声|once|once')).toHaveLength(1);
  });

  it("keeps one user's events in order while other users go ahead", async () => {
    seen.length = 0;
    await Promise.all([bot.onMessage(msg('S0004', '慢 120 a')), bot.onMessage(msg('S0004', '慢 1 b')), bot.onMessage(msg('S0004', '慢 40 c')), bot.onMessage(msg('S0006', '慢 1 other'))]);
    expect(seen.filter((s) => s !== 'other')).toEqual(['a', 'b', 'c']);
    expect(seen.indexOf('other')).toBeLessThan(seen.indexOf('a'));
  });

  it('shows a UserError as is and a bug as an apology with a reference, never the detail', async () => {
    await bot.onMessage(msg('S0006', '出错 user'));
    await bot.onMessage(msg('S0006', '出错'));
    const [userErr, bug] = p.to('S0006').slice(-2);
    expect(userErr).toBe('金额需要是正数。');
    expect(bug).toMatch(/^抱歉，处理时出现问题（参考编号 [0-9a-f]{8}），请稍后再试或联系管理员。$/);
    expect(bug).not.toContain('secret');
  });

  it('validates card action payloads and refuses unknown actions', async () => {
    expect(await bot.onAction(act('S0001', 't.pick', { n: 3 }))).toEqual({ toast: 'picked 3' });
    expect(await bot.onAction(act('S0001', 't.pick', { n: 'drop table' }))).toEqual({ toast: STALE_ACTION });
    expect(await bot.onAction(act('S0001', 'no.such'))).toEqual({ toast: STALE_ACTION });
    const a = act('S0001', 't.pick', { n: 4 });
    expect(await bot.onAction(a)).toEqual({ toast: 'picked 4' });
    expect(await bot.onAction({ ...a })).toEqual({});
  });

  it('runs a dialogue step by step, re-asking on a bad answer, and 取消 ends it', async () => {
    await bot.onMessage(msg('S0009', '填表'));
    await bot.onMessage(msg('S0009', '欧阳长名字很长'));
    await bot.onMessage(msg('S0009', '张三'));
    await bot.onMessage(msg('S0009', '三十'));
    await bot.onMessage(msg('S0009', '35'));
    expect(p.to('S0009')).toEqual([
      '请输入姓名：\n（逐项填写，随时回复“取消”可结束）',
      '姓名最多 4 个字。\n（回复“取消”可结束填写）',
      '张三，请输入年龄：',
      '年龄需要是整数，例如 35。\n（回复“取消”可结束填写）',
      '完成：张三 35',
    ]);
    await bot.onMessage(msg('S0009', '填表'));
    await bot.onMessage(msg('S0009', '取消'));
    await bot.onMessage(msg('S0009', '回声 after'));
    expect(p.to('S0009').slice(-2)).toEqual(['已取消，之前填写的内容没有保存。', '回声|after|after']);
  });

  it('keeps dialogue state in Redis with a timeout', async () => {
    await bot.onMessage(msg('S0010', '填表'));
    const ttl = await redis.ttl(`${prefix}:dialogue:S0010`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
    await redis.del(`${prefix}:dialogue:S0010`); // what expiry does
    await bot.onMessage(msg('S0010', '回声 free'));
    expect(p.to('S0010').at(-1)).toBe('回声|free|free');
  });

  it('turns a form into a step-by-step dialogue on a platform without forms, with the same checks', async () => {
    const dt = new RecordingPlatform('dingtalk', { supportsForms: false });
    bot.addPlatform(dt);
    await dt.start(bot);
    const staff = (await bot.identify('sandbox', 'S0012'))!;
    const dtUser = staff.dingtalkUserId!;
    const c = card('登记', [formEl('t.form', [
      { kind: 'select', name: 'kind', label: '类别', required: true, options: [{ label: '礼金', value: 'cash' }, { label: '礼品', value: 'gift' }] },
      { kind: 'number', name: 'amount', label: '金额', required: true, min: 0.01 },
      { kind: 'text', name: 'note', label: '说明', maxLength: 5 },
    ])]);
    const sent = await bot.sendToStaff(staff, c);
    expect(sent?.platform).toBe('dingtalk');
    const rendered = dt.sent.at(-1)!.card!;
    expect(rendered.elements.some((e) => e.type === 'form')).toBe(false);
    const fill = rendered.elements.flatMap((e) => (e.type === 'actions' ? e.buttons : [])).find((b) => b.kind === 'button')!;
    const m = (text: string): IncomingMessage => msg(dtUser, text, { platform: 'dingtalk', conversation: { type: 'direct', platformUserId: dtUser } });
    const r = await bot.onAction({ ...act(dtUser, 'form.fill', (fill as { value: Record<string, string> }).value), platform: 'dingtalk', conversation: { type: 'direct', platformUserId: dtUser } });
    expect(r.toast).toBe('请在对话中逐项填写。');
    await bot.onMessage(m('9'));
    await bot.onMessage(m('礼金'));
    await bot.onMessage(m('-5'));
    await bot.onMessage(m('500'));
    await bot.onMessage(m('太长了的说明'));
    await bot.onMessage(m('跳过'));
    expect(dt.to(dtUser).slice(1)).toEqual([
      '请选择类别，回复序号或名称：\n1. 礼金\n2. 礼品\n（逐项填写，随时回复“取消”可结束）',
      '请回复 1 到 2 之间的序号，或选项名称。\n（回复“取消”可结束填写）',
      '请填写金额：',
      '金额不能小于 0.01。\n（回复“取消”可结束填写）',
      '请填写说明（选填，回复“跳过”略过），不超过 5 字：',
      '说明最多 5 字，现在是 6 字，请精简后重新发送。\n（回复“取消”可结束填写）',
      'form {"kind":"cash","amount":"500","note":""}',
    ]);
  });

});
