import type { Redis } from 'ioredis';

/**
 * Drops redelivered platform events. The key lives in Redis so every replica shares it, and
 * for longer than any platform's redelivery window. `release` forgets an event whose handling
 * crashed, so the platform's next redelivery gets another chance.
 */
export class Dedupe {
  constructor(
    private redis: Redis,
    private prefix: string,
    private ttlSeconds: number,
  ) {}

  private key(platform: string, eventId: string): string {
    return `${this.prefix}:dedupe:${platform}:${eventId}`;
  }

  /** True the first time an event is seen. */
  async first(platform: string, eventId: string): Promise<boolean> {
    const r = await this.redis.set(this.key(platform, eventId), '1', 'EX', this.ttlSeconds, 'NX');
    return r === 'OK';
  }

  async release(platform: string, eventId: string): Promise<void> {
    await this.redis.del(this.key(platform, eventId));
  }
}
