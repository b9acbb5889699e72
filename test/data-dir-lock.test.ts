import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './helpers/net.js';
import { afterAll, describe, expect, it } from 'vitest';
import { SAMPLE_ROSTER } from '../src/app.js';
import { LOCK_FILE } from '../src/store/lock.js';
import { openStore } from '../src/store/open.js';
import { getStaff } from '../src/store/staff.js';
import { deleteRedisKeys, REDIS_URL, uniqueName } from './helpers/db.js';

/** 13.9: PGlite has one writer, so the CLI must not open a directory a running bot holds. */
describe('13.9 the PGlite data directory lock', () => {
  const prefix = `test:${uniqueName('datadir_lock')}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'qinglian-lock-'));
  const { DATABASE_URL: _ignored, ...parentEnv } = process.env;
  const env = { ...parentEnv, DATA_DIR: dataDir, REDIS_URL, REDIS_PREFIX: prefix, CONFIG_FILE: '/nonexistent/qinglian.yaml', SCHEDULED_JOBS: 'off', SANDBOX: 'on' };
  const roster = join(dataDir, 'roster-plus-one.csv');
  writeFileSync(roster, `${readFileSync(SAMPLE_ROSTER, 'utf8').trimEnd()}\nL0001,锁测试,心血管内科,staff,,\n`);
  const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { env: { ...env, LOG_LEVEL: 'warn' }, encoding: 'utf8' });
  afterAll(async () => {
    await deleteRedisKeys(prefix);
  });

  it('13.9 refuses the CLI on a live bot’s directory in Chinese, changes nothing, and works once the bot stops', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env: { ...env, PORT: String(port), LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const base = `http://127.0.0.1:${port}`;
    try {
      const deadline = Date.now() + 60_000;
      while (!(await fetch(`${base}/healthz`).then((r) => r.ok, () => false))) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`bot did not start:\n${out}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const lock = JSON.parse(readFileSync(join(dataDir, LOCK_FILE), 'utf8')) as { pid: number; role: string };
      expect(lock).toMatchObject({ pid: child.pid, role: 'bot' });

      const refused = cli('roster', 'import', roster);
      expect(refused.status).toBe(3);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toContain(`正在运行的清廉助手机器人（进程 ${child.pid}`);
      expect(refused.stderr).toContain('请停止机器人后再运行此命令');
      // The bot's database never saw the new person, and the bot still answers.
      expect((await fetch(`${base}/sandbox/api/inbox/L0001`)).status).toBe(404);
      expect((await fetch(`${base}/sandbox/api/inbox/S0001`)).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);

    const ok = cli('roster', 'import', roster);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('新增 1');
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);
    const db = await openStore({ DATA_DIR: dataDir, DATABASE_SCHEMA: undefined, DATABASE_URL: undefined }, { role: 'cli' });
    try {
      expect((await getStaff(db, 'L0001'))?.name).toBe('锁测试');
      expect(Number((await db.query<{ n: string }>('SELECT count(*)::text AS n FROM staff')).rows[0].n)).toBe(readFileSync(roster, 'utf8').trim().split('\n').length - 1);
    } finally {
      await db.close();
    }
  }, 180_000);

  it('13.9 takes over a lock left by a process that is gone, saying so', () => {
    const gone = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    const deadPid = Number(gone.stdout.trim());
    writeFileSync(join(dataDir, LOCK_FILE), JSON.stringify({ pid: deadPid, hostname: hostname(), startedAt: '2026-11-01T00:00:00.000Z', role: 'bot' }));
    const r = cli('roster', 'import', roster, '--dry-run');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('试运行');
    expect(r.stderr).toContain('taking over a stale PGlite lock');
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);
  }, 60_000);
});
