import { join } from 'node:path';
import type { Env } from '../config.js';
import type { Db } from './db.js';
import { migrate } from './migrate.js';
import { openPg } from './pg.js';
import { openPglite } from './pglite.js';

/** Opens the configured database and brings its schema up to date. */
export async function openStore(env: Pick<Env, 'DATABASE_URL' | 'DATABASE_SCHEMA' | 'DATA_DIR'>): Promise<Db> {
  const schema = env.DATABASE_SCHEMA ?? 'public';
  const db = env.DATABASE_URL ? await openPg(env.DATABASE_URL, schema) : await openPglite(join(env.DATA_DIR, 'pglite'), schema);
  await migrate(db);
  return db;
}
