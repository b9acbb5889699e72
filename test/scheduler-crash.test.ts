import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Recorder } from './fakes/recorder/server.js';
import { startBotChild } from './fakes/recorder/spawn.js';
import { seedStaff, waitFor } from './fakes/recorder/seed.js';
import { deleteRedisKeys, freshDb, PG_URL, REDIS_URL, uniqueName } from './helpers/db.js';

/**
 * The exactly-once promise under the worst timing: a 2,000-recipient push, the process
 * killed with SIGKILL midway (mid-send, mid-ledger-update, wherever it is), then started
 * again. Checked on what the platform recorded, not only on our own ledger.
 */
const N = 2000;
const KEY = 'test.crash';

describe('a push killed with SIGKILL and restarted', () => {
  let db: Awaited<ReturnType<typeof freshDb>>;
  const prefix = `test:${uniqueName('crash')}`;
  const recorder = new Recorder({ latencyMs: 8 });
  const children: ChildProcess[] = [];

  function startChild() {
    const started = startBotChild({ PG_URL, PG_SCHEMA: db.schema, REDIS_URL, REDIS_PREFIX: prefix, RECORDER_URL: recorder.url, CAMPAIGN_KEY: KEY });
    children.push(started.child);
    return started;
  }

  beforeAll(async () => {
    await recorder.start();
    db = await freshDb('pg', 'crash');
    await seedStaff(db, N);
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await recorder.close();
    await deleteRedisKeys(prefix);
    await db?.dispose();
  });

  it('completes with every recipient reached exactly once', async () => {
    const first = startChild();
    first.ready.catch(() => {});
    // Kill while sends are in full flight.
    await waitFor('first sends', async () => recorder.deliveries.length >= 400, 60_000, 5);
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    const atKill = recorder.deliveries.length;
    expect(atKill).toBeLessThan(N);

    const second = startChild();
    const info = await second.ready;
    // The restarted process repeats the trigger: nothing is added twice.
    expect(info.created).toBe(false);
    await waitFor(
      'every ledger row sent',
      async () => {
        const r = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM send_ledger WHERE status = 'sent'`);
        return r.rows[0].n === N;
      },
      55_000,
      200,
    );
    const counts = recorder.counts();
    expect(counts.size).toBe(N);
    const twice = [...counts].filter(([, n]) => n !== 1);
    expect(twice).toEqual([]);
    expect(recorder.deliveries.length).toBe(N);
    // The ledger, not the platform's idempotency, stops most repeats: only sends in flight at
    // the kill (at most the worker concurrency) may reach the platform a second time.
    expect(recorder.stats.duplicateKeys).toBeLessThanOrEqual(20);
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
  }, 120_000);
});
