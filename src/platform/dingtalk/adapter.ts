import { createHash, randomUUID } from 'node:crypto';
import { TOPIC_CARD, TOPIC_ROBOT, type DWClientDownStream } from 'dingtalk-stream';
import { Redis } from 'ioredis';
import { z } from 'zod';
import type { Card } from '../../../cards/model.js';
import { renderDingTalkCard } from '../../../cards/dingtalk.js';
import { renderDingTalkMarkdown } from '../../../cards/dingtalk-markdown.js';
import { FileTooLargeError, PlatformError } from '../../errors.js';
import { readLimited } from '../download.js';
import type { Logger } from '../../logger.js';
import type { CardAction, ChatPlatform, Conversation, EventSink, IncomingMessage, PlatformHealth, SendTarget, SentMessage } from '../types.js';
import { MemoryCardStore, RedisCardStore, type CardStore } from './card-store.js';
import { forgetGatewayRedirect, redirectGateway } from './gateway-redirect.js';
import { DingTalkOpenApi } from './openapi.js';
import { StreamSupervisor } from './stream.js';

export interface DingTalkOptions {
  clientId: string;
  clientSecret: string;
  /** The robot's code; for an internal app's robot it is the client id. */
  robotCode?: string;
  apiBase?: string;
  oapiBase?: string;
  logger: Logger;
  /** A stream connection without any frame this long is replaced (default 60 s). */
  silenceMs?: number;
  /** Where sent cards are remembered; default Redis at `redisUrl`, else memory. */
  cardStore?: CardStore;
  redisUrl?: string;
  redisPrefix?: string;
  retryBaseMs?: number;
  maxAttempts?: number;
  reconnectBaseMs?: number;
}

/** A robot message as the stream delivers it (CALLBACK on /v1.0/im/bot/messages/get). */
const robotMessageSchema = z.looseObject({
  msgId: z.string().min(1),
  msgtype: z.string(),
  conversationType: z.enum(['1', '2']),
  conversationId: z.string().min(1),
  senderStaffId: z.string().optional(),
  senderId: z.string().optional(),
  text: z.object({ content: z.string() }).optional(),
  content: z.unknown().optional(),
  isInAtList: z.boolean().optional(),
  createAt: z.number().optional(),
});

/** A card click as the stream delivers it (CALLBACK on /v1.0/card/instances/callback). */
const cardCallbackSchema = z.looseObject({
  type: z.string().optional(),
  outTrackId: z.string().min(1),
  userId: z.string().min(1),
  content: z.string().optional(),
  value: z.string().optional(),
});
const callbackContentSchema = z.object({
  cardPrivateData: z.object({
    actionIds: z.array(z.string()).default([]),
    params: z.record(z.string(), z.unknown()).default({}),
  }),
});

const fileContentSchema = z.looseObject({ downloadCode: z.string(), fileName: z.string().optional() });

/**
 * DingTalk through the official dingtalk-stream SDK (stream mode: no public URL needed) and
 * the server API. Messages and card clicks are acknowledged on arrival and then handed to the
 * sink in the background; the Bot drops redeliveries by eventId (= the message's msgId) in
 * Redis. Replies go through the robot message API, cards are StandardCard interactive cards.
 */
export class DingTalkPlatform implements ChatPlatform {
  readonly name = 'dingtalk' as const;
  readonly supportsForms = false;
  // Clicks on robot StandardCards reach the stream only when the legacy card permission is
  // granted; every card also says how to press its buttons by message.
  readonly typedButtons = true;
  readonly api: DingTalkOpenApi;
  readonly robotCode: string;
  stream?: StreamSupervisor;
  private sink?: EventSink;
  private store: CardStore;
  private ownRedis?: Redis;
  private inflight = new Set<Promise<void>>();
  /** Set once DingTalk refuses interactive cards for want of permission; cards then go as markdown. */
  private cardsRefused = false;
  private log: Logger;
  private apiBase: string;
  private oapiBase: string;

  constructor(private opts: DingTalkOptions) {
    this.log = opts.logger.child({ platform: 'dingtalk' });
    this.apiBase = (opts.apiBase ?? 'https://api.dingtalk.com').replace(/\/+$/, '');
    this.oapiBase = (opts.oapiBase ?? 'https://oapi.dingtalk.com').replace(/\/+$/, '');
    this.robotCode = opts.robotCode ?? opts.clientId;
    this.api = new DingTalkOpenApi({
      clientId: opts.clientId,
      clientSecret: opts.clientSecret,
      apiBase: this.apiBase,
      oapiBase: this.oapiBase,
      logger: this.log,
      ...(opts.retryBaseMs !== undefined ? { retryBaseMs: opts.retryBaseMs } : {}),
      ...(opts.maxAttempts !== undefined ? { maxAttempts: opts.maxAttempts } : {}),
    });
    if (opts.cardStore) this.store = opts.cardStore;
    else if (opts.redisUrl) {
      this.ownRedis = new Redis(opts.redisUrl, { maxRetriesPerRequest: 2, lazyConnect: true });
      this.ownRedis.on('error', (err) => this.log.warn({ err: err.message }, 'redis connection error (dingtalk card store)'));
      this.store = new RedisCardStore(this.ownRedis, opts.redisPrefix ?? 'qinglian');
    } else this.store = new MemoryCardStore();
  }

  async start(sink: EventSink): Promise<void> {
    this.sink = sink;
    redirectGateway(this.opts.clientId, this.apiBase, this.oapiBase);
    try {
      await this.api.tokens.get();
    } catch (e) {
      if (e instanceof PlatformError && !e.retryable) {
        throw new Error(
          `钉钉应用凭证无效：钉钉拒绝了 DINGTALK_CLIENT_ID / DINGTALK_CLIENT_SECRET（错误码 ${String(e.code)}）。请在钉钉开发者后台“凭证与基础信息”中核对 Client ID 和 Client Secret。`,
        );
      }
      throw new Error(`无法连接钉钉开放平台 ${this.apiBase}：${(e as Error).message}`);
    }
    if (this.ownRedis) await this.ownRedis.connect().catch(() => {});
    this.stream = new StreamSupervisor({
      clientId: this.opts.clientId,
      clientSecret: this.opts.clientSecret,
      logger: this.log,
      silenceMs: this.opts.silenceMs ?? 60_000,
      ...(this.opts.reconnectBaseMs !== undefined ? { reconnectBaseMs: this.opts.reconnectBaseMs } : {}),
      onCallback: (frame) => this.dispatch(frame),
    });
    try {
      await this.stream.start();
    } catch (e) {
      throw new Error(`无法建立钉钉 Stream 长连接（${this.apiBase}/v1.0/gateway/connections/open）：${(e as Error).message}。请确认应用已发布、机器人已开启 Stream 模式。`);
    }
    this.log.info({ robotCode: this.robotCode }, 'dingtalk stream connected');
  }

  async stop(): Promise<void> {
    await this.stream?.stop();
    await Promise.allSettled([...this.inflight]);
    forgetGatewayRedirect(this.opts.clientId);
    this.ownRedis?.disconnect();
    this.sink = undefined;
  }

  health(): PlatformHealth {
    const h = this.stream ? this.stream.health() : { ok: false, detail: 'not started' };
    return this.cardsRefused ? { ...h, detail: [h.detail, 'cards sent as markdown: no interactive-card permission'].filter(Boolean).join('; ') } : h;
  }

  // ---- incoming ------------------------------------------------------------------------

  private dispatch(frame: DWClientDownStream): void {
    const p = this.handleFrame(frame)
      .catch((err: unknown) => this.log.error({ err, topic: frame.headers.topic }, 'dingtalk callback handling failed'))
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  private async handleFrame(frame: DWClientDownStream): Promise<void> {
    const sink = this.sink;
    if (!sink) return;
    let data: unknown;
    try {
      data = JSON.parse(frame.data);
    } catch {
      this.log.warn({ topic: frame.headers.topic }, 'dingtalk callback data is not JSON');
      return;
    }
    if (frame.headers.topic === TOPIC_ROBOT) {
      const parsed = robotMessageSchema.safeParse(data);
      if (!parsed.success) {
        this.log.warn({ issues: parsed.error.issues.length }, 'dingtalk robot message rejected');
        return;
      }
      await sink.onMessage(this.normaliseMessage(parsed.data));
    } else if (frame.headers.topic === TOPIC_CARD) {
      const parsed = cardCallbackSchema.safeParse(data);
      if (!parsed.success) {
        this.log.warn({ issues: parsed.error.issues.length }, 'dingtalk card callback rejected');
        return;
      }
      await this.handleCardCallback(sink, parsed.data, frame.headers.messageId);
    }
  }

  private normaliseMessage(m: z.infer<typeof robotMessageSchema>): IncomingMessage {
    const group = m.conversationType === '2';
    const userId = m.senderStaffId ?? `unknown:${m.senderId ?? ''}`;
    const conversation: Conversation = group ? { type: 'group', chatId: m.conversationId } : { type: 'direct', platformUserId: userId };
    let text = m.msgtype === 'text' ? (m.text?.content ?? '') : '';
    // The platform removes the mention of the robot itself; other leading mentions are noise.
    if (group) text = text.replace(/^(\s*@\S+)+\s/, '');
    const files: { name: string; ref: string }[] = [];
    // Robot picture/file messages carry a downloadCode (exchanged later for a download URL).
    if (m.msgtype === 'file' || m.msgtype === 'picture') {
      const f = fileContentSchema.safeParse(m.content);
      if (f.success) files.push({ name: m.msgtype === 'picture' ? '图片' : (f.data.fileName ?? '文件'), ref: `dingtalk:${f.data.downloadCode}` });
    }
    return {
      kind: 'message',
      platform: 'dingtalk',
      eventId: m.msgId,
      platformMessageId: m.msgId,
      platformUserId: userId,
      ...(m.senderStaffId ? { staffIdHint: m.senderStaffId } : {}),
      conversation,
      text: text.trim(),
      mentioned: !group || m.isInAtList !== false,
      receivedAt: m.createAt ? new Date(m.createAt) : new Date(),
      ...(files.length ? { files } : {}),
    };
  }

  private async handleCardCallback(sink: EventSink, cb: z.infer<typeof cardCallbackSchema>, streamMessageId: string): Promise<void> {
    // content and value are JSON strings; content is the documented one, value its twin.
    let privateData: z.infer<typeof callbackContentSchema>['cardPrivateData'] | undefined;
    for (const raw of [cb.content, cb.value]) {
      if (!raw) continue;
      try {
        const r = callbackContentSchema.safeParse(JSON.parse(raw));
        if (r.success) {
          privateData = r.data.cardPrivateData;
          break;
        }
      } catch {
        /* try the other field */
      }
    }
    const sent = await this.store.get(cb.outTrackId);
    const buttonId = privateData?.actionIds[0] ?? '';
    const button = sent?.buttons[buttonId];
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(privateData?.params ?? {})) if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') params[k] = String(v);
    const action: CardAction = {
      kind: 'action',
      platform: 'dingtalk',
      eventId: `card:${cb.outTrackId}:${streamMessageId}`,
      platformUserId: cb.userId,
      staffIdHint: cb.userId,
      conversation: sent?.conversation ?? { type: 'direct', platformUserId: cb.userId },
      messageId: cb.outTrackId,
      // An unknown card or button reaches the Bot as an unknown action: it answers "stale".
      actionId: button?.actionId ?? '',
      // What the bot put on the button wins over anything the callback claims.
      value: { ...params, ...(button?.value ?? {}) },
      receivedAt: new Date(),
    };
    const result = await sink.onAction(action);
    if (result.card) await this.updateCard(cb.outTrackId, result.card);
    // StandardCard callbacks answered later have no toast; the user gets it as a short message.
    if (result.toast) await this.sendText({ conversation: { type: 'direct', platformUserId: cb.userId } }, result.toast);
  }

  // ---- outgoing ------------------------------------------------------------------------

  /** https://open.dingtalk.com/document/orgapp/chatbots-send-one-on-one-chat-messages-in-batches
   *  https://open.dingtalk.com/document/orgapp/the-robot-sends-a-group-message */
  private async sendRobotMessage(c: Conversation, msgKey: string, msgParam: Record<string, unknown>): Promise<SentMessage> {
    if (c.type === 'direct') {
      const r = await this.api.call<{ processQueryKey?: string; invalidStaffIdList?: string[]; flowControlledStaffIdList?: string[] }>(
        'POST',
        '/v1.0/robot/oToMessages/batchSend',
        { robotCode: this.robotCode, userIds: [c.platformUserId], msgKey, msgParam: JSON.stringify(msgParam) },
      );
      if (r.invalidStaffIdList?.includes(c.platformUserId)) throw new PlatformError('DingTalk: recipient is not a valid staff id', 'dingtalk', 'invalidStaffId', false);
      if (r.flowControlledStaffIdList?.includes(c.platformUserId)) throw new PlatformError('DingTalk: recipient is flow-controlled', 'dingtalk', 'flowControlled', true, 60_000);
      return { messageId: r.processQueryKey ?? '' };
    }
    const r = await this.api.call<{ processQueryKey?: string }>('POST', '/v1.0/robot/groupMessages/send', {
      robotCode: this.robotCode,
      openConversationId: c.chatId,
      msgKey,
      msgParam: JSON.stringify(msgParam),
    });
    return { messageId: r.processQueryKey ?? '' };
  }

  async sendText(target: SendTarget, text: string): Promise<SentMessage> {
    return this.sendRobotMessage(target.conversation, 'sampleText', { content: text });
  }

  async sendMarkdown(target: SendTarget, title: string, markdownText: string): Promise<SentMessage> {
    return this.sendRobotMessage(target.conversation, 'sampleMarkdown', { title, text: markdownText });
  }

  /**
   * A card, as an interactive StandardCard; if DingTalk refuses that API for want of permission,
   * from then on as a markdown message, so that nothing the bot says is lost (its buttons are
   * then pressed by message, see Bot.prepareCard).
   */
  async sendCard(target: SendTarget, card: Card): Promise<SentMessage> {
    if (this.cardsRefused) return this.sendCardAsMarkdown(target, card);
    try {
      return await this.sendInteractiveCard(target, card);
    } catch (e) {
      if (!isPermissionRefusal(e)) throw e;
      if (!this.cardsRefused) {
        this.log.error(
          { code: (e as PlatformError).code },
          'DingTalk refused robot interactive cards (no permission): sending cards as markdown messages; apply for the interactive-card permission in the developer console',
        );
      }
      this.cardsRefused = true;
      return this.sendCardAsMarkdown(target, card);
    }
  }

  private async sendCardAsMarkdown(target: SendTarget, card: Card): Promise<SentMessage> {
    const md = renderDingTalkMarkdown(card);
    const sent = await this.sendMarkdown(target, md.title, md.text);
    const id = `md_${sent.messageId || randomUUID()}`;
    await this.store.put(id, { conversation: target.conversation, buttons: {}, markdown: true });
    return { messageId: id };
  }

  /** https://open.dingtalk.com/document/development/robots-send-interactive-cards */
  private async sendInteractiveCard(target: SendTarget, card: Card): Promise<SentMessage> {
    const rendered = renderDingTalkCard(card);
    const cardBizId = cardBizIdFor(target.idempotencyKey);
    await this.store.put(cardBizId, { conversation: target.conversation, buttons: rendered.buttons });
    const c = target.conversation;
    await this.api.call('POST', '/v1.0/im/v1.0/robot/interactiveCards/send', {
      cardTemplateId: 'StandardCard',
      cardBizId,
      robotCode: this.robotCode,
      // Routes the card's button callbacks to this app (delivered on the stream's card topic).
      callbackRouteKey: this.robotCode,
      cardData: JSON.stringify(rendered.card),
      ...(c.type === 'group' ? { openConversationId: c.chatId } : { singleChatReceiver: JSON.stringify({ userId: c.platformUserId }) }),
      sendOptions: {},
      pullStrategy: false,
    });
    return { messageId: cardBizId };
  }

  /** https://open.dingtalk.com/document/development/update-the-robot-to-send-interactive-cards */
  async updateCard(messageId: string, card: Card): Promise<void> {
    const prev = await this.store.get(messageId);
    if (prev?.markdown) {
      // A markdown message cannot be edited: the new state arrives as a new message.
      const md = renderDingTalkMarkdown(card);
      await this.sendMarkdown({ conversation: prev.conversation }, md.title, md.text);
      return;
    }
    const rendered = renderDingTalkCard(card);
    if (prev) await this.store.put(messageId, { ...prev, buttons: rendered.buttons });
    await this.api.call('PUT', '/v1.0/im/robots/interactiveCards', {
      cardBizId: messageId,
      cardData: JSON.stringify(rendered.card),
      updateOptions: { updateCardDataByKey: false, updatePrivateDataByKey: false },
    });
  }

  /** https://open.dingtalk.com/document/orgapp/upload-media-files */
  private async uploadMedia(type: 'file' | 'image', data: Buffer, name: string, mime: string): Promise<string> {
    const r = await this.api.oapi<{ media_id?: string }>('/media/upload', {
      query: { type },
      form: () => {
        const fd = new FormData();
        fd.append('media', new Blob([new Uint8Array(data)], { type: mime }), name);
        return fd;
      },
    });
    if (!r.media_id) throw new PlatformError('DingTalk media upload returned no media_id', 'dingtalk', 'no_media_id', true);
    return r.media_id;
  }

  async sendFile(target: SendTarget, file: { name: string; data: Buffer; mime: string }): Promise<SentMessage> {
    const mediaId = await this.uploadMedia('file', file.data, file.name, file.mime);
    const ext = file.name.includes('.') ? file.name.split('.').pop()!.toLowerCase() : 'bin';
    return this.sendRobotMessage(target.conversation, 'sampleFile', { mediaId, fileName: file.name, fileType: ext });
  }

  /**
   * https://open.dingtalk.com/document/orgapp/download-the-file-content-of-the-robot-receiving-message
   * The downloadCode of a received picture/file is exchanged for a short-lived URL, fetched at once.
   */
  async downloadFile(ref: string, maxBytes: number): Promise<{ data: Buffer; mime: string }> {
    if (!ref.startsWith('dingtalk:')) throw new PlatformError(`not a DingTalk file reference`, 'dingtalk', 'bad_ref', false);
    const { downloadUrl } = await this.api.call<{ downloadUrl?: string }>('POST', '/v1.0/robot/messageFiles/download', {
      downloadCode: ref.slice('dingtalk:'.length),
      robotCode: this.robotCode,
    });
    if (!downloadUrl) throw new PlatformError('DingTalk returned no downloadUrl', 'dingtalk', 'no_download_url', true);
    let r: Response;
    try {
      r = await fetch(downloadUrl, { signal: AbortSignal.timeout(60_000) });
    } catch (e) {
      throw new PlatformError(`DingTalk file download failed: ${(e as Error).message}`, 'dingtalk', 'network', true);
    }
    if (!r.ok) throw new PlatformError(`DingTalk file download answered HTTP ${r.status}`, 'dingtalk', r.status, r.status >= 500);
    if (Number(r.headers.get('content-length') ?? 0) > maxBytes) {
      await r.body?.cancel();
      throw new FileTooLargeError(maxBytes);
    }
    const data = await readLimited(r.body, maxBytes);
    if (!data) throw new FileTooLargeError(maxBytes);
    return { data, mime: r.headers.get('content-type')?.split(';')[0] || 'application/octet-stream' };
  }

  async uploadImage(data: Buffer, name: string): Promise<string> {
    return this.uploadMedia('image', data, name, name.endsWith('.jpg') || name.endsWith('.jpeg') ? 'image/jpeg' : 'image/png');
  }
}

/** DingTalk's answer when the app lacks an API's permission (HTTP 403, Forbidden.AccessDenied.*). */
function isPermissionRefusal(e: unknown): boolean {
  return e instanceof PlatformError && /Forbidden|AccessDenied|PermissionDenied|NoPermission/i.test(String(e.code ?? ''));
}

/** cardBizId must be at most 64 safe characters; a longer or odd key is hashed, deterministically. */
export function cardBizIdFor(idempotencyKey?: string): string {
  if (!idempotencyKey) return `qla_${randomUUID().replace(/-/g, '')}`;
  if (/^[A-Za-z0-9_.:-]{1,64}$/.test(idempotencyKey)) return idempotencyKey;
  return `qlk_${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 48)}`;
}
