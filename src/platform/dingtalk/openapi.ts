import { PlatformError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { DIRECT_ATTEMPTS, DIRECT_MAX_WAIT_MS, withDirectRetry } from '../retries.js';
import { TokenCache } from './token.js';

/**
 * DingTalk's server API, both generations: the new one on api.dingtalk.com (token in the
 * `x-acs-dingtalk-access-token` header, errors as HTTP status + `{code, message}`) and the
 * old one on oapi.dingtalk.com (token in `?access_token=`, errors as HTTP 200 + `{errcode}`).
 * Every failure becomes a PlatformError saying whether trying again can help (throttling, 5xx
 * and network failures can; a throttle's Retry-After rides along as retryAfterMs), and a token
 * the platform rejects is refreshed once. Who retries is decided in ../retries.ts: BullMQ for
 * queued sends (one attempt here), a short retry with backoff here for direct replies.
 */
export interface OpenApiOptions {
  clientId: string;
  clientSecret: string;
  apiBase: string;
  oapiBase: string;
  logger: Logger;
  /** Attempts for a retryable failure outside the outbound queue, the first included (queued sends: one). */
  maxAttempts?: number;
  /** First backoff of a direct call; doubles each attempt (with jitter), capped at 8 s. */
  retryBaseMs?: number;
  requestTimeoutMs?: number;
}

type Query = Record<string, string>;

/** New-API error codes that mean "the token is not (or no longer) valid". */
const TOKEN_CODES = new Set(['InvalidAuthentication', 'InvalidAccessToken', 'AccessTokenExpired', 'AuthenticationFailed.MissingParameter']);
/** Old-API errcodes for an invalid or expired access token. */
const OAPI_TOKEN_ERRCODES = new Set([40014, 42001, 40001]);
/** Old-API errcodes for "busy" and "too many calls". */
const OAPI_RETRYABLE_ERRCODES = new Set([-1, 90002, 90018]);
const RETRYABLE_CODE = /throttl|qpslimit|flowcontrol|serviceunavailable|systembusy|system\.busy|internalerror/i;
const THROTTLED_CODE = /throttl|qpslimit|flowcontrol/i;
/**
 * DingTalk's quotas are per second (调用频率限制) and its 429 rarely says how long to wait:
 * a second, so the outbound queue pauses instead of spending one of its attempts on a burst.
 */
const THROTTLE_WAIT_MS = 1_000;

class TokenRejected extends Error {}

/** A refused call; a missing permission names the scopes it needs (403 accessdenieddetail.requiredScopes). */
export class DingTalkApiError extends PlatformError {
  requiredScopes: string[] = [];
}

export class DingTalkOpenApi {
  readonly tokens: TokenCache;
  private maxAttempts: number;
  private retryBaseMs: number;
  private timeoutMs: number;

  constructor(private opts: OpenApiOptions) {
    this.maxAttempts = opts.maxAttempts ?? DIRECT_ATTEMPTS;
    this.retryBaseMs = opts.retryBaseMs ?? 500;
    this.timeoutMs = opts.requestTimeoutMs ?? 15_000;
    this.tokens = new TokenCache(() => this.fetchToken());
  }

  /** https://open.dingtalk.com/document/orgapp/obtain-the-access-token-of-an-internal-app */
  private async fetchToken(): Promise<{ token: string; expiresInSeconds: number }> {
    const res = await this.retrying('POST /v1.0/oauth2/accessToken', async () => {
      const r = await this.rawFetch(`${this.opts.apiBase}/v1.0/oauth2/accessToken`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ appKey: this.opts.clientId, appSecret: this.opts.clientSecret }),
      });
      const body = await readJson(r);
      if (!r.ok) throw apiError('POST /v1.0/oauth2/accessToken', r, body, { tokenCall: true });
      return body;
    });
    const token = typeof res.accessToken === 'string' ? res.accessToken : '';
    const expireIn = Number(res.expireIn);
    if (!token || !Number.isFinite(expireIn)) throw new PlatformError('DingTalk returned no access token', 'dingtalk', 'no_token', true);
    return { token, expiresInSeconds: expireIn };
  }

  /**
   * A call to the new API (api.dingtalk.com) with a JSON body. `pace` runs before every
   * attempt, retries included: a quota-paced call's retry is another call against the quota.
   */
  async call<T = Record<string, unknown>>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, opts: { pace?: () => Promise<unknown> } = {}): Promise<T> {
    const label = `${method} ${path}`;
    return this.withToken(label, async (token) => {
      if (opts.pace) await opts.pace();
      const r = await this.rawFetch(`${this.opts.apiBase}${path}`, {
        method,
        headers: { 'content-type': 'application/json', accept: 'application/json', 'x-acs-dingtalk-access-token': token },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const json = await readJson(r);
      if (!r.ok) throw apiError(label, r, json);
      return json as T;
    });
  }

  /** A call to the old API (oapi.dingtalk.com); `form` sends multipart (media upload). */
  async oapi<T = Record<string, unknown>>(path: string, opts: { query?: Query; json?: unknown; form?: () => FormData } = {}): Promise<T> {
    const label = `POST ${path}`;
    return this.withToken(label, async (token) => {
      const qs = new URLSearchParams({ ...(opts.query ?? {}), access_token: token });
      const r = await this.rawFetch(`${this.opts.oapiBase}${path}?${qs.toString()}`, {
        method: 'POST',
        ...(opts.form
          ? { body: opts.form() }
          : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(opts.json ?? {}) }),
      });
      const json = await readJson(r);
      if (!r.ok) throw apiError(label, r, json);
      const errcode = Number(json.errcode ?? 0);
      if (errcode !== 0) {
        if (OAPI_TOKEN_ERRCODES.has(errcode)) throw new TokenRejected(String(errcode));
        throw new PlatformError(`DingTalk ${label} failed: ${errcode} ${String(json.errmsg ?? '')}`, 'dingtalk', errcode, OAPI_RETRYABLE_ERRCODES.has(errcode));
      }
      return json as T;
    });
  }

  /**
   * Runs `fn` with a token; a rejected token is replaced once and the call made again. That is
   * not a retry of the call: the platform refused it for the token alone, before doing
   * anything, and a token can expire under any send however early we refresh.
   */
  private async withToken<T>(label: string, fn: (token: string) => Promise<T>): Promise<T> {
    return this.retrying(label, async () => {
      const token = await this.tokens.get();
      try {
        return await fn(token);
      } catch (e) {
        if (!(e instanceof TokenRejected)) throw e;
        this.opts.logger.info({ call: label }, 'dingtalk access token rejected; refreshing once');
        this.tokens.invalidate(token);
        const fresh = await this.tokens.get();
        try {
          return await fn(fresh);
        } catch (e2) {
          if (e2 instanceof TokenRejected) throw new PlatformError(`DingTalk ${label}: access token rejected twice`, 'dingtalk', 'InvalidAuthentication', false);
          throw e2;
        }
      }
    });
  }

  /**
   * One attempt with its failure classified; retried only for a direct call (../retries.ts).
   * The token fetch nested in a call is covered by the call's own retry.
   */
  private retrying<T>(label: string, fn: () => Promise<T>): Promise<T> {
    const classified = async () => {
      try {
        return await fn();
      } catch (e) {
        if (e instanceof PlatformError || e instanceof TokenRejected) throw e;
        throw new PlatformError(`DingTalk ${label}: ${(e as Error).message}`, 'dingtalk', 'network', true);
      }
    };
    return withDirectRetry(classified, {
      attempts: this.maxAttempts,
      maxWaitMs: DIRECT_MAX_WAIT_MS,
      backoffMs: (n) => {
        const backoff = Math.min(8000, this.retryBaseMs * 2 ** (n - 1));
        return backoff / 2 + Math.random() * (backoff / 2);
      },
      onRetry: (err, attempt, waitMs) => this.opts.logger.warn({ call: label, code: err.code, attempt, waitMs: Math.round(waitMs) }, 'dingtalk call failed; retrying'),
    });
  }

  private async rawFetch(url: string, init: RequestInit): Promise<Response> {
    return fetch(url, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
  }
}

async function readJson(r: Response): Promise<Record<string, unknown>> {
  const text = await r.text();
  if (!text) return {};
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
  } catch {
    return { message: text.slice(0, 200) };
  }
}

function apiError(label: string, r: Response, body: Record<string, unknown>, opts: { tokenCall?: boolean } = {}): Error {
  const code = typeof body.code === 'string' ? body.code : String(r.status);
  if (!opts.tokenCall && TOKEN_CODES.has(code)) return new TokenRejected(code);
  const retryAfter = Number(r.headers.get('retry-after'));
  const retryable = r.status === 429 || r.status >= 500 || RETRYABLE_CODE.test(code);
  const err = new DingTalkApiError(
    `DingTalk ${label} failed: HTTP ${r.status} ${code}${typeof body.message === 'string' ? ` ${body.message}` : ''}`,
    'dingtalk',
    code,
    retryable,
    !retryable ? undefined : Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter * 1000, 30_000) : r.status === 429 || THROTTLED_CODE.test(code) ? THROTTLE_WAIT_MS : undefined,
  );
  const scopes = (body.accessdenieddetail as { requiredScopes?: unknown } | undefined)?.requiredScopes;
  if (Array.isArray(scopes)) err.requiredScopes = scopes.filter((x): x is string => typeof x === 'string');
  return err;
}
