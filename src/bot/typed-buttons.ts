import { randomInt } from 'node:crypto';
import { z } from 'zod';
import type { ActionButton, Card } from '../../cards/model.js';
import type { StateStore } from './state/store.js';
import { SENTENCE_MARKS } from './command-parser.js';

/**
 * Buttons that can be pressed by message. On a platform whose card clicks may not reach the
 * bot (DingTalk robot cards, see the README), each card's buttons get a short code and the
 * card says “回复：点 K7Q2 1（确认提交）…”; the message `点 K7Q2 1` then runs the very same
 * action, through the same checks, as the click would have.
 *
 * The code names the card's buttons, not the person: whoever types it is the actor, and every
 * action handler checks the actor as it does for clicks.
 */

// No 0/O/1/I/L: codes are read off a phone screen and typed.
const ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
const TTL_MS = 30 * 24 * 3600 * 1000;
/** How to type a click, said when `点` is typed wrong. */
export const TYPED_CLICK_HINT = '请按卡片上的提示回复，例如“点 K7Q2 1”。';
export const TYPED_CLICK_WORDS = ['点', '按', 'click'];

export interface TypedButton {
  label: string;
  actionId: string;
  value?: ActionButton['value'];
}

const storedButtons = z.array(
  z.object({ label: z.string(), actionId: z.string(), value: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional() }),
) as z.ZodType<TypedButton[]>;

export class TypedButtons {
  constructor(private store: StateStore) {}

  private key(code: string): string {
    return `btn:${code}`;
  }

  /** The card with a note naming a code for its buttons; unchanged when it has none. */
  async annotate(card: Card): Promise<Card> {
    const buttons = buttonsOf(card);
    if (buttons.length === 0) return card;
    const code = await this.register(buttons);
    const list = buttons.map((b, i) => `点 ${code} ${i + 1}（${b.label}）`).join('；');
    // Each button also carries its own twin, so a renderer can put it where the button is.
    let n = 0;
    const elements = card.elements.map((e) =>
      e.type === 'actions' ? { ...e, buttons: e.buttons.map((b) => (b.kind === 'button' ? { ...b, typed: `点 ${code} ${++n}` } : b)) } : e,
    );
    return { ...card, elements: [...elements, { type: 'note', text: `如点击按钮没有反应，可直接回复：${list}。`, hint: 'typed-buttons' }] };
  }

  private async register(buttons: TypedButton[]): Promise<string> {
    for (;;) {
      const code = Array.from({ length: 4 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
      if (await this.store.setIfAbsent(this.key(code), buttons, TTL_MS)) return code;
    }
  }

  /** The button `点 CODE N` means, or a Chinese reason why there is none. */
  async resolve(rawCode: string, n: number): Promise<TypedButton | string> {
    const usage = TYPED_CLICK_HINT;
    const stored = await this.store.get(this.key(rawCode.toUpperCase()), storedButtons);
    // Unreadable (an older deploy's shape) is as good as expired: the card must be fetched again.
    if (!stored || !('value' in stored)) return `找不到代码为“${rawCode}”的卡片按钮（可能已过期）。${usage}`;
    const buttons = stored.value;
    const b = buttons[n - 1];
    if (!b) return `这张卡片只有 ${buttons.length} 个按钮，请回复 1 到 ${buttons.length} 之间的序号。`;
    return b;
  }

  private lastKey(platform: string, platformUserId: string): string {
    return `btn-last:${platform}:${platformUserId}`;
  }

  /** The buttons of the latest card sent to someone's one-to-one chat, for their labels typed as messages. */
  async rememberLast(platform: string, platformUserId: string, card: Card): Promise<void> {
    const buttons = buttonsOf(card);
    if (buttons.length > 0) await this.store.set(this.lastKey(platform, platformUserId), buttons, LAST_TTL_MS);
  }

  /**
   * `我已学习` typed instead of clicked: the button with that label on the person's latest
   * card, when exactly one has it; otherwise undefined (and the text is read as usual).
   */
  async byLabel(platform: string, platformUserId: string, text: string): Promise<TypedButton | undefined> {
    const label = normaliseLabel(text);
    if (!label) return undefined;
    const stored = await this.store.get(this.lastKey(platform, platformUserId), storedButtons);
    if (!stored || !('value' in stored)) return undefined;
    const hits = stored.value.filter((b) => normaliseLabel(b.label) === label);
    return hits.length === 1 ? hits[0] : undefined;
  }
}

/** A day's worth of phone use: a label typed the next morning still means yesterday's card. */
const LAST_TTL_MS = 24 * 3600 * 1000;

const LABEL_NOISE = new RegExp(`[\\s${SENTENCE_MARKS}“”"']`, 'gu');
const normaliseLabel = (t: string): string => t.normalize('NFKC').replace(LABEL_NOISE, '');

function buttonsOf(card: Card): TypedButton[] {
  return card.elements.flatMap((e) =>
    e.type === 'actions' ? e.buttons.filter((b): b is ActionButton => b.kind === 'button').map((b) => ({ label: b.label, actionId: b.actionId, ...(b.value ? { value: b.value } : {}) })) : [],
  );
}
