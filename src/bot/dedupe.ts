import type { Redis } from 'ioredis';

/**
 * Drops redelivered platform events. The key lives in Redis so every replica shares it, and
 * for longer than any platform's redelivery window. `release` forgets an event whose handling
 * crashed, so the platform's next redelivery gets another chance.
 *
 * A platform may redeliver one message under a new event id (Feishu does), so a message's own
 * id, where the platform gives one, is a second key: either one seen before makes a duplicate.
 */
export class Dedupe {
  constructor(
    private redis: Redis,
    private prefix: string,
    private ttlSeconds: number,
  ) {}

  private keys(platform: string, eventId: string, messageId?: string): string[] {
    const base = `${this.prefix}:dedupe:${platform}`;
    return messageId ? [`${base}:${eventId}`, `${base}:msg:${messageId}`] : [`${base}:${eventId}`];
  }

  /** True the first time an event (and the message it carries) is seen. */
  async first(platform: string, eventId: string, messageId?: string): Promise<boolean> {
    const multi = this.redis.multi();
    for (const key of this.keys(platform, eventId, messageId)) multi.set(key, '1', 'EX', this.ttlSeconds, 'NX');
    const results = (await multi.exec()) ?? [];
    return results.length > 0 && results.every(([err, r]) => !err && r === 'OK');
  }

  async release(platform: string, eventId: string, messageId?: string): Promise<void> {
    await this.redis.del(...this.keys(platform, eventId, messageId));
  }
}
