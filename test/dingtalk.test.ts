import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actions, button, card, text } from '../cards/builders.js';
import { NOT_ON_ROSTER } from '../src/bot/bot.js';
import { PlatformError } from '../src/errors.js';
import { recordFilesDialogue } from './helpers/file-dialogue.js';
import { PUBLIC_AI_TEMPLATE } from './fakes/dingtalk/cards.js';
import { CLIENT_ID, startDingTalkApp, waitFor, type DingTalkHarness } from './fakes/dingtalk/harness.js';

// Staff from examples/roster.csv: S0001 林雨桐 = dt604924, S0002 何嘉伟 (admin) = dt319380,
// S0003 = dt745280, S0004 = dt607302.
describe('DingTalk adapter end to end (dingtalk-stream SDK against the fake; real Redis + PostgreSQL)', () => {
  let h: DingTalkHarness;
  const clicks: unknown[] = [];
  let receivedFiles: { name: string; ref: string }[] = [];
  beforeAll(async () => {
    h = await startDingTalkApp('dingtalk_e2e');
    const bot = h.t.app.bot;
    // A tiny test-only command whose card has a button, and the button's handler.
    bot.command({ names: ['测试卡片'], summary: 'test only', group: '测试' }, async () =>
      card('待确认事项', [text('请确认。'), actions(button('确认', 'test.confirm', { id: 'X-1', v: 3 }, { style: 'primary' }))]),
    );
    bot.action('test.confirm', async (ctx) => {
      clicks.push({ value: ctx.value, staff: ctx.staff.staffId, messageId: ctx.messageId });
      return { card: card('已确认', [text(`事项 ${String(ctx.value.id)} 已由 ${ctx.staff.name} 确认。`)], 'green') };
    });
    receivedFiles = recordFilesDialogue(bot);
  });
  afterAll(async () => {
    await h?.dispose();
  });

  const cardsTo = (userId: string) => h.fake.cardsTo(userId).filter((c) => c.space.type === 'IM_ROBOT');
  const titled = (userId: string, title: string) => cardsTo(userId).find((c) => h.fake.view(c.outTrackId).title === title);

  it('1 answers 帮助 in a one-to-one chat with a card instance (STREAM callbacks) in that chat', async () => {
    h.fake.userSays({ staffId: 'dt604924', text: '帮助' });
    const sent = await waitFor('help card to dt604924', () => cardsTo('dt604924')[0]);
    expect(h.fake.view(sent.outTrackId).title).toContain('帮助');
    expect(h.fake.view(sent.outTrackId).content).toContain('林雨桐');
    expect(sent).toMatchObject({ templateId: PUBLIC_AI_TEMPLATE, callbackType: 'STREAM', space: { type: 'IM_ROBOT', id: 'dt604924' } });
    // The call carried the token header and the one-to-one space models the platform expects.
    const call = h.fake.received.find((r) => r.path === '/v1.0/card/instances/createAndDeliver');
    expect(call?.token).toMatch(/^fake_token_/);
    expect(call?.body).toMatchObject({ userIdType: 1, openSpaceId: 'dtv1.card//IM_ROBOT.dt604924', imRobotOpenDeliverModel: { spaceType: 'IM_ROBOT', robotCode: CLIENT_ID } });
    // The legacy StandardCard API, closed to new apps, is never called.
    expect(h.fake.received.filter((r) => r.path.startsWith('/v1.0/im/v1.0/robot/interactiveCards') || r.path === '/v1.0/im/robots/interactiveCards')).toHaveLength(0);
  });

  it('turns picture and file messages into files with dingtalk refs', async () => {
    h.fake.userSays({ staffId: 'dt607302', text: '测试文件' });
    await waitFor('file prompt', () => h.t.app.bot.dialogueStore.get('S0004'));
    h.fake.userSays({ staffId: 'dt607302', text: '', picture: { downloadCode: 'dlcode_picture_0001' } });
    await waitFor('picture received', () => receivedFiles.length === 1);
    expect(receivedFiles[0]).toEqual({ name: '图片', ref: 'dingtalk:dlcode_picture_0001' });
    h.fake.userSays({ staffId: 'dt607302', text: '测试文件' });
    await waitFor('file prompt again', () => h.t.app.bot.dialogueStore.get('S0004'));
    h.fake.userSays({ staffId: 'dt607302', text: '', file: { downloadCode: 'dlcode_file_0002', fileName: '说明.pdf' } });
    await waitFor('file received', () => receivedFiles.length === 2);
    expect(receivedFiles[1]).toEqual({ name: '说明.pdf', ref: 'dingtalk:dlcode_file_0002' });
  });

  it('answers an @-mention in a group with the card in that group', async () => {
    const group = { openConversationId: 'cidGroupE2E0001==', title: '医务科工作群' };
    h.fake.userSays({ staffId: 'dt319380', text: '帮助', group });
    const sent = await waitFor('help card in the group', () => h.fake.cardsTo(group.openConversationId)[0]);
    expect(sent.space.type).toBe('IM_GROUP');
    expect(h.fake.view(sent.outTrackId).title).toContain('帮助');
    expect(h.fake.view(sent.outTrackId).content).toContain('何嘉伟');
    expect(h.fake.view(sent.outTrackId).content).toContain('管理员');
    const call = h.fake.received.find((r) => r.path === '/v1.0/card/instances/createAndDeliver' && (r.body as { openSpaceId: string }).openSpaceId.includes('IM_GROUP'));
    expect(call?.body).toMatchObject({ openSpaceId: `dtv1.card//IM_GROUP.${group.openConversationId}`, imGroupOpenDeliverModel: { robotCode: CLIENT_ID } });
  });

  it('7 ignores a group message that does not @ the robot (the platform never delivers it)', async () => {
    const group = { openConversationId: 'cidGroupE2E0001==' };
    const before = h.fake.cardsTo(group.openConversationId).length;
    const { messageId } = h.fake.userSays({ staffId: 'dt319380', text: '帮助', group, mentioned: false });
    expect(messageId).toBe('');
    h.fake.userSays({ staffId: 'dt319380', text: '帮助', group });
    await waitFor('the @-mention answered', () => h.fake.cardsTo(group.openConversationId).length === before + 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(h.fake.cardsTo(group.openConversationId)).toHaveLength(before + 1);
  });

  it('3 routes a click to its handler, greys the button in the ack within 2 s, then updates the card in place', async () => {
    h.fake.userSays({ staffId: 'dt745280', text: '测试卡片' });
    const sent = await waitFor('test card', () => titled('dt745280', '待确认事项'));
    const [btn] = h.fake.buttonsOf(sent.outTrackId);
    expect(btn?.label).toBe('确认');
    // Clicks work, so the card carries no typed-code note.
    expect(h.fake.view(sent.outTrackId).content).not.toContain('如点击按钮没有反应');
    const messageId = h.fake.click(sent.outTrackId, 'dt745280', btn!.id)!;
    await waitFor('card update', () => h.fake.instances.get(sent.outTrackId)!.updates === 1);
    const ack = h.fake.cardAcks.find((a) => a.messageId === messageId)!;
    expect(ack.late).toBe(false);
    expect(ack.latencyMs).toBeLessThan(2000);
    expect(ack.response).toMatchObject({ userPrivateData: { cardParamMap: { pending: 'true' } } });
    expect(h.fake.putsInsideCallback).toEqual([]);
    expect(h.fake.view(sent.outTrackId).title).toBe('已确认');
    expect(h.fake.view(sent.outTrackId).content).toContain('已由 郑国栋 确认');
    // The clicker's private view was reset with the update.
    expect(h.fake.view(sent.outTrackId, 'dt745280').title).toBe('已确认');
    expect(clicks).toEqual([{ value: { id: 'X-1', v: 3 }, staff: 'S0003', messageId: sent.outTrackId }]);
  });

  it('3 refuses a click from someone the one-to-one card was not sent to, and acts on nothing', async () => {
    h.fake.userSays({ staffId: 'dt604924', text: '测试卡片' });
    const sent = await waitFor('test card', () => titled('dt604924', '待确认事项'));
    const before = clicks.length;
    h.fake.click(sent.outTrackId, 'dt607302', h.fake.buttonsOf(sent.outTrackId)[0]!.id);
    const told = await waitFor('refusal to the stranger', () => h.fake.oto.find((m) => m.userIds.includes('dt607302') && String(m.msgParam.content).includes('不是发给您的')));
    expect(told.msgKey).toBe('sampleText');
    expect(clicks.length).toBe(before);
    expect(h.fake.instances.get(sent.outTrackId)!.updates).toBe(0);
  });

  it('3 acts once on a card callback whose ack was lost and that came again', async () => {
    h.fake.userSays({ staffId: 'dt319380', text: '测试卡片' });
    const sent = await waitFor('test card', () => titled('dt319380', '待确认事项'));
    const before = clicks.length;
    h.fake.ignoreAcks(1);
    const messageId = h.fake.click(sent.outTrackId, 'dt319380', h.fake.buttonsOf(sent.outTrackId)[0]!.id)!;
    await waitFor('redelivery acknowledged', () => h.fake.acks.includes(messageId), 10_000);
    expect(h.fake.deliveries.filter((d) => d.messageId === messageId)).toHaveLength(2);
    await waitFor('card updated', () => h.fake.instances.get(sent.outTrackId)!.updates >= 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(clicks.length - before).toBe(1);
    expect(h.fake.instances.get(sent.outTrackId)!.updates).toBe(1);
  });

  it('keeps typed twins working: 点 CODE N runs the action as the click would', async () => {
    // The codes are registered for every card (the markdown fallback shows them); typing one works.
    h.fake.userSays({ staffId: 'dt604924', text: '测试卡片' });
    await waitFor('test card', () => titled('dt604924', '待确认事项'));
    const redis = h.t.app.bot.deps.redis;
    const keys = await redis.keys(`${h.t.prefix}:btn:*`);
    const values = await Promise.all(keys.map((k) => redis.get(k)));
    const code = keys[values.findIndex((v) => v?.includes('test.confirm'))]!.split(':').at(-1)!;
    const before = clicks.length;
    const answers = cardsTo('dt604924').length;
    h.fake.userSays({ staffId: 'dt604924', text: `点 ${code} 1` });
    const answer = await waitFor('answer card', () => (cardsTo('dt604924').length > answers ? titled('dt604924', '已确认') : undefined));
    expect(h.fake.view(answer.outTrackId).content).toContain('已由 林雨桐 确认');
    expect(clicks.slice(before)).toEqual([{ value: { id: 'X-1', v: 3 }, staff: 'S0001', messageId: '' }]);
  });

  it('handles an unacknowledged, redelivered message once', async () => {
    h.fake.ignoreAcks(1);
    const { messageId } = h.fake.userSays({ staffId: 'dt607302', text: '帮助' });
    await waitFor('redelivery acknowledged', () => h.fake.acks.includes(messageId));
    expect(h.fake.deliveries.filter((d) => d.messageId === messageId).length).toBeGreaterThanOrEqual(2);
    // A later message from the same user is handled after the redelivery (per-user order),
    // so once its answer is there, a second answer to the first would be there too.
    h.fake.userSays({ staffId: 'dt607302', text: 'help' });
    await waitFor('second help card', () => cardsTo('dt607302').length >= 2);
    await waitFor('all handling finished', () => new Set(h.fake.deliveries.map((d) => d.messageId)).size === new Set(h.fake.acks).size);
    expect(cardsTo('dt607302')).toHaveLength(2);
  });

  it('tells a sender who is not on the roster how to get added', async () => {
    h.fake.userSays({ staffId: 'dt_stranger_01', text: '帮助' });
    const msg = await waitFor('roster message', () => h.fake.oto.find((m) => m.userIds.includes('dt_stranger_01')));
    expect(msg.msgKey).toBe('sampleText');
    expect(msg.msgParam.content).toBe(NOT_ON_ROSTER);
    expect(cardsTo('dt_stranger_01')).toHaveLength(0);
  });

  it('refreshes an expired token once for twenty concurrent sends', async () => {
    await h.adapter.sendText({ conversation: { type: 'direct', platformUserId: 'dt604924' } }, '预热');
    h.fake.expireTokens();
    const tokensBefore = h.fake.tokenRequests;
    const sentBefore = h.fake.oto.length;
    await Promise.all(Array.from({ length: 20 }, (_, i) => h.adapter.sendText({ conversation: { type: 'direct', platformUserId: 'dt604924' } }, `通知 ${i}`)));
    expect(h.fake.tokenRequests - tokensBefore).toBe(1);
    expect(h.fake.oto.length - sentBefore).toBe(20);
  });

  it('retries 429 and 5xx with backoff, and does not retry a 400', async () => {
    const path = '/v1.0/robot/oToMessages/batchSend';
    const to = { conversation: { type: 'direct' as const, platformUserId: 'dt604924' } };
    const before = h.fake.received.filter((r) => r.path === path).length;
    h.fake.failNext(path, 429, 'Forbidden.AccessDenied.QpsLimitForApi', 1);
    h.fake.failNext(path, 503, 'ServiceUnavailable', 1);
    await h.adapter.sendText(to, '重试测试');
    expect(h.fake.received.filter((r) => r.path === path).slice(before).map((r) => r.status)).toEqual([429, 503, 200]);

    const before400 = h.fake.received.filter((r) => r.path === path).length;
    h.fake.failNext(path, 400, 'param.error', 1);
    const err = await h.adapter.sendText(to, '坏请求').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect((err as PlatformError).code).toBe('param.error');
    expect((err as PlatformError).retryable).toBe(false);
    expect(h.fake.received.filter((r) => r.path === path).length - before400).toBe(1);
  });

  it('uploads an export and sends it as a file message', async () => {
    await h.adapter.sendFile({ conversation: { type: 'direct', platformUserId: 'dt319380' } }, { name: '统计.xlsx', data: Buffer.from('PK fake xlsx'), mime: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' });
    const msg = h.fake.oto.find((m) => m.msgKey === 'sampleFile');
    expect(msg?.msgParam).toMatchObject({ fileName: '统计.xlsx', fileType: 'xlsx' });
    expect(h.fake.media.get(String(msg?.msgParam.mediaId))).toMatchObject({ type: 'file', name: '统计.xlsx' });
  });

  it('1 sends a card with an idempotency key only once: a retry answered cardAlreadyExist counts as sent', async () => {
    const to = { conversation: { type: 'direct' as const, platformUserId: 'dt604924' }, idempotencyKey: 'campaign-7:S0001' };
    const a = await h.adapter.sendCard(to, card('月度学习', [text('本月学习已开始。')]));
    const b = await h.adapter.sendCard(to, card('月度学习', [text('本月学习已开始。')]));
    expect(a.messageId).toBe('campaign-7:S0001');
    expect(b.messageId).toBe(a.messageId);
    expect(h.fake.instances.get('campaign-7:S0001')?.createRequests).toBe(2);
    expect(h.fake.received.filter((r) => r.path === '/v1.0/card/instances/createAndDeliver' && r.status === 400).map((r) => r.body)).toHaveLength(1);
    expect(cardsTo('dt604924').filter((c) => c.outTrackId === 'campaign-7:S0001')).toHaveLength(1);
  });

  it('1 treats a per-space failure inside HTTP 200 as a failed send', async () => {
    h.fake.opts.knownUserIds.push('dt604924', 'dt319380', 'dt745280', 'dt607302');
    try {
      const err = await h.adapter.sendCard({ conversation: { type: 'direct', platformUserId: 'dt_left_the_org' } }, card('通知', [text('内容')])).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PlatformError);
      expect((err as PlatformError).code).toBe('deliverFailed');
      expect((err as PlatformError).retryable).toBe(false);
    } finally {
      h.fake.opts.knownUserIds.length = 0;
    }
  });

  it('reports DingTalk healthy on /healthz while connected', async () => {
    const r = await fetch(`${h.t.url}/healthz`);
    expect(await r.json()).toMatchObject({ platforms: { dingtalk: 'ok' } });
    expect(r.status).toBe(200);
  });
});
