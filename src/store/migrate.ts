import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from './db.js';

const migrationsDir = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function loadMigrations(dir = migrationsDir): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{3,}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.split('_')[0]), name: f.replace(/\.sql$/, ''), sql: readFileSync(join(dir, f), 'utf8') }));
}

/**
 * Applies the migrations not yet applied, all in one transaction under an advisory lock
 * keyed by schema, so two processes starting at once migrate once: the second waits, then
 * finds nothing left to do. Returns the names it applied.
 */
export async function migrate(db: Db, migrations = loadMigrations()): Promise<string[]> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`qinglian.migrate.${db.schema}`]);
    // Checked before any DDL: "IF NOT EXISTS" still needs the right to create, and a role
    // given only its schema (the owner) or only its tables (the bot) must get past these.
    const schemaExists = await tx.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [db.schema]);
    if (schemaExists.rows.length === 0) await db.exec(`CREATE SCHEMA ${db.schema}`, tx);
    const table = await tx.query<{ present: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS present`, [`${db.schema}.schema_migrations`]);
    if (!table.rows[0].present) {
      await db.exec(
        `CREATE TABLE ${db.schema}.schema_migrations (
           version integer PRIMARY KEY,
           name text NOT NULL,
           applied_at timestamptz NOT NULL DEFAULT now())`,
        tx,
      );
    }
    const done = new Set(
      (await tx.query<{ version: number }>(`SELECT version FROM ${db.schema}.schema_migrations`)).rows.map((r) => r.version),
    );
    const applied: string[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await db.exec(`SET LOCAL search_path TO ${db.schema}, public;\n${m.sql}`, tx);
      await tx.query(`INSERT INTO ${db.schema}.schema_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
      applied.push(m.name);
    }
    return applied;
  });
}
