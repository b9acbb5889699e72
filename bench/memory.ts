import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Recorder } from '../test/fakes/recorder/server.js';
import { seedStaff } from '../test/fakes/recorder/seed.js';
import { deleteRedisKeys, freshDb, PG_URL, REDIS_URL, uniqueName } from '../test/helpers/db.js';
import { report } from './report.js';

/** Peak RSS of a bot process with a 10,000-staff roster and a 10,000-message push queued. */
const here = dirname(fileURLToPath(import.meta.url));

export async function run(): Promise<void> {
  const db = await freshDb('pg', 'bench_memory');
  const prefix = `bench:${uniqueName('memory')}`;
  // Each send takes a minute: the push stays queued while we measure.
  const recorder = new Recorder({ latencyMs: 60_000 });
  await recorder.start();
  try {
    await seedStaff(db, 10_000);
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'memory', 'child.ts')], {
        env: { ...process.env, PG_URL, PG_SCHEMA: db.schema, REDIS_URL, REDIS_PREFIX: prefix, RECORDER_URL: recorder.url },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let buf = '';
      child.stdout.on('data', (d: Buffer) => (buf += d.toString()));
      child.on('exit', (code) => (code === 0 ? resolve(buf) : reject(new Error(`memory child exited ${code}`))));
    });
    const m = JSON.parse(out.trim().split('\n').pop()!) as { maxRssMb: number; staff: number };
    if (m.staff !== 10_000) throw new Error(`expected 10,000 staff, got ${m.staff}`);
    report({ name: 'memory.peak_rss.10k_staff_10k_queued', value: m.maxRssMb, unit: 'MB', target: '< 300 MB' });
  } finally {
    await recorder.close();
    await deleteRedisKeys(prefix);
    await db.dispose();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
