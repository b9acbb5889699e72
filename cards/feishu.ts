import type { ActionValue, Button, Card, CardElement, FormInput } from './model.js';
import { truncate } from './markdown.js';

/**
 * Renders the neutral card as a Feishu card in JSON 2.0 ("schema": "2.0").
 * Structure: https://open.feishu.cn/document/uAjLw4CM/ukzMukzMukzM/feishu-cards/card-json-v2-structure
 * Form container: https://open.feishu.cn/document/feishu-cards/card-json-v2-components/containers/form-container
 *
 * Every button and form submit carries `{action, value}` in its callback value, so the adapter
 * can name the handler from the callback alone (event.action.value), and form inputs come back
 * in event.action.form_value under the input's name.
 */

/** Feishu refuses card content over 30 KB (message create and PATCH); keep a margin for the envelope. */
export const FEISHU_CARD_MAX_BYTES = 28_000;
const MAX_MARKDOWN_CHARS = 4_000;
const MAX_TEXT_CHARS = 2_000;
const MAX_TABLE_ROWS = 50;
const MAX_LABEL_CHARS = 40;
/** The name of the form container; fixed because one card carries at most one form here. */
export const FEISHU_FORM_NAME = 'qinglian_form';

export interface FeishuCallbackValue {
  action: string;
  value?: ActionValue;
}

type Json = Record<string, unknown>;

/**
 * Feishu markdown shows a character literally when written as an HTML entity; a backslash
 * escape is not reliably honoured. escapeMarkdown's `\X` escapes (and `&amp;`) become entities,
 * so user text shows exactly as typed.
 */
export function feishuMarkdown(md: string): string {
  return md.replace(/\\([\\`*_{}\[\]()#+\-.!|>~<])/g, (_m, c: string) => `&#${c.charCodeAt(0)};`);
}

/** Plain text typed by users, made safe for a Feishu markdown component. */
export function feishuEscapeText(s: string): string {
  return s.replace(/[&<>*_~`\[\]()#|\\]/g, (c) => `&#${c.charCodeAt(0)};`);
}

const plain = (content: string): Json => ({ tag: 'plain_text', content });

function callbackValue(actionId: string, value?: ActionValue): FeishuCallbackValue {
  return { action: actionId, ...(value ? { value } : {}) };
}

function button(b: Button): Json {
  if (b.kind === 'link') {
    return { tag: 'button', type: 'default', text: plain(truncate(b.label, MAX_LABEL_CHARS)), behaviors: [{ type: 'open_url', default_url: b.url }] };
  }
  return {
    tag: 'button',
    type: b.style ?? 'default',
    text: plain(truncate(b.label, MAX_LABEL_CHARS)),
    behaviors: [{ type: 'callback', value: callbackValue(b.actionId, b.value) }],
    ...(b.confirm ? { confirm: { title: plain('请确认'), text: plain(truncate(b.confirm, 200)) } } : {}),
  };
}

function inputLabel(i: FormInput): string {
  return `**${feishuEscapeText(i.label)}**${i.required ? ' <font color="red">*</font>' : ''}`;
}

function formInput(i: FormInput): Json[] {
  const placeholder = i.placeholder ? { placeholder: plain(truncate(i.placeholder, 100)) } : {};
  switch (i.kind) {
    case 'select':
      return [
        { tag: 'markdown', content: inputLabel(i) },
        {
          tag: 'select_static',
          name: i.name,
          required: Boolean(i.required),
          width: 'fill',
          ...(i.placeholder ? placeholder : { placeholder: plain('请选择') }),
          ...(i.initial && i.options.some((o) => o.value === i.initial) ? { initial_option: i.initial } : {}),
          options: i.options.map((o) => ({ text: plain(truncate(o.label, 60)), value: o.value })),
        },
      ];
    case 'date':
      return [
        { tag: 'markdown', content: inputLabel(i) },
        {
          tag: 'date_picker',
          name: i.name,
          required: Boolean(i.required),
          width: 'fill',
          ...(i.placeholder ? placeholder : { placeholder: plain('请选择日期') }),
          ...(i.initial && /^\d{4}-\d{2}-\d{2}$/.test(i.initial) ? { initial_date: i.initial } : {}),
        },
      ];
    default:
      return [
        {
          tag: 'input',
          name: i.name,
          required: Boolean(i.required),
          width: 'fill',
          label: plain(i.label),
          label_position: 'top',
          ...placeholder,
          ...(i.initial ? { default_value: i.initial } : {}),
          ...(i.kind === 'text' && i.multiline ? { input_type: 'multiline_text', rows: 4 } : {}),
          // Feishu caps input at 1000 characters.
          max_length: Math.min(i.kind === 'text' && i.maxLength ? i.maxLength : 1000, 1000),
        },
      ];
  }
}

function element(e: CardElement, limits: { md: number; text: number; rows: number }): Json[] {
  switch (e.type) {
    case 'text':
      return [{ tag: 'div', text: plain(truncate(e.text, limits.text)) }];
    case 'markdown':
      return [{ tag: 'markdown', content: truncate(feishuMarkdown(e.markdown), limits.md) }];
    case 'note':
      return [{ tag: 'markdown', content: truncate(feishuEscapeText(e.text), limits.text), text_size: 'notation' }];
    case 'divider':
      return [{ tag: 'hr' }];
    case 'image':
      // Bytes never reach a renderer: the degrade stage uploads them or leaves the picture out.
      if (!('url' in e)) return [];
      // uploadImage returns an image_key ("img_…"); anything else can only be shown as a link.
      return e.url.startsWith('img_')
        ? [{ tag: 'img', img_key: e.url, alt: plain(truncate(e.alt, 100)) }]
        : [{ tag: 'markdown', content: `[${feishuEscapeText(e.alt)}](${e.url})` }];
    case 'fields':
      return [
        {
          tag: 'markdown',
          content: truncate(e.fields.map((f) => `**${feishuEscapeText(f.label)}**：${feishuEscapeText(f.value)}`).join('\n'), limits.md),
        },
      ];
    case 'table': {
      const rows = e.rows.slice(0, limits.rows);
      const out: Json[] = [
        {
          tag: 'table',
          page_size: Math.min(10, Math.max(1, rows.length)),
          row_height: 'low',
          header_style: { bold: true, background_style: 'grey' },
          columns: e.columns.map((c, i) => ({ name: `c${i}`, display_name: truncate(c, 40), data_type: 'text', width: 'auto' })),
          rows: rows.map((r) => Object.fromEntries(e.columns.map((_c, i) => [`c${i}`, truncate(r[i] ?? '', 500)]))),
        },
      ];
      if (e.rows.length > rows.length) out.push({ tag: 'markdown', content: `（仅显示前 ${rows.length} 行，共 ${e.rows.length} 行）`, text_size: 'notation' });
      return out;
    }
    case 'actions':
      return [
        {
          tag: 'column_set',
          flex_mode: 'flow',
          horizontal_spacing: '8px',
          columns: e.buttons.map((b) => ({ tag: 'column', width: 'auto', elements: [button(b)] })),
        },
      ];
    case 'form':
      return [
        {
          tag: 'form',
          name: FEISHU_FORM_NAME,
          elements: [
            ...e.inputs.flatMap(formInput),
            {
              tag: 'button',
              name: 'submit',
              type: e.submitStyle === 'danger' ? 'danger' : 'primary',
              text: plain(truncate(e.submitLabel, MAX_LABEL_CHARS)),
              form_action_type: 'submit',
              behaviors: [{ type: 'callback', value: callbackValue(e.actionId, e.value) }],
            },
          ],
        },
      ];
  }
}

function build(card: Card, elements: CardElement[], limits: { md: number; text: number; rows: number }, cutNote: boolean): Json {
  const body = elements.flatMap((e) => element(e, limits));
  if (cutNote) body.push({ tag: 'markdown', content: '（内容过长，已截断。）', text_size: 'notation' });
  return {
    schema: '2.0',
    config: { update_multi: true, width_mode: 'fill' },
    header: { title: plain(truncate(card.title, 100)), template: card.color ?? 'blue' },
    body: { elements: body },
  };
}

const bytes = (x: unknown): number => Buffer.byteLength(JSON.stringify(x), 'utf8');

/** The card JSON object; always within Feishu's 30 KB limit (long content is cut, and says so). */
export function renderFeishuCard(card: Card): Json {
  let limits = { md: MAX_MARKDOWN_CHARS, text: MAX_TEXT_CHARS, rows: MAX_TABLE_ROWS };
  let out = build(card, card.elements, limits, false);
  if (bytes(out) <= FEISHU_CARD_MAX_BYTES) return out;
  limits = { md: 1_000, text: 500, rows: 15 };
  out = build(card, card.elements, limits, true);
  let n = card.elements.length;
  while (bytes(out) > FEISHU_CARD_MAX_BYTES && n > 0) {
    n -= 1;
    out = build(card, card.elements.slice(0, n), limits, true);
  }
  return out;
}

/** The `content` string of an interactive message: the card JSON serialised. */
export function feishuCardContent(card: Card): string {
  return JSON.stringify(renderFeishuCard(card));
}
