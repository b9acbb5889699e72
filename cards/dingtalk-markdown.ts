import { escapeMarkdown, truncate } from './markdown.js';
import type { Card, CardElement } from './model.js';

/**
 * The neutral card as a DingTalk `sampleMarkdown` robot message ({title, text}), for when the
 * platform refuses interactive cards (the app lacks that permission). Nothing is dropped:
 * buttons are listed by label, and the card's typed-button note (Bot.prepareCard) says how to
 * press them by message. DingTalk markdown has headings, bold, quotes, lists, links, images.
 */
const MAX_TEXT = 5000;

export function renderDingTalkMarkdown(card: Card): { title: string; text: string } {
  const lines = [`### ${escapeMarkdown(card.title)}`, ...card.elements.map(element).filter((x): x is string => Boolean(x))];
  return { title: truncate(card.title, 60), text: truncate(lines.join('\n\n'), MAX_TEXT) };
}

function element(e: CardElement): string | undefined {
  switch (e.type) {
    case 'text':
      return escapeMarkdown(e.text).replace(/\n/g, '  \n');
    case 'markdown':
      return e.markdown;
    case 'fields':
      return e.fields.map((f) => `**${escapeMarkdown(f.label)}**：${escapeMarkdown(String(f.value))}`).join('  \n');
    case 'table':
      return [`**${e.columns.map(escapeMarkdown).join(' ｜ ')}**`, ...e.rows.map((r) => r.map((c) => escapeMarkdown(String(c))).join(' ｜ '))].join('  \n');
    case 'actions':
      return e.buttons.map((b) => (b.kind === 'link' ? `- [${escapeMarkdown(b.label)}](${b.url})` : `- 【${escapeMarkdown(b.label)}】`)).join('\n');
    case 'form':
      return `> 需要填写：${e.inputs.map((i) => escapeMarkdown(i.label)).join('、')}`;
    case 'image':
      return `![${escapeMarkdown(e.alt)}](${e.url})`;
    case 'note':
      return `> ${escapeMarkdown(e.text)}`;
    case 'divider':
      return '---';
  }
}
