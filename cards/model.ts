/**
 * The neutral card model. Builders in cards/ and handlers produce it; one renderer per
 * platform turns it into wire JSON. Nothing here knows a platform.
 *
 * Text rules: `text` and field values are plain text and every renderer escapes them.
 * `markdown` is authored by the bot; any user-supplied string interpolated into it must go
 * through `escapeMarkdown` (cards/markdown.ts) first.
 */

export type CardColor = 'blue' | 'green' | 'red' | 'orange' | 'grey' | 'purple';

/** A value carried back by a button click. Kept small: an action id names the handler. */
export type ActionValue = Record<string, string | number | boolean>;

export interface ActionButton {
  kind: 'button';
  label: string;
  /** Handler name, e.g. `quiz.answer`. */
  actionId: string;
  value?: ActionValue;
  style?: 'primary' | 'danger' | 'default';
  /** Ask for confirmation before sending (renderers that can, do). */
  confirm?: string;
  /** The message that presses this button (`点 K7Q2 1`), set by Bot.prepareCard where typed buttons are on. */
  typed?: string;
}

export interface LinkButton {
  kind: 'link';
  label: string;
  url: string;
}

export type Button = ActionButton | LinkButton;

export interface FormInputBase {
  name: string;
  label: string;
  required?: boolean;
  placeholder?: string;
  /** Pre-filled value (for editing). */
  initial?: string;
}
export interface TextInput extends FormInputBase { kind: 'text'; multiline?: boolean; maxLength?: number }
export interface NumberInput extends FormInputBase { kind: 'number'; min?: number; max?: number }
export interface DateInput extends FormInputBase { kind: 'date' }
export interface SelectInput extends FormInputBase { kind: 'select'; options: { label: string; value: string }[] }
export type FormInput = TextInput | NumberInput | DateInput | SelectInput;

export type CardElement =
  | { type: 'text'; text: string }
  | { type: 'markdown'; markdown: string }
  | { type: 'fields'; fields: { label: string; value: string }[] }
  | { type: 'table'; columns: string[]; rows: string[][] }
  | { type: 'actions'; buttons: Button[] }
  | {
      type: 'form';
      /** Submitted with the form's values as `form` in the action. */
      actionId: string;
      value?: ActionValue;
      submitLabel: string;
      /** The submit button's style: a form that rejects something is the dangerous action. */
      submitStyle?: 'primary' | 'danger';
      inputs: FormInput[];
      /**
       * The feature's own dialogue asking the same questions, for platforms without forms: the
       * degrade stage (src/bot/degrade.ts) starts it instead of sending the card. Without one,
       * such platforms get the generic step-by-step form dialogue.
       */
      dialogue?: FormDialogue;
    }
  | ImageElement
  /** `hint: 'typed-buttons'`: the note listing typed twins, which a renderer whose buttons always work may leave out. */
  | { type: 'note'; text: string; hint?: 'typed-buttons' }
  | { type: 'divider' };

/** A dialogue standing in for a form: its name, what it starts with, what a click on the card says. */
export interface FormDialogue {
  name: string;
  initial?: Record<string, unknown>;
  /** The toast of a click whose answer became this dialogue, e.g. “请在对话中逐项修改。”. */
  notice?: string;
}

/**
 * A picture (a chart). Card functions give its bytes; the degrade stage has the platform's
 * adapter upload them and puts in `url` where the platform keeps it (a Feishu image_key, a
 * DingTalk media id, a sandbox address). A renderer only ever sees the uploaded form.
 * Bytes do not survive JSON: a card kept in the send ledger must not carry a picture yet.
 */
export type ImageElement =
  | { type: 'image'; alt: string; file: { name: string; data: Buffer; mime: string } }
  | { type: 'image'; url: string; alt: string };

export interface Card {
  title: string;
  color?: CardColor;
  elements: CardElement[];
}

export function isCard(x: unknown): x is Card {
  return typeof x === 'object' && x !== null && 'title' in x && Array.isArray((x as Card).elements);
}
