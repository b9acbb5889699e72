import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actions, button, card, fields, form, markdown, text } from '../cards/builders.js';
import { NOT_ON_ROSTER, SENT_PRIVATELY } from '../src/bot/bot.js';
import { FileTooLargeError, PlatformError } from '../src/errors.js';
import { createLogger } from '../src/logger.js';
import { FeishuPlatform, feishuUuid } from '../src/platform/feishu/adapter.js';
import { SandboxPlatform } from '../src/platform/sandbox/adapter.js';
import { recordFilesDialogue } from './helpers/file-dialogue.js';
import { ask, startTestApp, type TestApp } from './helpers/app.js';
import { FakeFeishu, type StoredMessage } from './fakes/feishu/server.js';

/**
 * The Feishu adapter end to end: the real @larksuiteoapi/node-sdk (WSClient + Client) against
 * the fake Feishu on loopback, with the whole bot on real Redis and PostgreSQL.
 */

const APP_ID = 'cli_a1b2c3d4e5f60718';
const APP_SECRET = 'fake-secret-for-tests-0001';
// From examples/roster.csv: S0001 林雨桐 (staff), S0002 何嘉伟 (admin).
const S0001 = 'ou_9617f0dc71bd20fc4c91750d723fd04e';
const S0002 = 'ou_f9af7c8a757185ac6a9ed4dd6d3b539e';
const STRANGER = 'ou_00000000000000000000000000000bad';

const silent = createLogger('silent');

async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const cardOf = (m: StoredMessage) => JSON.parse(m.history[m.history.length - 1]) as { header: { title: { content: string } }; body: { elements: unknown[] } };

describe('Feishu adapter through the real SDK against the fake Feishu', () => {
  let fake: FakeFeishu;
  let feishu: FeishuPlatform;
  let t: TestApp;
  const waits: number[] = [];
  let receivedFiles: { name: string; ref: string }[] = [];

  /** Sends a message as a user and waits for `count` new bot messages to `to`. */
  async function converse(opts: Parameters<FakeFeishu['deliverMessage']>[0], to: string, count = 1): Promise<StoredMessage[]> {
    const before = fake.sentTo(to).length;
    const { answer } = fake.deliverMessage(opts);
    expect((await answer).code).toBe(200);
    return waitFor(`${count} replies to ${to}`, () => {
      const all = fake.sentTo(to);
      return all.length >= before + count && all.slice(before);
    });
  }

  beforeAll(async () => {
    fake = new FakeFeishu({ appId: APP_ID, appSecret: APP_SECRET, pingInterval: 2, reconnectInterval: 1, reconnectNonce: 0 });
    await fake.start();
    feishu = new FeishuPlatform({
      appId: APP_ID,
      appSecret: APP_SECRET,
      domain: fake.base,
      logger: silent,
      // Shorter than the fake's 2 s ping interval, so the watchdog can fire (it is re-armed at every ping).
      pingTimeoutSeconds: 1,
      api: {
        sleep: (ms) => {
          waits.push(ms);
          return new Promise((r) => setTimeout(r, ms));
        },
      },
    });
    // The sandbox runs alongside, as a second platform would.
    t = await startTestApp({
      label: 'feishu_e2e',
      platforms: [feishu, new SandboxPlatform()],
      env: { FEISHU_APP_ID: APP_ID, FEISHU_APP_SECRET: APP_SECRET, FEISHU_DOMAIN: fake.base },
    });
    const bot = t.app.bot;
    bot.command({ names: ['测试卡片'], summary: 'test only', group: '测试' }, async () =>
      card('测试卡片', [
        markdown('请确认或填写：'),
        actions(button('确认', 'test.confirm', { id: 'X1' }, { style: 'primary' }), button('慢一点', 'test.slow', { id: 'X2' })),
        form(
          'test.form',
          [
            { kind: 'text', name: 'note', label: '备注', required: true },
            { kind: 'select', name: 'kind', label: '类型', options: [{ label: '礼品', value: 'gift' }, { label: '礼金', value: 'cash' }] },
            { kind: 'date', name: 'day', label: '日期' },
          ],
          { submitLabel: '提交登记', value: { d: 'D-1' } },
        ),
      ]),
    );
    bot.action('test.confirm', async (ctx) => ({ toast: `已确认 ${String(ctx.value.id)}`, card: card('已确认', [text(`记录 ${String(ctx.value.id)} 已确认`)], 'green') }));
    bot.action('test.slow', async (ctx) => {
      await new Promise((r) => setTimeout(r, 3_500));
      return { toast: '完成', card: card('慢操作完成', [text(`记录 ${String(ctx.value.id)} 已处理`)]) };
    });
    bot.action('test.form', async (ctx) => ({
      toast: '已提交',
      card: card('已提交', [fields({ 单号: String(ctx.value.d), 备注: ctx.form?.note ?? '', 类型: ctx.form?.kind ?? '', 日期: ctx.form?.day ?? '' })]),
    }));
    receivedFiles = recordFilesDialogue(bot);
  });

  afterAll(async () => {
    await t?.dispose();
    await fake?.stop();
  });

  it('answers 帮助 in a one-to-one chat with a JSON 2.0 card, sent by open_id with a uuid', async () => {
    const [reply] = await converse({ senderOpenId: S0001, text: '帮助' }, S0001);
    expect(reply.msg_type).toBe('interactive');
    expect(reply.receive_id_type).toBe('open_id');
    expect(reply.uuid).toMatch(/^[\w-]{1,50}$/);
    const c = cardOf(reply);
    expect(c.header.title.content).toContain('帮助');
    expect(JSON.stringify(c)).toContain('林雨桐');
    const sent = fake.calls('message.create').at(-1)!;
    expect(String(sent.headers.authorization)).toMatch(/^Bearer t-/);
  });

  it('turns image and file messages into files with feishu refs, in a dialogue and outside one', async () => {
    await converse({ senderOpenId: S0001, text: '测试文件' }, S0001);
    const [got] = await converse({ senderOpenId: S0001, text: '', image: { imageKey: 'img_v3_02ab_test' }, messageId: 'om_img_0001' }, S0001);
    expect(JSON.stringify(got)).toContain('收到文件');
    expect(receivedFiles).toEqual([{ name: '图片', ref: 'feishu:image:om_img_0001:img_v3_02ab_test' }]);
    await converse({ senderOpenId: S0001, text: '测试文件' }, S0001);
    await converse({ senderOpenId: S0001, text: '', file: { fileKey: 'file_v3_00ab_test', fileName: '说明.pdf' }, messageId: 'om_file_0001' }, S0001);
    expect(receivedFiles[1]).toEqual({ name: '说明.pdf', ref: 'feishu:file:om_file_0001:file_v3_00ab_test' });
    // Without a dialogue, a file gets the polite pointer to the declaration card.
    const [polite] = await converse({ senderOpenId: S0001, text: '', image: { imageKey: 'img_v3_02ab_other' } }, S0001);
    expect(JSON.stringify(polite)).toContain('添加照片或文件');
  });

  it('answers 帮助 in a group only when the bot is @-mentioned, replying to the chat', async () => {
    const chat = 'oc_group_cardiology_0001';
    fake.addChat(chat);
    const { answer } = fake.deliverMessage({ senderOpenId: S0001, text: '帮助', chatType: 'group', chatId: chat });
    expect((await answer).code).toBe(200);
    const [reply] = await converse(
      {
        senderOpenId: S0001,
        text: '@_user_1 帮助',
        chatType: 'group',
        chatId: chat,
        mentions: [{ key: '@_user_1', openId: fake.botOpenId, name: '清廉助手' }],
      },
      chat,
    );
    expect(reply.receive_id_type).toBe('chat_id');
    expect(cardOf(reply).header.title.content).toContain('帮助');
    expect(fake.sentTo(chat)).toHaveLength(1);
  });

  it('13.1 answers a confidential command asked in a Feishu group with a note there and the content to the asker by open_id', async () => {
    const chat = 'oc_group_cardiology_0002';
    fake.addChat(chat);
    const before = fake.sentTo(S0001).length;
    const [note] = await converse(
      { senderOpenId: S0001, text: '@_user_1 我的申报', chatType: 'group', chatId: chat, mentions: [{ key: '@_user_1', openId: fake.botOpenId, name: '清廉助手' }] },
      chat,
    );
    expect(note.receive_id_type).toBe('chat_id');
    expect(JSON.parse(note.history[note.history.length - 1])).toEqual({ text: SENT_PRIVATELY });
    const [mine] = await waitFor('the private answer', () => fake.sentTo(S0001).length > before && fake.sentTo(S0001).slice(before));
    expect(mine.receive_id_type).toBe('open_id');
    expect(mine.history.join('')).toContain('上缴申报');
    expect(fake.sentTo(chat)).toHaveLength(1);
  });

  it('runs a button callback and a form submission through their handlers and updates the card', async () => {
    const [sent] = await converse({ senderOpenId: S0002, text: '测试卡片' }, S0002);
    expect(cardOf(sent).header.title.content).toBe('测试卡片');

    const click = fake.deliverCardAction({ operatorOpenId: S0002, messageId: sent.message_id, value: fake.callbackValue(sent.message_id, '确认') });
    const a = await click.answer;
    expect(a.code).toBe(200);
    expect(a.data).toMatchObject({ toast: { content: '已确认 X1' }, card: { type: 'raw', data: { schema: '2.0', header: { title: { content: '已确认' } } } } });
    expect(cardOf(fake.messages.get(sent.message_id)!).header.title.content).toBe('已确认');

    const [form2] = await converse({ senderOpenId: S0002, text: '测试卡片' }, S0002);
    const submit = fake.deliverCardAction({
      operatorOpenId: S0002,
      messageId: form2.message_id,
      value: fake.callbackValue(form2.message_id, '提交登记'),
      name: 'submit',
      formValue: { note: '茶叶 **一盒**', kind: 'gift', day: '2026-11-20 +0800' },
    });
    const b = await submit.answer;
    expect(b.code).toBe(200);
    expect(b.data).toMatchObject({ toast: { content: '已提交' } });
    const updated = JSON.stringify(cardOf(fake.messages.get(form2.message_id)!));
    expect(updated).toContain('D-1');
    expect(updated).toContain('2026-11-20');
    expect(updated).toContain('gift');
    // The user's ** shows as typed, not as bold.
    expect(updated).toContain('茶叶 &#42;&#42;一盒&#42;&#42;');
  });

  it('answers a slow card action within the time limit and updates the card when done', async () => {
    const [sent] = await converse({ senderOpenId: S0002, text: '测试卡片' }, S0002);
    const patchesBefore = fake.calls('message.patch').length;
    const click = fake.deliverCardAction({ operatorOpenId: S0002, messageId: sent.message_id, value: fake.callbackValue(sent.message_id, '慢一点') });
    const a = await click.answer;
    expect(a.data).toMatchObject({ toast: { content: '正在处理，请稍候…' } });
    expect((a.data as { card?: unknown }).card).toBeUndefined();
    await waitFor('the card PATCH', () => fake.calls('message.patch').length > patchesBefore);
    expect(cardOf(fake.messages.get(sent.message_id)!).header.title.content).toBe('慢操作完成');
  });

  it('handles the same event delivered twice only once', async () => {
    const eventId = 'dup_event_0001';
    await converse({ senderOpenId: S0001, text: '帮助', eventId }, S0001);
    const again = fake.deliverMessage({ senderOpenId: S0001, text: '帮助', eventId });
    expect((await again.answer).code).toBe(200);
    const before = fake.sentTo(S0001).length;
    // A later, different message proves the queue moved on without a reply to the duplicate.
    await converse({ senderOpenId: S0001, text: 'help' }, S0001);
    expect(fake.sentTo(S0001).length).toBe(before + 1);

    const [sent] = await converse({ senderOpenId: S0002, text: '测试卡片' }, S0002);
    const value = fake.callbackValue(sent.message_id, '确认');
    const first = await fake.deliverCardAction({ operatorOpenId: S0002, messageId: sent.message_id, value, eventId: 'dup_card_0001' }).answer;
    const second = await fake.deliverCardAction({ operatorOpenId: S0002, messageId: sent.message_id, value, eventId: 'dup_card_0001' }).answer;
    expect(first.data).toMatchObject({ toast: { content: '已确认 X1' } });
    expect(second.data ?? {}).toEqual({});
  });

  it('13.14 the same message id under two event ids is handled once: one draft, one reply', async () => {
    const drafts = async () =>
      Number((await t.app.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM declarations WHERE declarant_id = 'S0001' AND state = 'draft'`)).rows[0].n);
    const draftsBefore = await drafts();
    const messageId = 'om_dup_message_00000001';
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
    const line = `上缴 礼金 500 患者家属 ${today} 存入住院账户`;
    const [reply] = await converse({ senderOpenId: S0001, text: line, eventId: 'dup_msg_event_a', messageId }, S0001);
    expect(JSON.stringify(JSON.parse(reply.content))).toContain('500');
    const again = fake.deliverMessage({ senderOpenId: S0001, text: line, eventId: 'dup_msg_event_b', messageId });
    expect((await again.answer).code).toBe(200);
    const before = fake.sentTo(S0001).length;
    // A later, different message proves the queue moved on without handling the redelivery.
    await converse({ senderOpenId: S0001, text: '帮助' }, S0001);
    expect(fake.sentTo(S0001).length).toBe(before + 1);
    expect(await drafts()).toBe(draftsBefore + 1);
  });

  it('retries a send with the same uuid: after a 5xx, and when the bot sends the same key again', async () => {
    const calls = fake.calls('message.create').length;
    fake.fail('message.create', { status: 500 });
    const key = 'campaign:2026-11:S0002';
    const first = await t.app.bot.send('feishu', { type: 'direct', platformUserId: S0002 }, '本月学习任务已发布。', key);
    const second = await t.app.bot.send('feishu', { type: 'direct', platformUserId: S0002 }, '本月学习任务已发布。', key);
    expect(second.messageId).toBe(first.messageId);
    const reqs = fake.calls('message.create').slice(calls);
    expect(reqs.map((r) => r.status)).toEqual([500, 200, 200]);
    expect(new Set(reqs.map((r) => (r.body as { uuid: string }).uuid))).toEqual(new Set([feishuUuid(key)]));
    expect(fake.sentTo(S0002).filter((m) => m.uuid === feishuUuid(key))).toHaveLength(1);
  });

  it('waits out a 429 for the seconds in x-ogw-ratelimit-reset, and the older 400 + 99991400 form too', async () => {
    waits.length = 0;
    const calls = fake.calls('message.create').length;
    fake.fail('message.create', fake.rateLimited(1));
    await t.app.bot.send('feishu', { type: 'direct', platformUserId: S0002 }, '限流测试一');
    fake.fail('message.create', fake.rateLimitedLegacy(2));
    await t.app.bot.send('feishu', { type: 'direct', platformUserId: S0002 }, '限流测试二');
    expect(waits).toEqual([1000, 2000]);
    expect(fake.calls('message.create').slice(calls).map((r) => r.status)).toEqual([429, 200, 400, 200]);
  });

  it('does not retry a 400: it becomes a PlatformError with the platform code', async () => {
    const calls = fake.calls('message.create').length;
    fake.fail('message.create', { status: 400, code: 230013, msg: 'Bot has NO availability to this user.' });
    const err = await t.app.bot.send('feishu', { type: 'direct', platformUserId: S0002 }, '不会送达').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect(err).toMatchObject({ platform: 'feishu', code: 230013, retryable: false });
    expect(fake.calls('message.create').length).toBe(calls + 1);
  });

  it('fetches a new tenant token when the old one has expired', async () => {
    const tokens = fake.calls('token').length;
    fake.expireTokens();
    await t.app.bot.send('feishu', { type: 'direct', platformUserId: S0002 }, '令牌过期后仍可发送。');
    expect(fake.calls('token').length).toBe(tokens + 1);
    expect(fake.calls('message.create').at(-2)!.response).toMatchObject({ code: 99991663 });
  });

  it('uploads images and files and sends the file as a message', async () => {
    const key = await feishu.uploadImage({ name: 'chart.png', data: Buffer.from('\x89PNG fake image bytes'), mime: 'image/png' });
    expect(key).toMatch(/^img_v3_/);
    const sent = await feishu.sendFile({ conversation: { type: 'direct', platformUserId: S0002 } }, { name: '学习进度.xlsx', data: Buffer.from('PK fake xlsx'), mime: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' });
    const msg = fake.messages.get(sent.messageId)!;
    expect(msg.msg_type).toBe('file');
    const fileKey = (JSON.parse(msg.content) as { file_key: string }).file_key;
    expect(fake.files.get(fileKey)).toMatchObject({ name: '学习进度.xlsx', type: 'xls' });
    // 16: a photo is sent as an image message, which the chat shows, not as a file to download.
    const photo = await feishu.sendFile({ conversation: { type: 'direct', platformUserId: S0002 } }, { name: '红包照片.jpg', data: Buffer.from('\xff\xd8 fake jpeg'), mime: 'image/jpeg' });
    const shown = fake.messages.get(photo.messageId)!;
    expect(shown.msg_type).toBe('image');
    expect(fake.images.has((JSON.parse(shown.content) as { image_key: string }).image_key)).toBe(true);
    const empty = await feishu.uploadImage({ name: 'empty.png', data: Buffer.alloc(0), mime: 'image/png' }).catch((e: unknown) => e);
    expect(empty).toMatchObject({ code: 234010, retryable: false });
  });

  it('downloads the bytes of an image or file a user sent (message resource), strictly', async () => {
    const photo = randomBytes(6000);
    await converse({ senderOpenId: S0001, text: '', image: { imageKey: 'img_v3_dl_0001' }, messageId: 'om_dl_0001', data: { bytes: photo, mime: 'image/jpeg' } }, S0001);
    const got = await t.app.bot.fetchFile('feishu:image:om_dl_0001:img_v3_dl_0001', 1024 * 1024);
    expect(got.mime).toBe('image/jpeg');
    expect(got.data.equals(photo)).toBe(true);
    const call = fake.calls('message.resource').at(-1)!;
    expect(call.query).toEqual({ type: 'image' });
    expect(String(call.headers.authorization)).toMatch(/^Bearer t-/);

    // A 5xx is retried; the platform's refusal (the key is not in that message) is not, and keeps its code.
    fake.fail('message.resource', { status: 500 });
    expect((await feishu.downloadFile('feishu:image:om_dl_0001:img_v3_dl_0001', 1024 * 1024)).data.equals(photo)).toBe(true);
    const before = fake.calls('message.resource').length;
    const err = (await feishu.downloadFile('feishu:file:om_dl_0001:img_v3_dl_0001', 1024 * 1024).catch((e: unknown) => e)) as PlatformError;
    expect(err).toBeInstanceOf(PlatformError);
    expect(err.code).toBe(234003);
    expect(err.retryable).toBe(false);
    expect(fake.calls('message.resource').length - before).toBe(1);

    // Beyond the limit the read stops and nothing is returned.
    await expect(feishu.downloadFile('feishu:image:om_dl_0001:img_v3_dl_0001', 1000)).rejects.toBeInstanceOf(FileTooLargeError);
  });

  it('tells a sender who is not on the roster so', async () => {
    const [reply] = await converse({ senderOpenId: STRANGER, text: '帮助' }, STRANGER);
    expect(reply.msg_type).toBe('text');
    expect((JSON.parse(reply.content) as { text: string }).text).toBe(NOT_ON_ROSTER);
  });

  it('shows the long connection in /healthz, and the sandbox beside it still works', async () => {
    const r = await fetch(`${t.url}/healthz`);
    expect(await r.json()).toMatchObject({ platforms: { feishu: 'ok', sandbox: 'ok' } });
    const [reply] = await ask(t, 'S0001', '帮助');
    expect(reply.kind).toBe('card');
  });

  it('notices a connection gone silent (no pong, no frames) and reconnects on its own', async () => {
    const accepted = fake.connectionsAccepted;
    fake.goSilent();
    await waitFor('a new long connection', () => fake.connectionsAccepted > accepted && fake.liveConnections >= 1, 20_000);
    // The server side accepts before the SDK has taken the new socket as its own; a frame pushed
    // in between has no listener yet (seen under load). Push once the client says it is connected.
    await waitFor('health ok again', () => feishu.health().ok, 20_000);
    const [reply] = await converse({ senderOpenId: S0001, text: '帮助' }, S0001);
    expect(cardOf(reply).header.title.content).toContain('帮助');
  });
});

describe('Feishu adapter start-up and shutdown', () => {
  let fake: FakeFeishu;
  beforeAll(async () => {
    fake = new FakeFeishu({ appId: APP_ID, appSecret: APP_SECRET, pingInterval: 2, reconnectInterval: 1, reconnectNonce: 0 });
    await fake.start();
  });
  afterAll(async () => {
    await fake?.stop();
  });
  const sink = { onMessage: async () => {}, onAction: async () => ({}) };

  it('refuses to start with wrong credentials, saying which settings to check', async () => {
    const p = new FeishuPlatform({ appId: APP_ID, appSecret: 'wrong-secret', domain: fake.base, logger: silent });
    await expect(p.start(sink)).rejects.toThrow(/FEISHU_APP_SECRET/);
    expect(fake.openConnections).toBe(0);
    await p.stop();
    expect(() => new FeishuPlatform({ appId: 'my-app', appSecret: 'x', domain: fake.base, logger: silent })).toThrow(/FEISHU_APP_ID/);
  });

  it('shuts down cleanly: the connection closes and no reconnect follows', async () => {
    const p = new FeishuPlatform({ appId: APP_ID, appSecret: APP_SECRET, domain: fake.base, logger: silent, pingTimeoutSeconds: 1 });
    await p.start(sink);
    expect(p.health().ok).toBe(true);
    expect(fake.openConnections).toBe(1);
    await p.stop();
    await waitFor('the connection to close', () => fake.openConnections === 0);
    const discoveries = fake.endpointCalls;
    const accepted = fake.connectionsAccepted;
    // Several reconnect intervals (1 s here) and ping intervals pass: nothing may come back.
    await new Promise((r) => setTimeout(r, 3_500));
    expect(fake.endpointCalls).toBe(discoveries);
    expect(fake.connectionsAccepted).toBe(accepted);
    expect(fake.openConnections).toBe(0);
    expect(p.health().ok).toBe(false);
  });
});
