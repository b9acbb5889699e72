import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './helpers/net.js';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteRedisKeys, REDIS_URL, uniqueName } from './helpers/db.js';

/** `npm start` as an operator runs it, stopped with SIGTERM as a service manager would. */
describe('graceful shutdown', () => {
  const prefix = `test:${uniqueName('shutdown')}`;
  afterAll(async () => {
    await deleteRedisKeys(prefix);
  });

  it('answers, then on SIGTERM stops taking requests, closes everything and exits 0 in time', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, PORT: String(port), DATA_DIR: mkdtempSync(join(tmpdir(), 'qinglian-shutdown-')), REDIS_URL, REDIS_PREFIX: prefix, LOG_LEVEL: 'info', SHUTDOWN_TIMEOUT_SECONDS: '10', CONFIG_FILE: '/nonexistent/qinglian.yaml' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 60_000;
    while (!(await fetch(`${base}/healthz`).then((r) => r.ok, () => false))) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`bot did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(out).toContain(`请在浏览器打开 ${base}/sandbox`);
    const sent = await fetch(`${base}/sandbox/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: 'S0001', text: '帮助' }) });
    expect(sent.status).toBe(202);

    const t0 = Date.now();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(out).toContain('shutting down');
    // Nothing is listening any more.
    expect(await fetch(`${base}/healthz`).then(() => 'answered', () => 'refused')).toBe('refused');
  }, 120_000);
});
