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

/** What most staff come for, listed first whatever the feature order. */
const COMMON = ['学习', '考试', '上缴', '我的进度'];
const COMMON_GROUP = '常用';
/** Help itself and typed clicks are how to use the rest: listed last. */
const GENERAL_GROUP = '通用';

/**
 * `帮助`: the commands given (those this person may use): the common ones first, then the
 * rest grouped in the order met, the general ones (帮助, 点 代码 序号) last.
 */
export function helpCard(staff: Pick<Staff, 'name' | 'department' | 'roles'>, commands: HelpEntry[]): Card {
  const groups = new Map<string, string[]>([[COMMON_GROUP, []]]);
  const ordered = [
    ...COMMON.flatMap((n) => commands.filter((c) => c.names[0] === n).map((c) => ({ ...c, group: COMMON_GROUP }))),
    ...commands.filter((c) => !COMMON.includes(c.names[0]!) && c.group !== GENERAL_GROUP),
    ...commands.filter((c) => !COMMON.includes(c.names[0]!) && c.group === GENERAL_GROUP).sort((a, b) => Number(a.names[0] === '点') - Number(b.names[0] === '点')),
  ];
  for (const s of ordered) {
    // `?` and `？` are accepted but not worth advertising as alternatives.
    const line = `- **${escapeMarkdown(s.usage)}**：${s.summary}${s.names.length > 1 ? `（也可发 ${s.names.slice(1).filter((n) => !/^[?？]$/.test(n)).map(escapeMarkdown).join(' / ')}）` : ''}`;
    groups.set(s.group, [...(groups.get(s.group) ?? []), line]);
  }
  const roles = staff.roles.map((r) => ROLE_NAMES[r]).join('、');
  return card(
    '清廉助手 · 使用帮助',
    [
      markdown(`${escapeMarkdown(staff.name)}，您好！以下是您可以使用的命令：`),
      ...[...groups].filter(([, lines]) => lines.length > 0).map(([group, lines]) => markdown(`**${group}**\n${lines.join('\n')}`)),
      note(`您的身份：${staff.department} · ${roles}。多步填写时可随时回复“取消”结束。`),
    ],
    'blue',
  );
}
