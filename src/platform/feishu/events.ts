import { z } from 'zod';
import type { ActionValue } from '../../../cards/model.js';
import type { CardAction, IncomingMessage } from '../types.js';

/**
 * Normalising the two events the bot subscribes to. The SDK's EventDispatcher flattens a
 * schema 2.0 event into `{...header, ...event}`, so `event_id` sits next to `message`.
 *
 * im.message.receive_v1: https://open.feishu.cn/document/server-docs/im-v1/message/events/receive
 * card.action.trigger:   https://open.feishu.cn/document/uAjLw4CM/ukzMukzMukzM/feishu-cards/card-callback-communication
 */

const messageEvent = z.object({
  event_id: z.string().min(1),
  sender: z.object({
    sender_id: z.object({ open_id: z.string().min(1) }).passthrough(),
    sender_type: z.string(),
  }).passthrough(),
  message: z.object({
    message_id: z.string(),
    chat_id: z.string(),
    chat_type: z.string(),
    message_type: z.string(),
    content: z.string(),
    mentions: z
      .array(z.object({ key: z.string(), id: z.object({ open_id: z.string().optional() }).passthrough(), name: z.string().optional() }).passthrough())
      .optional()
      .nullable(),
  }).passthrough(),
}).passthrough();

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const cardEvent = z.object({
  event_id: z.string().min(1),
  operator: z.object({ open_id: z.string().min(1) }).passthrough(),
  action: z.object({
    value: z.unknown().optional(),
    tag: z.string().optional(),
    name: z.string().optional(),
    form_value: z.record(z.string(), z.unknown()).optional().nullable(),
  }).passthrough(),
  context: z.object({ open_message_id: z.string().optional(), open_chat_id: z.string().optional() }).passthrough().optional(),
  open_message_id: z.string().optional(),
  open_chat_id: z.string().optional(),
}).passthrough();

const callbackValue = z.object({ action: z.string().min(1).max(100), value: z.record(z.string(), scalar).optional() });

export type NormalisedMessage = IncomingMessage | { ignored: string };

/** Text of a message: text messages as typed, rich text (post) flattened; other kinds are not commands. */
function textOf(messageType: string, content: string): string | undefined {
  try {
    const c = JSON.parse(content) as Record<string, unknown>;
    if (messageType === 'text' && typeof c.text === 'string') return c.text;
    if (messageType === 'post') {
      // A post is {title, content: [[{tag:'text', text}, …], …]} (possibly under a locale key).
      const body = (Array.isArray(c.content) ? c : Object.values(c).find((v) => v && typeof v === 'object' && Array.isArray((v as { content?: unknown }).content))) as
        | { title?: string; content: { tag?: string; text?: string; user_id?: string }[][] }
        | undefined;
      if (!body) return undefined;
      return body.content.map((line) => line.map((n) => (n.tag === 'at' ? `@_user_${n.user_id ?? ''}` : (n.text ?? ''))).join('')).join('\n');
    }
  } catch {
    return undefined;
  }
  return undefined;
}

export function normaliseMessage(data: unknown, botOpenId: string | undefined, receivedAt: Date): NormalisedMessage {
  const parsed = messageEvent.safeParse(data);
  if (!parsed.success) return { ignored: 'malformed im.message.receive_v1' };
  const { event_id, sender, message } = parsed.data;
  if (sender.sender_type !== 'user') return { ignored: `sender_type ${sender.sender_type}` };
  const files = filesOf(message.message_type, message.content, message.message_id);
  const raw = files ? '' : textOf(message.message_type, message.content);
  if (raw === undefined) return { ignored: `message_type ${message.message_type}` };
  const mentions = message.mentions ?? [];
  const mentioned = message.chat_type === 'p2p' || mentions.some((m) => botOpenId !== undefined && m.id.open_id === botOpenId);
  // Mentions arrive as placeholders "@_user_1"; the bot's own is dropped, others become "@name".
  let text = raw;
  for (const m of mentions) {
    const isBot = botOpenId !== undefined && m.id.open_id === botOpenId;
    text = text.split(m.key).join(isBot ? ' ' : `@${m.name ?? ''}`);
  }
  text = text.replace(/@_all/g, ' ').replace(/\s+/g, ' ').trim();
  const openId = sender.sender_id.open_id;
  return {
    kind: 'message',
    platform: 'feishu',
    eventId: event_id,
    platformMessageId: message.message_id,
    platformUserId: openId,
    conversation: message.chat_type === 'p2p' ? { type: 'direct', platformUserId: openId } : { type: 'group', chatId: message.chat_id },
    text,
    mentioned,
    receivedAt,
    ...(files ? { files } : {}),
  };
}

/** Image and file messages: the resource is fetched later by message id and key. */
function filesOf(messageType: string, content: string, messageId: string): { name: string; ref: string }[] | undefined {
  if (messageType !== 'image' && messageType !== 'file') return undefined;
  try {
    const c = JSON.parse(content) as Record<string, unknown>;
    if (messageType === 'image' && typeof c.image_key === 'string') return [{ name: '图片', ref: `feishu:image:${messageId}:${c.image_key}` }];
    if (messageType === 'file' && typeof c.file_key === 'string') {
      return [{ name: typeof c.file_name === 'string' && c.file_name ? c.file_name : '文件', ref: `feishu:file:${messageId}:${c.file_key}` }];
    }
  } catch {
    // Malformed content: treated as an unsupported message below.
  }
  return undefined;
}

/** Form values arrive as strings, arrays (multi-select) or "2026-11-25 +0800" (date picker). */
function formString(v: unknown): string {
  if (Array.isArray(v)) return v.map(formString).join(',');
  if (v === null || v === undefined) return '';
  const s = typeof v === 'string' ? v : String(v);
  const date = /^(\d{4}-\d{2}-\d{2})(?: [+-]\d{4})?$/.exec(s);
  return date ? date[1] : s;
}

export function normaliseCardAction(data: unknown, receivedAt: Date): CardAction | { ignored: string } {
  const parsed = cardEvent.safeParse(data);
  if (!parsed.success) return { ignored: 'malformed card.action.trigger' };
  const e = parsed.data;
  const rawValue = typeof e.action.value === 'string' ? safeJson(e.action.value) : e.action.value;
  const value = callbackValue.safeParse(rawValue);
  if (!value.success) return { ignored: 'card callback without an action id' };
  const messageId = e.context?.open_message_id ?? e.open_message_id ?? '';
  const openId = e.operator.open_id;
  const form = e.action.form_value ? Object.fromEntries(Object.entries(e.action.form_value).map(([k, v]) => [k, formString(v)])) : undefined;
  return {
    kind: 'action',
    platform: 'feishu',
    eventId: e.event_id,
    platformUserId: openId,
    // The callback does not say whether its chat is one-to-one or a group; follow-up messages of
    // an action (results, declarations) are the clicker's own business, so they go to them directly.
    conversation: { type: 'direct', platformUserId: openId },
    messageId,
    actionId: value.data.action,
    ...(value.data.value ? { value: value.data.value as ActionValue } : {}),
    ...(form ? { form } : {}),
    receivedAt,
  };
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
