import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scheduling } from '../scheduler/index.js';
import { CRON_QUEUE } from '../scheduler/scheduler.js';
import { createApp, type App } from '../src/app.js';
import { fileSchema, loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { listActiveStaff } from '../src/store/staff.js';
import { RecorderPlatform } from './fakes/recorder/platform.js';
import { Recorder } from './fakes/recorder/server.js';
import { seedStaff, waitFor } from './fakes/recorder/seed.js';
import { freshDb } from './helpers/db.js';
import { PrivateRedis } from './helpers/processes.js';

/**
 * 13.8: Redis forgets everything while the bot runs (FLUSHALL, or a restart without
 * persistence). The bot must notice by itself, declare its job schedulers again, re-queue every
 * pending send from the ledger, and say so in /healthz, all without being restarted.
 */
describe('13.8 Redis losing its data while the bot runs', () => {
  const N = 400;
  const redis = new PrivateRedis();
  const recorder = new Recorder({ latencyMs: 5 });
  const prefix = 'loss';
  let db: Awaited<ReturnType<typeof freshDb>>;
  let app: App;
  let url: string;

  beforeAll(async () => {
    await redis.start();
    await recorder.start();
    db = await freshDb('pg', 'redis_loss');
    await seedStaff(db, N);
    const base = loadConfig({ REDIS_URL: redis.url, REDIS_PREFIX: prefix, PORT: '0', LOG_LEVEL: 'silent', CONFIG_FILE: '/nonexistent/qinglian.yaml', SANDBOX: 'off', SCHEDULED_JOBS: 'off' });
    // Paced to 80 a second, so a push of 400 is still under way when Redis forgets it.
    const settings = fileSchema.parse({ outbound: { backoffMs: 100, rateLimits: { dingtalk: [{ max: 80, seconds: 1 }] } } });
    app = await createApp({ config: { env: base.env, settings }, db, platforms: [new RecorderPlatform('dingtalk', recorder.url)], logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), redisCheckMs: 300 });
    url = await app.start();
  }, 60_000);
  afterAll(async () => {
    await app?.stop().catch(() => {});
    await redis.kill();
    await recorder.close();
    await db?.dispose();
  });

  const schedulerNames = async () => {
    const q = new Queue(CRON_QUEUE, { connection: redis.client(), prefix });
    try {
      return (await q.getJobSchedulers(0, -1)).map((s) => s.key);
    } finally {
      await q.close();
      await q.disconnect();
    }
  };
  const health = async () => (await (await fetch(`${url}/healthz`)).json()) as { status: string; warnings?: Record<string, string> };
  const lossCount = async () => Number(/qinglian_redis_data_lost_total (\d+)/.exec(await (await fetch(`${url}/metrics`)).text())?.[1] ?? NaN);

  async function pushThroughLoss(key: string, lose: () => Promise<void>): Promise<void> {
    const before = recorder.deliveries.length;
    await scheduling(app.bot).outbound.createCampaign({ key, kind: 'test', title: 'Redis 数据丢失测试', recipients: await listActiveStaff(db), render: (s) => `${key}：${s.name}` });
    await waitFor('sends under way', async () => recorder.deliveries.length - before >= 60, 60_000, 5);
    await lose();
    const during = recorder.deliveries.length - before;
    expect(during).toBeLessThan(N);
    await waitFor(`every recipient of ${key} sent`, async () => (await scheduling(app.bot).outbound.status(key))?.sent === N, 60_000, 100);
    const mine = recorder.deliveries.slice(before).filter((d) => d.key.startsWith(`${key}/`));
    const perRecipient = new Map<string, number>();
    for (const d of mine) perRecipient.set(d.recipient, (perRecipient.get(d.recipient) ?? 0) + 1);
    expect(perRecipient.size).toBe(N);
    expect([...perRecipient].filter(([, n]) => n !== 1)).toEqual([]);
  }

  it('13.8 FLUSHALL mid-push: every recipient reached once, schedulers declared again, /healthz and metrics say so', async () => {
    expect(await schedulerNames()).toContain('outbound.recover');
    expect((await health()).warnings?.redis).toBeUndefined();
    const admin = redis.client();
    await pushThroughLoss('loss.flush', async () => {
      await admin.flushall();
      // Gone with the data, unless a loaded machine let the 300 ms check re-declare them already.
      // The re-declaring and the count are two steps of that check: wait for the count, not the first.
      if ((await schedulerNames()).length > 0) await waitFor('loss counted', async () => (await lossCount()) === 1, 10_000, 100);
    });
    admin.disconnect();
    await waitFor('schedulers declared again', async () => (await schedulerNames()).includes('outbound.recover'), 10_000, 100);
    const h = await health();
    expect(h.status).toBe('ok');
    expect(h.warnings?.redis).toMatch(/^Redis 数据在 \d\d:\d\d 前后丢失，已自动恢复排程和 \d+ 条待发送消息，无需人工处理。$/);
    expect(Number(/(\d+) 条/.exec(h.warnings!.redis)![1])).toBeGreaterThan(0);
    expect(await lossCount()).toBe(1);
  }, 120_000);

  it('13.8 Redis restarted without persistence mid-push: the same recovery, no restart of the bot', async () => {
    await pushThroughLoss('loss.restart', async () => {
      await redis.kill();
      await new Promise((r) => setTimeout(r, 1000));
      await redis.start();
    });
    await waitFor('schedulers declared again', async () => (await schedulerNames()).includes('outbound.recover'), 10_000, 100);
    expect((await health()).warnings?.redis).toMatch(/^Redis 数据在 \d\d:\d\d 前后丢失/);
    expect(await lossCount()).toBe(2);
  }, 120_000);
});
