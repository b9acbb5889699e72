import { join } from 'node:path';
import type { Env } from '../config.js';
import type { Logger } from '../logger.js';
import type { Db } from './db.js';
import { lockDataDir, type LockRole } from './lock.js';
import { migrate } from './migrate.js';
import { openPg } from './pg.js';
import { openPglite } from './pglite.js';

export interface OpenOptions {
  /** Who opens it: named in the lock file, so the next one to come is told who holds it. */
  role?: LockRole;
  logger?: Pick<Logger, 'warn'>;
}

/**
 * Opens the configured database and brings its schema up to date. PGlite's directory is
 * locked for this process until `close` (see lock.ts); PostgreSQL needs no lock.
 */
export async function openStore(env: Pick<Env, 'DATABASE_URL' | 'DATABASE_SCHEMA' | 'DATA_DIR'>, opts: OpenOptions = {}): Promise<Db> {
  const schema = env.DATABASE_SCHEMA ?? 'public';
  if (env.DATABASE_URL) {
    const db = await openPg(env.DATABASE_URL, schema);
    await migrate(db);
    return db;
  }
  const lock = lockDataDir(env.DATA_DIR, opts.role ?? 'bot', (previous) =>
    opts.logger?.warn({ previous, dataDir: env.DATA_DIR }, 'taking over a stale PGlite lock: its process is gone (crashed or killed)'),
  );
  try {
    const db = await openPglite(join(env.DATA_DIR, 'pglite'), schema);
    await migrate(db).catch(async (e: unknown) => {
      await db.close();
      throw e;
    });
    const close = db.close.bind(db);
    return {
      ...db,
      async close() {
        try {
          await close();
        } finally {
          lock.release();
        }
      },
    };
  } catch (e) {
    lock.release();
    throw e;
  }
}
