import { spawn } from 'node:child_process';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboundQueueName } from '../scheduler/outbound.js';
import { CRON_QUEUE } from '../scheduler/scheduler.js';
import { TEMPORARILY_UNAVAILABLE } from '../src/bot/bot.js';
import { ask, startTestApp, type TestApp } from './helpers/app.js';
import { deleteRedisKeys, dropSchema, PG_URL, REDIS_URL, uniqueName } from './helpers/db.js';
import { exitCode, freePort, PrivateRedis } from './helpers/processes.js';

describe('13.15 Redis down while users write', () => {
  const redis = new PrivateRedis();
  let t: TestApp;
  beforeAll(async () => {
    await redis.start();
    t = await startTestApp({ label: 'redis_down', backend: 'pglite', env: { REDIS_URL: redis.url } });
  }, 60_000);
  afterAll(async () => {
    // Back up first, so stopping the queues does not wait on a Redis that is gone.
    if (redis.port && !redis.running) await redis.start().catch(() => {});
    await t?.dispose();
    await redis.kill();
  });

  it('13.15 a message and a card click get "系统暂时无法处理" at once, and work again when Redis is back', async () => {
    const [help] = await ask(t, 'S0001', '帮助');
    await redis.kill();

    const before = (await t.inbox('S0001')).length;
    const t0 = Date.now();
    expect((await t.say('S0001', '帮助')).status).toBe(202);
    const [reply] = await t.waitForReplies('S0001', before, 1, 5_000);
    expect(reply.text).toBe(TEMPORARILY_UNAVAILABLE);
    expect(Date.now() - t0).toBeLessThan(3_000);

    const t1 = Date.now();
    const click = await t.click('S0001', help.id, 'help.any', {});
    expect(click.status).toBe(200);
    expect(click.body.toast).toBe(TEMPORARILY_UNAVAILABLE);
    expect(Date.now() - t1).toBeLessThan(3_000);
    // Only the apology: nothing of the refused message was handled.
    await new Promise((r) => setTimeout(r, 500));
    expect(await t.inbox('S0001')).toHaveLength(before + 1);

    const h = await fetch(`${t.url}/healthz`);
    expect(h.status).toBe(503);
    expect(((await h.json()) as { failing: string[] }).failing).toContain('redis');

    await redis.start();
    const deadline = Date.now() + 15_000;
    for (;;) {
      const [again] = await ask(t, 'S0001', '帮助');
      if (again.text !== TEMPORARILY_UNAVAILABLE) {
        expect(again.kind).toBe(help.kind);
        break;
      }
      if (Date.now() > deadline) throw new Error('still unavailable 15 s after Redis came back');
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 60_000);
});

describe('13.15 a second instance on a port already taken', () => {
  const firstPrefix = `test:${uniqueName('first_instance')}`;
  const secondPrefix = `test:${uniqueName('second_instance')}`;
  const schema = uniqueName('second_instance');
  let first: TestApp;
  beforeAll(async () => {
    first = await startTestApp({ label: 'first_instance', backend: 'pglite', env: { PORT: String(await freePort()), REDIS_PREFIX: firstPrefix } });
  }, 60_000);
  afterAll(async () => {
    await first?.dispose();
    await deleteRedisKeys(secondPrefix);
    await dropSchema(schema);
  });

  it('13.15 exits non-zero with a clear message before consuming any queue job', async () => {
    const port = new URL(first.url).port;
    // Work waiting in the second instance's own queue: a worker started there would take it.
    const conn = new Redis(REDIS_URL);
    const queue = new Queue(outboundQueueName('sandbox'), { connection: conn, prefix: secondPrefix });
    await queue.add('send', { key: 'probe/none' }, { jobId: 'probe' });

    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, PORT: port, HOST: '127.0.0.1', REDIS_URL, REDIS_PREFIX: secondPrefix, DATABASE_URL: PG_URL, DATABASE_SCHEMA: schema, SANDBOX: 'on', LOG_LEVEL: 'info', CONFIG_FILE: '/nonexistent/qinglian.yaml' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await exitCode(child, 45_000);
    try {
      expect(code, out).not.toBe(0);
      expect(out).toContain(`端口 127.0.0.1:${port} 已被占用，很可能已有一个清廉助手在运行。`);
      expect(out).not.toContain('qinglian started');
      expect(await queue.getJobState('probe')).toBe('waiting');
      const cron = new Queue(CRON_QUEUE, { connection: conn, prefix: secondPrefix });
      expect(await cron.getJobSchedulers(0, -1)).toEqual([]);
      await cron.close();
      // The first instance is untouched and still answering.
      expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
    } finally {
      await queue.close();
      conn.disconnect();
    }
  }, 90_000);
});
