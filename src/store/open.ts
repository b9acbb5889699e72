import { join } from 'node:path';
import type { Env } from '../config.js';
import type { Logger } from '../logger.js';
import type { Db } from './db.js';
import { lockDataDir, type LockRole } from './lock.js';
import { migrate } from './migrate.js';
import { openPg } from './pg.js';
import { openPglite } from './pglite.js';
import { currentRole, grantBotPrivileges } from './privileges.js';

export interface OpenOptions {
  /** Who opens it: named in the lock file, so the next one to come is told who holds it. */
  role?: LockRole;
  logger?: Pick<Logger, 'warn'>;
}

/**
 * Opens the configured database and brings its schema up to date. PGlite's directory is
 * locked for this process until `close` (see lock.ts); PostgreSQL needs no lock. With
 * DATABASE_OWNER_URL the migrations run as that owner, which then grants the bot's own role
 * what it needs (on audit_log only SELECT and INSERT); the owner connection is closed before
 * the bot runs.
 */
export async function openStore(env: Pick<Env, 'DATABASE_URL' | 'DATABASE_OWNER_URL' | 'DATABASE_SCHEMA' | 'DATA_DIR'>, opts: OpenOptions = {}): Promise<Db> {
  const schema = env.DATABASE_SCHEMA ?? 'public';
  return env.DATABASE_URL ? openPostgres(env.DATABASE_URL, env.DATABASE_OWNER_URL, schema) : openLockedPglite(env.DATA_DIR, schema, opts);
}

async function openPostgres(url: string, ownerUrl: string | undefined, schema: string): Promise<Db> {
  const db = await openPg(url, schema);
  try {
    if (ownerUrl) {
      const owner = await openPg(ownerUrl, schema, 1);
      try {
        await migrate(owner);
        const bot = await currentRole(db);
        if (bot !== (await currentRole(owner))) await grantBotPrivileges(owner, bot);
      } finally {
        await owner.close();
      }
    } else {
      await migrate(db).catch((e: unknown) => {
        // 42501: the bot's role may not create tables; only the owner can apply new migrations.
        if ((e as { code?: string }).code === '42501') {
          throw new Error(`数据库有尚未执行的迁移，而 DATABASE_URL 的角色无权建表（${(e as Error).message}）。请设置 DATABASE_OWNER_URL 为表的所有者后再启动，见 docs/operations.md“数据库角色”。`);
        }
        throw e;
      });
    }
    return db;
  } catch (e) {
    await db.close();
    throw e;
  }
}

async function openLockedPglite(dataDir: string, schema: string, opts: OpenOptions): Promise<Db> {
  const lock = lockDataDir(dataDir, opts.role ?? 'bot', (previous) =>
    opts.logger?.warn({ previous, dataDir }, 'taking over a stale PGlite lock: its process is gone (crashed or killed)'),
  );
  try {
    const db = await openPglite(join(dataDir, 'pglite'), schema);
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
