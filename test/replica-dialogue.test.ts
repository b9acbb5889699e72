import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, SAMPLE_ROSTER, type App } from '../src/app.js';
import { fileSchema, loadConfig } from '../src/config.js';
import { importRosterFile } from '../src/domain/roster.js';
import { createLogger } from '../src/logger.js';
import { SandboxPlatform } from '../src/platform/sandbox/adapter.js';
import { getDeclaration } from '../src/store/declarations.js';
import { waitFor } from './fakes/recorder/seed.js';
import { deleteRedisKeys, freshDb, REDIS_URL, uniqueName } from './helpers/db.js';

/**
 * Two replicas of the bot behind one Redis prefix and one database, each with its own
 * in-process queue, as two processes would have: they share nothing else, since the bot keeps
 * no state between events outside Redis and the database. Running them in one test process
 * only shares the event loop, and every await still lets the two interleave as processes do.
 */
describe('14 one state store with a per-user lock shared by all replicas', () => {
  const prefix = `test:${uniqueName('replica_dialogue')}`;
  let db: Awaited<ReturnType<typeof freshDb>>;
  const replicas: { app: App; sandbox: SandboxPlatform }[] = [];
  const redis = new Redis(REDIS_URL);

  beforeAll(async () => {
    db = await freshDb('pg', 'replica_dialogue');
    await importRosterFile(db, SAMPLE_ROSTER, readFileSync(SAMPLE_ROSTER));
    const base = loadConfig({ REDIS_URL, REDIS_PREFIX: prefix, PORT: '0', LOG_LEVEL: 'silent', CONFIG_FILE: '/nonexistent/qinglian.yaml', SANDBOX: 'on', SCHEDULED_JOBS: 'off' });
    for (let i = 0; i < 2; i++) {
      // Without form inputs, so 上缴 is the step-by-step dialogue whose answers must not cross.
      const sandbox = Object.assign(new SandboxPlatform(), { supportsForms: false });
      const app = await createApp({ config: { env: base.env, settings: fileSchema.parse({}) }, db, platforms: [sandbox], logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent') });
      await app.start();
      replicas.push({ app, sandbox });
    }
  }, 60_000);
  afterAll(async () => {
    for (const r of replicas) await r.app.stop();
    redis.disconnect();
    await deleteRedisKeys(prefix);
    await db?.dispose();
  });

  it('14 one user\u2019s dialogue answers arriving alternately at two replicas are each applied in order', async () => {
    const [a, b] = replicas;
    await a.sandbox.deliverMessage('S0001', '上缴').done;
    const answers = ['1', '500', '2026-11-20', '2', '存入住院账户', '病历夹里的信封'];
    const done: Promise<void>[] = [];
    for (const [i, text] of answers.entries()) {
      const { eventId, done: handled } = replicas[(i + 1) % 2].sandbox.deliverMessage('S0001', text);
      done.push(handled);
      // The next answer comes as soon as this one has reached the bot, long before it is handled:
      // it is marked seen and (where the bot keeps one) has its place in the user's line, which
      // is when two events a person sent one after the other are ordered at all.
      await waitFor(
        `answer ${i + 1} received`,
        async () => {
          const [seen, line] = await Promise.all([redis.exists(`${prefix}:dedupe:sandbox:${eventId}`), redis.get(`${prefix}:lock:sandbox:S0001:next`)]);
          return seen === 1 && (line === null || Number(line) >= i + 2);
        },
        5_000,
        1,
      );
    }
    await Promise.all(done);

    const drafts = await db.query<{ id: string }>(`SELECT id::text AS id FROM declarations WHERE declarant_id = 'S0001'`);
    expect(drafts.rows).toHaveLength(1);
    const d = (await getDeclaration(db, drafts.rows[0].id))!;
    expect({ kind: d.kind, amount: d.amount, receivedOn: d.receivedOn, giver: d.giver, handling: d.handling, description: d.description, state: d.state }).toEqual({
      kind: 'cash',
      amount: '500.00',
      receivedOn: '2026-11-20',
      giver: 'family',
      handling: 'to_patient_account',
      description: '病历夹里的信封',
      state: 'draft',
    });
    // No answer was refused as out of place: every prompt asked for the next field.
    const texts = [...a.sandbox.inbox('S0001'), ...b.sandbox.inbox('S0001')].map((m) => m.text ?? '');
    expect(texts.filter((t) => /无法识别|最多保留|不能晚于|请回复/.test(t))).toEqual([]);
  }, 30_000);
});
