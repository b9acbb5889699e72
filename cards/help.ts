import { card, markdown, note } from './builders.js';
import { escapeMarkdown } from './markdown.js';
import type { Card } from './model.js';
import { ROLE_NAMES } from '../src/domain/roles.js';
import type { Staff } from '../src/store/staff.js';

/** A command as `帮助` lists it. */
export interface HelpEntry {
  names: string[];
  usage: string;
  summary: string;
  group: string;
}

/** `帮助`: the commands given (those this person may use), grouped in the order met. */
export function helpCard(staff: Pick<Staff, 'name' | 'department' | 'roles'>, commands: HelpEntry[]): Card {
  const groups = new Map<string, string[]>();
  for (const s of commands) {
    // `?` and `？` are accepted but not worth advertising as alternatives.
    const line = `- **${escapeMarkdown(s.usage)}**：${s.summary}${s.names.length > 1 ? `（也可发 ${s.names.slice(1).filter((n) => !/^[?？]$/.test(n)).map(escapeMarkdown).join(' / ')}）` : ''}`;
    groups.set(s.group, [...(groups.get(s.group) ?? []), line]);
  }
  const roles = staff.roles.map((r) => ROLE_NAMES[r]).join('、');
  return card(
    '清廉助手 · 使用帮助',
    [
      markdown(`${escapeMarkdown(staff.name)}，您好！以下是您可以使用的命令：`),
      ...[...groups].map(([group, lines]) => markdown(`**${group}**\n${lines.join('\n')}`)),
      note(`您的身份：${staff.department} · ${roles}。多步填写时可随时回复“取消”结束。`),
    ],
    'blue',
  );
}
