import pg from 'pg';
import type { Db } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { openPg } from '../../src/store/pg.js';
import { openPglite } from '../../src/store/pglite.js';

export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A schema name unique to this test file and run, so files never see each other's rows. */
export function uniqueName(label: string): string {
  const clean = label.toLowerCase().replace(/[^a-z0-9]+/g, '_').slice(0, 30);
  return `t_${clean}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}

/** One statement (or several, separated by ;) as the test server's superuser. */
export async function asSuperuser(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

export async function dropSchema(schema: string): Promise<void> {
  await asSuperuser(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
}

export type Backend = 'pglite' | 'pg';
export const BACKENDS: Backend[] = ['pglite', 'pg'];

/** A migrated, empty database of the given kind, in its own schema. */
export async function freshDb(kind: Backend, label: string): Promise<Db & { dispose(): Promise<void> }> {
  const schema = uniqueName(label);
  const db = kind === 'pg' ? await openPg(PG_URL, schema, 5) : await openPglite(undefined, schema);
  await migrate(db);
  return Object.assign(db, {
    async dispose() {
      await db.close();
      if (kind === 'pg') await dropSchema(schema);
    },
  });
}

/** Removes every key under a test's Redis prefix. */
export async function deleteRedisKeys(prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const r = new Redis(REDIS_URL);
  try {
    const keys = await r.keys(`${prefix}:*`);
    if (keys.length) await r.del(...keys);
  } finally {
    r.disconnect();
  }
}
