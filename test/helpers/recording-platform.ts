import type { Card } from '../../cards/model.js';
import type { ChatPlatform, EventSink, PlatformName, SendTarget, SentMessage } from '../../src/platform/types.js';

/** A platform that records what the bot sends, for router-level tests (no wire involved). */
export class RecordingPlatform implements ChatPlatform {
  readonly supportsForms: boolean;
  sink?: EventSink;
  sent: { target: SendTarget; text?: string; card?: Card; id: string }[] = [];
  updates: { messageId: string; card: Card }[] = [];
  private n = 0;

  constructor(
    readonly name: PlatformName = 'sandbox',
    opts: { supportsForms?: boolean } = {},
  ) {
    this.supportsForms = opts.supportsForms ?? true;
  }
  async start(sink: EventSink) {
    this.sink = sink;
  }
  async stop() {}
  health() {
    return { ok: true };
  }
  async sendText(target: SendTarget, text: string): Promise<SentMessage> {
    const id = `r${++this.n}`;
    this.sent.push({ target, text, id });
    return { messageId: id };
  }
  async sendCard(target: SendTarget, card: Card): Promise<SentMessage> {
    const id = `r${++this.n}`;
    this.sent.push({ target, card, id });
    return { messageId: id };
  }
  async updateCard(messageId: string, card: Card) {
    this.updates.push({ messageId, card });
  }
  async downloadFile(ref: string): Promise<{ data: Buffer; mime: string }> {
    throw new Error(`RecordingPlatform keeps no files (${ref})`);
  }
  async sendFile(target: SendTarget, file: { name: string }): Promise<SentMessage> {
    return this.sendText(target, `file:${file.name}`);
  }
  async uploadImage(): Promise<string> {
    return 'img';
  }
  /** Texts sent to one user (cards by title). */
  to(userId: string): string[] {
    return this.sent
      .filter((s) => s.target.conversation.type === 'direct' && s.target.conversation.platformUserId === userId)
      .map((s) => s.text ?? `[card] ${s.card!.title}`);
  }
}
