import { mkdirSync } from 'node:fs';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { Db, Queryable, QueryResult } from './db.js';
import { isIdentifier } from './db.js';

type Script = Queryable & { script(sql: string): Promise<void> };

function wrap(q: PGlite | Transaction): Script {
  return {
    async script(sql: string) {
      await q.exec(sql);
    },
    async query<T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
      const r = await q.query<T>(sql, params as unknown[]);
      return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
    },
  };
}

/** Embedded PostgreSQL; `dataDir` undefined keeps everything in memory (tests). */
export async function openPglite(dataDir: string | undefined, schema = 'public'): Promise<Db> {
  if (!isIdentifier(schema)) throw new Error(`invalid schema name ${schema}`);
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const pg = await PGlite.create(dataDir);
  // PGlite is one connection, so setting the path once covers every later query.
  await pg.exec(`CREATE SCHEMA IF NOT EXISTS ${schema}; SET search_path TO ${schema}, public;`);
  const base = wrap(pg);
  let closed = false;
  return {
    kind: 'pglite',
    schema,
    query: base.query,
    transaction: (fn) => pg.transaction((tx) => fn(wrap(tx))),
    async exec(sql, tx) {
      // Multi-statement SQL needs PGlite's simple-protocol exec on the same transaction.
      await (tx ? (tx as Script) : base).script(sql);
    },
    async ping() {
      if (closed) throw new Error('database closed');
      await pg.query('SELECT 1');
    },
    async close() {
      if (closed) return;
      closed = true;
      await pg.close();
    },
  };
}
