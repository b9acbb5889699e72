import { dingTalkCardBody } from './dingtalk-markdown.js';
import { truncate } from './markdown.js';
import type { ActionButton, ActionValue, Card, FormInput } from './model.js';

/**
 * Renders the neutral card as the `cardParamMap` of a DingTalk card instance
 * (POST /v1.0/card/instances/createAndDeliver), for one of two templates:
 *
 *  - `ai`: DingTalk's public AI-card template (382e4302-…schema, as the official Python SDK's
 *    AIMarkdownCardInstance uses it): `msgTitle`, `msgContent` (markdown), `flowStatus`, and
 *    `sys_full_json_obj.msgButtons: [{text, color, id, request: true}]`. Nothing to set up;
 *    it has no form inputs, so forms arrive here already turned into a dialogue button.
 *  - `hospital`: the template shipped in config/dingtalk/qinglian-card-template.json:
 *    `title`, `content` (markdown), `buttons` (a list the button group loops over; each
 *    item's `id` is passed back as `params.token`), the 表单 component's `form`
 *    (`{fields: [{name, label, type, required, placeholder, defaultValue, options}]}`, as in
 *    open-dingtalk/dingtalk-card-examples), `form_btn_text`, `form_status`, `hasForm`, and
 *    `pending` (hides the buttons while a click is handled).
 *
 * Every value is a string (the API takes nothing else); lists and objects are JSON strings.
 * A button's id is a short token; what it means stays with the adapter, so no action value
 * travels through the client.
 */

export const PUBLIC_AI_CARD_TEMPLATE = '382e4302-551d-4880-bf29-a30acfab2e71.schema';
export type DingTalkTemplate = 'ai' | 'hospital';

export interface RenderedCardInstance {
  params: Record<string, string>;
  /** What each request button means, by its token. */
  buttons: Record<string, { actionId: string; value?: ActionValue }>;
  /** The card's form, submitted with actionIds ["form"]. */
  form?: { actionId: string; value?: ActionValue };
}

/** AI-card flowStatus 3 = finished: the card shows its content without a typing cursor. */
const AI_FINISHED = '3';
const AI_ORDER = ['msgTitle', 'msgContent', 'msgButtons'];
const MAX_BUTTON_LABEL = 20;

const color = (b: ActionButton) => (b.style === 'primary' ? 'blue' : b.style === 'danger' ? 'red' : 'gray');

interface TemplateButton {
  text: string;
  color: string;
  id: string;
  request: true;
}

function requestButtons(card: Card): { list: TemplateButton[]; buttons: RenderedCardInstance['buttons'] } {
  const buttons: RenderedCardInstance['buttons'] = {};
  const list: TemplateButton[] = [];
  for (const e of card.elements) {
    if (e.type !== 'actions') continue;
    for (const b of e.buttons) {
      if (b.kind !== 'button') continue;
      const id = `b${list.length + 1}`;
      buttons[id] = { actionId: b.actionId, ...(b.value ? { value: b.value } : {}) };
      list.push({ text: truncate(b.label, MAX_BUTTON_LABEL), color: color(b), id, request: true });
    }
  }
  return { list, buttons };
}

/** The AI template's button list, as the template reads it from sys_full_json_obj. */
export function aiButtonsParam(list: TemplateButton[] | []): string {
  return JSON.stringify({ order: AI_ORDER, msgButtons: list });
}

export function renderDingTalkCard(card: Card, template: DingTalkTemplate): RenderedCardInstance {
  const { list, buttons } = requestButtons(card);
  const body = dingTalkCardBody(card);
  const form = card.elements.find((e) => e.type === 'form');
  if (template === 'ai') {
    // Forms never reach this template: the degrade stage (src/bot/degrade.ts) turned them into dialogues.
    return {
      params: { msgTitle: truncate(card.title, 100), msgContent: body || ' ', flowStatus: AI_FINISHED, sys_full_json_obj: aiButtonsParam(list) },
      buttons,
    };
  }
  // Clients older than the form component show nothing where the form is: say why (the
  // card also carries a "fill in by dialogue" button, see src/bot/degrade.ts).
  const formHint = form ? `${body ? '\n\n' : ''}> 看不到下面的表单时，可点“在对话中填写”，或把钉钉升级到电脑版 7.6.0、手机版 7.6.6 或更新版本。` : '';
  return {
    params: {
      title: truncate(card.title, 100),
      content: `${body}${formHint}`,
      color: card.color ?? 'blue',
      buttons: JSON.stringify(list),
      hasForm: form ? 'true' : 'false',
      form: form ? JSON.stringify({ fields: form.inputs.map(formField) }) : '{"fields":[]}',
      form_btn_text: form?.submitLabel ?? '提交',
      form_status: 'normal',
      pending: 'false',
    },
    buttons,
    ...(form ? { form: { actionId: form.actionId, ...(form.value ? { value: form.value } : {}) } } : {}),
  };
}

/**
 * What the clicker sees between the click and the update: no buttons to press twice. Sent in
 * the callback's answer as userPrivateData; both templates' keys are set, each template reads
 * its own.
 */
export function pendingPrivateParams(): Record<string, string> {
  return { pending: 'true', sys_full_json_obj: aiButtonsParam([]) };
}

/** The clicker's private view reset to the card's shared data after an update. */
export function restoredPrivateParams(params: Record<string, string>): Record<string, string> {
  return { pending: 'false', sys_full_json_obj: params.sys_full_json_obj ?? aiButtonsParam([]) };
}

/** A select's default is `{index, value}` in the 表单 component; other fields take the value. */
function defaultOf(i: FormInput): unknown {
  if (i.kind !== 'select') return i.initial;
  const index = i.options.findIndex((o) => o.value === i.initial);
  return index >= 0 ? { index, value: i.initial } : undefined;
}

const FIELD_TYPES = { text: 'TEXT', number: 'NUMBER', date: 'DATE', select: 'SELECT' } as const;

function formField(i: FormInput): Record<string, unknown> {
  const type = i.kind === 'text' && i.multiline ? 'TEXT_AREA' : FIELD_TYPES[i.kind];
  return {
    name: i.name,
    label: i.label,
    type,
    required: i.required === true,
    ...(i.placeholder ? { placeholder: i.placeholder } : {}),
    ...(i.initial !== undefined ? { defaultValue: defaultOf(i) } : {}),
    ...(i.kind === 'select' ? { options: i.options.map((o) => ({ value: o.value, text: o.label })) } : {}),
    ...(i.kind === 'number' ? { ...(i.min !== undefined ? { min: i.min } : {}), ...(i.max !== undefined ? { max: i.max } : {}) } : {}),
    ...(i.kind === 'text' && i.maxLength ? { maxLength: i.maxLength } : {}),
  };
}
