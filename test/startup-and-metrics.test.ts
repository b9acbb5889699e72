import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Redis } from 'ioredis';
import { freePort } from './helpers/net.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { checkRedisDurability, readRedisDurability, StartupRefused, waitForRedis } from '../src/startup-checks.js';
import { ask, startTestApp, type TestApp } from './helpers/app.js';
import { REDIS_URL } from './helpers/db.js';

describe('Redis durability check at start-up', () => {
  let durable: ChildProcess;
  let durablePort: number;
  beforeAll(async () => {
    durablePort = await freePort();
    durable = spawn('redis-server', ['--port', String(durablePort), '--bind', '127.0.0.1', '--appendonly', 'yes', '--maxmemory-policy', 'noeviction', '--dir', mkdtempSync(`${tmpdir()}/qinglian-redis-`)], { stdio: 'ignore' });
    const r = new Redis(durablePort, '127.0.0.1', { retryStrategy: (n) => (n > 50 ? null : 100) });
    r.on('error', () => {}); // refused until the server is up; the retry strategy waits for it
    await r.ping();
    r.disconnect();
  });
  afterAll(() => {
    durable?.kill('SIGKILL');
  });

  it('warns about a Redis that keeps nothing on disk, and refuses it in production unless allowed', async () => {
    const redis = new Redis(REDIS_URL);
    try {
      const lines: string[] = [];
      const logger = createLogger('warn', { write: (l: string) => void lines.push(l) });
      const d = await readRedisDurability(redis);
      // The machine's Redis runs with --save "" --appendonly no.
      expect(d).toMatchObject({ appendonly: false, rdbSaves: false });
      await checkRedisDurability(redis, { production: false, allowVolatile: false, logger });
      expect(lines.join('')).toContain('Redis keeps nothing on disk');
      await expect(checkRedisDurability(redis, { production: true, allowVolatile: false, logger })).rejects.toBeInstanceOf(StartupRefused);
      await expect(checkRedisDurability(redis, { production: true, allowVolatile: true, logger })).resolves.toBeUndefined();
    } finally {
      redis.disconnect();
    }
  });

  it('gives up on an unreachable Redis with a message that names it, password hidden', async () => {
    const url = 'redis://ops:s3cret@127.0.0.1:1';
    const r = new Redis(url, { retryStrategy: () => 200 });
    r.on('error', () => {});
    try {
      const err = await waitForRedis(r, url, 800).then(() => undefined, (e: unknown) => e as Error);
      expect(err).toBeInstanceOf(StartupRefused);
      expect(err!.message).toMatch(/^无法连接 Redis（redis:\/\/ops:\*\*\*@127\.0\.0\.1:1），已等待 1 秒。/);
      expect(err!.message).not.toContain('s3cret');
    } finally {
      r.disconnect();
    }
  });

  it('is quiet about a Redis with append-only persistence and no eviction', async () => {
    const redis = new Redis(durablePort, '127.0.0.1');
    try {
      const lines: string[] = [];
      await checkRedisDurability(redis, { production: true, allowVolatile: false, logger: createLogger('warn', { write: (l: string) => void lines.push(l) }) });
      expect(lines).toEqual([]);
      await redis.config('SET', 'maxmemory-policy', 'allkeys-lru');
      await expect(checkRedisDurability(redis, { production: true, allowVolatile: false, logger: createLogger('silent') })).rejects.toThrow(/maxmemory-policy is allkeys-lru/);
    } finally {
      redis.disconnect();
    }
  });
});

describe('/metrics', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ label: 'metrics', backend: 'pglite' });
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('counts events by platform and kind and times handlers', async () => {
    await ask(t, 'S0001', '帮助');
    const text = await (await fetch(`${t.url}/metrics`)).text();
    expect(text).toMatch(/qinglian_events_received_total\{platform="sandbox",kind="message"\} 1/);
    expect(text).toMatch(/qinglian_handler_seconds_count\{kind="command",name="帮助",outcome="ok"\} 1/);
    expect(text).toContain('qinglian_process_resident_memory_bytes');
    expect(text).toMatch(/qinglian_approvals_pending\{step="discipline"\} 0/);
    expect(text).toContain('# TYPE qinglian_outbound_pending gauge');
    // A push goes through the outbound queue and is counted per platform and outcome.
    // (The daily check may already have pushed this month's task at start-up; either way the
    // 42 sends go through the queue.)
    await ask(t, 'S0002', '推送 学习');
    const deadline = Date.now() + 30_000;
    let sentOk = 0;
    while (sentOk < 42 && Date.now() < deadline) {
      const after = await (await fetch(`${t.url}/metrics`)).text();
      sentOk = Number(/qinglian_sends_total\{platform="sandbox",outcome="ok"\} (\d+)/.exec(after)?.[1] ?? 0);
      if (sentOk < 42) await new Promise((r) => setTimeout(r, 100));
    }
    expect(sentOk).toBe(42);
  });
});
