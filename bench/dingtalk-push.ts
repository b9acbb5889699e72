import { scheduling } from '../scheduler/index.js';
import { createApp } from '../src/app.js';
import { fileSchema, loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { DingTalkPlatform } from '../src/platform/dingtalk/adapter.js';
import { migrate } from '../src/store/migrate.js';
import { openPg } from '../src/store/pg.js';
import { listActiveStaff } from '../src/store/staff.js';
import { FakeDingTalk } from '../test/fakes/dingtalk/server.js';
import { seedStaff } from '../test/fakes/recorder/seed.js';
import { deleteRedisKeys, dropSchema, PG_URL, REDIS_URL, uniqueName } from '../test/helpers/db.js';
import { report } from './report.js';

/**
 * One text push to 10,000 people through the real outbound queue and the real DingTalk
 * adapter (dingtalk-stream client, batchSend) to the fake DingTalk enforcing 20 calls/s:
 *  - elapsed ÷ (calls needed ÷ quota), target ≤ 1.10, with 20 recipients per call;
 *  - calls per recipient with batching versus one call per person (measured on a smaller
 *    push without a quota: one call per person at 20 calls/s would take over 8 minutes).
 * Needs Redis at 127.0.0.1:6379 and PostgreSQL at 127.0.0.1:5432 (as the tests do).
 */
const N = Number(process.env.DINGTALK_PUSH_N ?? 10_000);
const N_UNBATCHED = Number(process.env.DINGTALK_PUSH_UNBATCHED_N ?? 2_000);
const QUOTA = 20;
const CONCURRENCY = Number(process.env.DINGTALK_PUSH_CONCURRENCY ?? 100);
const APP = { clientId: 'dingbenchclient0001', clientSecret: 'bench-secret' };
const TEXT = '本月廉洁专题学习已发布，请发送“学习”查看。';

async function push(label: string, n: number, quota: number, batchTexts: boolean, margin = 0.95): Promise<{ secs: number; calls: number; rejected: number }> {
  const fake = new FakeDingTalk({ ...APP, batchSendPerSecond: quota });
  const url = await fake.start();
  const schema = uniqueName(label);
  const db = await openPg(PG_URL, schema, 40);
  await migrate(db);
  const prefix = `bench:${schema}`;
  const logger = createLogger('silent');
  const adapter = new DingTalkPlatform({ ...APP, apiBase: url, oapiBase: url, logger, redisUrl: REDIS_URL, redisPrefix: prefix, batchTexts, retryBaseMs: 50 });
  const env = loadConfig({ REDIS_URL, REDIS_PREFIX: prefix, PORT: '0', LOG_LEVEL: 'silent', CONFIG_FILE: '/nonexistent/qinglian.yaml', SANDBOX: 'off' }).env;
  const rateLimits = { dingtalk: quota ? [{ max: quota, seconds: 1 }] : [] };
  const app = await createApp({ config: { env, settings: fileSchema.parse({ outbound: { concurrency: CONCURRENCY, rateLimits, margin } }) }, db, platforms: [adapter], logger });
  await app.start();
  try {
    await seedStaff(db, n);
    const staff = await listActiveStaff(db);
    const calls = () => fake.received.filter((r) => r.path === '/v1.0/robot/oToMessages/batchSend');
    const delivered = () => fake.oto.reduce((a, m) => a + m.userIds.length, 0);
    const started = performance.now();
    await scheduling(app.bot).outbound.createCampaign({ key: `bench.${label}`, kind: 'bench', title: '压力测试', recipients: staff, render: () => TEXT });
    const deadline = Date.now() + 20 * 60_000;
    while (delivered() < n) {
      if (Date.now() > deadline) throw new Error(`bench dingtalk-push: ${label} timed out (${delivered()}/${n})`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const secs = (performance.now() - started) / 1000;
    const all = calls();
    return { secs, calls: all.filter((r) => r.status === 200).length, rejected: all.filter((r) => r.status === 429).length };
  } finally {
    await app.stop();
    await fake.close();
    await deleteRedisKeys(prefix);
    await db.close();
    await dropSchema(schema);
  }
}

// DINGTALK_PUSH_ONLY=full,default picks the batched runs (default: both; the unbatched count always runs).
const only = new Set((process.env.DINGTALK_PUSH_ONLY ?? 'full,default').split(','));

export async function run(): Promise<void> {
  // The least time the quota allows: the calls needed (20 recipients each) at QUOTA calls/s.
  const minimum = Math.ceil(N / 20) / QUOTA;
  const runs: { label: string; margin: number; name: string }[] = [
    // Pacing at the full quota: what batching and the queue themselves cost.
    { label: 'full', margin: 1, name: 'dingtalk_push.batched' },
    // With the default safety margin (0.95 of the quota, one call per window kept spare).
    { label: 'default', margin: 0.95, name: 'dingtalk_push.batched_default_margin' },
  ];
  let callsPerRecipient = 0.05;
  for (const r of runs.filter((x) => only.has(x.label))) {
    const out = await push(`dt_push_${r.label}`, N, QUOTA, true, r.margin);
    callsPerRecipient = out.calls / N;
    report({ name: `${r.name}.time_vs_minimum`, value: out.secs / minimum, unit: 'ratio', target: `<= 1.10 (n=${N}, ${out.calls} calls, ${QUOTA} calls/s, margin ${r.margin})` });
    report({ name: `${r.name}.calls_per_recipient`, value: callsPerRecipient, unit: 'calls', target: '0.05 (20 per call)' });
    report({ name: `${r.name}.rejected_by_platform`, value: out.rejected, unit: 'requests', target: '0' });
  }
  const single = await push('dt_push_single', N_UNBATCHED, 0, false);
  report({ name: 'dingtalk_push.unbatched.calls_per_recipient', value: single.calls / N_UNBATCHED, unit: 'calls', target: `1 (n=${N_UNBATCHED}, no quota)` });
  report({ name: 'dingtalk_push.calls_saved', value: single.calls / N_UNBATCHED / callsPerRecipient, unit: 'x fewer calls', target: '~20' });
}
