import { escapeMarkdown, truncate } from './markdown.js';
import type { ActionValue, Button, Card, CardColor, CardElement } from './model.js';

/**
 * Renders the neutral card as DingTalk's built-in "StandardCard" JSON (互动卡片普通版), the
 * card kind sent and updated through the robot interactive-card API
 * (POST /v1.0/im/v1.0/robot/interactiveCards/send, PUT /v1.0/im/robots/interactiveCards),
 * so a hospital never has to build templates in DingTalk's card designer.
 * Shape: https://open.dingtalk.com/document/development/robots-send-interactive-cards and
 * the samples in open-dingtalk/dingtalk-stream-sdk-python (interactive_card.py):
 *   {config, header: {title: {type:'text', text}}, contents: [{type, id, ...}]}
 *
 * A StandardCard button reports only its own id when clicked, so buttons get ids `btn_N` and
 * the renderer returns what each id means; the adapter keeps that next to the card.
 * DingTalk cards have no form inputs: the Bot replaces forms before rendering (see
 * Bot.prepareCard); one reaching here anyway is shown as a note, never silently dropped.
 */

export interface StandardCardText {
  type: 'text';
  text: string;
  id?: string;
  color?: string;
}

export type StandardCardContent =
  | { type: 'text'; text: string; id: string }
  | { type: 'markdown'; text: string; id: string }
  | { type: 'image'; image: string; id: string }
  | { type: 'divider'; id: string }
  | { type: 'action'; actions: StandardCardButton[]; id: string };

export interface StandardCardButton {
  type: 'button';
  id: string;
  label: StandardCardText;
  actionType: 'request' | 'openLink';
  status: 'primary' | 'normal' | 'warning';
  url?: { all: string };
}

export interface StandardCard {
  config: { autoLayout: boolean; enableForward: boolean };
  header: { title: StandardCardText };
  contents: StandardCardContent[];
}

export interface RenderedDingTalkCard {
  card: StandardCard;
  /** What each request button means, by its id in the card. */
  buttons: Record<string, { actionId: string; value?: ActionValue }>;
}

/** DingTalk's card palette names (common_*_color); grey maps to the secondary text colour. */
const TITLE_COLORS: Record<CardColor, string> = {
  blue: 'common_blue1_color',
  green: 'common_green1_color',
  red: 'common_red1_color',
  orange: 'common_orange1_color',
  grey: 'common_level3_base_color',
  purple: 'common_purple1_color',
};

/** Limits well inside what the platform accepts, so a long list never fails a send. */
const MAX_TEXT = 5000;
const MAX_BUTTON_LABEL = 20;

export function renderDingTalkCard(card: Card): RenderedDingTalkCard {
  const contents: StandardCardContent[] = [];
  const buttons: RenderedDingTalkCard['buttons'] = {};
  let n = 0;
  const id = (kind: string) => `${kind}_${n++}`;

  const renderButton = (b: Button): StandardCardButton => {
    const bid = id('btn');
    const label: StandardCardText = { type: 'text', text: truncate(b.label, MAX_BUTTON_LABEL), id: `${bid}_label` };
    if (b.kind === 'link') return { type: 'button', id: bid, label, actionType: 'openLink', status: 'normal', url: { all: b.url } };
    buttons[bid] = { actionId: b.actionId, ...(b.value ? { value: b.value } : {}) };
    return { type: 'button', id: bid, label, actionType: 'request', status: b.style === 'primary' ? 'primary' : b.style === 'danger' ? 'warning' : 'normal' };
  };

  const push = (e: CardElement) => {
    switch (e.type) {
      case 'text':
        contents.push({ type: 'text', text: truncate(e.text, MAX_TEXT), id: id('text') });
        break;
      case 'markdown':
        contents.push({ type: 'markdown', text: truncate(e.markdown, MAX_TEXT), id: id('markdown') });
        break;
      case 'fields':
        contents.push({
          type: 'markdown',
          text: truncate(e.fields.map((f) => `**${escapeMarkdown(f.label)}**：${escapeMarkdown(f.value)}`).join('\n'), MAX_TEXT),
          id: id('markdown'),
        });
        break;
      case 'table': {
        // Card markdown has no tables: each row becomes one line of "column: value" pairs.
        const lines = e.rows.map((row) => row.map((cell, i) => `${escapeMarkdown(e.columns[i] ?? '')}：${escapeMarkdown(cell)}`).join('　'));
        contents.push({ type: 'markdown', text: truncate(lines.length ? lines.join('\n') : '（暂无数据）', MAX_TEXT), id: id('markdown') });
        break;
      }
      case 'actions':
        if (e.buttons.length) contents.push({ type: 'action', actions: e.buttons.map(renderButton), id: id('action') });
        break;
      case 'form':
        contents.push({ type: 'text', text: `需要填写：${e.inputs.map((i) => i.label).join('、')}（请在对话中逐项回复）`, id: id('text') });
        break;
      case 'image':
        // StandardCard images take a DingTalk media id (`@…`); a plain URL becomes a link.
        if (e.url.startsWith('@')) contents.push({ type: 'image', image: e.url, id: id('image') });
        else contents.push({ type: 'markdown', text: `[${escapeMarkdown(e.alt || '查看图片')}](${e.url})`, id: id('markdown') });
        break;
      case 'note':
        contents.push({ type: 'markdown', text: `<font color=common_level3_base_color>${escapeMarkdown(truncate(e.text, MAX_TEXT))}</font>`, id: id('markdown') });
        break;
      case 'divider':
        contents.push({ type: 'divider', id: id('divider') });
        break;
    }
  };
  for (const e of card.elements) push(e);

  return {
    card: {
      config: { autoLayout: true, enableForward: false },
      header: { title: { type: 'text', text: truncate(card.title, 100), ...(card.color ? { color: TITLE_COLORS[card.color] } : {}) } },
      contents,
    },
    buttons,
  };
}
