import type { ActionButton, Card, CardElement } from '../../cards/model.js';

/** Small readers over a neutral card, so card tests assert content rather than layout. */

export const elementsOf = <T extends CardElement['type']>(c: Card, type: T): Extract<CardElement, { type: T }>[] =>
  c.elements.filter((e): e is Extract<CardElement, { type: T }> => e.type === type);

/** Every text a person reads on the card (title, texts, markdown, notes, fields, tables, buttons). */
export function allText(c: Card): string {
  const parts: string[] = [c.title];
  for (const e of c.elements) {
    if (e.type === 'text' || e.type === 'note') parts.push(e.text);
    else if (e.type === 'markdown') parts.push(e.markdown);
    else if (e.type === 'fields') parts.push(...e.fields.map((f) => `${f.label}: ${f.value}`));
    else if (e.type === 'table') parts.push(e.columns.join(' | '), ...e.rows.map((r) => r.join(' | ')));
    else if (e.type === 'actions') parts.push(...e.buttons.map((b) => b.label));
    else if (e.type === 'form') parts.push(e.submitLabel, ...e.inputs.map((i) => i.label));
    else if (e.type === 'image') parts.push(e.alt);
  }
  return parts.join('\n');
}

export const buttonsOf = (c: Card): ActionButton[] =>
  elementsOf(c, 'actions').flatMap((a) => a.buttons.filter((b): b is ActionButton => b.kind === 'button'));

export const fieldMap = (c: Card): Record<string, string> =>
  Object.fromEntries(elementsOf(c, 'fields').flatMap((f) => f.fields.map((x) => [x.label, x.value])));
