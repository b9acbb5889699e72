/**
 * A bot process for the crash test: createApp on a given schema and Redis prefix, sending
 * through the recording platform, that (re)starts a campaign to every active staff member.
 * The parent kills it with SIGKILL midway and starts it again.
 */
import { createApp } from '../../../src/app.js';
import { fileSchema, loadConfig } from '../../../src/config.js';
import { createLogger } from '../../../src/logger.js';
import { openPg } from '../../../src/store/pg.js';
import { listActiveStaff } from '../../../src/store/staff.js';
import { scheduling } from '../../../scheduler/index.js';
import { RecorderPlatform } from './platform.js';

const { PG_URL, PG_SCHEMA, REDIS_URL, REDIS_PREFIX, RECORDER_URL, CAMPAIGN_KEY } = process.env as Record<string, string>;
const base = loadConfig({ REDIS_URL, REDIS_PREFIX, PORT: '0', LOG_LEVEL: 'silent', CONFIG_FILE: '/nonexistent/qinglian.yaml', SANDBOX: 'off' });
const settings = fileSchema.parse({ outbound: { backoffMs: 100, rateLimits: { dingtalk: [] } } });
const db = await openPg(PG_URL, PG_SCHEMA, 10);
const app = await createApp({ config: { env: base.env, settings }, db, platforms: [new RecorderPlatform('dingtalk', RECORDER_URL)], logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent') });
await app.start();
const staff = await listActiveStaff(db);
const r = await scheduling(app.bot).outbound.createCampaign({
  key: CAMPAIGN_KEY,
  kind: 'test.crash',
  title: '崩溃恢复测试',
  recipients: staff,
  render: (s) => `崩溃恢复测试：${s.name}`,
});
process.stdout.write(`${JSON.stringify({ ready: true, added: r.added, created: r.created })}\n`);
process.on('SIGTERM', () => {
  void app.stop().then(() => db.close()).finally(() => process.exit(0));
});
