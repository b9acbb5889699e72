import { join } from 'node:path';
import type { Env } from '../config.js';
import type { Db } from './db.js';
import { migrate } from './migrate.js';
import { openPg } from './pg.js';
import { openPglite } from './pglite.js';
import { currentRole, grantBotPrivileges } from './privileges.js';

/**
 * Opens the configured database and brings its schema up to date. With DATABASE_OWNER_URL the
 * migrations run as that owner, which then grants the bot's own role what it needs (on
 * audit_log only SELECT and INSERT); the owner connection is closed before the bot runs.
 */
export async function openStore(env: Pick<Env, 'DATABASE_URL' | 'DATABASE_OWNER_URL' | 'DATABASE_SCHEMA' | 'DATA_DIR'>): Promise<Db> {
  const schema = env.DATABASE_SCHEMA ?? 'public';
  if (!env.DATABASE_URL) {
    const db = await openPglite(join(env.DATA_DIR, 'pglite'), schema);
    await migrate(db);
    return db;
  }
  const db = await openPg(env.DATABASE_URL, schema);
  try {
    if (env.DATABASE_OWNER_URL) {
      const owner = await openPg(env.DATABASE_OWNER_URL, schema, 1);
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
