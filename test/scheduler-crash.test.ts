import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushFixture } from './fakes/recorder/spawn.js';
import { waitFor } from './fakes/recorder/seed.js';

/**
 * The exactly-once promise under the worst timing: a 2,000-recipient push, the process
 * killed with SIGKILL midway (mid-send, mid-ledger-update, wherever it is), then started
 * again. Checked on what the platform recorded, not only on our own ledger.
 */
const N = 2000;
const KEY = 'test.crash';

describe('a push killed with SIGKILL and restarted', () => {
  let f: Awaited<ReturnType<typeof pushFixture>>;
  const startChild = () => f.start();

  beforeAll(async () => {
    f = await pushFixture('crash', N, KEY);
  });
  afterAll(async () => {
    await f?.dispose();
  });

  it('completes with every recipient reached exactly once', async () => {
    const first = startChild();
    first.ready.catch(() => {});
    // Kill while sends are in full flight.
    await waitFor('first sends', async () => f.recorder.deliveries.length >= 400, 60_000, 5);
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    const atKill = f.recorder.deliveries.length;
    expect(atKill).toBeLessThan(N);

    const second = startChild();
    const info = await second.ready;
    // The restarted process repeats the trigger: nothing is added twice.
    expect(info.created).toBe(false);
    await waitFor(
      'every ledger row sent',
      async () => {
        const r = await f.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM send_ledger WHERE status = 'sent'`);
        return r.rows[0].n === N;
      },
      55_000,
      200,
    );
    const counts = f.recorder.counts();
    expect(counts.size).toBe(N);
    const twice = [...counts].filter(([, n]) => n !== 1);
    expect(twice).toEqual([]);
    expect(f.recorder.deliveries.length).toBe(N);
    // The ledger, not the platform's idempotency, stops most repeats: only sends in flight at
    // the kill (at most the worker concurrency) may reach the platform a second time.
    expect(f.recorder.stats.duplicateKeys).toBeLessThanOrEqual(20);
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
  }, 120_000);
});
