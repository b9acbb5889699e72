import { mimeOf } from '../src/platform/mime.js';
import type { ActionButton, ActionValue, Button, Card, CardColor, CardElement, FormDialogue, FormInput, LinkButton } from './model.js';

/** Plain functions that build the neutral card tree; handlers compose them. */

export const card = (title: string, elements: (CardElement | false | null | undefined)[], color?: CardColor): Card => ({
  title,
  ...(color ? { color } : {}),
  elements: elements.filter((e): e is CardElement => Boolean(e)),
});

export const text = (t: string): CardElement => ({ type: 'text', text: t });
export const markdown = (md: string): CardElement => ({ type: 'markdown', markdown: md });
export const note = (t: string): CardElement => ({ type: 'note', text: t });
export const divider = (): CardElement => ({ type: 'divider' });
/** A picture from its bytes; the MIME type follows from the name (`chart.png`). */
export const image = (name: string, data: Buffer, alt: string): CardElement => ({ type: 'image', alt, file: { name, data, mime: mimeOf(name) } });

export const fields = (pairs: [string, string | number][] | Record<string, string | number>): CardElement => ({
  type: 'fields',
  fields: (Array.isArray(pairs) ? pairs : Object.entries(pairs)).map(([label, value]) => ({ label, value: String(value) })),
});

export const table = (columns: string[], rows: (string | number)[][]): CardElement => ({
  type: 'table',
  columns,
  rows: rows.map((r) => r.map(String)),
});

export const actions = (...buttons: Button[]): CardElement => ({ type: 'actions', buttons });

export const button = (
  label: string,
  actionId: string,
  value?: ActionValue,
  opts: { style?: ActionButton['style']; confirm?: string } = {},
): ActionButton => ({ kind: 'button', label, actionId, ...(value ? { value } : {}), ...opts });

export const link = (label: string, url: string): LinkButton => ({ kind: 'link', label, url });

export const form = (
  actionId: string,
  inputs: FormInput[],
  opts: { submitLabel?: string; submitStyle?: 'primary' | 'danger'; value?: ActionValue; dialogue?: FormDialogue } = {},
): CardElement => ({
  type: 'form',
  actionId,
  inputs,
  submitLabel: opts.submitLabel ?? '提交',
  ...(opts.submitStyle ? { submitStyle: opts.submitStyle } : {}),
  ...(opts.value ? { value: opts.value } : {}),
  ...(opts.dialogue ? { dialogue: opts.dialogue } : {}),
});
