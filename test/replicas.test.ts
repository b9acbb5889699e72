import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushFixture } from './fakes/recorder/spawn.js';
import { waitFor } from './fakes/recorder/seed.js';

/**
 * Two bot processes against one Redis and one PostgreSQL, both asked to run the same push to
 * 2,000 recipients; one is killed midway. The survivor finishes, and the platform's record
 * shows every recipient reached exactly once.
 */
const N = 2000;
const KEY = 'test.replicas';

describe('replicas sharing one Redis and one PostgreSQL', () => {
  let f: Awaited<ReturnType<typeof pushFixture>>;
  const startReplica = () => f.start();

  beforeAll(async () => {
    f = await pushFixture('replicas', N, KEY);
  });
  afterAll(async () => {
    await f?.dispose();
  });

  it('creates the campaign once, shares the work, and survives one replica being killed', async () => {
    const a = startReplica();
    const b = startReplica();
    a.ready.catch(() => {});
    const [infoA, infoB] = await Promise.all([a.ready, b.ready]);
    // Both triggered the same push; exactly one of them created it.
    expect([infoA.created, infoB.created].filter(Boolean)).toHaveLength(1);
    expect(infoA.added + infoB.added).toBe(N);

    await waitFor('sends under way', async () => f.recorder.deliveries.length >= 300, 60_000, 5);
    a.child.kill('SIGKILL');
    await new Promise((r) => a.child.once('exit', r));
    expect(f.recorder.deliveries.length).toBeLessThan(N);

    await waitFor(
      'every ledger row sent by the survivor',
      async () => (await f.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM send_ledger WHERE status = 'sent'`)).rows[0].n === N,
      90_000,
      200,
    );
    const counts = f.recorder.counts();
    expect(counts.size).toBe(N);
    expect([...counts].filter(([, n]) => n !== 1)).toEqual([]);
    const campaigns = await f.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM campaigns WHERE key = $1`, [KEY]);
    expect(campaigns.rows[0].n).toBe(1);
    b.child.kill('SIGTERM');
    await new Promise((r) => b.child.once('exit', r));
  }, 150_000);
});
