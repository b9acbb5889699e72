import { Redis } from 'ioredis';
import { registerHandlers } from '../handlers/index.js';
import { Bot } from '../src/bot/bot.js';
import { fileSchema } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { SandboxPlatform } from '../src/platform/sandbox/adapter.js';
import type { Db } from '../src/store/db.js';
import { dropSchema, freshDb, REDIS_URL, uniqueName, type Backend } from '../test/helpers/db.js';
import { percentile, report } from './report.js';

/**
 * 进度 on a hospital of 10,000 staff with 12 months of history: p99 time from the command
 * received to the card ready, for the overview and each detail, on PGlite and PostgreSQL.
 */
const STAFF = 10_000;
const DEPTS = 40;
const RUNS = 40;

async function seed(db: Db): Promise<void> {
  await db.query(`INSERT INTO departments (name) SELECT '科室' || g FROM generate_series(1, ${DEPTS}) g`);
  await db.query(
    `INSERT INTO staff (staff_id, name, department_id) SELECT 'B' || lpad(g::text, 5, '0'), '职工' || g, (SELECT id FROM departments WHERE name = '科室' || (1 + g % ${DEPTS})) FROM generate_series(1, ${STAFF}) g`,
  );
  await db.query(`INSERT INTO staff_roles (staff_id, role) SELECT staff_id, 'staff' FROM staff`);
  await db.query(`INSERT INTO staff_roles (staff_id, role) VALUES ('B00001', 'leader'), ('B00002', 'dept_head')`);
  await db.query(`INSERT INTO staff_roles (staff_id, role) SELECT min(staff_id), 'report_owner' FROM staff GROUP BY department_id`);
  for (let m = 1; m <= 12; m++) {
    const month = `2026-${String(m).padStart(2, '0')}`;
    await db.query(`INSERT INTO study_completions (month, staff_id, completed_at) SELECT $1, staff_id, $2::timestamptz FROM staff WHERE hashtext(staff_id || $1) % 10 <> 0`, [month, `${month}-10T02:00:00Z`]);
    await db.query(
      `INSERT INTO quiz_attempts (staff_id, department_id, state, question_count, pass_mark, started_at, expires_at, finished_at, correct_count, score, passed)
       SELECT staff_id, department_id, 'finished', 10, 80, $1::timestamptz, $1::timestamptz + interval '30 minutes', $1::timestamptz + interval '8 minutes', s, s * 10, s >= 8
         FROM (SELECT staff_id, department_id, abs(hashtext(staff_id || $2)) % 11 AS s FROM staff) x WHERE s > 2`,
      [`${month}-12T02:00:00Z`, month],
    );
    await db.query(
      `INSERT INTO report_submissions (month, department_id, version, summary, submitted_by, submitted_at, late)
       SELECT $1, department_id, 1, '本月进展', min(staff_id), $2::timestamptz, false FROM staff GROUP BY department_id HAVING department_id % 5 <> 0`,
      [month, `${month}-15T02:00:00Z`],
    );
    await db.query(
      `INSERT INTO declarations (declarant_id, department_id, state, kind, amount, received_on, giver, handling, description, registered_at)
       SELECT staff_id, department_id, 'registered', 'cash', 200 + g, ($1 || '-05')::date, 'family', 'to_finance', '', now()
         FROM (SELECT staff_id, department_id, row_number() OVER () AS g FROM staff LIMIT 30) x`,
      [month],
    );
  }
  await db.query('ANALYZE');
}

async function runOn(kind: Backend): Promise<void> {
  const db = await freshDb(kind, `bench_progress_${kind}`);
  const redis = new Redis(REDIS_URL);
  const prefix = `bench:${uniqueName('progress')}`;
  try {
    await seed(db);
    const sandbox = new SandboxPlatform();
    const bot = new Bot({ db, redis, settings: fileSchema.parse({}), redisPrefix: prefix, logger: createLogger('silent'), now: () => new Date('2026-12-20T04:00:00Z') });
    registerHandlers(bot);
    bot.addPlatform(sandbox);
    await sandbox.start(bot);
    const queries: [string, string][] = [
      ['overview', '进度 2026-11'],
      ['study', '进度 学习 2026-11'],
      ['exam', '进度 考试 2026-11'],
      ['report', '进度 上报 2026-11'],
      ['declaration', '进度 上缴 2026-11'],
      ['department', '进度 学习 2026-11 科室7'],
    ];
    for (const [name, text] of queries) {
      const times: number[] = [];
      for (let i = 0; i < RUNS + 3; i++) {
        const before = sandbox.inbox('B00001').length;
        const t0 = performance.now();
        await sandbox.deliverMessage('B00001', text).done;
        const ms = performance.now() - t0;
        const reply = sandbox.inbox('B00001')[before];
        if (!reply || reply.kind !== 'card') throw new Error(`no card for ${text}: ${reply?.text ?? 'nothing'}`);
        if (i >= 3) times.push(ms); // the first runs warm caches and plans
      }
      times.sort((a, b) => a - b);
      report({ name: `progress.${name}.p99.${kind}`, value: percentile(times, 99), unit: 'ms', target: '< 200 ms (10,000 staff × 12 months)' });
      report({ name: `progress.${name}.p50.${kind}`, value: percentile(times, 50), unit: 'ms' });
    }
  } finally {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await db.dispose();
    if (kind === 'pg') await dropSchema(db.schema).catch(() => {});
  }
}

export async function run(): Promise<void> {
  await runOn('pglite');
  await runOn('pg');
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
