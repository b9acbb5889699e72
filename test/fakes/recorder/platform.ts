import type { Card } from '../../../cards/model.js';
import { PlatformError } from '../../../src/errors.js';
import type { ChatPlatform, EventSink, PlatformHealth, PlatformName, SendTarget, SentMessage } from '../../../src/platform/types.js';

/** A ChatPlatform that sends to the recording server over HTTP (see server.ts). */
export class RecorderPlatform implements ChatPlatform {
  readonly supportsForms = true;
  constructor(
    readonly name: PlatformName,
    private url: string,
  ) {}

  async start(_sink: EventSink): Promise<void> {}
  async stop(): Promise<void> {}
  health(): PlatformHealth {
    return { ok: true };
  }

  private async post(target: SendTarget, title: string): Promise<SentMessage> {
    const recipient = target.conversation.type === 'direct' ? target.conversation.platformUserId : target.conversation.chatId;
    let r: Response;
    try {
      r = await fetch(`${this.url}/send`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ recipient, key: target.idempotencyKey, title }) });
    } catch (e) {
      throw new PlatformError(`recorder unreachable: ${(e as Error).message}`, this.name, 'network', true);
    }
    const body = (await r.json()) as { messageId?: string; code?: number; msg?: string; retryAfterMs?: number };
    if (r.status === 429) throw new PlatformError('rate limited', this.name, body.code, true, body.retryAfterMs ?? 1000);
    if (r.status >= 500) throw new PlatformError(body.msg ?? 'server error', this.name, r.status, true);
    if (!r.ok || !body.messageId) throw new PlatformError(body.msg ?? 'refused', this.name, r.status, false);
    return { messageId: body.messageId };
  }

  sendText(target: SendTarget, text: string): Promise<SentMessage> {
    return this.post(target, text.slice(0, 40));
  }
  sendCard(target: SendTarget, card: Card): Promise<SentMessage> {
    return this.post(target, card.title);
  }
  async updateCard(): Promise<void> {}
  async downloadFile(ref: string): Promise<{ data: Buffer; mime: string }> {
    throw new PlatformError(`the recorder keeps no files (${ref})`, this.name, 'not_found', false);
  }
  async sendFile(target: SendTarget, file: { name: string }): Promise<SentMessage> {
    return this.post(target, file.name);
  }
  async uploadImage(): Promise<string> {
    return 'recorder://image';
  }
}
