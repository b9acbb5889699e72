import { createHash, randomUUID } from 'node:crypto';
import { PlatformError } from '../../errors.js';
import type { Conversation } from '../types.js';
import type { DingTalkOpenApi } from './openapi.js';

/**
 * Card instances on the wire: created and delivered in one call, updated in place.
 * https://open.dingtalk.com/document/orgapp/create-and-deliver-cards
 * https://open.dingtalk.com/document/orgapp/interactive-card-update-interface
 */

interface DeliverAnswer {
  success?: boolean;
  result?: { outTrackId?: string; deliverResults?: { spaceType?: string; spaceId?: string; success?: boolean; errorMsg?: string }[] };
}

/** The space a card goes to, in the shape createAndDeliver wants for it. */
export function spaceOf(c: Conversation, robotCode: string): Record<string, unknown> {
  if (c.type === 'direct') {
    return {
      openSpaceId: `dtv1.card//IM_ROBOT.${c.platformUserId}`,
      imRobotOpenSpaceModel: { supportForward: false },
      imRobotOpenDeliverModel: { spaceType: 'IM_ROBOT', robotCode },
    };
  }
  return {
    openSpaceId: `dtv1.card//IM_GROUP.${c.chatId}`,
    imGroupOpenSpaceModel: { supportForward: false },
    imGroupOpenDeliverModel: { robotCode },
  };
}

export class CardInstances {
  constructor(
    private api: DingTalkOpenApi,
    private robotCode: string,
  ) {}

  /**
   * Creates and delivers a card whose clicks come back on this app's stream. A card that
   * already exists under this outTrackId was sent by an earlier try: that counts as sent.
   */
  async deliver(outTrackId: string, conversation: Conversation, templateId: string, params: Record<string, string>): Promise<void> {
    let r: DeliverAnswer;
    try {
      r = await this.api.call<DeliverAnswer>('POST', '/v1.0/card/instances/createAndDeliver', {
        cardTemplateId: templateId,
        outTrackId,
        // Without STREAM the platform sends clicks nowhere this bot can hear.
        callbackType: 'STREAM',
        userIdType: 1,
        cardData: { cardParamMap: params },
        ...spaceOf(conversation, this.robotCode),
      });
    } catch (e) {
      if (e instanceof PlatformError && e.code === 'param.cardAlreadyExist') return;
      throw e;
    }
    // Success is per space, inside an HTTP 200.
    const failed = (r.result?.deliverResults ?? []).filter((d) => d.success === false);
    if (failed.length) {
      throw new PlatformError(`DingTalk did not deliver card ${outTrackId}: ${failed.map((d) => d.errorMsg || 'unknown reason').join('; ')}`, 'dingtalk', 'deliverFailed', false);
    }
  }

  /** Changes the card for everyone (by key) and, after a click, resets the clicker's own view. */
  async update(outTrackId: string, params: Record<string, string>, privateFor?: { userId: string; params: Record<string, string> }, shared = true): Promise<void> {
    await this.api.call('PUT', '/v1.0/card/instances', {
      outTrackId,
      ...(shared ? { cardData: { cardParamMap: params } } : {}),
      ...(privateFor ? { privateData: { [privateFor.userId]: { cardParamMap: privateFor.params } } } : {}),
      cardUpdateOptions: { updateCardDataByKey: true, updatePrivateDataByKey: true },
    });
  }
}

/**
 * outTrackId: the push's ledger key where there is one, so a retried send names the same
 * card; at most 64 safe characters, a longer or odd key hashed deterministically.
 */
export function outTrackIdFor(idempotencyKey?: string): string {
  if (!idempotencyKey) return `qla_${randomUUID().replace(/-/g, '')}`;
  if (/^[A-Za-z0-9_.:-]{1,64}$/.test(idempotencyKey)) return idempotencyKey;
  return `qlk_${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 48)}`;
}
