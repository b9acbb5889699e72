import * as lark from '@larksuiteoapi/node-sdk';
import { PlatformError } from '../../errors.js';
import { readLimited } from '../download.js';
import { DIRECT_ATTEMPTS, DIRECT_MAX_WAIT_MS, withDirectRetry } from '../retries.js';
import type { Logger } from '../../logger.js';

/**
 * OpenAPI calls through the SDK's Client, with the platform's error rules applied once here:
 *
 * - Throttling — HTTP 429 with `x-ogw-ratelimit-reset`, or the older HTTP 400 with code 99991400 —
 *   is a retryable PlatformError carrying the seconds the platform names as retryAfterMs
 *   (https://open.feishu.cn/document/server-docs/api-call-guide/frequency-control).
 * - A rejected tenant token (99991663 invalid/expired, 99991661 missing) empties the token cache
 *   and the call is tried once more with a fresh token: the SDK itself never refreshes early.
 * - 5xx and network failures are retryable PlatformErrors: every call the bot makes is
 *   idempotent (sends carry a uuid, PATCH replaces, uploads only create an unused key).
 * - Everything else becomes a PlatformError with the platform's own code, not retryable.
 *
 * Who retries is decided in ../retries.ts: BullMQ for queued sends (one attempt here), a short
 * retry here for direct replies.
 */

const TOKEN_REJECTED = new Set([99991661, 99991663, 99991664, 99991665]);
const RATE_LIMITED = 99991400;

/** A token cache of our own, so that a rejected token can be forgotten (the SDK's is global). */
export class TokenCache implements lark.Cache {
  private values = new Map<string, { value: unknown; expire?: number }>();
  private key(k: string | Symbol, ns?: string) {
    return `${ns ?? ''}:${String(k)}`;
  }
  async set(key: string | Symbol, value: unknown, expire?: number, options?: { namespace?: string }): Promise<boolean> {
    this.values.set(this.key(key, options?.namespace), { value, ...(expire ? { expire } : {}) });
    return true;
  }
  async get(key: string | Symbol, options?: { namespace?: string }): Promise<unknown> {
    const hit = this.values.get(this.key(key, options?.namespace));
    if (!hit) return undefined;
    if (hit.expire !== undefined && hit.expire < Date.now()) {
      this.values.delete(this.key(key, options?.namespace));
      return undefined;
    }
    return hit.value;
  }
  clear(): void {
    this.values.clear();
  }
}

/** Passes SDK log lines to pino at most at info, keeping only their text: request bodies stay out. */
export function sdkLogger(log: Logger): lark.Logger {
  // The SDK's LoggerProxy passes its arguments as one array; objects (request configs) are dropped.
  const one = (a: unknown): string => (typeof a === 'string' ? a : a instanceof Error ? a.message : Array.isArray(a) ? a.map(one).join(' ') : '[object]');
  const text = (args: unknown[]) => args.map(one).join(' ').slice(0, 300);
  return {
    error: (...a: unknown[]) => log.warn({ sdk: text(a) }, 'feishu sdk'),
    warn: (...a: unknown[]) => log.warn({ sdk: text(a) }, 'feishu sdk'),
    info: (...a: unknown[]) => log.info({ sdk: text(a) }, 'feishu sdk'),
    debug: (...a: unknown[]) => log.debug({ sdk: text(a) }, 'feishu sdk'),
    trace: (...a: unknown[]) => log.trace({ sdk: text(a) }, 'feishu sdk'),
  };
}

interface Failure {
  status?: number;
  code?: number;
  msg: string;
  resetSeconds?: number;
}

/** What went wrong, from an axios error, a token-manager error, or a body with code ≠ 0. */
export function describeFailure(e: unknown): Failure {
  const ax = e as { response?: { status?: number; data?: unknown; headers?: Record<string, unknown> }; message?: string; code?: string };
  if (ax?.response) {
    const data = (ax.response.data ?? {}) as { code?: number; msg?: string };
    const reset = Number(ax.response.headers?.['x-ogw-ratelimit-reset']);
    return {
      status: ax.response.status,
      ...(typeof data.code === 'number' ? { code: data.code } : {}),
      msg: typeof data.msg === 'string' ? data.msg : `HTTP ${ax.response.status}`,
      ...(Number.isFinite(reset) && reset >= 0 ? { resetSeconds: reset } : {}),
    };
  }
  // The SDK's token manager throws "failed to get tenant_access_token, code: N, msg: …" on a 200 with an error body.
  const m = /code: (\d+), msg: (.*)$/.exec(ax?.message ?? '');
  if (m) return { code: Number(m[1]), msg: m[2] };
  return { msg: ax?.message ?? String(e) };
}

export class BusinessError extends Error {
  constructor(
    readonly code: number,
    msg: string,
  ) {
    super(msg);
  }
}

export interface FeishuApiOptions {
  appId: string;
  appSecret: string;
  domain: string;
  logger: Logger;
  /** Attempts per call outside the outbound queue, throttling included (queued sends: one). */
  maxAttempts?: number;
  /** A wait longer than this is not waited out for a direct call: the caller gets a retryable error. */
  maxWaitMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export class FeishuApi {
  readonly client: lark.Client;
  readonly tokens = new TokenCache();
  private maxAttempts: number;
  private maxWaitMs: number;
  private sleep: (ms: number) => Promise<void>;

  constructor(private opts: FeishuApiOptions) {
    this.client = new lark.Client({
      appId: opts.appId,
      appSecret: opts.appSecret,
      domain: opts.domain,
      appType: lark.AppType.SelfBuild,
      cache: this.tokens,
      logger: sdkLogger(opts.logger),
      loggerLevel: lark.LoggerLevel.info,
    });
    this.maxAttempts = opts.maxAttempts ?? DIRECT_ATTEMPTS;
    this.maxWaitMs = opts.maxWaitMs ?? DIRECT_MAX_WAIT_MS;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** Runs one OpenAPI call with the rules above; `fn` returns the response body. */
  call<T extends { code?: number; msg?: string }>(op: string, fn: () => Promise<T>): Promise<T> {
    return withDirectRetry(() => this.attempt(op, fn), {
      attempts: this.maxAttempts,
      maxWaitMs: this.maxWaitMs,
      backoffMs: (n) => n * 300,
      sleep: this.sleep,
      onRetry: (err, attempt, waitMs) =>
        err.retryAfterMs !== undefined
          ? this.opts.logger.warn({ op, waitMs, attempt }, 'feishu throttled the call; waiting as told')
          : this.opts.logger.warn({ op, code: err.code, attempt, waitMs }, 'feishu call failed; trying once more for a direct reply'),
    });
  }

  /** One attempt (plus one with a fresh token when the platform rejected ours), its failure classified. */
  private async attempt<T extends { code?: number; msg?: string }>(op: string, fn: () => Promise<T>): Promise<T> {
    for (let tokenRetried = false; ; tokenRetried = true) {
      let failure: Failure;
      try {
        const body = await fn();
        if (body && typeof body.code === 'number' && body.code !== 0) throw new BusinessError(body.code, body.msg ?? 'error');
        return body;
      } catch (e) {
        failure = e instanceof BusinessError ? { code: e.code, msg: e.message } : describeFailure(e);
      }
      if (failure.status === 429 || failure.code === RATE_LIMITED) {
        const waitMs = Math.max(0, (failure.resetSeconds ?? 1) * 1000);
        throw new PlatformError(`feishu ${op} throttled: ${failure.msg}`, 'feishu', failure.code ?? 429, true, waitMs);
      }
      // Not a retry of the call: the token expired under us, and the call itself was refused
      // before it did anything. The SDK never refreshes early, so without this every send
      // after an expiry would fail once.
      if (failure.code !== undefined && TOKEN_REJECTED.has(failure.code) && !tokenRetried) {
        this.tokens.clear();
        this.opts.logger.info({ op, code: failure.code }, 'feishu rejected the tenant token; fetching a new one');
        continue;
      }
      const serverSide = failure.status === undefined ? failure.code === undefined : failure.status >= 500;
      this.opts.logger.warn({ op, status: failure.status, code: failure.code, msg: failure.msg }, 'feishu call failed');
      throw new PlatformError(`feishu ${op} failed: ${failure.code ?? failure.status ?? ''} ${failure.msg}`.trim(), 'feishu', failure.code ?? failure.status, serverSide);
    }
  }

  /** The bot's own identity; the first call also proves the credentials. */
  async botInfo(): Promise<{ openId: string; name: string }> {
    const body = await this.call('bot.info', () =>
      this.client.request<{ code?: number; msg?: string; bot?: { open_id?: string; app_name?: string } }>({ method: 'GET', url: '/open-apis/bot/v3/info' }),
    );
    if (!body.bot?.open_id) throw new PlatformError('feishu bot.info returned no open_id: is the bot capability enabled?', 'feishu', undefined, false);
    return { openId: body.bot.open_id, name: body.bot.app_name ?? '' };
  }

  async createMessage(receiveIdType: 'open_id' | 'chat_id', receiveId: string, msgType: string, content: string, uuid: string): Promise<string> {
    const body = await this.call('message.create', () =>
      this.client.im.v1.message.create({ params: { receive_id_type: receiveIdType }, data: { receive_id: receiveId, msg_type: msgType, content, uuid } }),
    );
    const id = body.data?.message_id;
    if (!id) throw new PlatformError('feishu message.create returned no message_id', 'feishu', body.code, true);
    return id;
  }

  async patchMessage(messageId: string, content: string): Promise<void> {
    await this.call('message.patch', () => this.client.im.v1.message.patch({ path: { message_id: messageId }, data: { content } }));
  }

  async uploadImage(data: Buffer): Promise<string> {
    // image.create returns only the `data` part of the body (or null), so check its key.
    const res = await this.call('image.create', async () => {
      const d = await this.client.im.v1.image.create({ data: { image_type: 'message', image: data } });
      if (!d?.image_key) throw new BusinessError(-1, 'no image_key in the answer');
      return { code: 0, image_key: d.image_key };
    });
    return res.image_key;
  }

  /**
   * https://open.feishu.cn/document/server-docs/im-v1/message/get-2 (获取消息中的资源文件): the
   * bytes of an image or file a user sent. Undefined data means larger than `maxBytes`.
   */
  async messageResource(messageId: string, fileKey: string, type: 'image' | 'file', maxBytes: number): Promise<{ data?: Buffer; mime: string }> {
    return this.call('message.resource', async () => {
      try {
        const r = await this.client.im.v1.messageResource.get({ path: { message_id: messageId, file_key: fileKey }, params: { type } });
        const headers = (r.headers ?? {}) as Record<string, unknown>;
        const data = await readLimited(r.getReadableStream(), maxBytes);
        return { code: 0, ...(data ? { data } : {}), mime: String(headers['content-type'] ?? 'application/octet-stream').split(';')[0] };
      } catch (e) {
        throw await withReadableErrorBody(e);
      }
    });
  }

  async uploadFile(name: string, data: Buffer): Promise<string> {
    const res = await this.call('file.create', async () => {
      const d = await this.client.im.v1.file.create({ data: { file_type: fileTypeOf(name), file_name: name, file: data } });
      if (!d?.file_key) throw new BusinessError(-1, 'no file_key in the answer');
      return { code: 0, file_key: d.file_key };
    });
    return res.file_key;
  }
}

/**
 * The SDK asks for resources as streams, so an error body arrives as a stream too; read it so
 * that the platform's code reaches describeFailure.
 */
async function withReadableErrorBody(e: unknown): Promise<unknown> {
  const res = (e as { response?: { data?: unknown } })?.response;
  const body = res?.data as (AsyncIterable<Uint8Array> & { readable?: boolean }) | undefined;
  if (!res || !body || typeof body !== 'object' || !(Symbol.asyncIterator in body)) return e;
  try {
    const text = (await readLimited(body, 64 * 1024))?.toString('utf8') ?? '';
    res.data = JSON.parse(text) as unknown;
  } catch {
    res.data = {};
  }
  return e;
}

/** file_type of im/v1/files: a few named kinds, everything else is a `stream`. */
export function fileTypeOf(name: string): 'opus' | 'mp4' | 'pdf' | 'doc' | 'xls' | 'ppt' | 'stream' {
  const ext = name.toLowerCase().split('.').pop() ?? '';
  if (ext === 'pdf') return 'pdf';
  if (ext === 'doc' || ext === 'docx') return 'doc';
  if (ext === 'xls' || ext === 'xlsx') return 'xls';
  if (ext === 'ppt' || ext === 'pptx') return 'ppt';
  if (ext === 'mp4') return 'mp4';
  if (ext === 'opus') return 'opus';
  return 'stream';
}
