import pg from 'pg';
import type { Db, Queryable, QueryResult } from './db.js';
import { isIdentifier } from './db.js';

// Return bigint/numeric as strings would surprise callers counting rows; counts are cast
// to int in SQL, and numeric stays a string so money is never a float.

export async function openPg(url: string, schema = 'public', max = 10): Promise<Db> {
  if (!isIdentifier(schema)) throw new Error(`invalid schema name ${schema}`);
  const pool = new pg.Pool({
    connectionString: url,
    max,
    options: `-c search_path=${schema},public`,
    // Lets an operator (and the fault tests) see which deployment a connection belongs to.
    application_name: `qinglian:${schema}`.slice(0, 63),
    connectionTimeoutMillis: 10_000,
  });
  // An idle client losing its server must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  const wrap = (c: pg.Pool | pg.PoolClient): Queryable => ({
    async query<T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
      const res = await c.query(sql, params as unknown[]);
      // A multi-statement script answers with one result per statement.
      const r = (Array.isArray(res) ? res[res.length - 1] : res) as pg.QueryResult;
      return { rows: r.rows as T[], rowCount: r.rowCount ?? r.rows.length };
    },
  });
  const base = wrap(pool);
  let closed = false;
  return {
    kind: 'pg',
    schema,
    query: base.query,
    async transaction(fn) {
      const client = await pool.connect();
      // A checked-out client has no pool listener: without ours, a server cutting the
      // connection mid-transaction is an uncaught 'error' that ends the process.
      let lost: Error | undefined;
      const onError = (err: Error) => {
        lost = err;
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const out = await fn(wrap(client));
        await client.query('COMMIT');
        return out;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {});
        throw e;
      } finally {
        client.off('error', onError);
        // A broken client is destroyed instead of going back to the pool.
        client.release(lost);
      }
    },
    async exec(sql, tx) {
      await (tx ?? base).query(sql);
    },
    async ping() {
      await pool.query('SELECT 1');
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
