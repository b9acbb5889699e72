import { randomUUID } from 'node:crypto';
import { TOPIC_CARD, TOPIC_ROBOT, type DWClientDownStream } from 'dingtalk-stream';
import { Redis } from 'ioredis';
import { z } from 'zod';
import type { Card } from '../../../cards/model.js';
import { PUBLIC_AI_CARD_TEMPLATE, renderDingTalkCard, restoredPrivateParams } from '../../../cards/dingtalk.js';
import { renderDingTalkMarkdown } from '../../../cards/dingtalk-markdown.js';
import { CapabilitiesChanged, FileTooLargeError, PlatformError } from '../../errors.js';
import { readLimited } from '../download.js';
import type { Logger } from '../../logger.js';
import type { CardAction, ChatPlatform, Conversation, EventSink, IncomingMessage, PlatformHealth, SendTarget, SentMessage, TextBatchResult } from '../types.js';
import { cardAckResponse, parseCardCallback, type CardClick } from './card-callback.js';
import { CardInstances, outTrackIdFor } from './card-instances.js';
import { MemoryCardStore, RedisCardStore, type CardStore } from './card-store.js';
import { CardTiers } from './card-tier.js';
import { BATCH_MAX, TextBatcher, type BatchAnswer } from './text-batch.js';
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
  /** The hospital's own card template (DINGTALK_CARD_TEMPLATE_ID); absent: DingTalk's public AI-card template. */
  cardTemplateId?: string;
  /** Identical text pushes go 20 per batchSend call (default on); how long one waits for company (default 250 ms). */
  batchTexts?: boolean;
  batchLingerMs?: number;
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

const fileContentSchema = z.looseObject({ downloadCode: z.string(), fileName: z.string().optional() });

/**
 * DingTalk through the official dingtalk-stream SDK (stream mode: no public URL needed) and
 * the server API. Messages and card clicks are acknowledged on arrival (a click's ack greys
 * the clicker's buttons) and then handed to the sink in the background; the Bot drops
 * redeliveries by eventId in Redis. Replies go through the robot message API; cards are card
 * instances with STREAM callbacks, or markdown messages where no card can be sent (CardTiers).
 */
export class DingTalkPlatform implements ChatPlatform {
  readonly name = 'dingtalk' as const;
  // Every button gets its typed twin, so that a card that has to go as markdown (decided only
  // when DingTalk refuses it) can still be answered; card templates leave the twins out.
  readonly typedButtons = true;
  readonly api: DingTalkOpenApi;
  readonly tiers: CardTiers;
  private instances: CardInstances;
  private batcher?: TextBatcher;
  private pace?: () => Promise<unknown>;
  readonly robotCode: string;
  stream?: StreamSupervisor;
  private sink?: EventSink;
  private store: CardStore;
  private ownRedis?: Redis;
  private inflight = new Set<Promise<void>>();
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
    this.tiers = new CardTiers(opts.cardTemplateId, this.log);
    this.instances = new CardInstances(this.api, this.robotCode);
    // Each batch call is paced on its own (usePacer): per call, so calls never leave in bunches
    // however their recipients arrive, and a retry after a 429 takes a turn like any call.
    if (opts.batchTexts !== false) this.batcher = new TextBatcher((ids, key, param) => this.batchSend(ids, key, param, this.pace), opts.batchLingerMs ?? 250);
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
          `钉钉应用凭证无效：钉钉拒绝了 DINGTALK_CLIENT_ID / DINGTALK_CLIENT_SECRET（错误码 ${String(e.code)}）。请在钉钉开发者后台“凭证与基础信息”中核对 Client ID 和 Client Secret（可运行 npm run cli -- dingtalk doctor 逐项检查）。`,
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
      ackFor: (frame) => (frame.headers.topic === TOPIC_CARD ? cardAckResponse() : {}),
    });
    try {
      await this.stream.start();
    } catch (e) {
      throw new Error(`无法建立钉钉 Stream 长连接（${this.apiBase}/v1.0/gateway/connections/open）：${(e as Error).message}。请确认应用已发布、机器人已开启 Stream 模式（可运行 npm run cli -- dingtalk doctor 逐项检查）。`);
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

  /** Forms are filled in the card only on the hospital's template; elsewhere by dialogue. */
  get supportsForms(): boolean {
    return this.tiers.current() === 'hospital';
  }

  /** The form component needs DingTalk PC 7.6.0 / mobile 7.6.6: older clients fill forms by dialogue. */
  readonly formDialogueTwin = true;

  health(): PlatformHealth {
    const h = this.stream ? this.stream.health() : { ok: false, detail: 'not started' };
    const warning = this.tiers.warningText();
    return warning ? { ...h, detail: [h.detail, warning].filter(Boolean).join('；') } : h;
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
      const click = parseCardCallback(data);
      if (!click) {
        this.log.warn({ topic: frame.headers.topic }, 'dingtalk card callback rejected');
        return;
      }
      await this.handleCardCallback(sink, click, frame.headers.messageId);
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

  private async handleCardCallback(sink: EventSink, click: CardClick, streamMessageId: string): Promise<void> {
    const sent = await this.store.get(click.outTrackId);
    const toClicker = { conversation: { type: 'direct' as const, platformUserId: click.userId } };
    // A one-to-one card is only ever shown to its owner; a click from anyone else is forged
    // or a forwarded copy, and acts on nothing.
    if (sent?.conversation.type === 'direct' && sent.conversation.platformUserId !== click.userId) {
      this.log.warn({ outTrackId: click.outTrackId }, 'dingtalk card click from someone the card was not sent to');
      await this.sendText(toClicker, '这张卡片不是发给您的，无法在上面操作。如需办理，请直接给我发消息（发送“帮助”查看可用命令）。');
      return;
    }
    const target = click.form !== undefined ? sent?.form : click.token ? sent?.buttons[click.token] : undefined;
    const action: CardAction = {
      kind: 'action',
      platform: 'dingtalk',
      // The stream's messageId stays the same on redelivery: the Bot acts on it once.
      eventId: `card:${click.outTrackId}:${streamMessageId}`,
      platformUserId: click.userId,
      staffIdHint: click.userId,
      conversation: sent?.conversation ?? toClicker.conversation,
      messageId: click.outTrackId,
      // An unknown card or button reaches the Bot as an unknown action: it answers "stale".
      actionId: target?.actionId ?? '',
      // Only what the bot itself put on the button; nothing from the client is trusted.
      value: { ...(target?.value ?? {}) },
      ...(click.form !== undefined ? { form: click.form } : {}),
      receivedAt: new Date(),
    };
    const result = await sink.onAction(action);
    if (result.card) await this.updateCard(click.outTrackId, result.card, click.userId);
    else {
      // The ack took the clicker's buttons away; the card did not change, so they come back
      // as the card is now (read again: another click may have changed it meanwhile).
      const now = await this.store.get(click.outTrackId);
      if (now && !now.markdown && now.params) await this.instances.update(click.outTrackId, now.params, { userId: click.userId, params: restoredPrivateParams(now.params) }, false);
    }
    // A stream callback is answered before the work is done, so a toast comes as a short message.
    if (result.toast) await this.sendText(toClicker, result.toast);
  }

  // ---- outgoing ------------------------------------------------------------------------

  /** https://open.dingtalk.com/document/orgapp/chatbots-send-one-on-one-chat-messages-in-batches */
  private batchSend(userIds: string[], msgKey: string, msgParam: Record<string, unknown>, pace?: () => Promise<unknown>): Promise<BatchAnswer> {
    return this.api.call<BatchAnswer>('POST', '/v1.0/robot/oToMessages/batchSend', { robotCode: this.robotCode, userIds, msgKey, msgParam: JSON.stringify(msgParam) }, pace ? { pace } : {});
  }

  /** https://open.dingtalk.com/document/orgapp/the-robot-sends-a-group-message */
  private async sendRobotMessage(c: Conversation, msgKey: string, msgParam: Record<string, unknown>, batchable = false): Promise<SentMessage> {
    if (c.type === 'direct') {
      // A push (it has a ledger key) can wait a moment for others with the same text; a reply cannot.
      if (batchable && this.batcher) return this.batcher.send(c.platformUserId, msgKey, msgParam);
      const r = await this.batchSend([c.platformUserId], msgKey, msgParam);
      if (r.invalidStaffIdList?.includes(c.platformUserId)) throw new PlatformError('DingTalk: recipient is not a valid staff id', 'dingtalk', 'invalidStaffId', false);
      if (r.flowControlledStaffIdList?.includes(c.platformUserId)) throw new PlatformError('DingTalk: recipient is flow-controlled', 'dingtalk', 'flowControlled', true);
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

  /**
   * A text push to one person shares a batchSend call: nothing to pace per person once the
   * batcher paces each call itself (usePacer), else a twentieth of a call. Everything else is
   * a whole call.
   */
  sendCost(target: SendTarget, content: Card | string): number {
    if (!(this.batcher && typeof content === 'string' && target.conversation.type === 'direct' && target.idempotencyKey)) return 1;
    return this.pace ? 0 : 1 / BATCH_MAX;
  }

  usePacer(pace: (cost: number) => Promise<unknown>): void {
    this.pace = () => pace(1);
  }

  /** With batching off (batchTexts false), every push goes one person a call. */
  get textBatchMax(): number | undefined {
    return this.batcher ? BATCH_MAX : undefined;
  }

  /** One batchSend for a text push the outbound queue grouped itself (one queue job per call). */
  async sendTextBatch(userIds: string[], text: string): Promise<TextBatchResult> {
    const r = await this.batchSend(userIds, 'sampleText', { content: text }, this.pace);
    return { messageId: r.processQueryKey ?? '', invalid: r.invalidStaffIdList ?? [], throttled: r.flowControlledStaffIdList ?? [] };
  }

  async sendText(target: SendTarget, text: string): Promise<SentMessage> {
    return this.sendRobotMessage(target.conversation, 'sampleText', { content: text }, target.idempotencyKey !== undefined);
  }

  async sendMarkdown(target: SendTarget, title: string, markdownText: string): Promise<SentMessage> {
    return this.sendRobotMessage(target.conversation, 'sampleMarkdown', { title, text: markdownText });
  }

  /**
   * A card, as a card instance on the tier CardTiers names; a refusal (permission, template)
   * moves the tier down and the same card goes again the next way, so nothing is lost.
   */
  async sendCard(target: SendTarget, card: Card): Promise<SentMessage> {
    const formsBefore = this.supportsForms;
    for (;;) {
      const tier = this.tiers.current();
      if (tier === 'markdown') return this.sendCardAsMarkdown(target, card);
      const templateId = tier === 'hospital' ? this.tiers.hospitalTemplateId! : PUBLIC_AI_CARD_TEMPLATE;
      try {
        return await this.sendCardInstance(target, card, tier, templateId);
      } catch (e) {
        const refusal = CardTiers.refusalOf(e, templateId);
        if (!refusal) throw e;
        this.tiers.refuse(refusal);
        // The card was fitted for forms in the card: the degrade stage must fit it again.
        if (formsBefore && !this.supportsForms && card.elements.some((x) => x.type === 'form')) throw new CapabilitiesChanged('dingtalk');
      }
    }
  }

  private async sendCardInstance(target: SendTarget, card: Card, template: 'ai' | 'hospital', templateId: string): Promise<SentMessage> {
    const rendered = renderDingTalkCard(card, template);
    const outTrackId = outTrackIdFor(target.idempotencyKey);
    // Remembered first: a click can arrive before createAndDeliver has answered.
    await this.store.put(outTrackId, {
      conversation: target.conversation,
      buttons: rendered.buttons,
      ...(rendered.form ? { form: rendered.form } : {}),
      template,
      params: rendered.params,
    });
    await this.instances.deliver(outTrackId, target.conversation, templateId, rendered.params);
    return { messageId: outTrackId };
  }

  private async sendCardAsMarkdown(target: SendTarget, card: Card): Promise<SentMessage> {
    // In a group a stream robot hears only messages that @ it, so a link that sends text
    // without the mention would go nowhere: there the code is typed after @-mentioning.
    const md = renderDingTalkMarkdown(card, target.conversation.type === 'direct' ? 'dtmd' : 'typed');
    const sent = await this.sendMarkdown(target, md.title, md.text);
    const id = `md_${sent.messageId || randomUUID()}`;
    await this.store.put(id, { conversation: target.conversation, buttons: {}, markdown: true });
    return { messageId: id };
  }

  /** Updates a card in place (PUT /v1.0/card/instances); after a click, also resets the clicker's view. */
  async updateCard(messageId: string, card: Card, clicker?: string): Promise<void> {
    const prev = await this.store.get(messageId);
    if (prev?.markdown) {
      // A markdown message cannot be edited: the new state arrives as a new message.
      const md = renderDingTalkMarkdown(card, prev.conversation.type === 'direct' ? 'dtmd' : 'typed');
      await this.sendMarkdown({ conversation: prev.conversation }, md.title, md.text);
      return;
    }
    const template = prev?.template ?? (this.tiers.current() === 'hospital' ? 'hospital' : 'ai');
    const rendered = renderDingTalkCard(card, template);
    if (prev) {
      await this.store.put(messageId, {
        ...prev,
        buttons: rendered.buttons,
        ...(rendered.form ? { form: rendered.form } : { form: undefined }),
        params: rendered.params,
      });
    }
    await this.instances.update(messageId, rendered.params, clicker ? { userId: clicker, params: restoredPrivateParams(rendered.params) } : undefined);
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

  async uploadImage(image: { name: string; data: Buffer; mime: string }): Promise<string> {
    return this.uploadMedia('image', image.data, image.name, image.mime);
  }
}
