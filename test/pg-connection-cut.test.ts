import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDb, PG_URL } from './helpers/db.js';

/**
 * The server ending a connection while a transaction holds it (a failover, an operator's
 * pg_terminate_backend) must fail that transaction only: no uncaught 'error' event, and the
 * pool serves the next query on a fresh connection.
 */
describe('a PostgreSQL connection cut in the middle of a transaction', () => {
  let db: Awaited<ReturnType<typeof freshDb>>;
  const killer = new pg.Client({ connectionString: PG_URL });
  beforeAll(async () => {
    db = await freshDb('pg', 'pg_cut');
    await killer.connect();
  });
  afterAll(async () => {
    await killer.end();
    await db?.dispose();
  });

  it('rejects that transaction, rolls it back and keeps the process and the pool working', async () => {
    await db.query('CREATE TABLE cut_probe (n int)');
    const failed = await db
      .transaction(async (tx) => {
        await tx.query('INSERT INTO cut_probe VALUES (1)');
        const { pid } = (await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0];
        await killer.query('SELECT pg_terminate_backend($1)', [pid]);
        // The cut reaches the idle, checked-out client here, between two statements.
        await new Promise((r) => setTimeout(r, 300));
        await tx.query('INSERT INTO cut_probe VALUES (2)');
      })
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    expect(failed?.message).toMatch(/terminat|Connection/i);
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM cut_probe')).rows[0].n).toBe(0);
    await db.transaction(async (tx) => tx.query('INSERT INTO cut_probe VALUES (3)'));
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM cut_probe')).rows[0].n).toBe(1);
  });
});
