import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { checkDatabaseRole } from '../src/startup-checks.js';
import { appendAudit } from '../src/store/audit.js';
import { chainHead } from '../src/store/audit-chain.js';
import type { Db } from '../src/store/db.js';
import { loadMigrations, migrate } from '../src/store/migrate.js';
import { openStore } from '../src/store/open.js';
import { openPg } from '../src/store/pg.js';
import { openPglite } from '../src/store/pglite.js';
import { grantBotPrivileges } from '../src/store/privileges.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { asSuperuser, PG_URL, uniqueName } from './helpers/db.js';

const urlAs = (role: string) => {
  const u = new URL(PG_URL);
  u.username = role;
  u.password = '';
  return u.toString();
};

const logger = createLogger('silent');

describe('an owner role for migrations and a bot role that can only append to the audit log', () => {
  const tag = uniqueName('roles');
  const owner = `${tag}_own`;
  const botRole = `${tag}_bot`;
  const schema = `${tag}_s`;
  const env = { DATABASE_URL: urlAs(botRole), DATABASE_OWNER_URL: urlAs(owner), DATABASE_SCHEMA: schema, DATA_DIR: mkdtempSync(join(tmpdir(), 'qinglian-roles-')) };
  let bot: Db;
  beforeAll(async () => {
    await asSuperuser(`CREATE ROLE ${owner} LOGIN NOSUPERUSER; CREATE ROLE ${botRole} LOGIN NOSUPERUSER; CREATE SCHEMA ${schema} AUTHORIZATION ${owner};`);
    bot = await openStore(env);
  });
  afterAll(async () => {
    await bot?.close();
    await asSuperuser(`DROP SCHEMA IF EXISTS ${schema} CASCADE; DROP SCHEMA IF EXISTS ${schema}_old CASCADE; DROP OWNED BY ${owner}, ${botRole}; DROP ROLE ${owner}; DROP ROLE ${botRole};`);
  });

  it('13.6 migrates as the owner, and the bot role reads and writes records and appends audit rows', async () => {
    const tables = await bot.query<{ owner: string }>(`SELECT DISTINCT tableowner AS owner FROM pg_tables WHERE schemaname = $1`, [schema]);
    expect(tables.rows).toEqual([{ owner }]);
    await bot.query(`INSERT INTO departments (name) VALUES ('测试科')`);
    await bot.transaction((tx) => appendAudit(tx, { actor: 'S0001', action: 'test.create', entityType: 'thing', entityId: 'X' }));
    expect((await chainHead(bot))?.seq).toBe(1);
  });

  it('13.6 refuses the bot role UPDATE, DELETE, TRUNCATE and ALTER on audit_log with a clear error', async () => {
    await expect(bot.query(`UPDATE audit_log SET actor = 'S9999'`)).rejects.toThrow('permission denied for table audit_log');
    await expect(bot.query(`DELETE FROM audit_log`)).rejects.toThrow('permission denied for table audit_log');
    await expect(bot.query(`TRUNCATE audit_log`)).rejects.toThrow('permission denied for table audit_log');
    await expect(bot.query(`ALTER TABLE audit_log DISABLE TRIGGER ALL`)).rejects.toThrow('must be owner of table audit_log');
    await expect(bot.query(`DROP TABLE audit_log`)).rejects.toThrow('must be owner of table audit_log');
  });

  it('13.6 warns at start-up about a superuser, an owner, or PGlite, and not about the bot role', async () => {
    expect(await checkDatabaseRole(bot, logger)).toBeUndefined();
    const ownerDb = await openPg(env.DATABASE_OWNER_URL, schema, 1);
    const superDb = await openPg(PG_URL, schema, 1);
    const lite = await openPglite(undefined);
    try {
      expect(await checkDatabaseRole(ownerDb, logger)).toMatch(new RegExp(`数据库角色 ${owner} 是审计日志表的所有者`));
      expect(await checkDatabaseRole(superDb, logger)).toMatch(/是超级用户，能停用审计日志的保护触发器/);
      expect(await checkDatabaseRole(lite, logger)).toMatch(/PGlite 总以超级用户运行/);
    } finally {
      await ownerDb.close();
      await superDb.close();
      await lite.close();
    }
  });

  it('13.6 lets the bot role alone start on an up-to-date schema, and explains in Chinese when migrations are pending', async () => {
    const alone = await openStore({ ...env, DATABASE_OWNER_URL: undefined });
    await alone.close();

    await asSuperuser(`CREATE SCHEMA ${schema}_old AUTHORIZATION ${owner}`);
    const ownerDb = await openPg(env.DATABASE_OWNER_URL, `${schema}_old`, 1);
    try {
      await migrate(ownerDb, loadMigrations().filter((m) => m.version < 8));
      await grantBotPrivileges(ownerDb, botRole);
    } finally {
      await ownerDb.close();
    }
    await expect(openStore({ ...env, DATABASE_OWNER_URL: undefined, DATABASE_SCHEMA: `${schema}_old` })).rejects.toThrow(/数据库有尚未执行的迁移，而 DATABASE_URL 的角色无权建表.*请设置 DATABASE_OWNER_URL/);
  });
});

describe('the audit chain on /metrics and the role warning on /healthz', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ label: 'audit_metrics' });
  });
  afterAll(async () => {
    await t?.dispose();
  });

  const scrape = async () => (await fetch(`${t.url}/metrics`)).text();

  it('13.6 shows the chain head and length, one head series at a time', async () => {
    await appendAudit(t.app.db, { actor: 'S0001', action: 'test.first' });
    const first = (await chainHead(t.app.db))!;
    let text = await scrape();
    expect(text).toContain(`qinglian_audit_chain_length ${first.seq}`);
    expect(text).toContain(`qinglian_audit_chain_head{hash="${first.hash}",seq="${first.seq}"} 1`);
    await appendAudit(t.app.db, { actor: 'S0001', action: 'test.second' });
    const second = (await chainHead(t.app.db))!;
    text = await scrape();
    expect(text).toContain(`qinglian_audit_chain_head{hash="${second.hash}",seq="${second.seq}"} 1`);
    expect(text).not.toContain(first.hash);
  });

  it('13.6 lists the superuser connection under warnings on /healthz', async () => {
    const body = (await (await fetch(`${t.url}/healthz`)).json()) as { status: string; warnings?: Record<string, string> };
    expect(body.status).toBe('ok');
    expect(body.warnings?.database).toMatch(/是超级用户，能停用审计日志的保护触发器/);
  });
});

