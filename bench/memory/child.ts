/**
 * The process whose peak RSS bench/memory.ts measures: a bot on a 10,000-staff roster with
 * a 10,000-message push queued behind a platform that answers slowly, so the whole push sits
 * in the ledger and the queue at once. Prints {"maxRssMb"} when the push is fully queued.
 */
import { scheduling } from '../../scheduler/index.js';
import { createApp } from '../../src/app.js';
import { fileSchema, loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { openPg } from '../../src/store/pg.js';
import { listActiveStaff } from '../../src/store/staff.js';
import { RecorderPlatform } from '../../test/fakes/recorder/platform.js';

const { PG_URL, PG_SCHEMA, REDIS_URL, REDIS_PREFIX, RECORDER_URL } = process.env as Record<string, string>;
const base = loadConfig({ REDIS_URL, REDIS_PREFIX, PORT: '0', LOG_LEVEL: 'silent', CONFIG_FILE: '/nonexistent/qinglian.yaml', SANDBOX: 'off' });
const db = await openPg(PG_URL, PG_SCHEMA, 10);
const app = await createApp({
  config: { env: base.env, settings: fileSchema.parse({ outbound: { rateLimits: { dingtalk: [] } } }) },
  db,
  platforms: [new RecorderPlatform('dingtalk', RECORDER_URL)],
  logger: createLogger('silent'),
});
await app.start();
const staff = await listActiveStaff(db);
await scheduling(app.bot).outbound.createCampaign({ key: 'bench.memory', kind: 'bench', title: '内存测试', recipients: staff, render: (s) => `本月学习提醒：${s.name}，请于本月底前完成。` });
// Let the workers pick up their first jobs and the queue settle.
await new Promise((r) => setTimeout(r, 3000));
global.gc?.();
process.stdout.write(`${JSON.stringify({ maxRssMb: process.resourceUsage().maxRSS / 1024, staff: staff.length, rssNowMb: process.memoryUsage().rss / 1024 / 1024 })}\n`);
await app.stop();
await db.close();
process.exit(0);
