import { randomUUID } from 'node:crypto';
import type { Card } from '../../../cards/model.js';
import { renderCardHtml, renderFileHtml } from '../../../cards/html.js';
import { maskPersonalNumbers } from '../../domain/masking.js';
import { FileTooLargeError, PlatformError } from '../../errors.js';
import type { Db } from '../../store/db.js';
import {
  insertSandboxMessage,
  loadSandboxHistory,
  pruneSandboxImages,
  pruneSandboxInbox,
  readSandboxFile,
  saveSandboxFile,
  updateSandboxMessage,
  type SandboxBody,
  type SandboxFile,
  type SandboxRow,
} from '../../store/sandbox.js';
import type { ActionResult, ChatPlatform, Conversation, EventSink, PlatformHealth, SendTarget, SentMessage } from '../types.js';

export interface SandboxMessage {
  id: string;
  seq: number;
  /** Who wrote it: the bot, or the user on the page (only in `conversation`, never in `inbox`). */
  from: 'bot' | 'user';
  kind: 'text' | 'card';
  text?: string;
  card?: Card;
  html?: string;
  fileUrl?: string;
  /** A file message: the name, and whether it is a picture the page previews (see SandboxBody). */
  fileName?: string;
  image?: boolean;
  updatedAt: string;
}

/** Messages kept per inbox once the history is in the database (the README says so). */
export const SANDBOX_HISTORY_LIMIT = 200;
/** Card images (charts) kept; they belong to no one message. */
const SANDBOX_IMAGE_LIMIT = 500;

/**
 * The local web chat: a platform whose "wire" is an inbox per user, read by the sandbox page
 * and by tests through the fixed HTTP API. Staff are addressed by staff id. With a database
 * (`persistIn`, as the app does) the conversation and its files outlive a restart; the
 * inboxes stay in memory as well, read back at start, so reads are immediate.
 */
export class SandboxPlatform implements ChatPlatform {
  readonly name = 'sandbox' as const;
  readonly supportsForms = true;
  private sink?: EventSink;
  private db?: Db;
  private inboxes = new Map<string, SandboxMessage[]>();
  private byId = new Map<string, { inbox: string; msg: SandboxMessage }>();
  /** Files kept in memory: all of them without a database, those written while it was away with one. */
  private files = new Map<string, SandboxFile>();
  private seq = 0;
  /** Sends seen per idempotency key, so a retried send is not shown twice. */
  private sentKeys = new Map<string, string>();

  constructor(private publicBase = '') {}

  /** Keeps the conversation and files in the database (table sandbox_messages, migration 010). */
  persistIn(db: Db): void {
    this.db = db;
  }

  async start(sink: EventSink): Promise<void> {
    if (this.db) {
      this.inboxes.clear();
      this.byId.clear();
      for (const row of await loadSandboxHistory(this.db, SANDBOX_HISTORY_LIMIT)) this.remember(row.inbox, fromRow(row));
    }
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

  private remember(inbox: string, msg: SandboxMessage): void {
    const list = this.inboxes.get(inbox) ?? [];
    // In seq order: two sends racing for the database may come back in either order.
    let at = list.length;
    while (at > 0 && list[at - 1].seq > msg.seq) at--;
    list.splice(at, 0, msg);
    this.inboxes.set(inbox, list);
    this.byId.set(msg.id, { inbox, msg });
  }

  private forget(inbox: string, ids: string[]): void {
    if (!ids.length) return;
    const gone = new Set(ids);
    this.inboxes.set(inbox, (this.inboxes.get(inbox) ?? []).filter((m) => !gone.has(m.id)));
    for (const id of ids) this.byId.delete(id);
  }

  private async push(inbox: string, from: 'bot' | 'user', body: SandboxBody, opts: { id?: string; idempotencyKey?: string } = {}): Promise<SandboxMessage> {
    const key = opts.idempotencyKey;
    if (key) {
      const prev = this.sentKeys.get(key);
      const hit = prev ? this.byId.get(prev) : undefined;
      if (hit) return hit.msg;
    }
    const id = opts.id ?? `m_${randomUUID()}`;
    let msg: SandboxMessage;
    const saved = this.db ? await insertSandboxMessage(this.db, { id, inbox, sender: from, body, ...(key ? { idempotencyKey: key } : {}) }).catch(() => undefined) : undefined;
    if (saved) {
      msg = fromRow(saved.row);
      if (saved.existed) return this.byId.get(msg.id)?.msg ?? msg;
      this.remember(inbox, msg);
      // Memory holds what the database holds (read back at start): only past the bound is there anything to drop.
      if (this.conversation(inbox).length > SANDBOX_HISTORY_LIMIT) this.forget(inbox, await pruneSandboxInbox(this.db!, inbox, SANDBOX_HISTORY_LIMIT).catch(() => []));
    } else {
      // Without a database, or while it is away: the page still gets the answer (an apology,
      // often), kept in memory only, just after the last message (the database's are whole numbers).
      const last = this.inboxes.get(inbox)?.at(-1)?.seq ?? 0;
      msg = { id, seq: this.db ? last + 1e-6 * ++this.seq : ++this.seq, from, updatedAt: new Date().toISOString(), ...withHtml(body) };
      this.remember(inbox, msg);
    }
    if (key) this.sentKeys.set(key, msg.id);
    return msg;
  }

  async sendText(target: SendTarget, text: string): Promise<SentMessage> {
    const m = await this.push(this.inboxKey(target.conversation), 'bot', { kind: 'text', text }, target.idempotencyKey ? { idempotencyKey: target.idempotencyKey } : {});
    return { messageId: m.id };
  }

  async sendCard(target: SendTarget, card: Card): Promise<SentMessage> {
    const m = await this.push(this.inboxKey(target.conversation), 'bot', { kind: 'card', card }, target.idempotencyKey ? { idempotencyKey: target.idempotencyKey } : {});
    return { messageId: m.id };
  }

  async updateCard(messageId: string, card: Card): Promise<void> {
    const hit = this.byId.get(messageId);
    if (!hit) throw new PlatformError(`sandbox: no message ${messageId}`, 'sandbox', 'not_found', false);
    // A message kept in memory only (written while the database was away) has no row to update.
    const row = this.db && Number.isInteger(hit.msg.seq) ? await updateSandboxMessage(this.db, messageId, { ...bodyOf(hit.msg), kind: 'card', card }) : undefined;
    hit.msg.updatedAt = (row?.updatedAt ?? new Date()).toISOString();
    hit.msg.card = card;
    hit.msg.html = renderCardHtml(card);
  }

  private async keepFile(file: SandboxFile, owner?: { messageId: string; inbox: string }): Promise<string> {
    const id = randomUUID();
    const saved = this.db
      ? await saveSandboxFile(this.db, { id, ...file, ...(owner ?? {}) }).then(
          () => true,
          () => false,
        )
      : false;
    if (saved && !owner) await pruneSandboxImages(this.db!, SANDBOX_IMAGE_LIMIT).catch(() => {});
    if (!saved) this.files.set(id, file);
    return id;
  }

  private fileUrl(id: string, name: string): string {
    return `${this.publicBase}/sandbox/files/${id}/${encodeURIComponent(name)}`;
  }

  async sendFile(target: SendTarget, file: { name: string; data: Buffer; mime: string }): Promise<SentMessage> {
    const inbox = this.inboxKey(target.conversation);
    const messageId = `m_${randomUUID()}`;
    // Kept before the message that links to it, so a link never points at nothing.
    const id = await this.keepFile(file, { messageId, inbox });
    const image = PREVIEWED.has(file.mime);
    const body = { kind: 'text' as const, text: `${image ? '图片' : '文件'}：${file.name}`, fileUrl: this.fileUrl(id, file.name), fileName: file.name, ...(image ? { image } : {}) };
    const m = await this.push(inbox, 'bot', body, { id: messageId });
    return { messageId: m.id };
  }

  async uploadImage(image: { name: string; data: Buffer; mime: string }): Promise<string> {
    const id = await this.keepFile(image);
    return this.fileUrl(id, image.name);
  }

  async downloadFile(ref: string, maxBytes: number): Promise<{ data: Buffer; mime: string }> {
    const f = ref.startsWith('sandbox:') ? await this.file(ref.slice('sandbox:'.length)) : undefined;
    if (!f) throw new PlatformError(`sandbox has no file ${ref}`, 'sandbox', 'not_found', false);
    if (f.data.length > maxBytes) throw new FileTooLargeError(maxBytes);
    return { data: f.data, mime: f.mime };
  }

  async file(id: string): Promise<SandboxFile | undefined> {
    return this.files.get(id) ?? (this.db ? readSandboxFile(this.db, id) : undefined);
  }

  /** What the bot sent the user (the fixed API other checks read): the user's own messages are not in it. */
  inbox(userId: string): SandboxMessage[] {
    return this.conversation(userId).filter((m) => m.from === 'bot');
  }

  /** The whole conversation as the page shows it: the user's messages and the bot's, in order. */
  conversation(userId: string): SandboxMessage[] {
    return this.inboxes.get(userId) ?? [];
  }

  message(userId: string, messageId: string): SandboxMessage | undefined {
    const hit = this.byId.get(messageId);
    return hit && hit.inbox === userId && hit.msg.from === 'bot' ? hit.msg : undefined;
  }

  /**
   * A message typed on the page; handled in the background, as a platform delivery is. It is
   * kept in the conversation first (ID-card and phone numbers masked, as any stored free
   * text), so the answers always come after it.
   */
  deliverMessage(userId: string, text: string, uploads: { name: string; mime: string; data: Buffer }[] = []): { eventId: string; done: Promise<void> } {
    const sink = this.sink;
    if (!sink) throw new Error('sandbox not started');
    const eventId = `sbx_${randomUUID()}`;
    const messageId = `u_${randomUUID()}`;
    const shown = [text ? maskPersonalNumbers(text).text : '', uploads.length ? `📎 ${uploads.map((u) => u.name).join('、')}` : ''].filter(Boolean).join('\n');
    const done = (async () => {
      // Kept in the same store as exports, so a ref can be opened at /sandbox/files/<id>/<name>.
      const files = [];
      for (const u of uploads) files.push({ name: u.name, ref: `sandbox:${await this.keepFile(u, { messageId, inbox: userId })}` });
      await this.push(userId, 'user', { kind: 'text', text: shown }, { id: messageId });
      await sink.onMessage({
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
    })();
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

/** Pictures every browser shows: sent as one, a file is previewed on the page rather than only linked. */
const PREVIEWED = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

function withHtml(body: SandboxBody): Omit<SandboxMessage, 'id' | 'seq' | 'from' | 'updatedAt'> {
  if (body.card) return { ...body, html: renderCardHtml(body.card) };
  if (body.fileUrl && body.fileName) return { ...body, html: renderFileHtml({ name: body.fileName, url: body.fileUrl, image: body.image === true }) };
  return { ...body };
}

function bodyOf(m: SandboxMessage): SandboxBody {
  return {
    kind: m.kind,
    ...(m.text !== undefined ? { text: m.text } : {}),
    ...(m.card ? { card: m.card } : {}),
    ...(m.fileUrl ? { fileUrl: m.fileUrl } : {}),
    ...(m.fileName ? { fileName: m.fileName } : {}),
    ...(m.image ? { image: m.image } : {}),
  };
}

function fromRow(r: SandboxRow): SandboxMessage {
  return { id: r.id, seq: r.seq, from: r.sender, updatedAt: r.updatedAt.toISOString(), ...withHtml(r.body) };
}
