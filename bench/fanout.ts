import { scheduling } from '../scheduler/index.js';
import { createApp } from '../src/app.js';
import { fileSchema, loadConfig } from '../src/config.js';
import { migrate } from '../src/store/migrate.js';
import { openPg } from '../src/store/pg.js';
import { createLogger } from '../src/logger.js';
import { FeishuPlatform } from '../src/platform/feishu/adapter.js';
import type { ChatPlatform } from '../src/platform/types.js';
import { listActiveStaff } from '../src/store/staff.js';
import { FakeFeishu } from '../test/fakes/feishu/server.js';
import { RecorderPlatform } from '../test/fakes/recorder/platform.js';
import { Recorder } from '../test/fakes/recorder/server.js';
import { seedStaff } from '../test/fakes/recorder/seed.js';
import { deleteRedisKeys, dropSchema, PG_URL, REDIS_URL, uniqueName } from '../test/helpers/db.js';
import { report } from './report.js';

/**
 * One push fanned out to 10,000 recipients through the real outbound queue (BullMQ on Redis,
 * the send ledger on PostgreSQL) and a platform adapter to a fake platform on loopback:
 *  - sends per second with no platform limit, via the recording platform and via the real
 *    Feishu adapter (official SDK) against the fake Feishu;
 *  - with the recording platform enforcing a quota (sliding window), the time taken as a
 *    ratio of the least the quota allows (floor((N-1)/q) seconds), target within 1.1x.
 * Needs Redis at 127.0.0.1:6379 and PostgreSQL at 127.0.0.1:5432 (as the tests do).
 */

const N = Number(process.env.FANOUT_N ?? 10_000);
// Of the order of the platforms' own quotas (DingTalk 20-60/s, Feishu 50/s), small enough to
// stay below what a loaded two-core test machine can push without any limit.
const QUOTA_PER_SECOND = Number(process.env.FANOUT_QUOTA ?? 100);
const FEISHU_APP = { appId: 'cli_0123456789abcdef', appSecret: 'bench-secret' };

async function until(what: string, done: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`bench fanout: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs one push of N recipients; returns the seconds from trigger to the last delivery. */
/** A bot on a fresh schema with a pool sized for the worker concurrency (the test helper's is 5). */
async function startBench(label: string, platform: ChatPlatform, outbound: Record<string, unknown>) {
  const schema = uniqueName(label);
  const db = await openPg(PG_URL, schema, 40);
  await migrate(db);
  const prefix = `bench:${schema}`;
  const base = loadConfig({ REDIS_URL, REDIS_PREFIX: prefix, PORT: '0', LOG_LEVEL: 'silent', CONFIG_FILE: '/nonexistent/qinglian.yaml', SANDBOX: 'off' });
  const app = await createApp({ config: { env: base.env, settings: fileSchema.parse({ outbound }) }, db, platforms: [platform], logger: createLogger('silent') });
  await app.start();
  return {
    app,
    async dispose() {
      await app.stop();
      await deleteRedisKeys(prefix);
      await db.close();
      await dropSchema(schema);
    },
  };
}

async function push(label: string, platform: ChatPlatform, settings: Record<string, unknown>, delivered: () => number, feishuIds = false): Promise<number> {
  const t = await startBench(label, platform, settings);
  try {
    await seedStaff(t.app.db, N);
    if (feishuIds) {
      await t.app.db.query(
        `INSERT INTO platform_identities (platform, platform_user_id, staff_id)
         SELECT 'feishu', 'ou_' || md5(staff_id), staff_id FROM staff`,
      );
      await t.app.db.query(`DELETE FROM platform_identities WHERE platform = 'dingtalk'`);
    }
    const staff = await listActiveStaff(t.app.db);
    const before = delivered();
    const started = performance.now();
    await scheduling(t.app.bot).outbound.createCampaign({ key: `bench.${label}`, kind: 'bench', title: '压力测试', recipients: staff, render: () => '本月廉洁专题学习已发布，请发送“学习”查看。' });
    await until(`${label} deliveries`, () => delivered() - before >= N, 20 * 60_000);
    return (performance.now() - started) / 1000;
  } finally {
    await t.dispose();
  }
}

// FANOUT_ONLY=free,feishu,quota picks figures (default: all).
const only = new Set((process.env.FANOUT_ONLY ?? 'free,feishu,quota').split(','));

export async function run(): Promise<void> {
  const logger = createLogger('silent');
  if (only.has('free')) await free();
  if (only.has('feishu')) await viaFeishu(logger);
  if (only.has('quota')) await quota();
}

async function free(): Promise<void> {
  const free = new Recorder();
  await free.start();
  try {
    const secs = await push('fanout_free', new RecorderPlatform('dingtalk', free.url), { concurrency: 40, rateLimits: { dingtalk: [] } }, () => free.deliveries.length);
    report({ name: 'fanout.unlimited.sends_per_second', value: N / secs, unit: 'sends/s', target: `n=${N}, recording platform, no platform limit` });
  } finally {
    await free.close();
  }
}

async function viaFeishu(logger: ReturnType<typeof createLogger>): Promise<void> {
  const fake = new FakeFeishu({ appId: FEISHU_APP.appId, appSecret: FEISHU_APP.appSecret });
  await fake.start();
  const feishu = new FeishuPlatform({ ...FEISHU_APP, domain: fake.base, logger });
  try {
    const sent = () => fake.messages.size;
    const secs = await push('fanout_feishu', feishu, { concurrency: 40, rateLimits: { feishu: [] } }, sent, true);
    report({ name: 'fanout.unlimited.feishu_adapter.sends_per_second', value: N / secs, unit: 'sends/s', target: `n=${N}, real Feishu adapter + SDK to the fake Feishu, no platform limit` });
  } finally {
    await fake.stop();
  }
}

async function quota(): Promise<void> {
  const limited = new Recorder({ quota: { max: QUOTA_PER_SECOND, windowMs: 1000 } });
  await limited.start();
  try {
    const secs = await push(
      'fanout_quota',
      new RecorderPlatform('dingtalk', limited.url),
      { concurrency: 40, rateLimits: { dingtalk: [{ max: QUOTA_PER_SECOND, seconds: 1 }] } },
      () => limited.deliveries.length,
    );
    // A window of one second holds at most q sends, so N sends span at least floor((N-1)/q) seconds.
    const minimum = Math.floor((N - 1) / QUOTA_PER_SECOND);
    report({ name: 'fanout.quota.time_vs_minimum', value: secs / minimum, unit: 'ratio', target: '<= 1.1' });
    report({ name: 'fanout.quota.rejected_by_platform', value: limited.stats.rejected429, unit: 'requests', target: `0 (quota ${QUOTA_PER_SECOND}/s)` });
  } finally {
    await limited.close();
  }
}
