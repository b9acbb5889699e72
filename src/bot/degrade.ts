import type { Card, CardElement, FormDialogue } from '../../cards/model.js';
import type { Logger } from '../logger.js';
import type { ChatPlatform } from '../platform/types.js';
import type { FormStore } from './state/forms.js';
import type { TypedButtons } from './typed-buttons.js';

/**
 * The one stage between a handler's neutral card and a platform's renderer where "this
 * platform cannot do that" is decided: forms become a dialogue (the feature's own, or the
 * generic step-by-step one), buttons get typed twins, pictures are uploaded by the adapter or
 * left out. Handlers and renderers decide none of it.
 */

/** What a platform can show, read each time a card goes out (DingTalk's depends on its card tier). */
export interface Capabilities {
  /**
   * `card`: form inputs in the card; `card+dialogue`: in the card, and a button to answer the
   * same by dialogue for clients too old to show them; `dialogue`: no inputs at all.
   */
  forms: 'card' | 'card+dialogue' | 'dialogue';
  /** Whether each button is also pressed by message (`点 K7Q2 1`), where clicks may not arrive. */
  typedButtons: boolean;
}

export function capabilitiesOf(p: Pick<ChatPlatform, 'supportsForms' | 'formDialogueTwin' | 'typedButtons'>): Capabilities {
  return {
    forms: !p.supportsForms ? 'dialogue' : p.formDialogueTwin ? 'card+dialogue' : 'card',
    typedButtons: p.typedButtons === true,
  };
}

/** The button that starts the generic form dialogue (Bot's `form.fill`). */
export const FORM_FILL = 'form.fill';
export const FORM_TWIN_LABEL = '看不到表单？在对话中填写';
/** What a click says when its form is asked in the chat instead. */
export const FORM_BY_DIALOGUE = '请在对话中逐项填写。';

/**
 * The feature's own dialogue a card turns into here: a form that names one, where forms
 * cannot be shown. The caller starts it instead of sending the card.
 */
export function dialogueInstead(caps: Capabilities, card: Card): FormDialogue | undefined {
  if (caps.forms !== 'dialogue') return undefined;
  for (const e of card.elements) if (e.type === 'form' && e.dialogue) return e.dialogue;
  return undefined;
}

export interface DegradeDeps {
  forms: FormStore;
  typedButtons: TypedButtons;
  log: Logger;
}

/** The card as this platform can show it (a form with its own dialogue is for dialogueInstead). */
export async function fitCard(platform: ChatPlatform, card: Card, deps: DegradeDeps): Promise<Card> {
  const caps = capabilitiesOf(platform);
  const elements: CardElement[] = [];
  for (const e of card.elements) elements.push(...(await fitElement(platform, caps, e, deps)));
  const fitted = { ...card, elements };
  return caps.typedButtons ? deps.typedButtons.annotate(fitted) : fitted;
}

async function fitElement(platform: ChatPlatform, caps: Capabilities, e: CardElement, deps: DegradeDeps): Promise<CardElement[]> {
  if (e.type === 'image') {
    if (!('file' in e)) return [e];
    try {
      return [{ type: 'image', url: await platform.uploadImage(e.file), alt: e.alt }];
    } catch (err) {
      // A picture illustrates what the card says in words; a failed upload must not cost the answer.
      deps.log.warn({ err: (err as Error).message, platform: platform.name }, 'card image upload failed; card sent without it');
      return [];
    }
  }
  if (e.type !== 'form' || caps.forms === 'card') return [e];
  const id = await deps.forms.put({ actionId: e.actionId, ...(e.value ? { value: e.value } : {}), inputs: e.inputs });
  // The form stays; clients too old to show it get the same questions by dialogue.
  if (caps.forms === 'card+dialogue') return [e, { type: 'actions', buttons: [{ kind: 'button', label: FORM_TWIN_LABEL, actionId: FORM_FILL, value: { f: id } }] }];
  return [
    { type: 'note', text: `需要填写：${e.inputs.map((i) => i.label).join('、')}` },
    { type: 'actions', buttons: [{ kind: 'button', label: `逐项填写并${e.submitLabel}`, actionId: FORM_FILL, value: { f: id }, style: 'primary' }] },
  ];
}
