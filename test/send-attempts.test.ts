import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scheduling } from '../scheduler/index.js';
import { PlatformError } from '../src/errors.js';
import { createLogger } from '../src/logger.js';
import { FeishuPlatform } from '../src/platform/feishu/adapter.js';
import { listActiveStaff, type Staff } from '../src/store/staff.js';
import { startDingTalkApp, waitFor, type DingTalkHarness } from './fakes/dingtalk/harness.js';
import { FakeFeishu } from './fakes/feishu/server.js';
import { startTestApp, type TestApp } from './helpers/app.js';

/**
 * One layer retries a push: the outbound queue. A platform answering 5xx to every call is
 * called exactly `outbound.attempts` times for one recipient, not attempts × the client's own
 * retries.
 */

const ATTEMPTS = 3;
const settings = { outbound: { attempts: ATTEMPTS, backoffMs: 100 } };
const S0001 = { feishu: 'ou_9617f0dc71bd20fc4c91750d723fd04e', dingtalk: 'dt604924' };

async function staffS0001(t: TestApp): Promise<Staff> {
  return (await listActiveStaff(t.app.db)).find((s) => s.staffId === 'S0001')!;
}

async function failedFor(t: TestApp, key: string): Promise<void> {
  await waitFor(`campaign ${key} to fail`, async () => (await scheduling(t.app.bot).outbound.status(key))?.failed === 1, 30_000);
}

describe('14.8 BullMQ owns send retries (Feishu)', () => {
  let fake: FakeFeishu;
  let t: TestApp;
  beforeAll(async () => {
    fake = new FakeFeishu({ appId: 'cli_a1b2c3d4e5f60718', appSecret: 'fake-secret-for-tests-0001', pingInterval: 2, reconnectInterval: 1, reconnectNonce: 0 });
    await fake.start();
    const feishu = new FeishuPlatform({ appId: 'cli_a1b2c3d4e5f60718', appSecret: 'fake-secret-for-tests-0001', domain: fake.base, logger: createLogger('silent') });
    t = await startTestApp({ label: 'attempts_feishu', platforms: [feishu], settings, env: { SANDBOX: 'off' } });
  }, 60_000);
  afterAll(async () => {
    await t?.dispose();
    await fake?.stop();
  });

  it('14.8 a direct reply still survives one 5xx (one short retry outside the queue)', async () => {
    const before = fake.calls('message.create').length;
    fake.fail('message.create', { status: 500 });
    await t.app.bot.send('feishu', { type: 'direct', platformUserId: S0001.feishu }, '直接回复');
    expect(fake.calls('message.create').slice(before).map((r) => r.status)).toEqual([500, 200]);
  }, 30_000);

  it('14.8 a Feishu 5xx on every call is attempted exactly outbound.attempts times', async () => {
    fake.fail('message.create', ...Array.from({ length: 30 }, () => ({ status: 500 })));
    const before = fake.calls('message.create').length;
    const mine = () => fake.calls('message.create').slice(before).filter((r) => (r.body as { receive_id?: string }).receive_id === S0001.feishu);
    await scheduling(t.app.bot).outbound.createCampaign({ key: 'attempts.feishu', kind: 'test', title: '重试次数', recipients: [await staffS0001(t)], render: () => '重试次数测试' });
    await failedFor(t, 'attempts.feishu');
    await new Promise((r) => setTimeout(r, 500)); // a stray extra attempt would arrive by now
    expect(mine().map((r) => r.status)).toEqual(Array(ATTEMPTS).fill(500));
  }, 60_000);
});

describe('14.8 BullMQ owns send retries (DingTalk)', () => {
  let h: DingTalkHarness;
  const path = '/v1.0/robot/oToMessages/batchSend';
  beforeAll(async () => {
    h = await startDingTalkApp('attempts_dingtalk', {}, {}, { settings });
  }, 60_000);
  afterAll(async () => {
    await h?.dispose();
  });

  it('14.8 a direct DingTalk call gives up after three attempts with a retryable PlatformError', async () => {
    h.fake.failNext(path, 503, 'ServiceUnavailable', 3);
    const before = h.fake.received.filter((r) => r.path === path).length;
    const err = await h.adapter.sendText({ conversation: { type: 'direct', platformUserId: S0001.dingtalk } }, '直接回复').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect((err as PlatformError).retryable).toBe(true);
    expect(h.fake.received.filter((r) => r.path === path).length - before).toBe(3);
  }, 30_000);

  it('14.8 a DingTalk 5xx on every call is attempted exactly outbound.attempts times', async () => {
    h.fake.failNext(path, 503, 'ServiceUnavailable', 30);
    const before = h.fake.received.length;
    const mine = () => h.fake.received.slice(before).filter((r) => r.path === path && ((r.body as { userIds?: string[] })?.userIds ?? []).includes(S0001.dingtalk));
    await scheduling(h.t.app.bot).outbound.createCampaign({ key: 'attempts.dingtalk', kind: 'test', title: '重试次数', recipients: [await staffS0001(h.t)], render: () => '重试次数测试' });
    await failedFor(h.t, 'attempts.dingtalk');
    await new Promise((r) => setTimeout(r, 500));
    expect(mine().map((r) => r.status)).toEqual(Array(ATTEMPTS).fill(503));
  }, 60_000);
});

describe('14.8 a throttling burst costs no attempts (DingTalk)', () => {
  let h: DingTalkHarness;
  const path = '/v1.0/robot/oToMessages/batchSend';
  beforeAll(async () => {
    h = await startDingTalkApp('attempts_dingtalk_429', {}, {}, { settings });
  }, 60_000);
  afterAll(async () => {
    await h?.dispose();
  });

  it('14.8 more 429s in a row than outbound.attempts still end in one delivery: the queue waits instead', async () => {
    h.fake.failNext(path, 429, 'Forbidden.AccessDenied.QpsLimitForApi', ATTEMPTS + 2);
    const before = h.fake.received.length;
    const mine = () => h.fake.received.slice(before).filter((r) => r.path === path && ((r.body as { userIds?: string[] })?.userIds ?? []).includes(S0001.dingtalk));
    await scheduling(h.t.app.bot).outbound.createCampaign({ key: 'attempts.dingtalk429', kind: 'test', title: '限流', recipients: [await staffS0001(h.t)], render: () => '限流测试' });
    await waitFor('the throttled push to be sent', async () => (await scheduling(h.t.app.bot).outbound.status('attempts.dingtalk429'))?.sent === 1, 30_000);
    expect(mine().map((r) => r.status)).toEqual([...Array(ATTEMPTS + 2).fill(429), 200]);
  }, 60_000);
});
