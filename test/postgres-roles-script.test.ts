import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appendAudit } from '../src/store/audit.js';
import { migrate } from '../src/store/migrate.js';
import { openStore } from '../src/store/open.js';
import { openPg } from '../src/store/pg.js';
import { asSuperuser, PG_URL, uniqueName } from './helpers/db.js';

/**
 * scripts/postgres-roles.sql, as shipped for docker compose and docs/operations.md, run with
 * psql on a scratch database that an older version had set up as superuser. Role names are
 * made unique per run, since roles belong to the whole server.
 */
const tag = uniqueName('roles_script');
const owner = `${tag}_owner`;
const bot = `${tag}_bot`;
const dbName = `${tag}_db`;
const at = (user: string, database = dbName) => {
  const u = new URL(PG_URL);
  u.username = user;
  u.password = '';
  u.pathname = `/${database}`;
  return u.toString();
};
const superUser = new URL(PG_URL).username || 'postgres';

describe('scripts/postgres-roles.sql on an existing installation', () => {
  afterAll(async () => {
    await asSuperuser(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await asSuperuser(`DROP ROLE IF EXISTS ${owner}`);
    await asSuperuser(`DROP ROLE IF EXISTS ${bot}`);
  });

  it('13.6 hands the old tables to the owner, and the bot then appends to the audit log but cannot alter it', async () => {
    await asSuperuser(`CREATE DATABASE ${dbName}`);
    const old = await openPg(at(superUser), 'public', 1);
    await migrate(old);
    await appendAudit(old, { actor: 'S0001', action: 'test.before_roles' });
    await old.close();

    const script = join(mkdtempSync(join(tmpdir(), 'qinglian-roles-')), 'roles.sql');
    writeFileSync(script, readFileSync('scripts/postgres-roles.sql', 'utf8').replaceAll('qinglian_owner', owner).replaceAll('qinglian_bot', bot));
    const run = () =>
      spawnSync('psql', ['-X', '-q', '-d', at(superUser), '-v', 'owner_password=o-secret', '-v', 'bot_password=b-secret', '-f', script], { encoding: 'utf8' });
    const first = run();
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(run().status).toBe(0);

    const db = await openStore({ DATABASE_URL: at(bot), DATABASE_OWNER_URL: at(owner), DATA_DIR: tmpdir() });
    try {
      const owners = await db.query<{ o: string }>(`SELECT DISTINCT pg_get_userbyid(relowner) AS o FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND relkind IN ('r', 'S')`);
      expect(owners.rows).toEqual([{ o: owner }]);
      await appendAudit(db, { actor: 'S0001', action: 'test.after_roles' });
      await expect(db.query(`DELETE FROM audit_log`)).rejects.toThrow('permission denied for table audit_log');
      await expect(db.query(`ALTER TABLE audit_log DISABLE TRIGGER ALL`)).rejects.toThrow('must be owner of table audit_log');
      await expect(db.query(`CREATE TABLE sneaky (id int)`)).rejects.toThrow('permission denied for schema public');
    } finally {
      await db.close();
    }
  }, 60_000);
});
