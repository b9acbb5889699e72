import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit, auditTrail } from '../src/store/audit.js';
import { loadMigrations, migrate } from '../src/store/migrate.js';
import { openPg } from '../src/store/pg.js';
import { BACKENDS, dropSchema, freshDb, PG_URL, uniqueName } from './helpers/db.js';

describe.each(BACKENDS)('store on %s', (kind) => {
  let db: Awaited<ReturnType<typeof freshDb>>;
  beforeAll(async () => {
    db = await freshDb(kind, `store_${kind}`);
  });
  afterAll(async () => {
    await db.dispose();
  });

  it('has every migration applied, and a second run is a no-op', async () => {
    const versions = (await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).rows.map((r) => r.version);
    expect(versions).toEqual(loadMigrations().map((m) => m.version));
    expect(await migrate(db)).toEqual([]);
  });

  it('rolls a failed transaction back', async () => {
    await expect(
      db.transaction(async (tx) => {
        await tx.query(`INSERT INTO departments (name) VALUES ('回滚科')`);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const r = await db.query(`SELECT 1 FROM departments WHERE name = '回滚科'`);
    expect(r.rowCount).toBe(0);
  });

  it('keeps the audit log append-only: insert works, UPDATE, DELETE and TRUNCATE are refused', async () => {
    await appendAudit(db, { actor: 'S0001', action: 'test.create', entityType: 'thing', entityId: 'X1', toState: 'new' });
    await appendAudit(db, { actor: 'S0002', action: 'test.move', entityType: 'thing', entityId: 'X1', fromState: 'new', toState: 'done', reason: '测试' });
    await expect(db.query(`UPDATE audit_log SET actor = 'evil'`)).rejects.toThrow(/append-only/);
    await expect(db.query(`DELETE FROM audit_log`)).rejects.toThrow(/append-only/);
    await expect(db.query(`TRUNCATE audit_log`)).rejects.toThrow(/append-only/);
    const trail = await auditTrail(db, 'thing', 'X1');
    expect(trail.map((t) => [t.actor, t.from_state, t.to_state])).toEqual([
      ['S0001', null, 'new'],
      ['S0002', 'new', 'done'],
    ]);
  });

  it('enforces the role list in the database', async () => {
    await db.query(`INSERT INTO departments (name) VALUES ('测试科') ON CONFLICT DO NOTHING`);
    await db.query(`INSERT INTO staff (staff_id, name, department_id) SELECT 'Z1', '张三', id FROM departments WHERE name = '测试科'`);
    await expect(db.query(`INSERT INTO staff_roles (staff_id, role) VALUES ('Z1', 'king')`)).rejects.toThrow();
  });
});

describe('migrations on the PostgreSQL server from two processes at once', () => {
  const schema = uniqueName('migrate_race');
  afterAll(async () => {
    await dropSchema(schema);
  });

  it('migrates once', async () => {
    const script = `
      import { openPg } from './src/store/pg.ts';
      import { migrate } from './src/store/migrate.ts';
      const db = await openPg(process.env.URL, process.env.SCHEMA, 2);
      const applied = await migrate(db);
      console.log(JSON.stringify(applied));
      await db.close();`;
    const run = () =>
      new Promise<string[]>((resolve, reject) => {
        const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
          env: { ...process.env, URL: PG_URL, SCHEMA: schema },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let err = '';
        p.stdout.on('data', (d) => (out += d));
        p.stderr.on('data', (d) => (err += d));
        p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(err))));
      });
    const [a, b] = await Promise.all([run(), run()]);
    const all = loadMigrations().map((m) => m.name);
    // Exactly one of them applied everything; the other found nothing to do.
    expect([a, b].sort((x, y) => x.length - y.length)).toEqual([[], all]);
    const db = await openPg(PG_URL, schema, 1);
    const n = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
    expect(n.rows[0].n).toBe(all.length);
    await db.close();
  }, 60_000);
});
