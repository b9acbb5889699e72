import { helpCard } from '../cards/help.js';
import { hide, opt, words } from '../src/bot/args.js';
import type { Bot } from '../src/bot/bot.js';

/** `帮助`: the commands this user's roles allow, grouped, as one card. */
export function registerHelp(bot: Bot): void {
  // Not confidential: it shows only the command list and the asker's own name and roles.
  bot.command(
    { names: ['帮助', 'help', '菜单', '?', '？'], args: [hide(opt(words('more', '命令')))], summary: '查看您可以使用的命令', group: '通用' },
    async (ctx) => helpCard(ctx.staff, bot.commandsFor(ctx.staff)),
  );
}
