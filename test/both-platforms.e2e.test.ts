import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { DingTalkPlatform } from '../src/platform/dingtalk/adapter.js';
import { FeishuPlatform } from '../src/platform/feishu/adapter.js';
import { getStaff } from '../src/store/staff.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { deleteRedisKeys, REDIS_URL, uniqueName } from './helpers/db.js';
import { FakeDingTalk } from './fakes/dingtalk/server.js';
import { FakeFeishu } from './fakes/feishu/server.js';

/**
 * DingTalk and Feishu in one process: each user is answered on the platform they wrote
 * from, and a push reaches each person on a platform they have an account on.
 */
const DT = { id: 'dingbothclient0001', secret: 'both-secret-0001' };
const FS = { id: 'cli_0f1e2d3c4b5a6978', secret: 'both-feishu-secret-0001' };
// examples/roster.csv
const S0001 = { dingtalk: 'dt604924', feishu: 'ou_9617f0dc71bd20fc4c91750d723fd04e' };
const S0020_FEISHU = 'ou_d92a6399a78626f04072192d9d10cdad'; // no DingTalk account

async function waitFor<T>(what: string, fn: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('DingTalk and Feishu adapters in one process', () => {
  let dtFake: FakeDingTalk;
  let fsFake: FakeFeishu;
  let t: TestApp;
  const cardPrefix = `test:${uniqueName('both_cards')}`;

  beforeAll(async () => {
    dtFake = new FakeDingTalk({ clientId: DT.id, clientSecret: DT.secret, keepaliveMs: 500, ackTimeoutMs: 1500 });
    const dtUrl = await dtFake.start();
    fsFake = new FakeFeishu({ appId: FS.id, appSecret: FS.secret, pingInterval: 2, reconnectInterval: 1, reconnectNonce: 0 });
    await fsFake.start();
    const logger = createLogger('silent');
    const dingtalk = new DingTalkPlatform({ clientId: DT.id, clientSecret: DT.secret, apiBase: dtUrl, oapiBase: dtUrl, logger, redisUrl: REDIS_URL, redisPrefix: cardPrefix, retryBaseMs: 20, reconnectBaseMs: 200 });
    const feishu = new FeishuPlatform({ appId: FS.id, appSecret: FS.secret, domain: fsFake.base, logger, pingTimeoutSeconds: 1 });
    t = await startTestApp({
      label: 'both_platforms',
      platforms: [dingtalk, feishu],
      env: { DINGTALK_CLIENT_ID: DT.id, DINGTALK_CLIENT_SECRET: DT.secret, DINGTALK_API_BASE: dtUrl, FEISHU_APP_ID: FS.id, FEISHU_APP_SECRET: FS.secret, FEISHU_DOMAIN: fsFake.base, SANDBOX: 'off' },
    });
  });
  afterAll(async () => {
    await t?.dispose();
    await dtFake?.close();
    await fsFake?.stop();
    await deleteRedisKeys(cardPrefix);
  });

  it('answers the same person on the platform each message came from', async () => {
    dtFake.userSays({ staffId: S0001.dingtalk, text: '帮助' });
    fsFake.deliverMessage({ senderOpenId: S0001.feishu, text: '帮助' });
    const onDingTalk = await waitFor('help card on DingTalk', () => dtFake.cardsTo(S0001.dingtalk)[0]);
    const onFeishu = await waitFor('help card on Feishu', () => fsFake.sentTo(S0001.feishu)[0]);
    expect(dtFake.view(onDingTalk.outTrackId).title).toContain('帮助');
    expect(onFeishu.history.at(-1)).toContain('帮助');
    // Neither platform got the other's answer.
    expect(fsFake.sentTo(S0001.feishu)).toHaveLength(1);
    expect(dtFake.cardsTo(S0001.dingtalk)).toHaveLength(1);
  });

  it('pushes to each person on a platform they have an account on', async () => {
    const both = (await getStaff(t.app.db, 'S0001'))!;
    const feishuOnly = (await getStaff(t.app.db, 'S0020'))!;
    expect(await t.app.bot.sendToStaff(both, '本月学习提醒（测试）')).toMatchObject({ platform: 'dingtalk' });
    expect(await t.app.bot.sendToStaff(feishuOnly, '本月学习提醒（测试）')).toMatchObject({ platform: 'feishu' });
    await waitFor('text to S0020 on Feishu', () => fsFake.sentTo(S0020_FEISHU).length > 0);
    expect(dtFake.oto.some((m) => m.userIds.includes(S0001.dingtalk))).toBe(true);
  });

  it("puts the progress chart through each platform's own image upload", async () => {
    const leader = { dingtalk: 'dt122346', feishu: 'ou_4459f8c29e0e7aa215735861da8a7bf0' }; // S0005 王建华, 院领导
    fsFake.deliverMessage({ senderOpenId: leader.feishu, text: '进度 学习' });
    const onFeishu = await waitFor('progress card on Feishu', () => fsFake.sentTo(leader.feishu).find((m) => m.history.at(-1)!.includes('学习进度')));
    const imgKey = [...fsFake.images.keys()].find((k) => onFeishu.history.at(-1)!.includes(k));
    expect(imgKey).toBeDefined();
    expect(fsFake.images.get(imgKey!)!.size).toBeGreaterThan(1000);

    dtFake.userSays({ staffId: leader.dingtalk, text: '进度 学习' });
    const onDingTalk = await waitFor('progress card on DingTalk', () =>
      dtFake.cardsTo(leader.dingtalk).find((c) => dtFake.view(c.outTrackId).title.includes('学习进度')),
    );
    // The chart is an uploaded media id, shown as a markdown image in the card body.
    const image = /!\[[^\]]*\]\((@[^)]+)\)/.exec(dtFake.view(onDingTalk.outTrackId).content)?.[1];
    expect(image).toMatch(/^@/);
    expect([...dtFake.media.keys()]).toContain(image);
  });

  it('reports both platforms on /healthz', async () => {
    const r = await fetch(`${t.url}/healthz`);
    expect(await r.json()).toMatchObject({ status: 'ok', platforms: { dingtalk: 'ok', feishu: 'ok' } });
  });
});
