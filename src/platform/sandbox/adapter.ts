import { randomUUID } from 'node:crypto';
import type { Card } from '../../../cards/model.js';
import { renderCardHtml } from '../../../cards/html.js';
import { FileTooLargeError, PlatformError } from '../../errors.js';
import type { ActionResult, ChatPlatform, Conversation, EventSink, PlatformHealth, SendTarget, SentMessage } from '../types.js';

export interface SandboxMessage {
  id: string;
  seq: number;
  kind: 'text' | 'card';
  text?: string;
  card?: Card;
  html?: string;
  fileUrl?: string;
  updatedAt: string;
}

/**
 * The local web chat: a platform whose "wire" is an in-memory inbox per user, read by the
 * sandbox page and by tests through the fixed HTTP API. Staff are addressed by staff id.
 */
export class SandboxPlatform implements ChatPlatform {
  readonly name = 'sandbox' as const;
  readonly supportsForms = true;
  private sink?: EventSink;
  private inboxes = new Map<string, SandboxMessage[]>();
  private byId = new Map<string, { inbox: string; msg: SandboxMessage }>();
  private files = new Map<string, { name: string; mime: string; data: Buffer }>();
  private seq = 0;
  /** Sends seen per idempotency key, so a retried send is not shown twice. */
  private sentKeys = new Map<string, string>();

  constructor(private publicBase = '') {}

  async start(sink: EventSink): Promise<void> {
    this.sink = sink;
  }
  async stop(): Promise<void> {
    this.sink = undefined;
  }
  health(): PlatformHealth {
    return { ok: true };
  }

  private inboxKey(c: Conversation): string {
    return c.type === 'direct' ? c.platformUserId : `group:${c.chatId}`;
  }

  private push(target: SendTarget, msg: Omit<SandboxMessage, 'id' | 'seq' | 'updatedAt'>): SentMessage {
    if (target.idempotencyKey) {
      const prev = this.sentKeys.get(target.idempotencyKey);
      if (prev) return { messageId: prev };
    }
    const inbox = this.inboxKey(target.conversation);
    const full: SandboxMessage = { id: `m_${randomUUID()}`, seq: ++this.seq, updatedAt: new Date().toISOString(), ...msg };
    const list = this.inboxes.get(inbox) ?? [];
    list.push(full);
    this.inboxes.set(inbox, list);
    this.byId.set(full.id, { inbox, msg: full });
    if (target.idempotencyKey) this.sentKeys.set(target.idempotencyKey, full.id);
    return { messageId: full.id };
  }

  async sendText(target: SendTarget, text: string): Promise<SentMessage> {
    return this.push(target, { kind: 'text', text });
  }

  async sendCard(target: SendTarget, card: Card): Promise<SentMessage> {
    return this.push(target, { kind: 'card', card, html: renderCardHtml(card) });
  }

  async updateCard(messageId: string, card: Card): Promise<void> {
    const hit = this.byId.get(messageId);
    if (!hit) throw new Error(`sandbox: no message ${messageId}`);
    hit.msg.card = card;
    hit.msg.html = renderCardHtml(card);
    hit.msg.updatedAt = new Date().toISOString();
  }

  async sendFile(target: SendTarget, file: { name: string; data: Buffer; mime: string }): Promise<SentMessage> {
    const id = randomUUID();
    this.files.set(id, file);
    const url = `${this.publicBase}/sandbox/files/${id}/${encodeURIComponent(file.name)}`;
    return this.push(target, { kind: 'text', text: `文件：${file.name}（点击下载）`, fileUrl: url });
  }

  async uploadImage(image: { name: string; data: Buffer; mime: string }): Promise<string> {
    const id = randomUUID();
    this.files.set(id, image);
    return `${this.publicBase}/sandbox/files/${id}/${encodeURIComponent(image.name)}`;
  }

  async downloadFile(ref: string, maxBytes: number): Promise<{ data: Buffer; mime: string }> {
    const f = ref.startsWith('sandbox:') ? this.files.get(ref.slice('sandbox:'.length)) : undefined;
    if (!f) throw new PlatformError(`sandbox has no file ${ref}`, 'sandbox', 'not_found', false);
    if (f.data.length > maxBytes) throw new FileTooLargeError(maxBytes);
    return { data: f.data, mime: f.mime };
  }

  file(id: string) {
    return this.files.get(id);
  }

  inbox(userId: string): SandboxMessage[] {
    return this.inboxes.get(userId) ?? [];
  }

  message(userId: string, messageId: string): SandboxMessage | undefined {
    const hit = this.byId.get(messageId);
    return hit && hit.inbox === userId ? hit.msg : undefined;
  }

  /** A message typed on the page; handled in the background, as a platform delivery is. */
  deliverMessage(userId: string, text: string, uploads: { name: string; mime: string; data: Buffer }[] = []): { eventId: string; done: Promise<void> } {
    if (!this.sink) throw new Error('sandbox not started');
    const eventId = `sbx_${randomUUID()}`;
    // Kept in the same store as exports, so a ref can be opened at /sandbox/files/<id>/<name>.
    const files = uploads.map((u) => {
      const id = randomUUID();
      this.files.set(id, u);
      return { name: u.name, ref: `sandbox:${id}` };
    });
    const done = this.sink.onMessage({
      kind: 'message',
      platform: 'sandbox',
      eventId,
      platformMessageId: eventId,
      platformUserId: userId,
      conversation: { type: 'direct', platformUserId: userId },
      text,
      mentioned: true,
      receivedAt: new Date(),
      ...(files.length ? { files } : {}),
    });
    return { eventId, done };
  }

  async deliverAction(userId: string, messageId: string, actionId: string, value?: Record<string, string | number | boolean>, form?: Record<string, string>): Promise<ActionResult> {
    if (!this.sink) throw new Error('sandbox not started');
    const result = await this.sink.onAction({
      kind: 'action',
      platform: 'sandbox',
      eventId: `sbx_${randomUUID()}`,
      platformUserId: userId,
      conversation: { type: 'direct', platformUserId: userId },
      messageId,
      actionId,
      ...(value ? { value } : {}),
      ...(form ? { form } : {}),
      receivedAt: new Date(),
    });
    if (result.card) await this.updateCard(messageId, result.card);
    return result;
  }
}
