import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './helpers/net.js';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteRedisKeys, REDIS_URL, uniqueName } from './helpers/db.js';

/**
 * A service manager signals the process it started, which is `npm`: the signal must reach the
 * bot (npm passes it to its script's process; `exec` makes that process the bot itself).
 */
describe('npm start', () => {
  const prefix = `test:${uniqueName('npmstart')}`;
  let group: number | undefined;
  afterAll(async () => {
    // A failed run must not leave a bot behind: its own process group goes, whatever happened.
    if (group) {
      try {
        process.kill(-group, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await deleteRedisKeys(prefix);
  });

  it('stops the bot when npm receives SIGTERM', async () => {
    const port = await freePort();
    const child = spawn('npm', ['start', '--silent'], {
      env: { ...process.env, PORT: String(port), DATA_DIR: mkdtempSync(join(tmpdir(), 'qinglian-npmstart-')), REDIS_URL, REDIS_PREFIX: prefix, SHUTDOWN_TIMEOUT_SECONDS: '10', CONFIG_FILE: '/nonexistent/qinglian.yaml' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    group = child.pid;
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const base = `http://127.0.0.1:${port}`;
    const up = () => fetch(`${base}/healthz`).then((r) => r.ok, () => false);
    const deadline = Date.now() + 60_000;
    while (!(await up())) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`bot did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    // Only npm itself is signalled, as systemd or a container runtime would.
    child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<'still running'>((r) => setTimeout(() => r('still running'), 15_000))]);
    // However npm reports it, the bot must be gone: nothing answers on its port.
    const gone = Date.now() + 15_000;
    while ((await up()) && Date.now() < gone) await new Promise((r) => setTimeout(r, 200));
    expect(await up()).toBe(false);
    expect(code).not.toBe('still running');
    expect(out).toContain('shutting down');
  }, 120_000);
});
