import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import pg from 'pg';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Card } from '../cards/model.js';
import { scheduling } from '../scheduler/index.js';
import { createApp, type App } from '../src/app.js';
import { fileSchema, loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { auditTrail } from '../src/store/audit.js';
import { getDeclaration } from '../src/store/declarations.js';
import { listActiveStaff } from '../src/store/staff.js';
import { RecorderPlatform } from './fakes/recorder/platform.js';
import { Recorder } from './fakes/recorder/server.js';
import { seedStaff, waitFor } from './fakes/recorder/seed.js';
import { ask, startTestApp, type TestApp } from './helpers/app.js';
import { button } from './helpers/cards.js';
import { freshDb, PG_URL } from './helpers/db.js';

/**
 * Faults, each followed by the same question: did every recipient get each message exactly
 * once, was nothing lost, was nothing applied twice?
 */

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });

async function pushApp(db: Awaited<ReturnType<typeof freshDb>>, redisUrl: string, recorder: Recorder, prefix: string): Promise<App> {
  const base = loadConfig({ REDIS_URL: redisUrl, REDIS_PREFIX: prefix, PORT: '0', LOG_LEVEL: 'silent', CONFIG_FILE: '/nonexistent/qinglian.yaml', SANDBOX: 'off' });
  const settings = fileSchema.parse({ outbound: { backoffMs: 100, rateLimits: { dingtalk: [] } } });
  const app = await createApp({ config: { env: base.env, settings }, db, platforms: [new RecorderPlatform('dingtalk', recorder.url)], logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent') });
  await app.start();
  return app;
}

const sentCount = async (db: Awaited<ReturnType<typeof freshDb>>) => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM send_ledger WHERE status = 'sent'`)).rows[0].n;

describe('Redis restarted in the middle of a push (a Redis with persistence on its own port)', () => {
  const N = 800;
  let redisProc: ChildProcess | undefined;
  let port: number;
  let dir: string;
  let db: Awaited<ReturnType<typeof freshDb>>;
  let app: App | undefined;
  const recorder = new Recorder({ latencyMs: 15 });

  const startRedis = async () => {
    redisProc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--dir', dir], { stdio: 'ignore' });
    const probe = new Redis(port, '127.0.0.1', { retryStrategy: (n) => (n > 100 ? null : 50) });
    probe.on('error', () => {});
    await probe.ping();
    probe.disconnect();
  };

  beforeAll(async () => {
    port = await freePort();
    dir = mkdtempSync(`${tmpdir()}/qinglian-faults-redis-`);
    await startRedis();
    await recorder.start();
    db = await freshDb('pg', 'faults_redis');
    await seedStaff(db, N);
  });
  afterAll(async () => {
    await app?.stop().catch(() => {});
    redisProc?.kill('SIGKILL');
    await recorder.close();
    await db?.dispose();
  });

  it('finishes the push with every recipient reached exactly once', async () => {
    app = await pushApp(db, `redis://127.0.0.1:${port}`, recorder, 'faults');
    await scheduling(app.bot).outbound.createCampaign({ key: 'fault.redis', kind: 'test', title: 'Redis 重启测试', recipients: await listActiveStaff(db), render: (s) => `Redis 重启测试：${s.name}` });
    await waitFor('sends under way', async () => recorder.deliveries.length >= 150, 60_000, 5);
    // SHUTDOWN writes the append-only file; the same directory brings the queue back.
    const exited = new Promise((r) => redisProc!.once('exit', r));
    const admin = new Redis(port, '127.0.0.1');
    await admin.call('SHUTDOWN').catch(() => {});
    admin.disconnect();
    await exited;
    const during = recorder.deliveries.length;
    expect(during).toBeLessThan(N);
    await new Promise((r) => setTimeout(r, 1500));
    await startRedis();
    await waitFor('every ledger row sent after the restart', async () => (await sentCount(db)) === N, 110_000, 250);
    const counts = recorder.counts();
    expect(counts.size).toBe(N);
    expect([...counts].filter(([, n]) => n !== 1)).toEqual([]);
  }, 150_000);
});

describe('a platform answering 30% 5xx with bursts of 429, then taking 3 s per call', () => {
  const N = 300;
  let db: Awaited<ReturnType<typeof freshDb>>;
  let app: App | undefined;
  const recorder = new Recorder({ latencyMs: 5, failRate: 0.3, seed: 7 });

  beforeAll(async () => {
    await recorder.start();
    db = await freshDb('pg', 'faults_platform');
    await seedStaff(db, N);
    app = await pushApp(db, process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', recorder, `test:faults_platform_${process.pid}`);
  });
  afterAll(async () => {
    await app?.stop().catch(() => {});
    await recorder.close();
    await db?.dispose();
  });

  it('delivers everything exactly once through errors and throttling', async () => {
    recorder.opts.quota = { max: 5, windowMs: 1000 };
    const burst = setInterval(() => {
      // Every other second the platform throttles hard.
      recorder.opts.quota = recorder.opts.quota ? undefined : { max: 5, windowMs: 1000 };
    }, 1000);
    try {
      await scheduling(app!.bot).outbound.createCampaign({ key: 'fault.5xx', kind: 'test', title: '故障测试', recipients: await listActiveStaff(db), render: (s) => `故障测试：${s.name}` });
      await waitFor('every ledger row sent', async () => (await sentCount(db)) === N, 120_000, 250);
    } finally {
      clearInterval(burst);
    }
    expect(recorder.stats.failed5xx).toBeGreaterThan(0);
    expect(recorder.stats.rejected429).toBeGreaterThan(0);
    const counts = recorder.counts();
    expect(counts.size).toBe(N);
    expect([...counts].filter(([, n]) => n !== 1)).toEqual([]);
  }, 150_000);

  it('delivers everything exactly once when each call takes 3 s', async () => {
    recorder.opts.failRate = 0;
    recorder.opts.quota = undefined;
    recorder.opts.latencyMs = 3000;
    const before = recorder.deliveries.length;
    const staff = (await listActiveStaff(db)).slice(0, 60);
    await scheduling(app!.bot).outbound.createCampaign({ key: 'fault.slow', kind: 'test', title: '慢速平台测试', recipients: staff, render: (s) => `慢速平台测试：${s.name}` });
    await waitFor('60 slow sends', async () => recorder.deliveries.length - before >= 60, 60_000, 200);
    await new Promise((r) => setTimeout(r, 3500)); // anything sent twice would arrive by now
    const slow = recorder.deliveries.slice(before);
    expect(slow).toHaveLength(60);
    expect(new Set(slow.map((d) => d.recipient)).size).toBe(60);
  }, 120_000);
});

describe('the database connection dropped in the middle of an approval, and every event delivered twice', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ label: 'faults_db' });
  });
  afterAll(async () => {
    await t?.dispose();
  });

  const approveButton = (c: Card) => button(c, 'decl.approve');

  it('applies each approval once, loses nothing, and a retry after the failure goes through', async () => {
    const [preview] = await ask(t, 'S0001', '上缴 礼品 300 患者家属 2026-11-20 事后退还 一盒茶叶');
    const confirm = button(preview.card!, 'decl.confirm');
    // Every event delivered twice: the same click twice (a platform redelivery) and a double click.
    const [c1, c2] = await Promise.all([t.click('S0001', preview.id, 'decl.confirm', confirm.value), t.click('S0001', preview.id, 'decl.confirm', confirm.value)]);
    expect([c1.body.toast, c2.body.toast]).toContain('已提交。');
    const id = String(confirm.value!.id);
    const inbox = async (u: string) => (await t.inbox(u)).filter((m) => m.kind === 'card' && JSON.stringify(m.card).includes(`"SB-${id}"`) && m.card!.title.includes('待'));
    const head = (await inbox('S0003')).at(-1)!;
    await t.click('S0003', head.id, 'decl.approve', approveButton(head.card!).value);
    expect((await getDeclaration(t.app.db, id))!.state).toBe('pending_discipline');

    // Two discipline members click while every connection of the bot is cut.
    const cards = await Promise.all(['S0040', 'S0041'].map(async (u) => ({ u, m: (await inbox(u)).at(-1)! })));
    const killer = new pg.Client({ connectionString: PG_URL });
    await killer.connect();
    const cut = killer.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()`, [`qinglian:${t.app.db.schema}`.slice(0, 63)]);
    const first = await Promise.all(cards.map(({ u, m }) => t.click(u, m.id, 'decl.approve', approveButton(m.card!).value)));
    await cut;
    await killer.end();
    // Each click was either answered (the bot's own answer) or refused by the sandbox's
    // front door while the database was away; never a bare server error.
    for (const r of first) {
      expect([200, 503]).toContain(r.status);
      expect(r.body.toast ?? r.body.error ?? '').toMatch(/[\u4e00-\u9fff]|^$/);
    }

    // Whatever happened, retrying reaches one decision, and it is recorded once.
    for (const { u, m } of cards) {
      const d = (await getDeclaration(t.app.db, id))!;
      if (d.state === 'pending_discipline') await t.click(u, m.id, 'decl.approve', approveButton(m.card!).value);
    }
    const d = (await getDeclaration(t.app.db, id))!;
    expect(d.state).toBe('registered');
    expect(d.receiptNo).toMatch(/^HB-\d{4}-\d{6}$/);
    const trail = await auditTrail(t.app.db, 'declaration', id);
    const transitions = trail.filter((r) => r.from_state !== r.to_state && r.to_state);
    expect(transitions.filter((r) => r.to_state === 'registered')).toHaveLength(1);
    expect(transitions.filter((r) => r.to_state === 'pending_discipline')).toHaveLength(1);
    expect(transitions.filter((r) => r.to_state === 'pending_dept')).toHaveLength(1);
    const receipts = await t.app.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM declarations WHERE receipt_no IS NOT NULL`);
    expect(receipts.rows[0].n).toBe(1);
  }, 90_000);
});
