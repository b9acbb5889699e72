import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small recording chat platform over HTTP, for outbound tests: it records every message
 * per recipient, honours an idempotency key the way Feishu's `uuid` does (a repeated key
 * returns the first message id and delivers nothing), and can misbehave on purpose: answer a
 * share of requests with 5xx (half of them after delivering, as when a response is lost) and
 * enforce a quota over a sliding window with 429 + retry-after.
 */

export interface RecorderOptions {
  /** Share of requests answered 500 (0..1). */
  failRate?: number;
  /** Sliding-window quota; excess answered 429. */
  quota?: { max: number; windowMs: number };
  /** Milliseconds each request takes. */
  latencyMs?: number;
  seed?: number;
}

export interface Delivery {
  recipient: string;
  key: string;
  messageId: string;
  title: string;
  at: number;
}

export interface RecorderStats {
  requests: number;
  failed5xx: number;
  rejected429: number;
  duplicateKeys: number;
  delivered: number;
  maxInWindow: number;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Recorder {
  readonly deliveries: Delivery[] = [];
  private byKey = new Map<string, string>();
  private accepted: number[] = [];
  private random: () => number;
  readonly stats: RecorderStats = { requests: 0, failed5xx: 0, rejected429: 0, duplicateKeys: 0, delivered: 0, maxInWindow: 0 };
  url = '';
  private server?: Server;

  constructor(public opts: RecorderOptions = {}) {
    this.random = mulberry32(opts.seed ?? 42);
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }

  /** Deliveries per recipient. */
  counts(): Map<string, number> {
    const m = new Map<string, number>();
    for (const d of this.deliveries) m.set(d.recipient, (m.get(d.recipient) ?? 0) + 1);
    return m;
  }

  /** The most deliveries found in any window of the given length (checked from timestamps). */
  maxInAnyWindow(windowMs: number): number {
    const t = this.deliveries.map((d) => d.at).sort((a, b) => a - b);
    let best = 0;
    let lo = 0;
    for (let hi = 0; hi < t.length; hi++) {
      while (t[hi] - t[lo] >= windowMs) lo++;
      best = Math.max(best, hi - lo + 1);
    }
    return best;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && req.url === '/stats') return reply(200, { stats: this.stats, counts: Object.fromEntries(this.counts()) });
    if (req.method !== 'POST' || req.url !== '/send') return reply(404, { error: 'not found' });
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { recipient: string; key?: string; title?: string };
    this.stats.requests++;
    if (this.opts.latencyMs) await new Promise((r) => setTimeout(r, this.opts.latencyMs));
    const now = Date.now();
    const { quota } = this.opts;
    if (quota) {
      while (this.accepted.length && now - this.accepted[0] >= quota.windowMs) this.accepted.shift();
      if (this.accepted.length >= quota.max) {
        this.stats.rejected429++;
        return reply(429, { code: 99991400, msg: 'request trigger frequency limit', retryAfterMs: this.accepted[0] + quota.windowMs - now + 1 });
      }
    }
    const roll = this.random();
    const fail = roll < (this.opts.failRate ?? 0);
    if (fail && roll < (this.opts.failRate ?? 0) / 2) {
      this.stats.failed5xx++;
      return reply(500, { code: 500, msg: 'internal error (before delivery)' });
    }
    if (quota) {
      this.accepted.push(now);
      this.stats.maxInWindow = Math.max(this.stats.maxInWindow, this.accepted.length);
    }
    let messageId = body.key ? this.byKey.get(body.key) : undefined;
    if (messageId) this.stats.duplicateKeys++;
    else {
      messageId = `rm_${this.deliveries.length + 1}`;
      if (body.key) this.byKey.set(body.key, messageId);
      this.deliveries.push({ recipient: body.recipient, key: body.key ?? '', messageId, title: body.title ?? '', at: now });
      this.stats.delivered++;
    }
    if (fail) {
      // Delivered, but the answer is lost: the sender must retry and the key must save the day.
      this.stats.failed5xx++;
      return reply(502, { code: 502, msg: 'bad gateway (after delivery)' });
    }
    return reply(200, { messageId });
  }
}
