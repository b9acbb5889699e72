import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { card, text } from '../cards/builders.js';
import { scheduling } from '../scheduler/index.js';
import { FAILURE_SUMMARY_KIND } from '../scheduler/outbound.js';
import { paceFor } from '../scheduler/pace.js';
import { listActiveStaff } from '../src/store/staff.js';
import { RecorderPlatform } from './fakes/recorder/platform.js';
import { Recorder } from './fakes/recorder/server.js';
import { seedStaff } from './fakes/recorder/seed.js';
import { settledCampaign, startTestApp, type TestApp } from './helpers/app.js';

const settled = settledCampaign;

describe('outbound queue against a platform answering 30% 5xx', () => {
  let t: TestApp;
  const recorder = new Recorder({ failRate: 0.3, seed: 7 });
  beforeAll(async () => {
    await recorder.start();
    t = await startTestApp({
      label: 'outbound_flaky',
      platforms: [new RecorderPlatform('dingtalk', recorder.url)],
      settings: { outbound: { attempts: 15, backoffMs: 100, rateLimits: { dingtalk: [] } } },
    });
    await seedStaff(t.app.db, 300);
  });
  afterAll(async () => {
    await t?.dispose();
    await recorder.close();
  });

  it('delivers to every reachable recipient exactly once and reports the unreachable to administrators once', async () => {
    const staff = await listActiveStaff(t.app.db);
    const { outbound } = scheduling(t.app.bot);
    const r = await outbound.createCampaign({ key: 'test.flaky', kind: 'test', title: '测试推送', recipients: staff, render: (s) => card('测试推送', [text(`您好，${s.name}`)]) });
    // The sample roster has two staff without a DingTalk account (S0020, S0038).
    expect(r.unreachable).toBe(2);
    const s = await settled(t, 'test.flaky');
    expect(s).toMatchObject({ total: staff.length, sent: staff.length - 2, failed: 0, unreachable: 2 });
    expect(recorder.stats.failed5xx).toBeGreaterThan(50);
    expect(recorder.stats.duplicateKeys).toBeGreaterThan(0);
    const counts = recorder.counts();
    const reachable = staff.filter((x) => x.dingtalkUserId);
    for (const x of reachable) {
      const got = recorder.deliveries.filter((d) => d.recipient === x.dingtalkUserId && d.title === '测试推送').length;
      expect(got, x.staffId).toBe(1);
    }
    // One summary card to each administrator, naming the unreachable.
    const summary = await settledCampaign(t, 'test.flaky.failures');
    const admins = staff.filter((x) => x.roles.includes('admin'));
    expect(summary.sent).toBe(admins.length);
    const row = await t.app.db.query<{ content: { card: { title: string; elements: unknown[] } } }>(
      `SELECT l.content FROM send_ledger l JOIN campaigns c ON c.id = l.campaign_id WHERE c.kind = $1 LIMIT 1`,
      [FAILURE_SUMMARY_KIND],
    );
    expect(JSON.stringify(row.rows[0].content)).toContain('S0020');
    expect(counts.size).toBeGreaterThan(0);
  });

  it('sends once when the same campaign is triggered twice at once', async () => {
    const staff = (await listActiveStaff(t.app.db)).filter((s) => s.dingtalkUserId).slice(0, 120);
    const { outbound } = scheduling(t.app.bot);
    const spec = { key: 'test.twice', kind: 'test', title: '重复触发', recipients: staff, render: () => '重复触发测试' };
    const [a, b] = await Promise.all([outbound.createCampaign(spec), outbound.createCampaign(spec)]);
    expect(a.added + b.added).toBe(staff.length);
    const again = await outbound.createCampaign(spec);
    expect(again).toMatchObject({ created: false, added: 0 });
    await settled(t, 'test.twice');
    for (const s of staff) expect(recorder.deliveries.filter((d) => d.recipient === s.dingtalkUserId && d.title === '重复触发测试').length).toBe(1);
  });
});

describe('outbound rate limit against a platform enforcing its quota', () => {
  let t: TestApp;
  const quota = { max: 10, windowMs: 1000 };
  const recorder = new Recorder({ quota });
  beforeAll(async () => {
    await recorder.start();
    t = await startTestApp({
      label: 'outbound_quota',
      platforms: [new RecorderPlatform('dingtalk', recorder.url)],
      settings: { outbound: { backoffMs: 100, rateLimits: { dingtalk: [{ max: quota.max, seconds: quota.windowMs / 1000 }] } } },
    });
    await seedStaff(t.app.db, 40);
  });
  afterAll(async () => {
    await t?.dispose();
    await recorder.close();
  });

  it('keeps under the quota (the fake rejects next to nothing) and still delivers everything', async () => {
    const staff = (await listActiveStaff(t.app.db)).filter((s) => s.staffId.startsWith('P'));
    await scheduling(t.app.bot).outbound.createCampaign({ key: 'test.quota', kind: 'test', title: '限速', recipients: staff, render: () => '限速测试' });
    const s = await settled(t, 'test.quota');
    expect(s.sent).toBe(40);
    expect(recorder.deliveries.length).toBe(40);
    expect(recorder.maxInAnyWindow(quota.windowMs)).toBeLessThanOrEqual(quota.max);
    // Without our limiter ~30 of the 40 would be refused; rare scheduling jitter may cost one or two.
    expect(recorder.stats.rejected429).toBeLessThanOrEqual(2);
  });

  it('paces under every quota window of a platform', () => {
    expect(paceFor([], 0.95)).toBeUndefined();
    const feishu = paceFor([{ max: 50, seconds: 1 }, { max: 1000, seconds: 60 }], 0.95)!;
    // Evenly spaced, a window of T seconds holds at most perSecond*T + 1 sends.
    expect(feishu.perSecond * 60 + 1).toBeLessThanOrEqual(1000);
    expect(feishu.perSecond + 1).toBeLessThanOrEqual(50);
    const dingtalk = paceFor([{ max: 20, seconds: 1 }], 0.95)!;
    expect(dingtalk.perSecond + 1).toBeLessThanOrEqual(20);
    expect(dingtalk.perSecond).toBeGreaterThan(17);
  });
});
