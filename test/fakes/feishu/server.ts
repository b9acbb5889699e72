import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { decodeFrame, encodeFrame, FRAME_CONTROL, FRAME_DATA, header, type Frame } from './frame.js';

/**
 * A fake Feishu open platform on loopback, for tests that run the real
 * `@larksuiteoapi/node-sdk` (WSClient + Client) against it with FEISHU_DOMAIN pointing here.
 *
 * It speaks: tenant token issue, bot info, long-connection endpoint discovery and the
 * protobuf-framed websocket (ping/pong, event frames, the client's answer frames), message
 * send (with uuid idempotency), card update (PATCH), image and file upload. Each endpoint
 * validates what the real one validates as far as the bot relies on it, and answers with the
 * published response shape and error codes; the doc page followed is linked at each handler.
 *
 * Switches: `fail()` queues injected failures (429 with x-ogw-ratelimit-reset, the legacy
 * 400 + 99991400, 5xx, any error code), `delay()` slows a route, `expireTokens()` invalidates
 * every issued tenant token, `goSilent()` turns the open long connections half-open (no pong,
 * no frames, socket left open). Everything received is recorded in `requests`.
 */

export interface FakeFeishuOptions {
  appId: string;
  appSecret: string;
  botOpenId?: string;
  botName?: string;
  /** Seconds, as the platform sends them in ClientConfig and every pong (real: 120). */
  pingInterval?: number;
  reconnectInterval?: number;
  reconnectNonce?: number;
  reconnectCount?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body, or multipart fields (files as {filename, size}). */
  body: unknown;
  status: number;
  response: unknown;
  at: number;
}

export interface StoredMessage {
  message_id: string;
  chat_id: string;
  receive_id: string;
  receive_id_type: string;
  msg_type: string;
  content: string;
  uuid?: string;
  create_time: number;
  update_time: number;
  /** Every content the message had, oldest first (PATCH appends). */
  history: string[];
}

export interface InjectedFailure {
  status: number;
  code?: number;
  msg?: string;
  headers?: Record<string, string>;
}

export interface ClientAnswer {
  /** The client's answer code (200 when its handler succeeded, 500 when it threw). */
  code: number;
  /** Decoded `data` (base64 JSON) of the answer, e.g. a card callback's {toast, card}. */
  data?: unknown;
}

interface Connection {
  ws: WebSocket;
  ticket: string;
  silent: boolean;
  pings: number;
}

interface Route {
  method: string;
  pattern: RegExp;
  name: string;
  auth: boolean;
  handle: (req: ParsedRequest) => Promise<Reply> | Reply;
}

interface ParsedRequest {
  method: string;
  path: string;
  params: string[];
  query: Record<string, string>;
  headers: IncomingMessage['headers'];
  raw: Buffer;
  json?: Record<string, unknown>;
  multipart?: Record<string, { value?: string; filename?: string; data?: Buffer }>;
}

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** Sent as is instead of the JSON body (resource downloads). */
  binary?: { data: Buffer; mime: string };
}

const ok = (body: Record<string, unknown>): Reply => ({ status: 200, body: { code: 0, ...body } });
const err = (status: number, code: number, msg: string): Reply => ({
  status,
  body: { code, msg, error: { log_id: randomBytes(16).toString('hex').toUpperCase() } },
});
const hex = (n: number) => randomBytes(n).toString('hex');

const MSG_TYPES = new Set(['text', 'post', 'image', 'file', 'audio', 'media', 'sticker', 'interactive', 'share_chat', 'share_user', 'system']);
const RECEIVE_ID_TYPES = new Set(['open_id', 'union_id', 'user_id', 'email', 'chat_id']);
const FILE_TYPES = new Set(['opus', 'mp4', 'pdf', 'doc', 'xls', 'ppt', 'stream']);
const CARD_MAX = 30 * 1024;
const TEXT_MAX = 150 * 1024;

export class FakeFeishu {
  readonly requests: RecordedRequest[] = [];
  readonly messages = new Map<string, StoredMessage>();
  readonly images = new Map<string, { size: number }>();
  readonly files = new Map<string, { name: string; type: string; size: number }>();
  /** Resources inside messages users sent: message_id → file_key/image_key → bytes. */
  readonly userResources = new Map<string, Map<string, { type: 'image' | 'file'; data: Buffer; mime: string }>>();
  /** Discovery calls made (POST /callback/ws/endpoint), successful or not. */
  endpointCalls = 0;
  /** Websocket connections accepted over the fake's life. */
  connectionsAccepted = 0;
  readonly botOpenId: string;
  private http: Server;
  private wss: WebSocketServer;
  private conns = new Set<Connection>();
  private tickets = new Set<string>();
  private tokens = new Map<string, number>();
  private uuids = new Map<string, { messageId: string; at: number }>();
  private failures: { route: string; failure: InjectedFailure }[] = [];
  private delays = new Map<string, number>();
  private pending = new Map<string, (a: ClientAnswer) => void>();
  private seq = 0;
  private routes: Route[];
  private chats = new Set<string>();
  base = '';

  constructor(readonly opts: FakeFeishuOptions) {
    this.botOpenId = opts.botOpenId ?? `ou_${hex(16)}`;
    this.http = createServer((req, res) => void this.onHttp(req, res));
    this.wss = new WebSocketServer({ noServer: true });
    this.http.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
    this.routes = this.buildRoutes();
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.http.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
    return this.base;
  }

  async stop(): Promise<void> {
    for (const c of this.conns) c.ws.terminate();
    this.conns.clear();
    this.wss.close();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  // ---- switches ------------------------------------------------------------------------

  /** Queues failures for the next calls of a route (see `routeNames`). */
  fail(route: string, ...failures: InjectedFailure[]): void {
    for (const failure of failures) this.failures.push({ route, failure });
  }
  /** HTTP 429 with x-ogw-ratelimit-reset, as the rate-limit doc shows. */
  rateLimited(resetSeconds: number): InjectedFailure {
    return { status: 429, code: 99991400, msg: 'request trigger frequency limit', headers: { 'x-ogw-ratelimit-limit': '50', 'x-ogw-ratelimit-reset': String(resetSeconds) } };
  }
  /** The older form: HTTP 400 with code 99991400 and the same headers. */
  rateLimitedLegacy(resetSeconds: number): InjectedFailure {
    return { ...this.rateLimited(resetSeconds), status: 400 };
  }
  delay(route: string, ms: number): void {
    this.delays.set(route, ms);
  }
  /** Every tenant token issued so far stops working (as after its 2 h expiry). */
  expireTokens(): void {
    this.tokens.clear();
  }
  /** The open connections go half-open: no pong, no frames, the socket stays open. */
  goSilent(): void {
    for (const c of this.conns) c.silent = true;
  }
  /** Drops every connection abruptly, as a network cut does. */
  dropConnections(): void {
    for (const c of this.conns) c.ws.terminate();
  }
  get openConnections(): number {
    return [...this.conns].filter((c) => c.ws.readyState === c.ws.OPEN).length;
  }
  get liveConnections(): number {
    return [...this.conns].filter((c) => c.ws.readyState === c.ws.OPEN && !c.silent).length;
  }
  pingsReceived(): number {
    return [...this.conns].reduce((n, c) => n + c.pings, 0);
  }
  /** Registers a group chat the bot is a member of. */
  addChat(chatId: string): void {
    this.chats.add(chatId);
  }
  sentTo(receiveId: string): StoredMessage[] {
    return [...this.messages.values()].filter((m) => m.receive_id === receiveId || m.chat_id === receiveId);
  }
  calls(route: string): RecordedRequest[] {
    const r = this.routes.find((x) => x.name === route);
    if (!r) throw new Error(`unknown route ${route}`);
    return this.requests.filter((q) => q.method === r.method && r.pattern.test(q.path));
  }

  // ---- pushing events over the long connection -----------------------------------------

  /**
   * Delivers `im.message.receive_v1` and resolves with the client's answer frame.
   * Shape: https://open.feishu.cn/document/server-docs/im-v1/message/events/receive
   */
  deliverMessage(m: {
    senderOpenId: string;
    text: string;
    chatType?: 'p2p' | 'group';
    chatId?: string;
    mentions?: { key: string; openId: string; name: string }[];
    eventId?: string;
    messageId?: string;
    /** An image or file message instead of text (content shapes as in the message content description). */
    image?: { imageKey: string };
    file?: { fileKey: string; fileName: string };
    /** The bytes behind the image/file, for GET …/messages/:id/resources/:key. */
    data?: { bytes: Buffer; mime: string };
  }): { eventId: string; messageId: string; answer: Promise<ClientAnswer> } {
    const eventId = m.eventId ?? hex(16);
    const messageId = m.messageId ?? `om_${hex(16)}`;
    const key = m.image?.imageKey ?? m.file?.fileKey;
    if (key && m.data) this.userResources.set(messageId, new Map([[key, { type: m.image ? 'image' : 'file', data: m.data.bytes, mime: m.data.mime }]]));
    const chatId = m.chatId ?? `oc_${hex(16)}`;
    if (m.chatType === 'group') this.chats.add(chatId);
    const now = String(Date.now());
    const payload = {
      schema: '2.0',
      header: { event_id: eventId, event_type: 'im.message.receive_v1', create_time: now, token: '', app_id: this.opts.appId, tenant_key: 'fake_tenant' },
      event: {
        sender: { sender_id: { union_id: `on_${hex(16)}`, user_id: hex(4), open_id: m.senderOpenId }, sender_type: 'user', tenant_key: 'fake_tenant' },
        message: {
          message_id: messageId,
          root_id: '',
          parent_id: '',
          create_time: now,
          update_time: now,
          chat_id: chatId,
          chat_type: m.chatType ?? 'p2p',
          message_type: m.image ? 'image' : m.file ? 'file' : 'text',
          content: JSON.stringify(m.image ? { image_key: m.image.imageKey } : m.file ? { file_key: m.file.fileKey, file_name: m.file.fileName } : { text: m.text }),
          mentions: (m.mentions ?? []).map((x) => ({ key: x.key, id: { union_id: `on_${hex(16)}`, user_id: '', open_id: x.openId }, name: x.name, tenant_key: 'fake_tenant' })),
          user_agent: 'Mozilla/5.0 Lark/7.30.0',
        },
      },
    };
    return { eventId, messageId, answer: this.push(payload) };
  }

  /**
   * Delivers the card callback `card.action.trigger` (a button click or a form submit) and
   * resolves with the client's answer: {toast, card} as the callback doc describes.
   * Shape: https://open.feishu.cn/document/uAjLw4CM/ukzMukzMukzM/feishu-cards/card-callback-communication
   */
  deliverCardAction(a: {
    operatorOpenId: string;
    messageId: string;
    value: unknown;
    formValue?: Record<string, unknown>;
    tag?: string;
    name?: string;
    eventId?: string;
  }): { eventId: string; answer: Promise<ClientAnswer> } {
    const msg = this.messages.get(a.messageId);
    if (!msg) throw new Error(`fake feishu: no message ${a.messageId} to click on`);
    const eventId = a.eventId ?? hex(16);
    const payload = {
      schema: '2.0',
      header: { event_id: eventId, event_type: 'card.action.trigger', create_time: String(Date.now() * 1000), token: '', app_id: this.opts.appId, tenant_key: 'fake_tenant' },
      event: {
        operator: { tenant_key: 'fake_tenant', user_id: hex(4), open_id: a.operatorOpenId, union_id: `on_${hex(16)}` },
        token: `c-${hex(16)}`,
        action: {
          value: a.value,
          tag: a.tag ?? 'button',
          ...(a.name ? { name: a.name } : {}),
          ...(a.formValue ? { form_value: a.formValue } : {}),
        },
        host: 'im_message',
        context: { open_message_id: a.messageId, open_chat_id: msg.chat_id },
      },
    };
    // The platform applies a card returned in the answer to the message, for everyone (shared card).
    const answer = this.push(payload).then((a) => {
      const card = (a.data as { card?: { type?: string; data?: unknown } } | undefined)?.card;
      if (card?.type === 'raw' && card.data) {
        const content = JSON.stringify(card.data);
        const invalid = validateCard(card.data as Record<string, unknown>);
        if (invalid) throw new Error(`fake feishu: the callback answered with an invalid card: ${invalid}`);
        msg.content = content;
        msg.update_time = Date.now();
        msg.history.push(content);
      }
      return a;
    });
    return { eventId, answer };
  }

  /** Finds a button's or form submit's callback value in a stored card, by its label. */
  callbackValue(messageId: string, label: string): unknown {
    const msg = this.messages.get(messageId);
    if (!msg) throw new Error(`no message ${messageId}`);
    const card = JSON.parse(msg.history[msg.history.length - 1]) as unknown;
    let found: unknown;
    const walk = (x: unknown): void => {
      if (found !== undefined || x === null || typeof x !== 'object') return;
      const o = x as Record<string, unknown>;
      if (o.tag === 'button' && (o.text as { content?: string } | undefined)?.content === label) {
        const b = (o.behaviors as { type: string; value?: unknown }[] | undefined)?.find((y) => y.type === 'callback');
        found = b?.value;
        return;
      }
      for (const v of Object.values(o)) walk(v);
    };
    walk(card);
    if (found === undefined) throw new Error(`no button "${label}" in ${messageId}`);
    return found;
  }

  private push(payload: unknown): Promise<ClientAnswer> {
    const conn = [...this.conns].find((c) => c.ws.readyState === c.ws.OPEN && !c.silent);
    if (!conn) return Promise.reject(new Error('fake feishu: no live long connection'));
    const messageId = randomUUID();
    const data = new TextEncoder().encode(JSON.stringify(payload));
    const frame: Frame = {
      SeqID: ++this.seq,
      LogID: this.seq,
      service: 1,
      method: FRAME_DATA,
      headers: [
        { key: 'type', value: 'event' },
        { key: 'message_id', value: messageId },
        { key: 'sum', value: '1' },
        { key: 'seq', value: '0' },
        { key: 'trace_id', value: randomUUID() },
      ],
      payload: data,
    };
    return new Promise<ClientAnswer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(messageId);
        reject(new Error('fake feishu: the client did not answer the frame within 10 s'));
      }, 10_000);
      this.pending.set(messageId, (a) => {
        clearTimeout(timer);
        resolve(a);
      });
      conn.ws.send(encodeFrame(frame));
    });
  }

  // ---- websocket -------------------------------------------------------------------------

  private clientConfig() {
    return {
      PingInterval: this.opts.pingInterval ?? 120,
      ReconnectCount: this.opts.reconnectCount ?? -1,
      ReconnectInterval: this.opts.reconnectInterval ?? 120,
      ReconnectNonce: this.opts.reconnectNonce ?? 30,
    };
  }

  private onUpgrade(req: IncomingMessage, socket: import('node:stream').Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const ticket = url.searchParams.get('ticket') ?? '';
    if (url.pathname !== '/ws/v2' || !this.tickets.has(ticket)) {
      // The gateway refuses an unknown or reused ticket during the handshake.
      socket.end('HTTP/1.1 403 Forbidden\r\nhandshake-status: 403\r\nhandshake-msg: invalid ticket\r\n\r\n');
      return;
    }
    this.tickets.delete(ticket);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const conn: Connection = { ws, ticket, silent: false, pings: 0 };
      this.conns.add(conn);
      this.connectionsAccepted += 1;
      ws.on('message', (raw: Buffer) => this.onFrame(conn, raw));
      ws.on('close', () => this.conns.delete(conn));
      ws.on('error', () => this.conns.delete(conn));
    });
  }

  private onFrame(conn: Connection, raw: Buffer): void {
    if (conn.silent) return;
    let f: Frame;
    try {
      f = decodeFrame(raw);
    } catch {
      conn.ws.close(1002, 'bad frame');
      return;
    }
    const type = header(f, 'type');
    if (f.method === FRAME_CONTROL && type === 'ping') {
      conn.pings += 1;
      const pong: Frame = {
        SeqID: 0,
        LogID: 0,
        service: f.service,
        method: FRAME_CONTROL,
        headers: [{ key: 'type', value: 'pong' }],
        payload: new TextEncoder().encode(JSON.stringify(this.clientConfig())),
      };
      conn.ws.send(encodeFrame(pong));
      return;
    }
    if (f.method === FRAME_DATA) {
      const id = header(f, 'message_id') ?? '';
      const resolve = this.pending.get(id);
      if (!resolve) return;
      this.pending.delete(id);
      const body = JSON.parse(new TextDecoder().decode(f.payload ?? new Uint8Array())) as { code: number; data?: string };
      resolve({ code: body.code, ...(body.data ? { data: JSON.parse(Buffer.from(body.data, 'base64').toString('utf8')) as unknown } : {}) });
    }
  }

  // ---- HTTP ------------------------------------------------------------------------------

  private async onHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://x');
    const method = (req.method ?? 'GET').toUpperCase();
    const parsed: ParsedRequest = { method, path: url.pathname, params: [], query: Object.fromEntries(url.searchParams), headers: req.headers, raw };
    const ctype = req.headers['content-type'] ?? '';
    let reply: Reply;
    const route = this.routes.find((r) => r.method === method && r.pattern.test(url.pathname));
    try {
      if (ctype.includes('application/json') && raw.length) parsed.json = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
      if (ctype.includes('multipart/form-data')) parsed.multipart = parseMultipart(raw, ctype);
      if (!route) reply = { status: 404, body: { code: 404, msg: '404 page not found' } };
      else {
        parsed.params = (url.pathname.match(route.pattern) ?? []).slice(1);
        const delay = this.delays.get(route.name);
        if (delay) await new Promise((r) => setTimeout(r, delay));
        const idx = this.failures.findIndex((f) => f.route === route.name);
        if (idx >= 0) {
          const { failure } = this.failures.splice(idx, 1)[0];
          reply = {
            status: failure.status,
            body: failure.status >= 500 && failure.code === undefined ? { code: 1, msg: 'internal error' } : { code: failure.code ?? 1, msg: failure.msg ?? 'injected failure' },
            ...(failure.headers ? { headers: failure.headers } : {}),
          };
        } else if (route.auth) {
          reply = this.checkAuth(parsed) ?? (await route.handle(parsed));
        } else {
          reply = await route.handle(parsed);
        }
      }
    } catch (e) {
      reply = err(400, 9499, `bad request: ${(e as Error).message}`);
    }
    this.requests.push({
      method,
      path: url.pathname,
      query: parsed.query,
      headers: req.headers,
      body: parsed.multipart
        ? Object.fromEntries(Object.entries(parsed.multipart).map(([k, v]) => [k, v.filename !== undefined ? { filename: v.filename, size: v.data?.length ?? 0 } : v.value]))
        : parsed.json,
      status: reply.status,
      response: reply.body,
      at: Date.now(),
    });
    if (reply.binary) {
      res.writeHead(reply.status, { 'content-type': reply.binary.mime, 'content-length': String(reply.binary.data.length), ...(reply.headers ?? {}) });
      res.end(reply.binary.data);
      return;
    }
    res.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8', ...(reply.headers ?? {}) });
    res.end(JSON.stringify(reply.body));
  }

  /**
   * Authorization: Bearer <tenant_access_token>. Missing → 99991661, unknown or expired →
   * 99991663 (https://open.feishu.cn/document/server-docs/api-call-guide/generic-error-code).
   */
  private checkAuth(req: ParsedRequest): Reply | undefined {
    const auth = req.headers.authorization ?? '';
    const m = /^Bearer (\S+)$/.exec(auth);
    if (!m) return err(400, 99991661, 'Missing access token for authorization. Please make a request with token attached.');
    const exp = this.tokens.get(m[1]);
    if (!exp || exp < Date.now()) return err(400, 99991663, 'Invalid access token for authorization. Please make a request with token attached.');
    return undefined;
  }

  /** Route names for `fail` / `delay` / `calls`. */
  get routeNames(): string[] {
    return this.routes.map((r) => r.name);
  }

  private buildRoutes(): Route[] {
    return [
      // https://open.feishu.cn/document/server-docs/authentication-management/access-token/tenant_access_token_internal
      { method: 'POST', pattern: /^\/open-apis\/auth\/v3\/tenant_access_token\/internal$/, name: 'token', auth: false, handle: (r) => this.issueToken(r) },
      // https://open.feishu.cn/document/client-docs/bot-v3/obtain-bot-info
      { method: 'GET', pattern: /^\/open-apis\/bot\/v3\/info\/?$/, name: 'bot.info', auth: true, handle: () => this.botInfo() },
      // Long-connection discovery, as the SDK's WSClient.pullConnectConfig calls it
      // (https://open.feishu.cn/document/server-docs/event-subscription-guide/event-subscription-configure-/request-url-configuration-case).
      { method: 'POST', pattern: /^\/callback\/ws\/endpoint$/, name: 'ws.endpoint', auth: false, handle: (r) => this.wsEndpoint(r) },
      // https://open.feishu.cn/document/server-docs/im-v1/message/create
      { method: 'POST', pattern: /^\/open-apis\/im\/v1\/messages$/, name: 'message.create', auth: true, handle: (r) => this.createMessage(r) },
      // https://open.feishu.cn/document/server-docs/im-v1/message-card/patch
      { method: 'PATCH', pattern: /^\/open-apis\/im\/v1\/messages\/([^/]+)$/, name: 'message.patch', auth: true, handle: (r) => this.patchMessage(r) },
      // https://open.feishu.cn/document/server-docs/im-v1/image/create
      { method: 'POST', pattern: /^\/open-apis\/im\/v1\/images$/, name: 'image.create', auth: true, handle: (r) => this.uploadImage(r) },
      // https://open.feishu.cn/document/server-docs/im-v1/file/create
      { method: 'POST', pattern: /^\/open-apis\/im\/v1\/files$/, name: 'file.create', auth: true, handle: (r) => this.uploadFile(r) },
      // https://open.feishu.cn/document/server-docs/im-v1/message/get-2 (获取消息中的资源文件)
      { method: 'GET', pattern: /^\/open-apis\/im\/v1\/messages\/([^/]+)\/resources\/([^/]+)$/, name: 'message.resource', auth: true, handle: (r) => this.messageResource(r) },
    ];
  }

  private issueToken(r: ParsedRequest): Reply {
    const b = r.json ?? {};
    if (b.app_id !== this.opts.appId) return err(400, 10003, 'invalid param: app_id');
    if (b.app_secret !== this.opts.appSecret) return err(400, 10014, 'app secret invalid');
    const token = `t-${hex(20)}`;
    this.tokens.set(token, Date.now() + 7200_000);
    return { status: 200, body: { code: 0, msg: 'ok', tenant_access_token: token, expire: 7200 } };
  }

  private botInfo(): Reply {
    return { status: 200, body: { code: 0, msg: 'ok', bot: { activate_status: 2, app_name: this.opts.botName ?? '清廉助手', avatar_url: '', ip_white_list: [], open_id: this.botOpenId } } };
  }

  private wsEndpoint(r: ParsedRequest): Reply {
    this.endpointCalls += 1;
    const b = r.json ?? {};
    // The SDK treats any code but 0 and 1000040343 (internal error) as final.
    if (b.AppID !== this.opts.appId || b.AppSecret !== this.opts.appSecret) return { status: 200, body: { code: 514, msg: 'auth failed: app id or app secret is wrong', data: {} } };
    const ticket = hex(16);
    this.tickets.add(ticket);
    const port = (this.http.address() as AddressInfo).port;
    return {
      status: 200,
      body: {
        code: 0,
        msg: 'ok',
        data: {
          // device_id must not be the first parameter: the SDK parses the whole URL with qs.
          URL: `ws://127.0.0.1:${port}/ws/v2?fpid=493&aid=552564&device_id=${hex(8)}&access_key=${hex(8)}&service_id=33554678&ticket=${ticket}`,
          ClientConfig: this.clientConfig(),
        },
      },
    };
  }

  private createMessage(r: ParsedRequest): Reply {
    const type = r.query.receive_id_type;
    if (!type || !RECEIVE_ID_TYPES.has(type)) return err(400, 99992402, 'field validation failed: receive_id_type');
    const b = r.json ?? {};
    const receiveId = b.receive_id;
    const msgType = b.msg_type;
    const content = b.content;
    if (typeof receiveId !== 'string' || !receiveId) return err(400, 99992402, 'field validation failed: receive_id is required');
    if (typeof msgType !== 'string' || !MSG_TYPES.has(msgType)) return err(400, 99992402, 'field validation failed: msg_type');
    if (typeof content !== 'string') return err(400, 99992402, 'field validation failed: content must be a JSON string');
    if (b.uuid !== undefined && (typeof b.uuid !== 'string' || b.uuid.length > 50)) return err(400, 99992402, 'field validation failed: uuid is at most 50 characters');
    if (type === 'open_id' && !/^ou_[0-9a-f]{32}$/.test(receiveId)) return err(400, 230001, 'Your request contains an invalid request parameter, ext=invalid receive_id.');
    if (type === 'chat_id' && !this.chats.has(receiveId)) return err(400, 230002, 'The bot can not be outside the group.');
    const limit = msgType === 'interactive' || msgType === 'post' ? CARD_MAX : TEXT_MAX;
    if (Buffer.byteLength(content, 'utf8') > limit) return err(400, 230025, 'The length of the message content reaches its limit.');
    const invalid = validateContent(msgType, content);
    if (invalid) return err(400, msgType === 'interactive' ? 230099 : 230001, invalid);
    // "持有相同 uuid 的请求 1 小时内至多成功发送一条消息": the same message comes back.
    if (typeof b.uuid === 'string') {
      const prev = this.uuids.get(b.uuid);
      if (prev && Date.now() - prev.at < 3600_000) return ok({ msg: 'success', data: this.messageData(this.messages.get(prev.messageId)!) });
    }
    const now = Date.now();
    const m: StoredMessage = {
      message_id: `om_${hex(16)}`,
      chat_id: type === 'chat_id' ? receiveId : `oc_p2p_${receiveId}`,
      receive_id: receiveId,
      receive_id_type: type,
      msg_type: msgType,
      content,
      ...(typeof b.uuid === 'string' ? { uuid: b.uuid } : {}),
      create_time: now,
      update_time: now,
      history: [content],
    };
    this.messages.set(m.message_id, m);
    if (m.uuid) this.uuids.set(m.uuid, { messageId: m.message_id, at: now });
    return ok({ msg: 'success', data: this.messageData(m) });
  }

  private messageData(m: StoredMessage) {
    return {
      message_id: m.message_id,
      root_id: '',
      parent_id: '',
      msg_type: m.msg_type,
      create_time: String(m.create_time),
      update_time: String(m.update_time),
      deleted: false,
      updated: m.history.length > 1,
      chat_id: m.chat_id,
      sender: { id: this.opts.appId, id_type: 'app_id', sender_type: 'app', tenant_key: 'fake_tenant' },
      body: { content: m.content },
    };
  }

  private patchMessage(r: ParsedRequest): Reply {
    const id = r.params[0];
    const m = this.messages.get(id);
    if (!m) return err(400, 230001, 'Your request contains an invalid request parameter, ext=invalid message_id.');
    if (m.msg_type !== 'interactive') return err(400, 230001, 'Your request contains an invalid request parameter, ext=message is not a card.');
    if (Date.now() - m.create_time > 14 * 24 * 3600_000) return err(400, 230031, 'The message can only be updated within 14 days.');
    const content = (r.json ?? {}).content;
    if (typeof content !== 'string') return err(400, 99992402, 'field validation failed: content must be a JSON string');
    if (Buffer.byteLength(content, 'utf8') > CARD_MAX) return err(400, 230025, 'The length of the message content reaches its limit.');
    const invalid = validateContent('interactive', content);
    if (invalid) return err(400, 230099, invalid);
    // Only shared cards update: update_multi must be true before and after.
    const shared = (c: string) => (JSON.parse(c) as { config?: { update_multi?: boolean } }).config?.update_multi === true;
    if (!shared(m.content) || !shared(content)) return err(400, 230099, 'Failed to update card content, ext=the card must declare config.update_multi=true before and after the update.');
    m.content = content;
    m.update_time = Date.now();
    m.history.push(content);
    return ok({ msg: 'success', data: {} });
  }

  private uploadImage(r: ParsedRequest): Reply {
    const f = r.multipart;
    if (!f) return err(400, 234001, 'Invalid request param.');
    const imageType = f.image_type?.value;
    if (imageType !== 'message' && imageType !== 'avatar') return err(400, 234001, 'Invalid request param: image_type.');
    const data = f.image?.data;
    if (!data) return err(400, 234001, 'Invalid request param: image.');
    if (data.length === 0) return err(400, 234010, "File size can't be 0.");
    if (data.length > 10 * 1024 * 1024) return err(400, 234006, 'The file size exceeds the limit.');
    const key = `img_v3_${hex(12)}`;
    this.images.set(key, { size: data.length });
    return ok({ msg: 'success', data: { image_key: key } });
  }

  /** type must be image or file (matching the resource); the key must be in that very message. */
  private messageResource(r: ParsedRequest): Reply {
    const [messageId, key] = r.params.map((p) => decodeURIComponent(p));
    const type = r.query.type;
    if (type !== 'image' && type !== 'file') return err(400, 234001, 'Invalid request param: type.');
    const inMessage = this.userResources.get(messageId);
    if (!inMessage) return err(400, 234003, 'File not in msg.');
    const res = inMessage.get(key);
    if (!res || res.type !== type) return err(400, 234003, 'File not in msg.');
    return { status: 200, body: null, binary: { data: res.data, mime: res.mime } };
  }

  private uploadFile(r: ParsedRequest): Reply {
    const f = r.multipart;
    if (!f) return err(400, 234001, 'Invalid request param.');
    const fileType = f.file_type?.value ?? '';
    const name = f.file_name?.value ?? '';
    const data = f.file?.data;
    if (!FILE_TYPES.has(fileType)) return err(400, 234001, 'Invalid request param: file_type.');
    if (!name) return err(400, 234001, 'Invalid request param: file_name.');
    if (!data) return err(400, 234001, 'Invalid request param: file.');
    if (data.length === 0) return err(400, 234010, "File size can't be 0.");
    if (data.length > 30 * 1024 * 1024) return err(400, 234006, 'The file size exceeds the limit.');
    const key = `file_v3_${hex(12)}`;
    this.files.set(key, { name, type: fileType, size: data.length });
    return ok({ msg: 'success', data: { file_key: key } });
  }
}

/** Checks message content the way the platform does for the types the bot sends. */
function validateContent(msgType: string, content: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch {
    return 'Your request contains an invalid request parameter, ext=content is not valid JSON.';
  }
  const o = parsed as Record<string, unknown>;
  switch (msgType) {
    case 'text':
      return typeof o.text === 'string' && o.text.length > 0 ? undefined : 'Your request contains an invalid request parameter, ext=text content is empty.';
    case 'file':
      return typeof o.file_key === 'string' ? undefined : 'Your request contains an invalid request parameter, ext=file_key is required.';
    case 'image':
      return typeof o.image_key === 'string' ? undefined : 'Your request contains an invalid request parameter, ext=image_key is required.';
    case 'interactive':
      return validateCard(o);
    default:
      return undefined;
  }
}

const KNOWN_TAGS = new Set([
  'div', 'markdown', 'hr', 'img', 'table', 'column_set', 'column', 'button', 'form', 'input', 'select_static',
  'multi_select_static', 'date_picker', 'picker_time', 'picker_datetime', 'checker', 'collapsible_panel', 'chart', 'person', 'person_list', 'plain_text',
]);

/**
 * The parts of the card JSON 2.0 rules the bot's cards exercise
 * (https://open.feishu.cn/document/uAjLw4CM/ukzMukzMukzM/feishu-cards/card-json-v2-structure):
 * schema "2.0", body.elements, known tags, no `action` module (removed in 2.0), callback values
 * that are objects or strings, a form only at the root with a unique name, inputs inside a form
 * with unique names, a submit button with form_action_type and a name.
 */
export function validateCard(card: Record<string, unknown>): string | undefined {
  const fail = (why: string) => `Failed to create card content, ext=ErrCode: 200861; ErrMsg: ${why}`;
  if (card.schema !== '2.0') return fail('schema must be "2.0"');
  const body = card.body as { elements?: unknown } | undefined;
  if (!body || !Array.isArray(body.elements)) return fail('body.elements is required');
  const header = card.header as { title?: { tag?: string; content?: string } } | undefined;
  if (header && (header.title?.tag !== 'plain_text' || typeof header.title.content !== 'string')) return fail('header.title must be plain_text');
  const names = new Set<string>();
  const check = (el: unknown, path: string, inForm: boolean, depth: number): string | undefined => {
    if (el === null || typeof el !== 'object') return fail(`${path} is not an object`);
    const e = el as Record<string, unknown>;
    const tag = e.tag;
    if (typeof tag !== 'string') return fail(`${path}.tag is required`);
    if (tag === 'action') return fail(`${path}: the "action" module is not supported in JSON 2.0`);
    if (!KNOWN_TAGS.has(tag)) return fail(`${path}: unknown tag ${tag}`);
    if (tag === 'form') {
      if (depth > 0) return fail(`${path}: a form must be at the root of the card`);
      if (typeof e.name !== 'string' || !e.name) return fail(`${path}: form needs a name`);
      const children = e.elements as unknown[] | undefined;
      if (!Array.isArray(children)) return fail(`${path}.elements is required`);
      if (!children.some((c) => (c as Record<string, unknown>).tag === 'button' && (c as Record<string, unknown>).form_action_type === 'submit')) return fail(`${path}: a form needs a submit button`);
      for (const [i, c] of children.entries()) {
        const bad = check(c, `${path}.elements[${i}]`, true, depth + 1);
        if (bad) return bad;
      }
      return undefined;
    }
    if (['input', 'select_static', 'multi_select_static', 'date_picker', 'picker_time', 'picker_datetime'].includes(tag) && inForm) {
      if (typeof e.name !== 'string' || !e.name) return fail(`${path}: an input in a form needs a name`);
      if (names.has(e.name)) return fail(`${path}: name ${e.name} is used twice`);
      names.add(e.name);
    }
    if (tag === 'table' && inForm) return fail(`${path}: a table cannot be inside a form`);
    if (tag === 'button') {
      const text = e.text as { tag?: string; content?: string } | undefined;
      if (text?.tag !== 'plain_text' || typeof text.content !== 'string') return fail(`${path}.text must be plain_text`);
      if (e.form_action_type !== undefined) {
        if (!inForm) return fail(`${path}: form_action_type outside a form`);
        if (typeof e.name !== 'string' || !e.name) return fail(`${path}: a submit button needs a name`);
      }
      const behaviors = e.behaviors as { type?: string; value?: unknown; default_url?: string }[] | undefined;
      if (behaviors !== undefined) {
        if (!Array.isArray(behaviors)) return fail(`${path}.behaviors must be an array`);
        for (const b of behaviors) {
          if (b.type === 'callback' && (b.value === null || !['object', 'string'].includes(typeof b.value))) return fail(`${path}: callback value must be an object or a string`);
          if (b.type === 'open_url' && typeof b.default_url !== 'string') return fail(`${path}: open_url needs default_url`);
          if (b.type !== 'callback' && b.type !== 'open_url' && b.type !== 'form_action') return fail(`${path}: unknown behavior ${String(b.type)}`);
        }
      }
    }
    if (tag === 'markdown' && typeof e.content !== 'string') return fail(`${path}.content is required`);
    if (tag === 'table') {
      if (!Array.isArray(e.columns) || !Array.isArray(e.rows)) return fail(`${path}: table needs columns and rows`);
      const ps = e.page_size as number | undefined;
      if (ps !== undefined && (ps < 1 || ps > 10)) return fail(`${path}: page_size must be 1..10`);
    }
    for (const key of ['elements', 'columns']) {
      const kids = e[key];
      if (tag === 'table') break;
      if (Array.isArray(kids)) {
        for (const [i, c] of kids.entries()) {
          const bad = check(c, `${path}.${key}[${i}]`, inForm, depth + 1);
          if (bad) return bad;
        }
      }
    }
    return undefined;
  };
  for (const [i, el] of (body.elements as unknown[]).entries()) {
    const bad = check(el, `body.elements[${i}]`, false, 0);
    if (bad) return bad;
  }
  return undefined;
}

/** Minimal multipart/form-data parser: fields as text, files as bytes. */
function parseMultipart(raw: Buffer, contentType: string): Record<string, { value?: string; filename?: string; data?: Buffer }> {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  if (!m) throw new Error('multipart without boundary');
  const boundary = Buffer.from(`--${m[1] ?? m[2]}`);
  const out: Record<string, { value?: string; filename?: string; data?: Buffer }> = {};
  let pos = raw.indexOf(boundary);
  while (pos >= 0) {
    const start = pos + boundary.length;
    if (raw.subarray(start, start + 2).toString() === '--') break;
    const next = raw.indexOf(boundary, start);
    if (next < 0) break;
    const part = raw.subarray(start + 2, next - 2); // skip CRLF after boundary, and before the next
    const sep = part.indexOf('\r\n\r\n');
    const head = part.subarray(0, sep).toString('utf8');
    const data = part.subarray(sep + 4);
    const name = /name="([^"]*)"/i.exec(head)?.[1];
    const filename = /filename="([^"]*)"/i.exec(head)?.[1];
    if (name) out[name] = filename !== undefined || /content-type:\s*application\/octet-stream/i.test(head) ? { filename: filename ?? '', data } : { value: data.toString('utf8') };
    pos = next;
  }
  return out;
}
