import type { Redis } from 'ioredis';
import type { ActionValue } from '../../../cards/model.js';
import type { Conversation } from '../types.js';

/**
 * What the adapter remembers about each card it sent: where it went (a card callback names
 * the card and the clicker, not the chat), which template it used, and what each button
 * token means (a click reports only the token). Kept in Redis so a click after a restart
 * still finds its handler.
 */
export interface SentCard {
  conversation: Conversation;
  buttons: Record<string, { actionId: string; value?: ActionValue }>;
  /** The card's form, submitted as actionIds ["form"]. */
  form?: { actionId: string; value?: ActionValue };
  /** Which template rendered it; an update renders for the same one. */
  template?: 'ai' | 'hospital';
  /** The card data last sent, to reset a clicker's private view after a click without a new card. */
  params?: Record<string, string>;
  /** Sent as a markdown message (no card template usable): an update goes out as a new message. */
  markdown?: boolean;
}

export interface CardStore {
  put(cardBizId: string, card: SentCard): Promise<void>;
  get(cardBizId: string): Promise<SentCard | undefined>;
}

/** Cards older than this are not clickable in a useful way any more. */
const TTL_SECONDS = 60 * 24 * 3600;

export class RedisCardStore implements CardStore {
  constructor(
    private redis: Redis,
    private prefix: string,
  ) {}
  private key(id: string): string {
    return `${this.prefix}:dingtalk:card:${id}`;
  }
  async put(id: string, card: SentCard): Promise<void> {
    await this.redis.set(this.key(id), JSON.stringify(card), 'EX', TTL_SECONDS);
  }
  async get(id: string): Promise<SentCard | undefined> {
    const raw = await this.redis.get(this.key(id));
    return raw ? (JSON.parse(raw) as SentCard) : undefined;
  }
}

export class MemoryCardStore implements CardStore {
  private cards = new Map<string, SentCard>();
  async put(id: string, card: SentCard): Promise<void> {
    this.cards.set(id, card);
  }
  async get(id: string): Promise<SentCard | undefined> {
    return this.cards.get(id);
  }
}
