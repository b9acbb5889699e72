import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp } from './helpers/app.js';
import { PrivateRedis } from './helpers/processes.js';

/** Connections other than the asking client, as Redis lists them. */
async function otherClients(redis: PrivateRedis): Promise<string[]> {
  const admin = redis.client();
  try {
    const id = await admin.client('ID');
    const list = String(await admin.client('LIST'));
    return list.split('\n').filter((l) => l.trim() && !l.startsWith(`id=${id} `));
  } finally {
    admin.disconnect();
  }
}

describe('14.8 workers own their connections', () => {
  // A server of the test's own: on the shared one, other tests' clients would blur the count.
  const redis = new PrivateRedis();
  beforeAll(async () => {
    await redis.start();
  }, 30_000);
  afterAll(async () => {
    await redis.kill();
  });

  it('14.8 leaves no Redis connection open after app.stop(), outbound and cron workers included', async () => {
    // SCHEDULED_JOBS on: the cron worker runs too.
    const t = await startTestApp({ label: 'conn_close', backend: 'pglite', env: { REDIS_URL: redis.url, SCHEDULED_JOBS: 'on' } });
    // The workers connect on start; more than the bot's own single connection must be open.
    expect((await otherClients(redis)).length).toBeGreaterThan(2);
    await t.dispose(); // app.stop(), then the schema; the app's Redis is this private one
    // A closed socket takes a moment to leave the server's list.
    let left: string[] = [];
    for (let i = 0; i < 40; i++) {
      left = await otherClients(redis);
      if (left.length === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(left).toEqual([]);
  }, 60_000);
});
