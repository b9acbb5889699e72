import { createHash, randomUUID } from 'node:crypto';
import * as lark from '@larksuiteoapi/node-sdk';
import type { Card } from '../../../cards/model.js';
import { feishuCardContent, renderFeishuCard } from '../../../cards/feishu.js';
import { truncate } from '../../../cards/markdown.js';
import { FileTooLargeError, PlatformError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { ActionResult, ChatPlatform, Conversation, EventSink, PlatformHealth, SendTarget, SentMessage } from '../types.js';
import { FeishuApi, sdkLogger, type FeishuApiOptions } from './api.js';
import { normaliseCardAction, normaliseMessage } from './events.js';

export interface FeishuPlatformOptions {
  appId: string;
  appSecret: string;
  /** FEISHU_DOMAIN: https://open.feishu.cn, https://open.larksuite.com, or a local fake. */
  domain: string;
  logger: Logger;
  /**
   * Seconds without any frame after a ping before the connection counts as dead and is
   * replaced (the SDK's wsConfig.pingTimeout). The watchdog is re-armed at every ping, so it
   * only works when shorter than the platform's ping interval (120 s). Default 30.
   */
  pingTimeoutSeconds?: number;
  /** How long a card callback may wait for its handler; the platform allows 3 s in all. */
  callbackBudgetMs?: number;
  /** How long an event frame waits for its handler before it is acknowledged anyway. */
  eventBudgetMs?: number;
  /** How long start() waits for the first long connection. */
  connectTimeoutMs?: number;
  api?: Partial<Pick<FeishuApiOptions, 'maxAttempts' | 'maxWaitMs' | 'sleep'>>;
}

/** The card callback answer: https://open.feishu.cn/document/uAjLw4CM/ukzMukzMukzM/feishu-cards/card-callback-communication */
interface CallbackAnswer {
  toast?: { type: 'info' | 'success' | 'warning' | 'error'; content: string };
  card?: { type: 'raw'; data: Record<string, unknown> };
}

/** Codes that mean the app id or secret is wrong (token endpoint, discovery). */
const CREDENTIAL_CODES = new Set([10003, 10014, 514, 403]);
const TEXT_MAX_CHARS = 40_000;
const LATE = Symbol('late');

/** Feishu's uuid field takes at most 50 characters; a deterministic key of any length maps to one. */
export function feishuUuid(idempotencyKey: string): string {
  return createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 40);
}

const sleep = (ms: number) => new Promise<typeof LATE>((r) => setTimeout(() => r(LATE), ms).unref());

/**
 * Feishu through the official SDK: events and card callbacks over the WSClient long
 * connection (no public URL), OpenAPI calls through the Client. Several adapters (DingTalk,
 * Feishu) can run in one process: nothing here is global.
 */
/** What Feishu's image upload takes (https://open.feishu.cn/document/server-docs/im-v1/image/create); larger or other pictures go as files. */
const FEISHU_IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'image/bmp']);
const FEISHU_IMAGE_MAX_BYTES = 10 * 1024 * 1024;

export class FeishuPlatform implements ChatPlatform {
  readonly name = 'feishu' as const;
  readonly supportsForms = true;
  readonly api: FeishuApi;
  botOpenId?: string;
  private ws?: lark.WSClient;
  private sink?: EventSink;
  private failure?: string;
  private log: Logger;

  constructor(private opts: FeishuPlatformOptions) {
    if (!/^cli_[0-9a-fA-F]{16}$/.test(opts.appId)) {
      // The SDK's WSClient silently refuses any other form; say so at start-up instead.
      throw new Error(`FEISHU_APP_ID 格式不正确：应为 cli_ 加 16 位十六进制字符（开发者后台“凭证与基础信息”页可复制），当前为 "${opts.appId}"`);
    }
    if (!opts.appSecret) throw new Error('已设置 FEISHU_APP_ID，但缺少 FEISHU_APP_SECRET（开发者后台“凭证与基础信息”页的 App Secret）');
    this.log = opts.logger.child({ platform: 'feishu' });
    this.api = new FeishuApi({ appId: opts.appId, appSecret: opts.appSecret, domain: opts.domain, logger: this.log, ...opts.api });
  }

  async start(sink: EventSink): Promise<void> {
    this.sink = sink;
    this.failure = undefined;
    try {
      this.botOpenId = (await this.api.botInfo()).openId;
    } catch (e) {
      throw this.startError(e);
    }
    const dispatcher = new lark.EventDispatcher({ logger: sdkLogger(this.log), loggerLevel: lark.LoggerLevel.info }).register<{
      'card.action.trigger': (data: unknown) => Promise<CallbackAnswer>;
    }>({
      'im.message.receive_v1': (data: unknown) => this.onMessageEvent(data),
      'card.action.trigger': (data: unknown) => this.onCardEvent(data),
    });
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const timeoutMs = this.opts.connectTimeoutMs ?? 30_000;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        this.closeSocket();
        reject(new Error(`飞书长连接在 ${Math.round(timeoutMs / 1000)} 秒内未能建立：请检查网络能否访问 ${this.opts.domain}`));
      }, timeoutMs);
      this.ws = new lark.WSClient({
        appId: this.opts.appId,
        appSecret: this.opts.appSecret,
        domain: this.opts.domain,
        logger: sdkLogger(this.log),
        loggerLevel: lark.LoggerLevel.info,
        autoReconnect: true,
        handshakeTimeoutMs: 15_000,
        // Without the watchdog a half-open connection (socket open, nothing flowing) is never noticed.
        wsConfig: { pingTimeout: this.opts.pingTimeoutSeconds ?? 30 },
        onReady: () => {
          this.log.info('feishu long connection ready');
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve();
        },
        onError: (err) => {
          this.failure = err.message;
          this.log.error({ err: err.message }, 'feishu long connection gave up');
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          this.closeSocket();
          reject(this.startError(err));
        },
        onReconnecting: () => this.log.warn('feishu long connection lost; reconnecting'),
        onReconnected: () => this.log.info('feishu long connection re-established'),
      });
      void this.ws.start({ eventDispatcher: dispatcher });
    });
  }

  private startError(e: unknown): Error {
    const code = e instanceof PlatformError ? Number(e.code) : Number(/code=(\d+)/.exec(String((e as Error)?.message))?.[1]);
    if (CREDENTIAL_CODES.has(code)) {
      return new Error(`飞书拒绝了应用凭证（code ${code}）：请核对 FEISHU_APP_ID 与 FEISHU_APP_SECRET 是否为同一个自建应用的凭证`);
    }
    return new Error(`无法连接飞书开放平台 ${this.opts.domain}：${(e as Error)?.message ?? String(e)}`);
  }

  private closeSocket(): void {
    // close() (1.74.0) also cancels any pending reconnect, so nothing reopens behind our back.
    this.ws?.close({ force: true });
  }

  async stop(): Promise<void> {
    this.closeSocket();
    this.ws = undefined;
    this.sink = undefined;
  }

  health(): PlatformHealth {
    if (!this.ws) return { ok: false, detail: this.failure ?? 'not started' };
    const s = this.ws.getConnectionStatus();
    if (s.state === 'connected') return { ok: true };
    if (s.state === 'failed') return { ok: false, detail: this.failure ?? 'long connection failed' };
    return { ok: false, detail: s.state === 'reconnecting' ? `reconnecting (attempt ${s.reconnectAttempts})` : s.state };
  }

  // ---- events ----------------------------------------------------------------------------

  private async onMessageEvent(data: unknown): Promise<void> {
    const sink = this.sink;
    if (!sink) return;
    const msg = normaliseMessage(data, this.botOpenId, new Date());
    if ('ignored' in msg) {
      this.log.debug({ why: msg.ignored }, 'feishu message ignored');
      return;
    }
    // A handler that fails quickly makes the answer frame a 500, so the platform redelivers;
    // one that runs long is acknowledged anyway, since a slow answer also counts as a failure.
    const work = sink.onMessage(msg);
    const first = await Promise.race([work, sleep(this.opts.eventBudgetMs ?? 2_500)]);
    if (first === LATE) work.catch((err: unknown) => this.log.error({ err, eventId: msg.eventId }, 'feishu message handling failed'));
  }

  private async onCardEvent(data: unknown): Promise<CallbackAnswer> {
    const sink = this.sink;
    const action = normaliseCardAction(data, new Date());
    if (!sink || 'ignored' in action) {
      this.log.warn({ why: sink ? (action as { ignored: string }).ignored : 'stopped' }, 'feishu card callback ignored');
      return { toast: { type: 'warning', content: '这个按钮已失效，请重新发起（发送“帮助”查看可用命令）。' } };
    }
    const work = sink.onAction(action);
    const first = await Promise.race([work, sleep(this.opts.callbackBudgetMs ?? 2_500)]);
    if (first !== LATE) return this.callbackAnswer(first);
    // Past the platform's 3 s: answer now, and deliver the result when it is ready.
    work
      .then(async (r) => {
        if (r.card && action.messageId) await this.updateCard(action.messageId, r.card);
        else if (r.toast) await this.sendText({ conversation: action.conversation }, r.toast);
      })
      .catch((err: unknown) => this.log.error({ err, eventId: action.eventId }, 'feishu card action failed after the callback was answered'));
    return { toast: { type: 'info', content: '正在处理，请稍候…' } };
  }

  private callbackAnswer(r: ActionResult): CallbackAnswer {
    return {
      ...(r.toast ? { toast: { type: 'info' as const, content: truncate(r.toast, 500) } } : {}),
      ...(r.card ? { card: { type: 'raw' as const, data: renderFeishuCard(r.card) } } : {}),
    };
  }

  // ---- sending ---------------------------------------------------------------------------

  private receiver(c: Conversation): ['open_id' | 'chat_id', string] {
    return c.type === 'direct' ? ['open_id', c.platformUserId] : ['chat_id', c.chatId];
  }

  private uuid(target: SendTarget): string {
    // One uuid per logical send: the API's own retries inside this call reuse it.
    return target.idempotencyKey ? feishuUuid(target.idempotencyKey) : randomUUID();
  }

  async sendText(target: SendTarget, text: string): Promise<SentMessage> {
    const [type, id] = this.receiver(target.conversation);
    const messageId = await this.api.createMessage(type, id, 'text', JSON.stringify({ text: truncate(text, TEXT_MAX_CHARS) }), this.uuid(target));
    return { messageId };
  }

  async sendCard(target: SendTarget, card: Card): Promise<SentMessage> {
    const [type, id] = this.receiver(target.conversation);
    const messageId = await this.api.createMessage(type, id, 'interactive', feishuCardContent(card), this.uuid(target));
    return { messageId };
  }

  async updateCard(messageId: string, card: Card): Promise<void> {
    await this.api.patchMessage(messageId, feishuCardContent(card));
  }

  async sendFile(target: SendTarget, file: { name: string; data: Buffer; mime: string }): Promise<SentMessage> {
    const [type, id] = this.receiver(target.conversation);
    // A photo goes as an image message, which Feishu shows in the chat; as a file it is only an icon to download.
    if (FEISHU_IMAGE_TYPES.has(file.mime) && file.data.length > 0 && file.data.length <= FEISHU_IMAGE_MAX_BYTES) {
      const imageKey = await this.api.uploadImage(file.data);
      return { messageId: await this.api.createMessage(type, id, 'image', JSON.stringify({ image_key: imageKey }), this.uuid(target)) };
    }
    const fileKey = await this.api.uploadFile(file.name, file.data);
    const messageId = await this.api.createMessage(type, id, 'file', JSON.stringify({ file_key: fileKey }), this.uuid(target));
    return { messageId };
  }

  async downloadFile(ref: string, maxBytes: number): Promise<{ data: Buffer; mime: string }> {
    // feishu:<image|file>:<message_id>:<key>, as events.ts builds it.
    const m = /^feishu:(image|file):([^:]+):(.+)$/.exec(ref);
    if (!m) throw new PlatformError('not a Feishu file reference', 'feishu', 'bad_ref', false);
    const r = await this.api.messageResource(m[2], m[3], m[1] as 'image' | 'file', maxBytes);
    if (!r.data) throw new FileTooLargeError(maxBytes);
    return { data: r.data, mime: r.mime };
  }

  async uploadImage(image: { name: string; data: Buffer; mime: string }): Promise<string> {
    return this.api.uploadImage(image.data);
  }
}
