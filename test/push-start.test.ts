import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scheduling } from '../scheduler/index.js';
import { listActiveStaff } from '../src/store/staff.js';
import { RecorderPlatform } from './fakes/recorder/platform.js';
import { Recorder } from './fakes/recorder/server.js';
import { seedStaff } from './fakes/recorder/seed.js';
import { settledCampaign, startTestApp, type TestApp } from './helpers/app.js';

describe('15 the start of a big push', () => {
  let t: TestApp;
  const recorder = new Recorder({});
  beforeAll(async () => {
    await recorder.start();
    t = await startTestApp({
      label: 'push_start',
      platforms: [new RecorderPlatform('dingtalk', recorder.url)],
      settings: { outbound: { rateLimits: { dingtalk: [] } } },
    });
    await seedStaff(t.app.db, 800);
  });
  afterAll(async () => {
    await t?.dispose();
    await recorder.close();
  });

  it('15 sends the first messages while most recipients are still being written', async () => {
    const staff = (await listActiveStaff(t.app.db)).filter((s) => s.department === '压力测试科');
    expect(staff.length).toBe(800);
    let rendered = 0;
    let renderedAtFirstSend: number | undefined;
    await scheduling(t.app.bot).outbound.createCampaign({
      key: 'test.push_start',
      kind: 'test',
      title: '开始推送',
      recipients: staff,
      // Each recipient takes a moment to write, as a card with a personal figure would.
      render: async () => {
        if (renderedAtFirstSend === undefined && recorder.deliveries.length > 0) renderedAtFirstSend = rendered;
        rendered++;
        await new Promise((r) => setTimeout(r, 1));
        return '本月廉洁专题学习已发布。';
      },
    });
    const counts = await settledCampaign(t, 'test.push_start');
    expect(counts).toMatchObject({ total: 800, sent: 800 });
    // Sends start after a first small chunk is committed, not after a thousand rows.
    expect(renderedAtFirstSend).toBeDefined();
    expect(renderedAtFirstSend!).toBeLessThan(500);
  });
});
