/**
 * The one small interface every repository talks to. Two back ends implement it: embedded
 * PGlite (no server needed) and a `pg` pool against a PostgreSQL server. Same SQL for both.
 */
export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<T>>;
}

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'pg';
  /** The schema every query runs in. */
  readonly schema: string;
  /** Runs `fn` in one transaction; it rolls back if `fn` throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Runs a multi-statement SQL script (migrations). */
  exec(sql: string, tx?: Queryable): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const isIdentifier = (s: string): boolean => /^[a-z_][a-z0-9_]*$/.test(s);
