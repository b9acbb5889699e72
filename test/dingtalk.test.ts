import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actions, button, card, text } from '../cards/builders.js';
import { NOT_ON_ROSTER } from '../src/bot/bot.js';
import { PlatformError } from '../src/errors.js';
import { recordFilesDialogue } from './helpers/file-dialogue.js';
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
    bot.command({ names: ['测试卡片'], usage: '测试卡片', summary: 'test only', group: '测试' }, async () =>
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

  const cardsTo = (userId: string) => [...h.fake.cards.values()].filter((c) => 'userId' in c.target && c.target.userId === userId);

  it('answers 帮助 in a one-to-one chat with the help card in that chat', async () => {
    h.fake.userSays({ staffId: 'dt604924', text: '帮助' });
    const sent = await waitFor('help card to dt604924', () => cardsTo('dt604924')[0]);
    expect(sent.cardData.header.title.text).toContain('帮助');
    expect(JSON.stringify(sent.cardData)).toContain('林雨桐');
    // The call carried the token header the platform expects.
    const call = h.fake.received.find((r) => r.path === '/v1.0/im/v1.0/robot/interactiveCards/send');
    expect(call?.token).toMatch(/^fake_token_/);
    expect((call?.body as { robotCode: string }).robotCode).toBe(CLIENT_ID);
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
    const sent = await waitFor('help card in the group', () =>
      [...h.fake.cards.values()].find((c) => 'openConversationId' in c.target && c.target.openConversationId === group.openConversationId),
    );
    expect(sent.cardData.header.title.text).toContain('帮助');
    expect(JSON.stringify(sent.cardData)).toContain('何嘉伟');
    expect(JSON.stringify(sent.cardData)).toContain('管理员');
  });

  it('routes a card button click to its handler and updates the card in place', async () => {
    h.fake.userSays({ staffId: 'dt745280', text: '测试卡片' });
    const sent = await waitFor('test card', () => cardsTo('dt745280').find((c) => c.cardData.header.title.text === '待确认事项'));
    const [btn] = h.fake.buttonsOf(sent.cardBizId);
    expect(btn?.label).toBe('确认');
    h.fake.click(sent.cardBizId, 'dt745280', btn!.id);
    await waitFor('card update', () => h.fake.cards.get(sent.cardBizId)!.updates === 1);
    expect(h.fake.cards.get(sent.cardBizId)!.cardData.header.title.text).toBe('已确认');
    expect(JSON.stringify(h.fake.cards.get(sent.cardBizId)!.cardData)).toContain('X-1');
    expect(clicks).toEqual([{ value: { id: 'X-1', v: 3 }, staff: 'S0003', messageId: sent.cardBizId }]);
  });

  it('names a typed twin for every button, and 点 CODE N runs the action as the click would', async () => {
    h.fake.userSays({ staffId: 'dt604924', text: '测试卡片' });
    const sent = await waitFor('test card', () => cardsTo('dt604924').find((c) => c.cardData.header.title.text === '待确认事项'));
    const m = /如点击按钮没有反应，可直接回复：点 ([2-9A-Z]{4}) 1（确认）。/.exec(JSON.stringify(sent.cardData));
    expect(m).not.toBeNull();
    const before = clicks.length;
    h.fake.userSays({ staffId: 'dt604924', text: `点 ${m![1]} 1` });
    const answer = await waitFor('answer card', () => cardsTo('dt604924').find((c) => c.cardData.header.title.text === '已确认'));
    expect(JSON.stringify(answer.cardData)).toContain('已由 林雨桐 确认');
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
    await waitFor('all handling finished', () => h.fake.acks.length >= h.fake.deliveries.length - 1);
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

  it('sends a card with an idempotency key only once', async () => {
    const to = { conversation: { type: 'direct' as const, platformUserId: 'dt604924' }, idempotencyKey: 'campaign-7:S0001' };
    const a = await h.adapter.sendCard(to, card('月度学习', [text('本月学习已开始。')]));
    const b = await h.adapter.sendCard(to, card('月度学习', [text('本月学习已开始。')]));
    expect(a.messageId).toBe('campaign-7:S0001');
    expect(b.messageId).toBe(a.messageId);
    expect(h.fake.cards.get('campaign-7:S0001')?.sends).toBe(2);
    expect(cardsTo('dt604924').filter((c) => c.cardBizId === 'campaign-7:S0001')).toHaveLength(1);
  });

  it('reports DingTalk healthy on /healthz while connected', async () => {
    const r = await fetch(`${h.t.url}/healthz`);
    expect(await r.json()).toMatchObject({ platforms: { dingtalk: 'ok' } });
    expect(r.status).toBe(200);
  });
});
