import { DWClient, TOPIC_CARD, TOPIC_ROBOT, type DWClientDownStream } from 'dingtalk-stream';
import type WebSocket from 'ws';
import type { Logger } from '../../logger.js';

/**
 * Supervision of the dingtalk-stream connection, so it never goes quietly deaf. Users of the
 * SDK report three ways it does, and each is handled here:
 *  - a SYSTEM `disconnect` frame: the platform stops delivering on that connection while the
 *    socket may stay open for a while, and the SDK only sets `connected = false`. We open a
 *    new connection at once and drop the old one only when the new one is up.
 *  - a connection that stays open but carries no frame at all (not even KEEPALIVE/ping):
 *    after `silenceMs` without a frame it is treated as dead and replaced.
 *  - a socket terminated (heartbeat failure, network) without the SDK reconnecting: each
 *    client runs with autoReconnect off, and the supervisor replaces the link itself.
 * Each connection is its own DWClient (the SDK holds one socket per client), which is what
 * lets the new one open before the old one closes.
 */
export interface StreamOptions {
  clientId: string;
  clientSecret: string;
  logger: Logger;
  /** A connection without any frame for this long is dead. */
  silenceMs: number;
  /** First wait after a failed reconnect; doubles up to 30 s. */
  reconnectBaseMs?: number;
  /** Called for each robot message or card callback, after it has been acknowledged. */
  onCallback: (frame: DWClientDownStream) => void;
  /** What the ack carries (a card callback's answer); `{}` when absent. Must be quick. */
  ackFor?: (frame: DWClientDownStream) => Record<string, unknown>;
}

let linkSeq = 0;

class Link extends DWClient {
  readonly linkId = ++linkSeq;
  lastFrameAt = Date.now();
  disconnectFrame = false;
  socketClosed = false;
  private shut = false;
  onSignal?: (link: Link, reason: 'disconnect-frame' | 'closed') => void;

  override onDownStream(data: string): void {
    this.lastFrameAt = Date.now();
    let msg: DWClientDownStream;
    try {
      msg = JSON.parse(String(data)) as DWClientDownStream;
    } catch {
      // The SDK would throw inside the socket's message handler; a garbled frame is dropped.
      return;
    }
    if (msg.type === 'SYSTEM' && msg.headers?.topic === 'disconnect') {
      this.disconnectFrame = true;
      this.onSignal?.(this, 'disconnect-frame');
    }
    super.onDownStream(String(data));
  }

  private socket_(): WebSocket | undefined {
    return (this as unknown as { socket?: WebSocket }).socket;
  }

  isOpen(): boolean {
    const s = this.socket_();
    return !this.shut && !this.socketClosed && !this.disconnectFrame && s !== undefined && s.readyState === 1;
  }

  async open(): Promise<void> {
    await this.getEndpoint();
    await this._connect();
    this.lastFrameAt = Date.now();
    this.socket_()?.on('close', () => {
      this.socketClosed = true;
      if (!this.shut) this.onSignal?.(this, 'closed');
    });
  }

  shutdown(): void {
    if (this.shut) return;
    this.shut = true;
    try {
      this.disconnect();
    } catch {
      /* already closed */
    }
    // A half-open socket would wait 30 s for a close handshake; nothing useful comes on it.
    this.socket_()?.terminate();
  }
}

export class StreamSupervisor {
  private link?: Link;
  private replacing?: Promise<void>;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  /** Connections opened so far, the first included. */
  connectionsOpened = 0;
  lastReplaceReason?: string;

  constructor(private opts: StreamOptions) {}

  async start(): Promise<void> {
    this.stopped = false;
    this.link = await this.openLink();
    const every = Math.max(200, Math.min(5000, Math.floor(this.opts.silenceMs / 4)));
    this.timer = setInterval(() => this.check(), every);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.link?.shutdown();
    await this.replacing?.catch(() => {});
    this.link?.shutdown();
  }

  health(): { ok: boolean; detail?: string } {
    const l = this.link;
    if (!l) return { ok: false, detail: 'not connected' };
    if (this.replacing) return { ok: false, detail: `reconnecting (${this.lastReplaceReason ?? 'unknown'})` };
    if (!l.isOpen()) return { ok: false, detail: 'connection lost' };
    if (Date.now() - l.lastFrameAt > this.opts.silenceMs) return { ok: false, detail: 'connection silent' };
    return { ok: true };
  }

  /** Id of the live connection (tests and logs). */
  currentLinkId(): number | undefined {
    return this.link?.linkId;
  }

  private check(): void {
    const l = this.link;
    if (!l || this.replacing || this.stopped) return;
    if (!l.isOpen()) this.replace(l, l.disconnectFrame ? 'disconnect-frame' : 'closed');
    else if (Date.now() - l.lastFrameAt > this.opts.silenceMs) this.replace(l, 'silent');
  }

  private replace(old: Link, reason: string): void {
    if (this.stopped || this.link !== old || this.replacing) return;
    this.lastReplaceReason = reason;
    this.opts.logger.warn({ link: old.linkId, reason }, 'dingtalk stream connection unusable; opening a new one');
    let delay = this.opts.reconnectBaseMs ?? 1000;
    this.replacing = (async () => {
      while (!this.stopped) {
        try {
          const fresh = await this.openLink();
          if (this.stopped) {
            fresh.shutdown();
            return;
          }
          this.link = fresh;
          // Only now is the old one dropped, so nothing falls into a gap between the two.
          old.shutdown();
          this.opts.logger.info({ link: fresh.linkId, replaced: old.linkId, reason }, 'dingtalk stream reconnected');
          return;
        } catch (e) {
          this.opts.logger.warn({ err: (e as Error).message, retryInMs: delay }, 'dingtalk stream reconnect failed');
          await new Promise((r) => setTimeout(r, delay).unref());
          delay = Math.min(30_000, delay * 2);
        }
      }
    })().finally(() => {
      this.replacing = undefined;
    });
  }

  private async openLink(): Promise<Link> {
    const link = new Link({ clientId: this.opts.clientId, clientSecret: this.opts.clientSecret, keepAlive: true, ua: 'qinglian' });
    // The supervisor reconnects; the SDK's own reconnect would race it with a second socket.
    link.config.autoReconnect = false;
    const onFrame = (frame: DWClientDownStream) => {
      // Acknowledge at once, before any work, so slow handling never triggers redelivery.
      try {
        let response: Record<string, unknown> = {};
        try {
          response = this.opts.ackFor?.(frame) ?? {};
        } catch {
          /* a bad frame is still acknowledged, with nothing in it */
        }
        link.socketCallBackResponse(frame.headers.messageId, response);
      } catch (e) {
        this.opts.logger.warn({ err: (e as Error).message }, 'dingtalk ack failed');
      }
      this.opts.onCallback(frame);
    };
    link.registerCallbackListener(TOPIC_ROBOT, onFrame);
    link.registerCallbackListener(TOPIC_CARD, onFrame);
    link.onSignal = (l, reason) => {
      if (reason === 'disconnect-frame') this.replace(l, reason);
      else setImmediate(() => this.replace(l, reason));
    };
    try {
      await link.open();
    } catch (e) {
      link.shutdown();
      throw e;
    }
    this.connectionsOpened += 1;
    return link;
  }
}
