import type { Card, ActionValue } from '../../cards/model.js';

export type PlatformName = 'sandbox' | 'dingtalk' | 'feishu';

/** How a platform is named to users. */
export const PLATFORM_LABELS: Record<PlatformName, string> = { dingtalk: '钉钉', feishu: '飞书', sandbox: '沙盒' };

/** Where a message came from or goes to. */
export type Conversation =
  | { type: 'direct'; platformUserId: string }
  | { type: 'group'; chatId: string };

/** A text message from a user, normalised by the adapter. */
export interface IncomingMessage {
  kind: 'message';
  platform: PlatformName;
  /** The platform's own id for this delivery, used to drop redeliveries. */
  eventId: string;
  /**
   * The platform's own id for the message itself (Feishu message_id, DingTalk msgId), which
   * stays the same when the platform redelivers it under a new event id.
   */
  platformMessageId?: string;
  platformUserId: string;
  /** The sender's staff id when the platform tells it (DingTalk staffId), else undefined. */
  staffIdHint?: string;
  conversation: Conversation;
  /** Text with @-mentions of the bot already stripped by the adapter where it can. */
  text: string;
  /** True when the bot was @-mentioned (always true in direct chats). */
  mentioned: boolean;
  receivedAt: Date;
  /** Attachments (file keys/urls) where the platform delivered any. */
  files?: { name: string; ref: string }[];
}

/** A button click or form submission on a card the bot sent. */
export interface CardAction {
  kind: 'action';
  platform: PlatformName;
  eventId: string;
  platformUserId: string;
  staffIdHint?: string;
  conversation: Conversation;
  /** The id of the message (card) that was clicked, as returned by `send`. */
  messageId: string;
  actionId: string;
  value?: ActionValue;
  form?: Record<string, string>;
  receivedAt: Date;
}

export type IncomingEvent = IncomingMessage | CardAction;

/** What the bot answers to a card action: an optional toast and an optional new card body. */
export interface ActionResult {
  toast?: string;
  card?: Card;
  /** A form refused: input name → what to correct (Chinese). The toast says the same, naming the fields. */
  fieldErrors?: Record<string, string>;
}

export interface SendTarget {
  conversation: Conversation;
  /** Deterministic key for platform idempotency (Feishu uuid, DingTalk outTrackId). */
  idempotencyKey?: string;
}

export interface SentMessage {
  messageId: string;
}

/** What one call sending a text to several people answered, per recipient (ChatPlatform.sendTextBatch). */
export interface TextBatchResult {
  messageId: string;
  /** Not people of the organisation: sending again cannot help. */
  invalid: string[];
  /** Refused for now (the platform's per-person flow control): to be tried again later. */
  throttled: string[];
}

/** The sink an adapter hands normalised events to. For actions, its result is the answer. */
export interface EventSink {
  onMessage(msg: IncomingMessage): Promise<void>;
  onAction(action: CardAction): Promise<ActionResult>;
}

export interface PlatformHealth {
  ok: boolean;
  detail?: string;
}

export interface ChatPlatform {
  readonly name: PlatformName;
  start(sink: EventSink): Promise<void>;
  stop(): Promise<void>;
  health(): PlatformHealth;
  sendText(target: SendTarget, text: string): Promise<SentMessage>;
  sendCard(target: SendTarget, card: Card): Promise<SentMessage>;
  updateCard(messageId: string, card: Card): Promise<void>;
  /** Uploads a file and sends it to the target as a file message (or a link in the sandbox). */
  sendFile(target: SendTarget, file: { name: string; data: Buffer; mime: string }): Promise<SentMessage>;
  /**
   * The bytes of a file a user sent (a `ref` from IncomingMessage.files). Throws
   * FileTooLargeError beyond `maxBytes`, PlatformError when the platform cannot give it.
   */
  downloadFile(ref: string, maxBytes: number): Promise<{ data: Buffer; mime: string }>;
  /** Uploads a card's picture (for the degrade stage); returns the URL/key its renderer puts in the image element. */
  uploadImage(image: { name: string; data: Buffer; mime: string }): Promise<string>;
  /** Whether its cards can carry form inputs; if not, forms degrade into dialogues. */
  readonly supportsForms: boolean;
  /** With forms: some of its clients may not show them, so each form also gets a "fill in by dialogue" button. */
  readonly formDialogueTwin?: boolean;
  /** Whether its cards also tell how to press each button by message (`点 CODE N`). */
  readonly typedButtons?: boolean;
  /**
   * The share of one platform call a send takes, for pacing (default 1): below 1 where the
   * adapter sends several recipients in one call (DingTalk batchSend: 1/20 for a text push),
   * 0 where the adapter paces that shared call itself through usePacer.
   */
  sendCost?(target: SendTarget, content: Card | string): number;
  /** Hands over the outbound pacer (`cost` as in sendCost), for calls the adapter makes on behalf of several sends. */
  usePacer?(pace: (cost: number) => Promise<unknown>): void;
  /**
   * The same text to up to `textBatchMax` people's direct chats in one platform call (DingTalk
   * batchSend), paced as one whole call through usePacer. One attempt; a failure of the whole
   * call throws like sendText, per-recipient refusals come back in the result.
   */
  sendTextBatch?(userIds: string[], text: string): Promise<TextBatchResult>;
  readonly textBatchMax?: number;
}
