import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Recorder } from './fakes/recorder/server.js';
import { startBotChild } from './fakes/recorder/spawn.js';
import { seedStaff, waitFor } from './fakes/recorder/seed.js';
import { deleteRedisKeys, freshDb, PG_URL, REDIS_URL, uniqueName } from './helpers/db.js';

/**
 * Two bot processes against one Redis and one PostgreSQL, both asked to run the same push to
 * 2,000 recipients; one is killed midway. The survivor finishes, and the platform's record
 * shows every recipient reached exactly once.
 */
const N = 2000;
const KEY = 'test.replicas';

describe('replicas sharing one Redis and one PostgreSQL', () => {
  let db: Awaited<ReturnType<typeof freshDb>>;
  const prefix = `test:${uniqueName('replicas')}`;
  const recorder = new Recorder({ latencyMs: 8 });
  const children: ChildProcess[] = [];

  function startReplica() {
    const started = startBotChild({ PG_URL, PG_SCHEMA: db.schema, REDIS_URL, REDIS_PREFIX: prefix, RECORDER_URL: recorder.url, CAMPAIGN_KEY: KEY });
    children.push(started.child);
    return started;
  }

  beforeAll(async () => {
    await recorder.start();
    db = await freshDb('pg', 'replicas');
    await seedStaff(db, N);
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await recorder.close();
    await deleteRedisKeys(prefix);
    await db?.dispose();
  });

  it('creates the campaign once, shares the work, and survives one replica being killed', async () => {
    const a = startReplica();
    const b = startReplica();
    a.ready.catch(() => {});
    const [infoA, infoB] = await Promise.all([a.ready, b.ready]);
    // Both triggered the same push; exactly one of them created it.
    expect([infoA.created, infoB.created].filter(Boolean)).toHaveLength(1);
    expect(infoA.added + infoB.added).toBe(N);

    await waitFor('sends under way', async () => recorder.deliveries.length >= 300, 60_000, 5);
    a.child.kill('SIGKILL');
    await new Promise((r) => a.child.once('exit', r));
    expect(recorder.deliveries.length).toBeLessThan(N);

    await waitFor(
      'every ledger row sent by the survivor',
      async () => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM send_ledger WHERE status = 'sent'`)).rows[0].n === N,
      90_000,
      200,
    );
    const counts = recorder.counts();
    expect(counts.size).toBe(N);
    expect([...counts].filter(([, n]) => n !== 1)).toEqual([]);
    const campaigns = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM campaigns WHERE key = $1`, [KEY]);
    expect(campaigns.rows[0].n).toBe(1);
    b.child.kill('SIGTERM');
    await new Promise((r) => b.child.once('exit', r));
  }, 150_000);
});
