import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendAudit } from '../src/store/audit.js';
import { chainHead, GENESIS, verifyChain } from '../src/store/audit-chain.js';
import { loadMigrations, migrate } from '../src/store/migrate.js';
import { openPg } from '../src/store/pg.js';
import { exportData, importData } from '../src/store/transfer.js';
import { BACKENDS, dropSchema, freshDb, PG_URL, uniqueName } from './helpers/db.js';

const entry = (n: number) => ({
  actor: `S${String(n).padStart(4, '0')}`,
  action: 'declaration.approve',
  entityType: 'declaration',
  entityId: String(n),
  fromState: 'submitted',
  toState: 'dept_approved',
  reason: n % 2 ? '理由|含分隔符\n与换行' : null,
  detail: { z: 1, a: [n, '键'], nested: { b: null, 'ü': 1.50 } },
});

describe.each(BACKENDS)('audit hash chain on %s', (kind) => {
  let db: Awaited<ReturnType<typeof freshDb>>;
  beforeEach(async () => {
    db = await freshDb(kind, `audit_chain_${kind}`);
  });
  afterEach(async () => {
    await db.dispose();
  });

  it('13.6 links every appended row to the one before it, and verify recomputes each hash outside the database', async () => {
    for (let i = 1; i <= 5; i++) await appendAudit(db, entry(i));
    const rows = (await db.query<{ seq: string; prev_hash: string; hash: string }>('SELECT seq::text, prev_hash, hash FROM audit_log ORDER BY seq')).rows;
    expect(rows.map((r) => r.seq)).toEqual(['1', '2', '3', '4', '5']);
    expect(rows[0].prev_hash).toBe(GENESIS);
    for (let i = 1; i < rows.length; i++) expect(rows[i].prev_hash).toBe(rows[i - 1].hash);
    const v = await verifyChain(db, undefined, 2);
    expect(v.broken).toBeUndefined();
    expect(v.checked).toBe(5);
    expect(v.head).toEqual(await chainHead(db));
    expect(v.head?.hash).toBe(rows[4].hash);
  });

  it('13.6 refuses a row that brings its own hash unless it is the one the chain gives it', async () => {
    await appendAudit(db, entry(1));
    await expect(db.query(`INSERT INTO audit_log (action, hash) VALUES ('forged', $1)`, ['f'.repeat(64)])).rejects.toThrow(/does not continue the hash chain/);
    // A forged seq or prev_hash without a hash is simply replaced by the chain's own.
    await db.query(`INSERT INTO audit_log (action, seq, prev_hash) VALUES ('late', 1, $1)`, ['e'.repeat(64)]);
    expect((await verifyChain(db)).checked).toBe(2);
  });

  it('13.6 finds a row changed behind disabled triggers, a row deleted, and a tail cut off below a kept head', async () => {
    for (let i = 1; i <= 6; i++) await appendAudit(db, entry(i));
    const kept = (await chainHead(db))!;
    const [row3] = (await db.query<{ id: string }>('SELECT id::text FROM audit_log WHERE seq = 3')).rows;
    await db.exec(`ALTER TABLE audit_log DISABLE TRIGGER ALL; UPDATE audit_log SET reason = '改过' WHERE seq = 3; ALTER TABLE audit_log ENABLE TRIGGER ALL;`);
    expect((await verifyChain(db)).broken).toMatchObject({ kind: 'altered', seq: 3, id: row3.id, action: 'declaration.approve' });

    // Rehashing the changed row only moves the break to the next row.
    await db.exec(`ALTER TABLE audit_log DISABLE TRIGGER ALL; UPDATE audit_log SET hash = audit_log_hash(prev_hash, seq, audit_log) WHERE seq = 3; ALTER TABLE audit_log ENABLE TRIGGER ALL;`);
    expect((await verifyChain(db)).broken).toMatchObject({ kind: 'relinked', seq: 4 });

    await db.exec(`ALTER TABLE audit_log DISABLE TRIGGER ALL; DELETE FROM audit_log WHERE seq >= 3 AND seq <= 4; ALTER TABLE audit_log ENABLE TRIGGER ALL;`);
    expect((await verifyChain(db)).broken).toMatchObject({ kind: 'missing_before', seq: 5 });

    await db.exec(`ALTER TABLE audit_log DISABLE TRIGGER ALL; DELETE FROM audit_log WHERE seq >= 3; ALTER TABLE audit_log ENABLE TRIGGER ALL;`);
    const cut = await verifyChain(db, { hash: kept.hash, seq: kept.seq });
    expect(cut.broken).toBeUndefined();
    expect(cut.keptHead).toEqual({ hash: kept.hash, seq: 6, found: false });
  });
});

describe('audit hash chain under concurrent writers (PostgreSQL server)', () => {
  let db: Awaited<ReturnType<typeof freshDb>>;
  afterAll(async () => {
    await db?.dispose();
  });

  it('13.6 rows appended by many transactions at once still form one valid chain', async () => {
    db = await freshDb('pg', 'audit_chain_race');
    // Each transaction holds its row a moment before committing, so the appends overlap.
    await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        db.transaction(async (tx) => {
          await appendAudit(tx, entry(i + 1));
          await tx.query('SELECT pg_sleep(0.01)');
        }),
      ),
    );
    const v = await verifyChain(db);
    expect(v.broken).toBeUndefined();
    expect(v.checked).toBe(24);
  }, 30_000);
});

describe('migration 008 on a database that already has audit rows', () => {
  const schema = uniqueName('audit_backfill');
  afterAll(async () => {
    await dropSchema(schema);
  });

  it('13.6 chains the rows written before the chain existed, in id order', async () => {
    const db = await openPg(PG_URL, schema, 2);
    try {
      const all = loadMigrations();
      await migrate(db, all.filter((m) => m.version < 8));
      await db.query(`INSERT INTO audit_log (actor, action, detail) VALUES ('S1', 'old.one', '{"b":2,"a":1}'), ('S2', 'old.two', NULL)`);
      await migrate(db, all);
      await appendAudit(db, { actor: 'S3', action: 'new.one' });
      const rows = (await db.query<{ action: string; seq: string }>('SELECT action, seq::text FROM audit_log ORDER BY seq')).rows;
      expect(rows).toEqual([
        { action: 'old.one', seq: '1' },
        { action: 'old.two', seq: '2' },
        { action: 'new.one', seq: '3' },
      ]);
      expect(await verifyChain(db)).toMatchObject({ checked: 3, head: { seq: 3 } });
    } finally {
      await db.close();
    }
  });
});

describe('npm run cli -- audit verify|head', () => {
  let db: Awaited<ReturnType<typeof freshDb>>;
  beforeEach(async () => {
    db = await freshDb('pg', 'audit_cli');
    for (let i = 1; i <= 4; i++) await appendAudit(db, entry(i));
  });
  afterEach(async () => {
    await db.dispose();
  });
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'audit', ...args], {
      env: { ...process.env, DATABASE_URL: PG_URL, DATABASE_SCHEMA: db.schema, CONFIG_FILE: '/nonexistent/qinglian.yaml', LOG_LEVEL: 'silent' },
      encoding: 'utf8',
    });

  it('13.6 says the log is intact with its head, exports the head and proves it is still there', async () => {
    const head = (await chainHead(db))!;
    const ok = cli('verify');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain(`已核对 4 条审计记录，审计记录完整。链头：第 4 条，哈希 ${head.hash}`);

    const file = join(mkdtempSync(join(tmpdir(), 'qinglian-head-')), 'head.jsonl');
    const exported = cli('head', `--out=${file}`);
    expect(exported.status).toBe(0);
    expect(JSON.parse(exported.stdout)).toEqual(head);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(head);

    await appendAudit(db, entry(5));
    const still = cli('verify', `--head=${file}`);
    expect(still.status).toBe(0);
    expect(still.stdout).toContain('已核对 5 条审计记录，审计记录完整');
    expect(still.stdout).toContain(`保存的链头（哈希 ${head.hash}）仍在链中`);

    await db.exec(`ALTER TABLE audit_log DISABLE TRIGGER ALL; DELETE FROM audit_log WHERE seq >= 4; ALTER TABLE audit_log ENABLE TRIGGER ALL;`);
    const cut = cli('verify', `--head=${head.hash}`);
    expect(cut.status).toBe(1);
    expect(cut.stderr).toContain(`保存的链头（哈希 ${head.hash}）不在链中`);

    const bad = cli('verify', '--head=/nonexistent/head.jsonl');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--head 应为 64 位十六进制哈希');
  }, 60_000);

  it('13.6 names the first row rewritten by a superuser behind disabled triggers and exits non-zero', async () => {
    const [row] = (await db.query<{ id: string }>('SELECT id::text FROM audit_log WHERE seq = 2')).rows;
    await db.exec(`ALTER TABLE audit_log DISABLE TRIGGER ALL; UPDATE audit_log SET actor = 'S9999' WHERE seq = 2; ALTER TABLE audit_log ENABLE TRIGGER ALL;`);
    const r = cli('verify');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`审计记录已被改动！已核对 1 条完整的记录；第一条有问题的是第 2 条（id ${row.id}，时间 \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z，操作 declaration.approve）：内容与其哈希不符`));
  }, 60_000);

  it('13.6 names the row after a deleted one', async () => {
    await db.exec(`ALTER TABLE audit_log DISABLE TRIGGER ALL; DELETE FROM audit_log WHERE seq = 2; ALTER TABLE audit_log ENABLE TRIGGER ALL;`);
    const r = cli('verify');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('第一条有问题的是第 3 条');
    expect(r.stderr).toContain('它之前的记录缺失，有记录被删除');
  }, 60_000);
});

describe('audit hash chain through data export and import', () => {
  let from: Awaited<ReturnType<typeof freshDb>>;
  let to: Awaited<ReturnType<typeof freshDb>>;
  afterAll(async () => {
    await from?.dispose();
    await to?.dispose();
  });

  it('13.6 carries the same chain even when the rows lie on disk out of chain order, and refuses a tampered copy', async () => {
    from = await freshDb('pg', 'audit_export_from');
    to = await freshDb('pg', 'audit_export_to');
    // Entity ids run backwards, so clustering on the entity index reverses the physical order.
    for (let i = 1; i <= 5; i++) await appendAudit(from, { ...entry(i), entityId: String(10 - i) });
    await from.query('CLUSTER audit_log USING audit_log_entity_idx');
    const lines: string[] = [];
    for await (const l of exportData(from)) lines.push(l);
    await importData(to, lines);
    expect(await verifyChain(to)).toMatchObject({ checked: 5, head: await chainHead(from) });

    const tampered = lines.map((l) => (l.includes('"t":"audit_log"') && l.includes('"seq":2') ? l.replace('"actor":"S0002"', '"actor":"S9999"') : l));
    expect(tampered).not.toEqual(lines);
    await to.dispose();
    to = await freshDb('pg', 'audit_export_to');
    await expect(importData(to, tampered)).rejects.toThrow(/does not continue the hash chain/);
  }, 30_000);
});
