import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage as HttpRequest, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { applyUpdate, CardError, checkCreate, requireParamMap, PUBLIC_AI_TEMPLATE, viewOf, type CardInstance, type CardView, type TemplateInfo, type TemplateKind } from './cards.js';

/**
 * A strict fake of the parts of DingTalk the bot talks to, on loopback, for tests.
 * Built from DingTalk's published docs (linked next to each endpoint) and the source of the
 * official SDKs (dingtalk-stream for Node in node_modules, dingtalk-stream-sdk-python).
 *
 * Stream: the gateway hands out a ws endpoint and a one-time ticket; frames are JSON
 * `{specVersion, type: SYSTEM|EVENT|CALLBACK, headers: {messageId, topic, ...}, data: '<JSON>'}`;
 * a CALLBACK not acknowledged (`{code: 200, headers: {messageId}, data}`) within the ack
 * timeout is delivered again, on whichever connection is live then. Switches: a SYSTEM
 * `disconnect` frame (the connection then carries nothing more but stays open for a while),
 * going silent (no frame at all, not even ping), dropping the socket, ignoring acks.
 * OpenAPI: token header checked, required fields and JSON-string fields validated, answers and
 * error codes in the real shapes; switches inject failures (429, 5xx, 400), slow answers and
 * token expiry; everything received is recorded.
 * Strict as the platform is for an app created today: a per-app permission set (403 with
 * requiredScopes; the legacy interactiveCards API never granted), card instances with a
 * template registry and field checks (cards.ts), clicks only for STREAM cards of this app to
 * a connection that subscribed the card topic, the 2 s card-ack deadline with one
 * redelivery, group text only when the robot is @-mentioned, batchSend's 20-id limit with
 * per-id invalid/flow-controlled lists and an optional calls-per-second quota.
 */

export const TOPIC_ROBOT = '/v1.0/im/bot/messages/get';
export const TOPIC_CARD = '/v1.0/card/instances/callback';

export interface FakeOptions {
  clientId: string;
  clientSecret: string;
  corpId?: string;
  /** How often a live connection gets a SYSTEM ping (the platform's keepalive). */
  keepaliveMs?: number;
  /** A CALLBACK not acknowledged within this is delivered again. */
  ackTimeoutMs?: number;
  maxRedeliveries?: number;
  /** After a SYSTEM disconnect frame, the socket is closed this much later. */
  disconnectCloseDelayMs?: number;
  /** Staff ids the org knows; others come back in invalidStaffIdList. Empty = everyone. */
  knownUserIds?: string[];
  /** Shorthand: the app lacks Card.Instance.Write (card-instance APIs answer 403). */
  cardsForbidden?: boolean;
  /** The scopes the app was granted; default DEFAULT_SCOPES (what a new app can get). */
  permissions?: string[];
  /** A card callback not acknowledged within this shows the clicker an error (2 s on the platform). */
  cardAckDeadlineMs?: number;
  /** Unacknowledged card callbacks are delivered again this many times (once on the platform). */
  cardRedeliveries?: number;
  /** batchSend calls allowed per second for the app (0 = unlimited); more answer 429. */
  batchSendPerSecond?: number;
}

/** Robot messages (单聊批量发送, 群聊发送, 文件下载): 企业内机器人发送消息权限. */
export const SCOPE_ROBOT = 'qyapi_robot_sendmsg';
/** Card instances (createAndDeliver, PUT /v1.0/card/instances): 互动卡片实例写权限. */
export const SCOPE_CARD = 'Card.Instance.Write';
/**
 * The fake's name for the legacy robot interactive-card permission (互动卡片普通版), whose row
 * reads "暂不支持新增申请": never granted by default, as for an app created today.
 */
export const SCOPE_LEGACY_CARD = 'legacy.Robot.InteractiveCard';
export const DEFAULT_SCOPES = [SCOPE_ROBOT, SCOPE_CARD];

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  token?: string;
  body: unknown;
  status: number;
  at: number;
}

export interface FakeConnection {
  id: number;
  ws: WebSocket;
  state: 'open' | 'draining' | 'silent' | 'closed';
  pongs: number;
  openedAt: number;
  /** Topics the client subscribed when it asked the gateway for this connection. */
  topics: string[];
}

/** What a card callback's ack carried, and how long after delivery it came. */
export interface CardAck {
  messageId: string;
  outTrackId: string;
  userId: string;
  latencyMs: number;
  late: boolean;
  response: Record<string, unknown>;
}

interface Pending {
  frame: StreamFrame;
  /** Deliveries allowed after the first. */
  redeliveries: number;
  attempts: number;
  lastSentAt?: number;
  acked: boolean;
  timer?: NodeJS.Timeout;
  deliveredOn: number[];
}

interface StreamFrame {
  specVersion: string;
  type: 'SYSTEM' | 'EVENT' | 'CALLBACK';
  headers: Record<string, string>;
  data: string;
}

/** A legacy StandardCard (interactiveCards/send), kept only to prove the bot no longer uses it. */
export interface SentCardRecord {
  cardBizId: string;
  processQueryKey: string;
  target: { userId: string } | { openConversationId: string };
  cardData: StandardCardShape;
  updates: number;
  sends: number;
}

interface StandardCardShape {
  header: { title: { text: string } };
  contents: Array<{ type: string; id: string; text?: string; actions?: Array<{ id: string; actionType: string; label: { text: string } }> }>;
}

interface Fault {
  path: string;
  status: number;
  code: string;
  message: string;
  times: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(String(body.code ?? body.errcode));
  }
}

const apiError = (status: number, code: string, message: string) => new HttpError(status, { code, message, requestid: randomUUID().toUpperCase() });

export class FakeDingTalk {
  readonly opts: Required<Omit<FakeOptions, 'knownUserIds'>> & { knownUserIds: string[] };
  url = '';
  private server: Server;
  private wss: WebSocketServer;
  private tickets = new Map<string, string[]>();
  private connSeq = 0;
  readonly connections: FakeConnection[] = [];
  private pending = new Map<string, Pending>();
  private keepalive?: NodeJS.Timeout;

  readonly received: RecordedRequest[] = [];
  tokenRequests = 0;
  gatewayRequests = 0;
  private validTokens = new Map<string, number>(); // token -> expiresAt
  private currentToken?: string;
  readonly oto: { userIds: string[]; msgKey: string; msgParam: Record<string, unknown>; processQueryKey: string }[] = [];
  readonly group: { openConversationId: string; msgKey: string; msgParam: Record<string, unknown>; processQueryKey: string }[] = [];
  readonly cards = new Map<string, SentCardRecord>();
  /** Card instances by outTrackId. */
  readonly instances = new Map<string, CardInstance>();
  readonly templates = new Map<string, TemplateInfo>([[PUBLIC_AI_TEMPLATE, { id: PUBLIC_AI_TEMPLATE, kind: 'ai', published: true }]]);
  readonly cardAcks: CardAck[] = [];
  /** Clicks the platform dropped, and why (no STREAM callback, no subscribed connection). */
  readonly droppedClicks: { outTrackId: string; reason: string }[] = [];
  /** PUTs to a card while one of its callbacks still waited for its ack (the docs forbid it). */
  readonly putsInsideCallback: string[] = [];
  /** Group messages that did not @ the robot: a stream bot never receives them. */
  readonly unmentionedGroupTexts: string[] = [];
  readonly scopes: Set<string>;
  /** Instances created without delivery (POST /v1.0/card/instances). */
  readonly undelivered = new Set<string>();
  private flowControlled = new Map<string, number>();
  private batchSendTimes: number[] = [];
  readonly media = new Map<string, { name: string; type: string; size: number }>();
  /** Bytes of pictures/files users sent, by downloadCode, and the short-lived URLs handed out for them. */
  readonly userFiles = new Map<string, { data: Buffer; mime: string; expiresAt: number }>();
  private downloadUrls = new Map<string, { code: string; expiresAt: number }>();
  /** Deliveries per CALLBACK messageId, and acks received. */
  readonly deliveries: { messageId: string; connection: number; attempt: number }[] = [];
  readonly acks: string[] = [];
  private ignoreAckCount = 0;
  private faults: Fault[] = [];
  private delays = new Map<string, number>();
  private bodyDelays: { path: string; match: (body: unknown) => boolean; ms: number }[] = [];

  constructor(opts: FakeOptions) {
    this.opts = {
      corpId: 'ding_fake_corp',
      keepaliveMs: 1000,
      ackTimeoutMs: 3000,
      maxRedeliveries: 5,
      disconnectCloseDelayMs: 30_000,
      knownUserIds: [],
      cardsForbidden: false,
      permissions: DEFAULT_SCOPES,
      cardAckDeadlineMs: 2000,
      cardRedeliveries: 1,
      batchSendPerSecond: 0,
      ...opts,
    };
    this.scopes = new Set(this.opts.permissions);
    if (this.opts.cardsForbidden) this.scopes.delete(SCOPE_CARD);
    this.server = createServer((req, res) => void this.route(req, res));
    this.wss = new WebSocketServer({ noServer: true });
    this.server.on('upgrade', (req, socket, head) => {
      const u = new URL(req.url ?? '/', 'http://x');
      const ticket = u.searchParams.get('ticket') ?? '';
      if (u.pathname !== '/connect' || !this.tickets.has(ticket)) {
        socket.write('HTTP/1.1 401 Unauthorized\r\n\r\n');
        socket.destroy();
        return;
      }
      const topics = this.tickets.get(ticket) ?? [];
      this.tickets.delete(ticket); // one-time
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, topics));
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    this.keepalive = setInterval(() => {
      for (const c of this.connections) if (c.state === 'open' || c.state === 'draining') this.sendSystem(c, 'ping', JSON.stringify({ opaque: randomUUID() }));
    }, this.opts.keepaliveMs);
    return this.url;
  }

  async close(): Promise<void> {
    if (this.keepalive) clearInterval(this.keepalive);
    for (const p of this.pending.values()) if (p.timer) clearTimeout(p.timer);
    for (const c of this.connections) c.ws.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  // ---- switches ------------------------------------------------------------------------

  /** The next `times` calls to `path` answer `status` with `code` (429, 5xx, 400 …). */
  failNext(path: string, status: number, code: string, times = 1, message = 'injected failure'): void {
    this.faults.push({ path, status, code, message, times });
  }
  /** Calls to `path` are answered only after `ms`. */
  slow(path: string, ms: number): void {
    this.delays.set(path, ms);
  }
  /** Calls to `path` whose JSON body matches are answered only after `ms` (one recipient's card held up, say). */
  slowWhen(path: string, match: (body: unknown) => boolean, ms: number): void {
    this.bodyDelays.push({ path, match, ms });
  }
  /** Every access token issued so far stops being valid (as at the end of its 2 hours). */
  expireTokens(): void {
    this.validTokens.clear();
    this.currentToken = undefined;
  }
  /** The next `n` acks are lost, so those CALLBACKs are delivered again. */
  ignoreAcks(n: number): void {
    this.ignoreAckCount += n;
  }
  /** The admin grants or withdraws a permission in the developer console. */
  grant(scope: string): void {
    this.scopes.add(scope);
  }
  revoke(scope: string): void {
    this.scopes.delete(scope);
  }
  /** A template imported and published in 卡片平台 (or imported but left unpublished). */
  importTemplate(id: string, kind: TemplateKind = 'designer', published = true): void {
    this.templates.set(id, { id, kind, published });
  }
  /** The next `times` batchSends naming `userId` put it in flowControlledStaffIdList. */
  flowControl(userId: string, times = 1): void {
    this.flowControlled.set(userId, (this.flowControlled.get(userId) ?? 0) + times);
  }
  live(): FakeConnection[] {
    return this.connections.filter((c) => c.state === 'open');
  }
  private pick(c?: FakeConnection): FakeConnection {
    const conn = c ?? this.live().at(-1);
    if (!conn) throw new Error('fake dingtalk: no live connection');
    return conn;
  }
  /** SYSTEM disconnect: nothing more is delivered on it; the socket closes much later. */
  sendDisconnect(c?: FakeConnection): FakeConnection {
    const conn = this.pick(c);
    this.sendSystem(conn, 'disconnect', JSON.stringify({ reason: 'server upgrade' }));
    conn.state = 'draining';
    setTimeout(() => conn.ws.close(), this.opts.disconnectCloseDelayMs).unref();
    this.reassignPending(conn.id);
    return conn;
  }
  /** The connection stays open but carries no frame at all from now on. */
  goSilent(c?: FakeConnection): FakeConnection {
    const conn = this.pick(c);
    conn.state = 'silent';
    this.reassignPending(conn.id);
    return conn;
  }
  /** The socket is cut (as by a network failure or a failed heartbeat). */
  dropConnection(c?: FakeConnection): FakeConnection {
    const conn = this.pick(c);
    conn.state = 'closed';
    conn.ws.terminate();
    return conn;
  }

  // ---- stream --------------------------------------------------------------------------

  private onConnection(ws: WebSocket, topics: string[]): void {
    const conn: FakeConnection = { id: ++this.connSeq, ws, state: 'open', pongs: 0, openedAt: Date.now(), topics };
    this.connections.push(conn);
    ws.on('message', (raw) => this.onUpstream(conn, String(raw)));
    ws.on('close', () => {
      conn.state = 'closed';
      this.reassignPending(conn.id);
    });
    // Whatever waited for a live connection goes out now.
    for (const [id, p] of this.pending) if (!p.acked && !p.timer) this.trySend(id);
  }

  private onUpstream(conn: FakeConnection, raw: string): void {
    let msg: { code?: number; headers?: { messageId?: string; topic?: string }; data?: string };
    try {
      msg = JSON.parse(raw) as typeof msg;
    } catch {
      return;
    }
    const id = msg.headers?.messageId;
    if (!id) return;
    if (msg.headers?.topic === 'ping') {
      conn.pongs += 1;
      return;
    }
    const p = this.pending.get(id);
    if (!p || p.acked) return;
    if (msg.code !== 200) return;
    if (this.ignoreAckCount > 0) {
      this.ignoreAckCount -= 1;
      return;
    }
    p.acked = true;
    if (p.timer) clearTimeout(p.timer);
    p.timer = undefined;
    this.acks.push(id);
    if (p.frame.headers.topic === TOPIC_CARD) this.onCardAck(id, p, msg.data);
  }

  /**
   * The ack of a card callback is its answer (socketCallBackResponse wraps it as
   * `{"response": …}`): the clicker's private data and, optionally, the card data.
   */
  private onCardAck(messageId: string, p: Pending, raw: string | undefined): void {
    const cb = JSON.parse(p.frame.data) as { outTrackId: string; userId: string };
    const wrapped = (parseJsonString(raw) ?? {}) as { response?: Record<string, unknown> };
    const response = wrapped.response ?? {};
    const latencyMs = Date.now() - (p.lastSentAt ?? Date.now());
    const late = latencyMs > this.opts.cardAckDeadlineMs;
    this.cardAcks.push({ messageId, outTrackId: cb.outTrackId, userId: cb.userId, latencyMs, late, response });
    const inst = this.instances.get(cb.outTrackId);
    if (!inst || late) return;
    const u = response as { cardData?: unknown; userPrivateData?: unknown; cardUpdateOptions?: unknown };
    applyUpdate(inst, { ...(u.cardData ? { cardData: u.cardData } : {}), ...(u.userPrivateData ? { privateData: { [cb.userId]: u.userPrivateData } } : {}), cardUpdateOptions: u.cardUpdateOptions }, cb.userId);
  }

  private sendSystem(c: FakeConnection, topic: string, data: string): void {
    if (c.ws.readyState !== 1) return;
    c.ws.send(JSON.stringify({ specVersion: '1.0', type: 'SYSTEM', headers: { contentType: 'application/json', messageId: `sys_${randomUUID()}`, time: String(Date.now()), topic }, data }));
  }

  private reassignPending(connId: number): void {
    for (const [id, p] of this.pending) {
      if (p.acked || p.deliveredOn.at(-1) !== connId) continue;
      // Not acknowledged on a connection that is gone: it will be delivered again at the
      // ack timeout, as the platform does; nothing to do sooner.
      void id;
    }
  }

  private trySend(messageId: string): void {
    const p = this.pending.get(messageId);
    if (!p || p.acked) return;
    // A CALLBACK goes only to a connection whose client subscribed its topic.
    const conn = this.live().filter((c) => c.topics.includes(p.frame.headers.topic ?? '')).at(-1);
    if (!conn) {
      p.timer = undefined; // waits for the next connection
      return;
    }
    p.attempts += 1;
    p.deliveredOn.push(conn.id);
    const frame = { ...p.frame, headers: { ...p.frame.headers, connectionId: `conn_${conn.id}`, time: String(Date.now()) } };
    conn.ws.send(JSON.stringify(frame));
    p.lastSentAt = Date.now();
    this.deliveries.push({ messageId, connection: conn.id, attempt: p.attempts });
    p.timer = setTimeout(() => {
      p.timer = undefined;
      if (p.acked) return;
      if (p.attempts > p.redeliveries) return;
      this.trySend(messageId);
    }, this.opts.ackTimeoutMs);
    p.timer.unref();
  }

  private deliver(topic: string, data: Record<string, unknown>): string {
    const messageId = `msg_${randomUUID().replace(/-/g, '')}`;
    const frame: StreamFrame = {
      specVersion: '1.0',
      type: 'CALLBACK',
      headers: { appId: this.opts.clientId, contentType: 'application/json', messageId, time: String(Date.now()), topic },
      data: JSON.stringify(data),
    };
    const redeliveries = topic === TOPIC_CARD ? this.opts.cardRedeliveries : this.opts.maxRedeliveries;
    this.pending.set(messageId, { frame, redeliveries, attempts: 0, acked: false, deliveredOn: [] });
    this.trySend(messageId);
    return messageId;
  }

  /**
   * A user writes to the robot. Payload as in the SDK's RobotTextMessage type and
   * https://open.dingtalk.com/document/orgapp/receive-message
   */
  userSays(m: {
    staffId: string;
    text: string;
    group?: { openConversationId: string; title?: string };
    /** In a group, whether the message @-mentions the robot (default true); if not, it never reaches the bot. */
    mentioned?: boolean;
    nick?: string;
    msgId?: string;
    /** A picture or file message instead of text (robot receive-message content shapes). */
    picture?: { downloadCode: string };
    file?: { downloadCode: string; fileName: string };
    /** The bytes behind the picture/file, downloadable with its code until `codeTtlMs` passes. */
    data?: { bytes: Buffer; mime: string; codeTtlMs?: number };
  }): { msgId: string; messageId: string } {
    const msgId = m.msgId ?? `msg${randomUUID().replace(/-/g, '')}`;
    const now = Date.now();
    // https://open.dingtalk.com/document/orgapp/receive-message: a group message reaches the
    // robot only when it is @-mentioned.
    if (m.group && m.mentioned === false) {
      this.unmentionedGroupTexts.push(m.text);
      return { msgId, messageId: '' };
    }
    const code = m.picture?.downloadCode ?? m.file?.downloadCode;
    if (code && m.data) this.userFiles.set(code, { data: m.data.bytes, mime: m.data.mime, expiresAt: now + (m.data.codeTtlMs ?? 24 * 3600_000) });
    const group = m.group;
    const data: Record<string, unknown> = {
      conversationId: group ? group.openConversationId : `cid_p2p_${m.staffId}`,
      chatbotCorpId: this.opts.corpId,
      chatbotUserId: `$:LWCP_v1:$robot_${this.opts.clientId}`,
      msgId,
      senderNick: m.nick ?? `用户${m.staffId}`,
      isAdmin: false,
      senderStaffId: m.staffId,
      sessionWebhookExpiredTime: now + 90 * 60_000,
      createAt: now,
      senderCorpId: this.opts.corpId,
      conversationType: group ? '2' : '1',
      senderId: `$:LWCP_v1:$${m.staffId}`,
      sessionWebhook: `${this.url}/robot/sendBySession?session=${randomUUID()}`,
      robotCode: this.opts.clientId,
      ...(m.picture
        ? { msgtype: 'picture', content: { downloadCode: m.picture.downloadCode, pictureDownloadCode: m.picture.downloadCode } }
        : m.file
          ? { msgtype: 'file', content: { downloadCode: m.file.downloadCode, fileName: m.file.fileName } }
          : // In groups the platform strips the @robot mention but keeps the space after it.
            { msgtype: 'text', text: { content: group ? ` ${m.text}` : m.text } }),
      ...(group ? { isInAtList: true, conversationTitle: group.title ?? '测试群', atUsers: [{ dingtalkId: `$:LWCP_v1:$robot_${this.opts.clientId}` }] } : {}),
    };
    return { msgId, messageId: this.deliver(TOPIC_ROBOT, data) };
  }

  /**
   * A user clicks a request button on a card instance. Payload as in
   * https://open.dingtalk.com/document/orgapp/instructions-for-filling-in-api-card-callback:
   * `data` is JSON whose `content` (and its twin `value`) is JSON again:
   * {cardPrivateData: {actionIds, params}}. Delivered only for a card created with
   * callbackType STREAM by this app, to a connection that subscribed the card topic; else
   * the click goes nowhere (returns undefined, reason in droppedClicks).
   */
  click(outTrackId: string, userId: string, buttonId: string): string | undefined {
    const inst = this.instances.get(outTrackId);
    if (!inst) throw new Error(`fake dingtalk: no card ${outTrackId}`);
    const view = viewOf(inst, userId);
    const button = view.buttons.find((b) => b.id === buttonId);
    if (!button) throw new Error(`fake dingtalk: card ${outTrackId} shows ${userId} no button ${buttonId} (has ${view.buttons.map((b) => b.id).join(', ')})`);
    if (!button.request) throw new Error(`fake dingtalk: button ${buttonId} calls nothing back`);
    // A list-bound button group in a designer template calls back one action id and passes
    // the item's id in params; the public AI card calls back the button's own id.
    const privateData = inst.kind === 'designer' ? { actionIds: ['btn'], params: { token: buttonId } } : { actionIds: [buttonId], params: {} };
    return this.cardCallback(inst, userId, privateData);
  }

  /** A user fills in the card's 表单 and presses its submit button: actionIds ["form"], params.form. */
  submitForm(outTrackId: string, userId: string, values: Record<string, string>): string | undefined {
    const inst = this.instances.get(outTrackId);
    if (!inst) throw new Error(`fake dingtalk: no card ${outTrackId}`);
    const form = viewOf(inst, userId).form;
    if (!form) throw new Error(`fake dingtalk: card ${outTrackId} has no form`);
    for (const f of form.fields) {
      const v = values[f.name];
      // The client itself refuses to submit a form with a required field empty or a bad choice.
      if (f.required && !v) throw new Error(`fake dingtalk: form field ${f.name} is required`);
      if (v && f.type === 'SELECT' && !(f.options ?? []).some((o) => o.value === v)) throw new Error(`fake dingtalk: ${v} is not an option of ${f.name}`);
      if (v && f.type === 'NUMBER' && !Number.isFinite(Number(v))) throw new Error(`fake dingtalk: ${f.name} takes a number`);
    }
    return this.cardCallback(inst, userId, { actionIds: ['form'], params: { form: values } });
  }

  private cardCallback(inst: CardInstance, userId: string, cardPrivateData: { actionIds: string[]; params: Record<string, unknown> }): string | undefined {
    if (inst.callbackType !== 'STREAM') {
      this.droppedClicks.push({ outTrackId: inst.outTrackId, reason: 'card not created with callbackType STREAM' });
      return undefined;
    }
    if (inst.createdBy !== this.opts.clientId) {
      this.droppedClicks.push({ outTrackId: inst.outTrackId, reason: 'card created by another app' });
      return undefined;
    }
    if (!this.live().some((c) => c.topics.includes(TOPIC_CARD))) {
      this.droppedClicks.push({ outTrackId: inst.outTrackId, reason: 'no connection subscribed the card topic' });
      return undefined;
    }
    const content = JSON.stringify({ cardPrivateData });
    return this.deliver(TOPIC_CARD, {
      extension: '{}',
      corpId: this.opts.corpId,
      spaceType: inst.space.type,
      spaceId: inst.space.id,
      userIdType: 1,
      type: 'actionCallback',
      userId,
      content,
      outTrackId: inst.outTrackId,
      value: content,
    });
  }

  /** The card as `userId` sees it now. */
  view(outTrackId: string, userId?: string): CardView {
    const inst = this.instances.get(outTrackId);
    if (!inst) throw new Error(`fake dingtalk: no card ${outTrackId}`);
    return viewOf(inst, userId);
  }

  /** Card instances delivered to a user's 1:1 chat with the robot, or to a group, oldest first. */
  cardsTo(space: string): CardInstance[] {
    return [...this.instances.values()].filter((c) => c.space.id === space);
  }

  /** Request buttons on a card as `userId` sees it. */
  buttonsOf(outTrackId: string, userId?: string): { id: string; label: string }[] {
    return this.view(outTrackId, userId).buttons.filter((b) => b.request).map((b) => ({ id: b.id, label: b.label }));
  }

  // ---- HTTP ----------------------------------------------------------------------------

  private async route(req: HttpRequest, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    // The storage host a downloadUrl points at: plain GET, no token, bytes or a 403 once expired.
    if (req.method === 'GET' && u.pathname.startsWith('/download/')) {
      const hit = this.downloadUrls.get(u.pathname.slice('/download/'.length));
      const file = hit && hit.expiresAt > Date.now() ? this.userFiles.get(hit.code) : undefined;
      this.received.push({ method: 'GET', path: '/download/…', query: {}, body: null, status: file ? 200 : 403, at: Date.now() });
      if (!file) {
        res.writeHead(403, { 'content-type': 'application/xml' });
        res.end('<Error><Code>AccessDenied</Code><Message>Request has expired.</Message></Error>');
        return;
      }
      res.writeHead(200, { 'content-type': file.mime, 'content-length': String(file.data.length) });
      res.end(file.data);
      return;
    }
    const rec: RecordedRequest = { method: req.method ?? 'GET', path: u.pathname, query: Object.fromEntries(u.searchParams), body: null, status: 0, at: Date.now() };
    const tokenHeader = req.headers['x-acs-dingtalk-access-token'];
    if (typeof tokenHeader === 'string') rec.token = tokenHeader;
    let status = 200;
    let out: unknown;
    try {
      const delay = this.delays.get(u.pathname);
      if (delay) await new Promise((r) => setTimeout(r, delay));
      const ct = req.headers['content-type'] ?? '';
      let body: unknown = null;
      if (ct.startsWith('multipart/form-data')) {
        body = await new Request(`http://x${req.url ?? ''}`, { method: 'POST', headers: { 'content-type': ct }, body: raw }).formData();
      } else if (raw.length) {
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          throw apiError(400, 'InvalidParameter', '请求体不是合法的 JSON');
        }
      }
      rec.body = body instanceof FormData ? '[multipart]' : body;
      const held = this.bodyDelays.find((d) => d.path === u.pathname && d.match(body));
      if (held) await new Promise((r) => setTimeout(r, held.ms));
      const fault = this.faults.find((f) => f.path === u.pathname && f.times > 0);
      if (fault) {
        fault.times -= 1;
        throw new HttpError(fault.status, { code: fault.code, message: fault.message, requestid: randomUUID().toUpperCase() });
      }
      out = await this.handle(rec.method, u.pathname, u.searchParams, req, body);
    } catch (e) {
      if (e instanceof CardError) {
        status = e.status;
        out = { code: e.code, message: e.message, requestid: randomUUID().toUpperCase() };
      } else {
        if (!(e instanceof HttpError)) throw e;
        status = e.status;
        out = e.body;
      }
    }
    rec.status = status;
    this.received.push(rec);
    res.writeHead(status, { 'content-type': 'application/json;charset=utf-8' });
    res.end(JSON.stringify(out));
  }

  /** 403 as the platform answers an app without the API's permission, naming the scope. */
  private requireScope(scope: string): void {
    if (this.scopes.has(scope)) return;
    throw new HttpError(403, {
      code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied',
      message: '没有调用该接口的权限，接口权限申请参考：https://open.dingtalk.com/document/orgapp-server/add-api-permission',
      requestid: randomUUID().toUpperCase(),
      accessdenieddetail: { requiredScopes: [scope], accessTokenType: 'app', isScopeOwnerAllowedToApply: true },
    });
  }

  private requireToken(req: HttpRequest): void {
    const t = req.headers['x-acs-dingtalk-access-token'];
    if (typeof t !== 'string' || !t) throw apiError(400, 'MissingParameter', 'x-acs-dingtalk-access-token is mandatory for this action.');
    const exp = this.validTokens.get(t);
    if (!exp || exp < Date.now()) throw apiError(400, 'InvalidAuthentication', '不合法的access_token');
  }

  private async handle(method: string, path: string, query: URLSearchParams, req: HttpRequest, body: unknown): Promise<unknown> {
    const b = (body ?? {}) as Record<string, unknown>;
    const key = `${method} ${path}`;
    switch (key) {
      // https://open.dingtalk.com/document/orgapp/obtain-the-access-token-of-an-internal-app
      case 'POST /v1.0/oauth2/accessToken': {
        this.tokenRequests += 1;
        if (typeof b.appKey !== 'string' || typeof b.appSecret !== 'string') throw apiError(400, 'MissingParameter', 'appKey and appSecret are mandatory');
        if (b.appKey !== this.opts.clientId || b.appSecret !== this.opts.clientSecret) throw apiError(400, 'invalidClientIdOrSecret', '无效的clientId或者clientSecret');
        // Within its 2 hours, asking again returns the same token.
        const now = Date.now();
        if (this.currentToken && (this.validTokens.get(this.currentToken) ?? 0) > now) {
          return { accessToken: this.currentToken, expireIn: Math.floor(((this.validTokens.get(this.currentToken) ?? now) - now) / 1000) };
        }
        const token = `fake_token_${randomUUID().replace(/-/g, '')}`;
        this.validTokens.set(token, now + 7200_000);
        this.currentToken = token;
        return { accessToken: token, expireIn: 7200 };
      }
      // https://open.dingtalk.com/document/direction/stream-mode-protocol-access-description
      case 'POST /v1.0/gateway/connections/open': {
        this.gatewayRequests += 1;
        if (b.clientId !== this.opts.clientId || b.clientSecret !== this.opts.clientSecret) throw apiError(401, 'Unauthorized', 'clientId or clientSecret is invalid');
        const subs = b.subscriptions;
        if (!Array.isArray(subs) || subs.some((s) => typeof (s as { type?: unknown }).type !== 'string' || typeof (s as { topic?: unknown }).topic !== 'string')) {
          throw apiError(400, 'InvalidParameter', 'subscriptions must be a list of {type, topic}');
        }
        const ticket = randomUUID();
        this.tickets.set(ticket, (subs as { type: string; topic: string }[]).filter((x) => x.type === 'CALLBACK').map((x) => x.topic));
        return { endpoint: `${this.url.replace('http', 'ws')}/connect`, ticket };
      }
      // https://open.dingtalk.com/document/orgapp/chatbots-send-one-on-one-chat-messages-in-batches
      case 'POST /v1.0/robot/oToMessages/batchSend': {
        this.requireToken(req);
        this.requireScope(SCOPE_ROBOT);
        if (this.opts.batchSendPerSecond > 0) {
          const now = Date.now();
          this.batchSendTimes = this.batchSendTimes.filter((t) => t > now - 1000);
          if (this.batchSendTimes.length >= this.opts.batchSendPerSecond) throw apiError(429, 'Forbidden.AccessDenied.QpsLimitForApi', '调用频率超过限制');
          this.batchSendTimes.push(now);
        }
        this.requireRobot(b.robotCode);
        if (!Array.isArray(b.userIds) || b.userIds.length === 0 || b.userIds.length > 20 || b.userIds.some((u) => typeof u !== 'string')) {
          throw apiError(400, 'param.error', 'userIds 必须是 1 到 20 个 userId');
        }
        const msgParam = this.requireMsg(b.msgKey, b.msgParam);
        const userIds = b.userIds as string[];
        const invalid = this.opts.knownUserIds.length ? userIds.filter((u) => !this.opts.knownUserIds.includes(u)) : [];
        const limited = userIds.filter((u) => !invalid.includes(u) && (this.flowControlled.get(u) ?? 0) > 0);
        for (const u of limited) this.flowControlled.set(u, this.flowControlled.get(u)! - 1);
        const processQueryKey = randomUUID();
        this.oto.push({ userIds: userIds.filter((u) => !invalid.includes(u) && !limited.includes(u)), msgKey: String(b.msgKey), msgParam, processQueryKey });
        return { processQueryKey, invalidStaffIdList: invalid, flowControlledStaffIdList: limited };
      }
      // https://open.dingtalk.com/document/orgapp/download-the-file-content-of-the-robot-receiving-message
      case 'POST /v1.0/robot/messageFiles/download': {
        this.requireToken(req);
        if (typeof b.downloadCode !== 'string' || !b.downloadCode) throw apiError(400, 'MissingdownloadCode', 'downloadCode is mandatory for this action.');
        if (typeof b.robotCode !== 'string' || !b.robotCode) throw apiError(400, 'MissingrobotCode', 'robotCode is mandatory for this action.');
        this.requireRobot(b.robotCode);
        const file = this.userFiles.get(b.downloadCode);
        if (!file || file.expiresAt < Date.now()) throw apiError(400, 'invalidParameter.downloadCode', '下载码无效或已过期');
        const id = randomUUID().replace(/-/g, '');
        this.downloadUrls.set(id, { code: b.downloadCode, expiresAt: Date.now() + 3600_000 });
        return { downloadUrl: `${this.url}/download/${id}` };
      }
      // https://open.dingtalk.com/document/orgapp/the-robot-sends-a-group-message
      case 'POST /v1.0/robot/groupMessages/send': {
        this.requireToken(req);
        this.requireScope(SCOPE_ROBOT);
        this.requireRobot(b.robotCode);
        if (typeof b.openConversationId !== 'string' || !b.openConversationId.startsWith('cid')) throw apiError(400, 'invalid.openConversationId', '无效的openConversationId');
        const msgParam = this.requireMsg(b.msgKey, b.msgParam);
        const processQueryKey = randomUUID();
        this.group.push({ openConversationId: b.openConversationId, msgKey: String(b.msgKey), msgParam, processQueryKey });
        return { processQueryKey };
      }
      // https://open.dingtalk.com/document/development/robots-send-interactive-cards
      // https://open.dingtalk.com/document/orgapp/create-and-deliver-cards
      case 'POST /v1.0/card/instances/createAndDeliver': {
        this.requireToken(req);
        this.requireScope(SCOPE_CARD);
        const c = checkCreate(b, this.opts.clientId);
        const tpl = this.templates.get(c.templateId);
        if (!tpl || !tpl.published) throw apiError(400, 'param.templateNotExist', `卡片模板不存在或未发布：${c.templateId}`);
        const existing = this.instances.get(c.outTrackId);
        if (existing) {
          // outTrackId names one card for ever: a retried send does not deliver it twice.
          existing.createRequests += 1;
          throw apiError(400, 'param.cardAlreadyExist', `卡片实例已存在：${c.outTrackId}`);
        }
        const known = this.opts.knownUserIds;
        const ok = c.space.type === 'IM_GROUP' || known.length === 0 || known.includes(c.space.id);
        const deliverResults = [{ spaceType: c.space.type, spaceId: c.space.id, success: ok, carrierId: ok ? randomUUID() : '', errorMsg: ok ? '' : '用户不存在或不在应用可见范围内' }];
        if (ok) {
          this.instances.set(c.outTrackId, {
            outTrackId: c.outTrackId, templateId: c.templateId, kind: tpl.kind, ...(c.callbackType ? { callbackType: c.callbackType } : {}),
            createdBy: this.opts.clientId, space: c.space, cardParamMap: c.cardParamMap, privateData: {}, updates: 0, createRequests: 1,
          });
        }
        // A per-space failure comes inside HTTP 200.
        return { success: true, result: { outTrackId: c.outTrackId, deliverResults } };
      }
      // https://open.dingtalk.com/document/orgapp/interface-for-creating-a-card-instance
      // (created, not delivered: nobody sees it until /v1.0/card/instances/deliver)
      case 'POST /v1.0/card/instances': {
        this.requireToken(req);
        this.requireScope(SCOPE_CARD);
        if (typeof b.cardTemplateId !== 'string' || !b.cardTemplateId) throw apiError(400, 'param.error', 'cardTemplateId 不能为空');
        if (typeof b.outTrackId !== 'string' || !b.outTrackId) throw apiError(400, 'param.error', 'outTrackId 不能为空');
        const tpl = this.templates.get(b.cardTemplateId);
        if (!tpl || !tpl.published) throw apiError(400, 'param.templateNotExist', `卡片模板不存在或未发布：${b.cardTemplateId}`);
        if (this.instances.has(b.outTrackId) || this.undelivered.has(b.outTrackId)) throw apiError(400, 'param.cardAlreadyExist', `卡片实例已存在：${b.outTrackId}`);
        const cardData = b.cardData as { cardParamMap?: unknown } | undefined;
        if (cardData !== undefined) requireParamMap(cardData.cardParamMap, 'cardData');
        this.undelivered.add(b.outTrackId);
        return { success: true, result: b.outTrackId };
      }
      // https://open.dingtalk.com/document/orgapp/interactive-card-update-interface
      case 'PUT /v1.0/card/instances': {
        this.requireToken(req);
        this.requireScope(SCOPE_CARD);
        if (typeof b.outTrackId !== 'string' || !b.outTrackId) throw apiError(400, 'param.error', 'outTrackId 不能为空');
        const inst = this.instances.get(b.outTrackId);
        if (!inst) {
          if (this.undelivered.has(b.outTrackId)) return { success: true, result: true };
          throw apiError(400, 'param.cardNotExist', `卡片实例不存在：${b.outTrackId}`);
        }
        if ([...this.pending.values()].some((p) => !p.acked && p.attempts > 0 && p.frame.headers.topic === TOPIC_CARD && p.frame.data.includes(`"outTrackId":${JSON.stringify(b.outTrackId)}`))) {
          this.putsInsideCallback.push(b.outTrackId);
        }
        if (b.cardData === undefined && b.privateData === undefined) throw apiError(400, 'param.error', 'cardData 与 privateData 至少填一个');
        applyUpdate(inst, b);
        // Counted are changes everyone sees; a private-only PUT resets one user's view.
        if (b.cardData !== undefined) inst.updates += 1;
        return { success: true, result: true };
      }
      // Legacy (历史文档, closed to new apps since 2024-12-31):
      // https://open.dingtalk.com/document/development/robots-send-interactive-cards
      case 'POST /v1.0/im/v1.0/robot/interactiveCards/send': {
        this.requireToken(req);
        this.requireScope(SCOPE_LEGACY_CARD);
        if (b.cardTemplateId !== 'StandardCard') throw apiError(400, 'template.isNotExist', '模板不存在');
        this.requireRobot(b.robotCode);
        if (typeof b.cardBizId !== 'string' || !b.cardBizId || b.cardBizId.length > 100) throw apiError(400, 'invalid.bizId', '互动卡片BIZID无效');
        const cardData = this.requireCard(b.cardData);
        const hasGroup = typeof b.openConversationId === 'string' && b.openConversationId !== '';
        const hasSingle = typeof b.singleChatReceiver === 'string' && b.singleChatReceiver !== '';
        if (hasGroup === hasSingle) throw apiError(400, 'param.error', 'openConversationId 和 singleChatReceiver 二选一必填');
        let target: SentCardRecord['target'];
        if (hasSingle) {
          const r = parseJsonString(b.singleChatReceiver);
          if (!r || typeof (r as { userId?: unknown }).userId !== 'string') throw apiError(400, 'param.isNotJson', 'singleChatReceiver 必须是 {"userId": …} 的 JSON 字符串');
          const userId = (r as { userId: string }).userId;
          if (this.opts.knownUserIds.length && !this.opts.knownUserIds.includes(userId)) throw apiError(400, 'invalid.user', '无效的用户ID');
          target = { userId };
        } else {
          if (!(b.openConversationId as string).startsWith('cid')) throw apiError(400, 'invalid.openConversationId', '无效的openConversationId');
          target = { openConversationId: b.openConversationId as string };
        }
        if (b.sendOptions !== undefined && (typeof b.sendOptions !== 'object' || b.sendOptions === null)) throw apiError(400, 'param.error', 'sendOptions 必须是对象');
        const existing = this.cards.get(b.cardBizId);
        if (existing) {
          // cardBizId is the card's idempotency id: the same card is not sent twice.
          existing.sends += 1;
          return { processQueryKey: existing.processQueryKey };
        }
        const processQueryKey = randomUUID();
        this.cards.set(b.cardBizId, { cardBizId: b.cardBizId, processQueryKey, target, cardData, updates: 0, sends: 1 });
        return { processQueryKey };
      }
      // https://open.dingtalk.com/document/development/update-the-robot-to-send-interactive-cards
      case 'PUT /v1.0/im/robots/interactiveCards': {
        this.requireToken(req);
        this.requireScope(SCOPE_LEGACY_CARD);
        if (typeof b.cardBizId !== 'string' || !b.cardBizId) throw apiError(400, 'invalid.bizId', '互动卡片BIZID无效');
        const card = this.cards.get(b.cardBizId);
        if (!card) throw apiError(400, 'cardInstance.notExist', '互动卡片实例不存在');
        if (b.cardData !== undefined) card.cardData = this.requireCard(b.cardData);
        card.updates += 1;
        return { success: true };
      }
      // https://open.dingtalk.com/document/orgapp/upload-media-files
      case 'POST /media/upload': {
        const token = query.get('access_token') ?? '';
        const exp = this.validTokens.get(token);
        if (!exp || exp < Date.now()) return { errcode: 40014, errmsg: '不合法的access_token' };
        const type = query.get('type') ?? '';
        if (!['image', 'voice', 'video', 'file'].includes(type)) return { errcode: 40004, errmsg: '不合法的媒体文件类型' };
        if (!(body instanceof FormData)) return { errcode: 41001, errmsg: '缺少media参数' };
        const media = body.get('media');
        if (!(media instanceof Blob)) return { errcode: 41001, errmsg: '缺少media参数' };
        const mediaId = `@lAfake${randomUUID().replace(/-/g, '')}`;
        this.media.set(mediaId, { name: (media as File).name ?? 'file', type, size: media.size });
        return { errcode: 0, errmsg: 'ok', media_id: mediaId, created_at: Date.now(), type };
      }
      default:
        throw apiError(404, 'InvalidAction.NotFound', `Specified api is not found, please check your url and method: ${key}`);
    }
  }

  private requireRobot(code: unknown): void {
    if (code !== this.opts.clientId) throw apiError(400, 'invalid.robotCode', '无效的机器人标识');
  }

  /** msgParam is a JSON string whose fields depend on msgKey (robot message templates). */
  private requireMsg(msgKey: unknown, msgParam: unknown): Record<string, unknown> {
    const required: Record<string, string[]> = {
      sampleText: ['content'],
      sampleMarkdown: ['title', 'text'],
      sampleFile: ['mediaId', 'fileName', 'fileType'],
      sampleImageMsg: ['photoURL'],
      sampleLink: ['text', 'title', 'picUrl', 'messageUrl'],
    };
    if (typeof msgKey !== 'string' || !required[msgKey]) throw apiError(400, 'param.error', `不支持的 msgKey：${String(msgKey)}`);
    const p = parseJsonString(msgParam);
    if (!p || typeof p !== 'object') throw apiError(400, 'param.isNotJson', 'msgParam 必须是 JSON 字符串');
    for (const k of required[msgKey]!) if (typeof (p as Record<string, unknown>)[k] !== 'string' || !(p as Record<string, string>)[k]) throw apiError(400, 'param.error', `msgParam 缺少 ${k}`);
    return p as Record<string, unknown>;
  }

  /** cardData is a JSON string of the StandardCard structure. */
  private requireCard(cardData: unknown): StandardCardShape {
    const c = parseJsonString(cardData) as Record<string, unknown> | undefined;
    if (!c || typeof c !== 'object') throw apiError(400, 'param.isNotJson', 'cardData 必须是 JSON 字符串');
    const title = (c.header as { title?: { type?: unknown; text?: unknown } } | undefined)?.title;
    if (!title || title.type !== 'text' || typeof title.text !== 'string') throw apiError(400, 'param.error', 'cardData.header.title 必须是 {type:"text", text}');
    if (!Array.isArray(c.contents)) throw apiError(400, 'param.error', 'cardData.contents 必须是数组');
    const ids = new Set<string>();
    const checkId = (id: unknown) => {
      if (typeof id !== 'string' || !id) throw apiError(400, 'param.error', '每个组件都需要 id');
      if (ids.has(id)) throw apiError(400, 'param.error', `组件 id 重复：${id}`);
      ids.add(id);
    };
    for (const el of c.contents as Record<string, unknown>[]) {
      checkId(el.id);
      switch (el.type) {
        case 'text':
        case 'markdown':
          if (typeof el.text !== 'string') throw apiError(400, 'param.error', `${String(el.type)} 组件需要 text`);
          break;
        case 'image':
          if (typeof el.image !== 'string' || !el.image.startsWith('@')) throw apiError(400, 'param.error', 'image 组件需要 mediaId');
          break;
        case 'divider':
          break;
        case 'action':
          if (!Array.isArray(el.actions) || el.actions.length === 0) throw apiError(400, 'param.error', 'action 组件需要 actions');
          for (const btn of el.actions as Record<string, unknown>[]) {
            checkId(btn.id);
            const label = btn.label as { type?: unknown; text?: unknown } | undefined;
            if (btn.type !== 'button' || !label || label.type !== 'text' || typeof label.text !== 'string') throw apiError(400, 'param.error', '按钮需要 type:"button" 与 label');
            if (btn.actionType === 'openLink') {
              if (typeof (btn.url as { all?: unknown } | undefined)?.all !== 'string') throw apiError(400, 'param.error', 'openLink 按钮需要 url.all');
            } else if (btn.actionType !== 'request') throw apiError(400, 'param.error', `未知的 actionType：${String(btn.actionType)}`);
            if (!['primary', 'normal', 'warning'].includes(String(btn.status ?? 'normal'))) throw apiError(400, 'param.error', `未知的按钮 status：${String(btn.status)}`);
          }
          break;
        default:
          throw apiError(400, 'param.error', `未知的组件类型：${String(el.type)}`);
      }
    }
    return c as unknown as StandardCardShape;
  }
}

function parseJsonString(v: unknown): unknown {
  if (typeof v !== 'string') return undefined;
  try {
    return JSON.parse(v);
  } catch {
    return undefined;
  }
}
