import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Card } from '../cards/model.js';
import { createApp } from '../src/app.js';
import { fileSchema, loadConfig } from '../src/config.js';
import { importRosterFile } from '../src/domain/roster.js';
import { createLogger } from '../src/logger.js';
import { SandboxPlatform } from '../src/platform/sandbox/adapter.js';
import { migrate } from '../src/store/migrate.js';
import { openPg } from '../src/store/pg.js';
import { percentile, report } from './report.js';

/**
 * 200 people each take a 10-question quiz at the same moment, through the sandbox adapter
 * on real PostgreSQL and Redis. Measures answers handled per second and the time from a
 * card action received to its reply card ready (the answered card and the next question).
 */
const USERS = Number(process.env.QUIZ_BENCH_USERS ?? 200);
const PG_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

type Btn = { actionId: string; value: Record<string, string | number | boolean> };
const buttonsOf = (card: Card | undefined): Btn[] =>
  (card?.elements ?? []).flatMap((e) => (e.type === 'actions' ? (e.buttons.filter((b) => b.kind === 'button') as unknown as Btn[]) : []));

const THINK_MS = Number(process.env.QUIZ_BENCH_THINK_MS ?? 2000);

/** Every user starts a quiz at once and answers its 10 questions; latencies in ms, sorted. */
async function round(sandbox: SandboxPlatform, ids: string[], thinkMs: number): Promise<{ latencies: number[]; answersPerSecond: number }> {
  await Promise.all(ids.map((id) => sandbox.deliverMessage(id, '考试').done));
  const latencies: number[] = [];
  let answers = 0;
  const think = () => (thinkMs > 0 ? new Promise((r) => setTimeout(r, thinkMs * (0.5 + Math.random()))) : Promise.resolve());
  const started = performance.now();
  await Promise.all(
    ids.map(async (id) => {
      for (let step = 0; step < 10; step++) {
        const msg = sandbox.inbox(id).at(-1)!;
        const btns = buttonsOf(msg.card);
        const submit = btns.find((b) => b.actionId === 'quiz.submit');
        const options = btns.filter((b) => b.actionId !== 'quiz.submit');
        const timed = async (b: Btn) => {
          await think();
          const t0 = performance.now();
          const r = await sandbox.deliverAction(id, msg.id, b.actionId, b.value);
          latencies.push(performance.now() - t0);
          if (r.toast) throw new Error(`unexpected refusal for ${id}: ${r.toast}`);
        };
        await timed(options[Math.floor(Math.random() * options.length)]);
        if (submit) await timed(submit);
        answers++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { latencies: latencies.sort((a, b) => a - b), answersPerSecond: answers / seconds };
}

export async function run(): Promise<void> {
  const tag = `bench_quiz_${process.pid}_${Date.now().toString(36)}`;
  const db = await openPg(PG_URL, tag, 20);
  await migrate(db);
  const ids = Array.from({ length: USERS }, (_, i) => `B${String(i + 1).padStart(4, '0')}`);
  const roster = ['staff_id,name,department,roles', ...ids.map((id, i) => `${id},测试${i + 1},科室${(i % 12) + 1},staff`)].join('\n');
  await importRosterFile(db, 'bench.csv', Buffer.from(roster));
  const sandbox = new SandboxPlatform();
  const base = loadConfig({ REDIS_URL, REDIS_PREFIX: `bench:${tag}`, PORT: '0', LOG_LEVEL: 'silent', CONFIG_FILE: '/nonexistent/qinglian.yaml', SANDBOX: 'on' });
  const app = await createApp({ config: { env: base.env, settings: fileSchema.parse({}) }, db, platforms: [sandbox], logger: createLogger('silent') });
  await app.start();
  try {
    // Warm up: the first 考试 loads the default bank.
    await sandbox.deliverMessage(ids[0], '考试').done;
    await sandbox.deliverMessage(ids[0], '考试 交卷').done;

    // Paced: people read each question before answering (1–3 s), as in a real monthly exam
    // pushed to everyone at once. Saturated: no reading time, to find the ceiling.
    const paced = await round(sandbox, ids, THINK_MS);
    const saturated = await round(sandbox, ids, 0);
    const finished = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM quiz_attempts WHERE state = 'finished'`);
    if (finished.rows[0].n < 2 * USERS) throw new Error(`only ${finished.rows[0].n} of ${2 * USERS} quizzes finished`);
    report({ name: 'quiz.answers_per_second', value: paced.answersPerSecond, unit: 'answers/s' });
    report({ name: 'quiz.action_to_reply_p50', value: percentile(paced.latencies, 50), unit: 'ms' });
    report({ name: 'quiz.action_to_reply_p99', value: percentile(paced.latencies, 99), unit: 'ms', target: '< 50 ms' });
    report({ name: 'quiz.saturated_answers_per_second', value: saturated.answersPerSecond, unit: 'answers/s' });
    report({ name: 'quiz.saturated_action_to_reply_p99', value: percentile(saturated.latencies, 99), unit: 'ms' });
  } finally {
    await app.stop();
    await db.close();
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${tag} CASCADE`);
    await c.end();
    const r = new Redis(REDIS_URL);
    const keys = await r.keys(`bench:${tag}:*`);
    if (keys.length) await r.del(...keys);
    r.disconnect();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await run();
  // Other features' background connections are not this benchmark's to wait for.
  process.exit(0);
}
