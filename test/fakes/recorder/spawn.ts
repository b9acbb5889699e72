import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deleteRedisKeys, freshDb, PG_URL, REDIS_URL, uniqueName } from '../../helpers/db.js';
import { seedStaff } from './seed.js';
import { Recorder } from './server.js';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Starts child.ts (a bot process that triggers one push through the recording platform) and
 * resolves `ready` with what its trigger did, once the push is queued.
 */
export function startBotChild(env: Record<string, string>): { child: ChildProcess; ready: Promise<{ added: number; created: boolean }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'child.ts')], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = new Promise<{ added: number; created: boolean }>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const line = buf.split('\n').find((l) => l.startsWith('{"ready"'));
      if (line) resolve(JSON.parse(line) as { added: number; created: boolean });
    });
    child.on('exit', (code, signal) => reject(new Error(`bot process exited early: ${code ?? signal}`)));
  });
  return { child, ready };
}

/**
 * A database seeded with `n` staff, a recording platform, and a way to start bot processes
 * that push one campaign to all of them; `dispose` kills what is left and cleans up.
 */
export async function pushFixture(label: string, n: number, campaignKey: string) {
  const prefix = `test:${uniqueName(label)}`;
  const recorder = new Recorder({ latencyMs: 8 });
  await recorder.start();
  const db = await freshDb('pg', label);
  await seedStaff(db, n);
  const children: ChildProcess[] = [];
  return {
    db,
    recorder,
    start() {
      const started = startBotChild({ PG_URL, PG_SCHEMA: db.schema, REDIS_URL, REDIS_PREFIX: prefix, RECORDER_URL: recorder.url, CAMPAIGN_KEY: campaignKey });
      children.push(started.child);
      return started;
    },
    async dispose() {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      await recorder.close();
      await deleteRedisKeys(prefix);
      await db.dispose();
    },
  };
}
