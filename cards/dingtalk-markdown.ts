import { escapeMarkdown, truncate } from './markdown.js';
import type { Button, Card, CardElement } from './model.js';

/**
 * The neutral card as DingTalk markdown, in two uses:
 *  - `renderDingTalkMarkdown`: the whole card as a `sampleMarkdown` robot message, when no card
 *    template can be used (Card.Instance.Write missing, template not found). Nothing is dropped.
 *    Each button becomes what presses it there: in a one-to-one chat a
 *    `dtmd://dingtalkclient/sendMessage?content=…` link (a tap sends `点 CODE N` as the user),
 *    in a group the text to type after @-mentioning the robot (a stream robot hears only that).
 *  - `dingTalkCardBody`: the body of a card instance (title and request buttons live in their
 *    own template variables), with link buttons as markdown links.
 * DingTalk markdown has headings, bold, quotes, lists, links and images.
 */
const MAX_TEXT = 5000;

export type ButtonMode = 'dtmd' | 'typed';

export function renderDingTalkMarkdown(card: Card, mode: ButtonMode): { title: string; text: string } {
  // The typed-twin note repeats what the buttons already say in this form.
  const elements = card.elements.filter((e) => !(e.type === 'note' && e.hint === 'typed-buttons' && everyButtonTyped(card)));
  const lines = [`### ${escapeMarkdown(card.title)}`, ...elements.map((e) => element(e, mode)).filter((x): x is string => Boolean(x))];
  return { title: truncate(card.title, 60), text: truncate(lines.join('\n\n'), MAX_TEXT) };
}

/** The card's body for a card template's markdown variable: no title, no request buttons, no form. */
export function dingTalkCardBody(card: Card): string {
  const parts = card.elements
    .filter((e) => !(e.type === 'note' && e.hint === 'typed-buttons'))
    .map((e) => {
      if (e.type === 'actions') {
        const links = e.buttons.filter((b) => b.kind === 'link');
        return links.length ? links.map((b) => `[${escapeMarkdown(b.label)}](${b.url})`).join('　') : undefined;
      }
      if (e.type === 'form') return undefined;
      return element(e, 'typed');
    })
    .filter((x): x is string => Boolean(x));
  return truncate(parts.join('\n\n'), MAX_TEXT);
}

function everyButtonTyped(card: Card): boolean {
  return card.elements.every((e) => e.type !== 'actions' || e.buttons.every((b) => b.kind === 'link' || b.typed));
}

/** `dtmd://` opens the chat's input and sends the text as the user, on the DingTalk client. */
export function sendMessageLink(text: string): string {
  return `dtmd://dingtalkclient/sendMessage?content=${encodeURIComponent(text)}`;
}

function buttonLine(b: Button, mode: ButtonMode): string {
  if (b.kind === 'link') return `- [${escapeMarkdown(b.label)}](${b.url})`;
  if (!b.typed) return `- 【${escapeMarkdown(b.label)}】`;
  if (mode === 'dtmd') return `- [${escapeMarkdown(b.label)}](${sendMessageLink(b.typed)})`;
  return `- 【${escapeMarkdown(b.label)}】：@我 并回复“${b.typed}”`;
}

function element(e: CardElement, mode: ButtonMode): string | undefined {
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
      return e.buttons.map((b) => buttonLine(b, mode)).join('\n');
    case 'form':
      return `> 需要填写：${e.inputs.map((i) => escapeMarkdown(i.label)).join('、')}`;
    case 'image':
      // Bytes never reach a renderer: the degrade stage uploads them or leaves the picture out.
      return 'url' in e ? `![${escapeMarkdown(e.alt)}](${e.url})` : '';
    case 'note':
      return `> ${escapeMarkdown(e.text)}`;
    case 'divider':
      return '---';
  }
}
