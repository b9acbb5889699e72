import type { StateStore } from './store.js';

/**
 * Drops redelivered platform events. The mark lives in the shared store so every replica sees
 * it, and for longer than any platform's redelivery window. `release` forgets an event whose
 * handling crashed, so the platform's next redelivery gets another chance.
 *
 * A platform may redeliver one message under a new event id (Feishu does), so a message's own
 * id, where the platform gives one, is a second key: either one seen before makes a duplicate.
 */
export class Dedupe {
  constructor(
    private store: StateStore,
    private ttlSeconds: number,
  ) {}

  private keys(platform: string, eventId: string, messageId?: string): string[] {
    const base = `dedupe:${platform}`;
    return messageId ? [`${base}:${eventId}`, `${base}:msg:${messageId}`] : [`${base}:${eventId}`];
  }

  /** True the first time an event (and the message it carries) is seen. */
  first(platform: string, eventId: string, messageId?: string): Promise<boolean> {
    return this.store.claimAll(this.keys(platform, eventId, messageId), this.ttlSeconds * 1000);
  }

  release(platform: string, eventId: string, messageId?: string): Promise<void> {
    return this.store.delete(...this.keys(platform, eventId, messageId));
  }
}
