import type { Card } from '../../cards/model.js';
import type { Conversation, PlatformName, SentMessage } from '../platform/types.js';
import type { Staff } from '../store/staff.js';
import type { Role } from '../domain/roles.js';

/** What a handler is given: who, where, on which platform, and how to answer. */
export interface HandlerContext {
  staff: Staff;
  platform: PlatformName;
  conversation: Conversation;
  /** The event's own id, for logs and idempotent side effects. */
  eventId: string;
  now: Date;
  reply(content: Card | string): Promise<SentMessage>;
  /**
   * Sends a file where `reply` sends: privately when the command is confidential and asked in
   * a group. Its MIME type follows from the name unless the file brought its own (an upload).
   */
  replyFile(name: string, data: Buffer, mime?: string): Promise<SentMessage>;
  hasRole(...roles: Role[]): boolean;
  /** Starts a dialogue; the message asking its first question, if it asked one. */
  startDialogue(name: string, initial?: Record<string, unknown>): Promise<SentMessage | void>;
}

/** P is what the command's declared args parse the words into (src/bot/args.ts). */
export interface CommandContext<P = Record<string, unknown>> extends HandlerContext {
  /** The command word as typed. */
  word: string;
  /** The words after the name, placed on the command's declared args. */
  params: P;
}

/** V is what the action's schema parses the card value into (z.output of it). */
export interface ActionContext<V = Record<string, unknown>> extends HandlerContext {
  messageId: string;
  actionId: string;
  value: V;
  form?: Record<string, string>;
}

/**
 * A handler may answer with a card or text; for actions, a toast, the clicked card's new body,
 * and `send`: a card sent as a new message, the clicked card left as it is.
 */
export type CommandReply = Card | string | void;
export type ActionReply = { toast?: string; card?: Card; send?: Card; fieldErrors?: Record<string, string> } | void;
