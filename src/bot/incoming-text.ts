import { note } from '../../cards/builders.js';
import { isCard, type Card } from '../../cards/model.js';
import { addMasks, maskingNotice, maskPersonalNumbers, NO_MASKS, type MaskResult } from '../domain/masking.js';
import { cleanText } from '../domain/text.js';
import type { ActionResult, CardAction, IncomingMessage } from '../platform/types.js';
import type { HandlerContext } from './context.js';

/**
 * The one cleaning step every typed word passes before a handler sees it: message text (so
 * commands, dialogue answers kept in Redis, reasons typed after 驳回), the names of files sent,
 * and every form value. Control and bidi characters are removed and personal numbers masked
 * here, so no feature can store them by forgetting to; features receive text that is safe to keep.
 */

type Counts = Omit<MaskResult, 'text'>;

function clean(s: string, total: { counts: Counts }): string {
  const masked = maskPersonalNumbers(cleanText(s));
  total.counts = addMasks(total.counts, masked);
  return masked.text;
}

export function cleanMessage(msg: IncomingMessage): { msg: IncomingMessage; notice?: string } {
  const total = { counts: NO_MASKS };
  const out: IncomingMessage = {
    ...msg,
    text: clean(msg.text, total),
    ...(msg.files ? { files: msg.files.map((f) => ({ ...f, name: clean(f.name, total) })) } : {}),
  };
  const notice = maskingNotice(total.counts);
  return notice ? { msg: out, notice } : { msg: out };
}

export function cleanAction(action: CardAction): { action: CardAction; notice?: string } {
  if (!action.form) return { action };
  const total = { counts: NO_MASKS };
  const form = Object.fromEntries(Object.entries(action.form).map(([k, v]) => [k, typeof v === 'string' ? clean(v, total) : v]));
  const notice = maskingNotice(total.counts);
  return notice ? { action: { ...action, form }, notice } : { action: { ...action, form } };
}

const withNote = (content: Card | string, notice: string): Card | string =>
  isCard(content) ? { ...content, elements: [...content.elements, note(notice)] } : `${content}\n\n${notice}`;

/**
 * Makes the first reply of this event carry the notice, wherever that reply goes; `flush`
 * sends it alone when the handler said nothing.
 */
export function noticeOnFirstReply(ctx: HandlerContext, notice: string | undefined): () => Promise<void> {
  if (!notice) return async () => {};
  const reply = ctx.reply;
  let pending = true;
  ctx.reply = (content) => {
    if (!pending) return reply(content);
    pending = false;
    return reply(withNote(content, notice));
  };
  return async () => {
    if (pending) await ctx.reply(notice);
  };
}

/** A card action's answer with the notice: on its card when it has one, else in its toast. */
export function noticeOnResult(result: ActionResult, notice: string | undefined): ActionResult {
  if (!notice) return result;
  if (result.card) return { ...result, card: withNote(result.card, notice) as Card };
  return { ...result, toast: result.toast ? `${result.toast}\n${notice}` : notice };
}
