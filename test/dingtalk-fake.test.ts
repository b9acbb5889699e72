import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlatformError } from '../src/errors.js';
import { createLogger } from '../src/logger.js';
import { DingTalkApiError, DingTalkOpenApi } from '../src/platform/dingtalk/openapi.js';
import { PUBLIC_AI_TEMPLATE } from './fakes/dingtalk/cards.js';
import { CLIENT_ID, CLIENT_SECRET } from './fakes/dingtalk/harness.js';
import { FakeDingTalk, SCOPE_LEGACY_CARD } from './fakes/dingtalk/server.js';

/**
 * The fake DingTalk is only worth its tests if it refuses what the platform refuses. Here its
 * rules are checked directly over HTTP, so a bot that got any of them wrong would fail.
 */
describe('7 the strict fake DingTalk', () => {
  let fake: FakeDingTalk;
  let api: DingTalkOpenApi;
  beforeAll(async () => {
    fake = new FakeDingTalk({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    const url = await fake.start();
    api = new DingTalkOpenApi({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, apiBase: url, oapiBase: url, logger: createLogger('silent'), maxAttempts: 1 });
  });
  afterAll(async () => {
    await fake?.close();
  });

  const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (e instanceof PlatformError ? String(e.code) : String(e)));
  const space = (userId: string) => ({
    openSpaceId: `dtv1.card//IM_ROBOT.${userId}`,
    imRobotOpenSpaceModel: { supportForward: false },
    imRobotOpenDeliverModel: { spaceType: 'IM_ROBOT', robotCode: CLIENT_ID },
  });
  const create = (outTrackId: string, extra: Record<string, unknown> = {}) =>
    api.call('POST', '/v1.0/card/instances/createAndDeliver', {
      cardTemplateId: PUBLIC_AI_TEMPLATE,
      outTrackId,
      callbackType: 'STREAM',
      userIdType: 1,
      cardData: { cardParamMap: { msgTitle: '标题', msgContent: '正文', sys_full_json_obj: JSON.stringify({ msgButtons: [{ text: '好', id: 'b1', request: true }] }) } },
      ...space('dt604924'),
      ...extra,
    });

  it('7 denies the legacy StandardCard API to a new app, naming the scope', async () => {
    const err = await api.call('POST', '/v1.0/im/v1.0/robot/interactiveCards/send', { cardTemplateId: 'StandardCard' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DingTalkApiError);
    expect((err as DingTalkApiError).code).toBe('Forbidden.AccessDenied.AccessTokenPermissionDenied');
    expect((err as DingTalkApiError).requiredScopes).toEqual([SCOPE_LEGACY_CARD]);
  });

  it('7 validates createAndDeliver: string-only params, space models, templates, one card per outTrackId', async () => {
    expect(await codeOf(create('c1', { cardData: { cardParamMap: { count: 3 } } }))).toBe('param.error');
    expect(await codeOf(create('c1', { openSpaceId: 'dtv1.card//IM_SOMEWHERE.x' }))).toBe('param.openSpaceIdInvalid');
    expect(await codeOf(create('c1', { imRobotOpenDeliverModel: { robotCode: CLIENT_ID } }))).toBe('param.error');
    expect(await codeOf(create('c1', { cardTemplateId: 'nobody-imported-this.schema' }))).toBe('param.templateNotExist');
    expect(await codeOf(create('c1', { callbackType: 'stream' }))).toBe('param.error');
    expect(await codeOf(create('c1'))).toBe('ok');
    expect(await codeOf(create('c1'))).toBe('param.cardAlreadyExist');
    expect(fake.instances.get('c1')!.createRequests).toBe(2);
  });

  it('7 updates by key only when asked, and overwrites otherwise', async () => {
    await api.call('PUT', '/v1.0/card/instances', { outTrackId: 'c1', cardData: { cardParamMap: { msgTitle: '新标题' } }, cardUpdateOptions: { updateCardDataByKey: true } });
    expect(fake.instances.get('c1')!.cardParamMap).toMatchObject({ msgTitle: '新标题', msgContent: '正文' });
    await api.call('PUT', '/v1.0/card/instances', { outTrackId: 'c1', cardData: { cardParamMap: { msgTitle: '只剩标题' } } });
    expect(fake.instances.get('c1')!.cardParamMap).toEqual({ msgTitle: '只剩标题' });
    expect(await codeOf(api.call('PUT', '/v1.0/card/instances', { outTrackId: 'nope', cardData: { cardParamMap: {} } }))).toBe('param.cardNotExist');
  });

  it('7 sends no click back for a card created without callbackType STREAM, or with nobody subscribed', async () => {
    await create('c2', { callbackType: undefined });
    expect(fake.click('c2', 'dt604924', 'b1')).toBeUndefined();
    expect(fake.droppedClicks.at(-1)).toEqual({ outTrackId: 'c2', reason: 'card not created with callbackType STREAM' });
    await create('c3');
    // No stream client is connected in this test.
    expect(fake.click('c3', 'dt604924', 'b1')).toBeUndefined();
    expect(fake.droppedClicks.at(-1)?.reason).toBe('no connection subscribed the card topic');
  });

  it('7 takes at most 20 userIds per batchSend and names invalid and flow-controlled ones', async () => {
    const send = (userIds: string[]) => api.call<{ invalidStaffIdList: string[]; flowControlledStaffIdList: string[] }>('POST', '/v1.0/robot/oToMessages/batchSend', { robotCode: CLIENT_ID, userIds, msgKey: 'sampleText', msgParam: '{"content":"x"}' });
    expect(await codeOf(send(Array.from({ length: 21 }, (_, i) => `u${i}`)))).toBe('param.error');
    fake.opts.knownUserIds.push('u1', 'u2');
    fake.flowControl('u2');
    const r = await send(['u1', 'u2', 'u3']);
    expect(r.invalidStaffIdList).toEqual(['u3']);
    expect(r.flowControlledStaffIdList).toEqual(['u2']);
    expect(fake.oto.at(-1)!.userIds).toEqual(['u1']);
  });
});
