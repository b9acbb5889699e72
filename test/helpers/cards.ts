import type { ActionButton, Card, CardElement } from '../../cards/model.js';

/** Reading neutral cards in tests: their buttons, one button by action, their form. */
export const buttonsOf = (c: Card): ActionButton[] =>
  c.elements.flatMap((e) => (e.type === 'actions' ? e.buttons.filter((b): b is ActionButton => b.kind === 'button') : []));

export function button(c: Card, actionId: string): ActionButton {
  const b = buttonsOf(c).find((x) => x.actionId === actionId);
  if (!b) throw new Error(`no ${actionId} button on card ${c.title}`);
  return b;
}

export type FormElement = Extract<CardElement, { type: 'form' }>;
export function formOf(c: Card): FormElement {
  const f = c.elements.find((e): e is FormElement => e.type === 'form');
  if (!f) throw new Error(`no form on card ${c.title}`);
  return f;
}
