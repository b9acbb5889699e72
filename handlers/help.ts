import { card, markdown, note } from '../cards/builders.js';
import { escapeMarkdown } from '../cards/markdown.js';
import type { Bot } from '../src/bot/bot.js';
import { ROLE_NAMES } from '../src/domain/roles.js';

/** `帮助`: the commands this user's roles allow, grouped, as one card. */
export function registerHelp(bot: Bot): void {
  // Not confidential: it shows only the command list and the asker's own name and roles.
  bot.command(
    { names: ['帮助', 'help', '菜单', '?', '？'], usage: '帮助', summary: '查看您可以使用的命令', group: '通用' },
    async (ctx) => {
      const specs = bot.commandsFor(ctx.staff);
      const groups = new Map<string, string[]>();
      for (const s of specs) {
        const line = `- **${escapeMarkdown(s.usage)}**：${s.summary}${s.names.length > 1 ? `（也可发 ${s.names.slice(1).filter((n) => !/^[?？]$/.test(n)).map(escapeMarkdown).join(' / ')}）` : ''}`;
        groups.set(s.group, [...(groups.get(s.group) ?? []), line]);
      }
      const roles = ctx.staff.roles.map((r) => ROLE_NAMES[r]).join('、');
      return card(
        '清廉助手 · 使用帮助',
        [
          markdown(`${escapeMarkdown(ctx.staff.name)}，您好！以下是您可以使用的命令：`),
          ...[...groups].map(([group, lines]) => markdown(`**${group}**\n${lines.join('\n')}`)),
          note(`您的身份：${ctx.staff.department} · ${roles}。多步填写时可随时回复“取消”结束。`),
        ],
        'blue',
      );
    },
  );
}
