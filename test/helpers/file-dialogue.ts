import type { Bot } from '../../src/bot/bot.js';

/**
 * A test-only `测试文件` command whose dialogue records the files of the answer it gets,
 * to see what a platform's image and file messages turn into.
 */
export function recordFilesDialogue(bot: Bot): { name: string; ref: string }[] {
  const received: { name: string; ref: string }[] = [];
  bot.dialogue({
    name: 'test.files',
    steps: () => [{ key: 'f', prompt: () => '请发送文件', parse: (_t, _d, files) => (files ? { ok: true, value: files } : { ok: false, message: '请发送文件' }) }],
    complete: async (_ctx, data) => {
      received.push(...(data.f as { name: string; ref: string }[]));
      return '收到文件';
    },
  });
  bot.command({ names: ['测试文件'], summary: 'test only', group: '测试' }, async (ctx) => {
    await ctx.startDialogue('test.files');
  });
  return received;
}
