import { PlatformError } from '../../errors.js';
import type { SentMessage } from '../types.js';

/**
 * Identical one-to-one pushes, 20 recipients per call of
 * POST /v1.0/robot/oToMessages/batchSend
 * (https://open.dingtalk.com/document/orgapp/chatbots-send-one-on-one-chat-messages-in-batches).
 * Sends of the same message that arrive together are held up to `lingerMs` and go out as one
 * call; each caller still gets its own answer, read from the per-recipient lists: an invalid
 * staff id fails for good (the outbound queue reports it to the administrators), a
 * flow-controlled one fails retryably (the queue tries that recipient again later), everyone
 * else is sent. Each caller is one ledger row, so exactly-once per recipient is unchanged.
 * A campaign's identical texts no longer come this way: the outbound queue groups them into
 * one job per call itself (sendTextBatch, scheduler/outbound.ts); this gathers the texts that
 * are still queued a row at a time.
 */
export const BATCH_MAX = 20;

export interface BatchAnswer {
  processQueryKey?: string;
  invalidStaffIdList?: string[];
  flowControlledStaffIdList?: string[];
}

type Call = (userIds: string[], msgKey: string, msgParam: Record<string, unknown>) => Promise<BatchAnswer>;

interface Waiter {
  userId: string;
  resolve: (m: SentMessage) => void;
  reject: (e: unknown) => void;
}

interface Group {
  msgKey: string;
  msgParam: Record<string, unknown>;
  waiters: Waiter[];
  timer?: NodeJS.Timeout;
}

export class TextBatcher {
  private groups = new Map<string, Group>();

  constructor(
    private call: Call,
    private lingerMs: number,
  ) {}

  send(userId: string, msgKey: string, msgParam: Record<string, unknown>): Promise<SentMessage> {
    const key = `${msgKey}\u0000${JSON.stringify(msgParam)}`;
    let g = this.groups.get(key);
    // The same person twice is two messages: the second waits for a call of its own.
    if (g?.waiters.some((w) => w.userId === userId)) {
      this.flush(key);
      g = undefined;
    }
    if (!g) {
      g = { msgKey, msgParam, waiters: [] };
      this.groups.set(key, g);
      const group = g;
      g.timer = setTimeout(() => {
        if (this.groups.get(key) === group) this.flush(key);
      }, this.lingerMs);
    }
    const promise = new Promise<SentMessage>((resolve, reject) => g!.waiters.push({ userId, resolve, reject }));
    if (g.waiters.length >= BATCH_MAX) this.flush(key);
    return promise;
  }

  private flush(key: string): void {
    const g = this.groups.get(key);
    if (!g) return;
    this.groups.delete(key);
    if (g.timer) clearTimeout(g.timer);
    const waiters = g.waiters;
    this.call(
      waiters.map((w) => w.userId),
      g.msgKey,
      g.msgParam,
    ).then(
      (r) => {
        const invalid = new Set(r.invalidStaffIdList ?? []);
        const limited = new Set(r.flowControlledStaffIdList ?? []);
        for (const w of waiters) {
          if (invalid.has(w.userId)) w.reject(new PlatformError('DingTalk: recipient is not a valid staff id', 'dingtalk', 'invalidStaffId', false));
          // No retryAfterMs: that would pause the whole queue for one person.
          else if (limited.has(w.userId)) w.reject(new PlatformError('DingTalk: recipient is flow-controlled', 'dingtalk', 'flowControlled', true));
          else w.resolve({ messageId: r.processQueryKey ?? '' });
        }
      },
      (e: unknown) => {
        for (const w of waiters) w.reject(e);
      },
    );
  }
}
