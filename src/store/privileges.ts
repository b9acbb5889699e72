import type { Db, Queryable } from './db.js';

/**
 * Two database roles: an owner that runs migrations (and so could disable the audit log's
 * triggers), and the bot's role, which may read and write the records but on audit_log only
 * SELECT and INSERT. A role that owns a table can ALTER it, so the bot must not be the owner.
 */

const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;

export async function currentRole(q: Queryable): Promise<string> {
  return (await q.query<{ r: string }>('SELECT current_user AS r')).rows[0].r;
}

/**
 * Run by the owner after migrating, so tables a later migration adds are covered without a
 * grant in each migration. Idempotent.
 */
export async function grantBotPrivileges(owner: Db, botRole: string): Promise<void> {
  const s = owner.schema;
  const r = quoteIdent(botRole);
  await owner.transaction(async (tx) => {
    await owner.exec(
      `GRANT USAGE ON SCHEMA ${s} TO ${r};
       GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${s} TO ${r};
       -- UPDATE on sequences lets \`data import\` move them past the imported ids.
       GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA ${s} TO ${r};
       REVOKE ALL ON ${s}.audit_log FROM ${r};
       GRANT SELECT, INSERT ON ${s}.audit_log TO ${r};
       REVOKE INSERT, UPDATE, DELETE ON ${s}.schema_migrations FROM ${r};`,
      tx,
    );
  });
}

export interface DatabaseRole {
  role: string;
  superuser: boolean;
  /** The role owns audit_log, or is a member of the role that does: it can disable its triggers. */
  ownsAuditLog: boolean;
}

export async function readDatabaseRole(db: Db): Promise<DatabaseRole> {
  const r = await db.query<{ role: string; superuser: boolean; owns: boolean | null }>(
    `SELECT current_user AS role,
            (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
            (SELECT pg_has_role(current_user, c.relowner, 'USAGE') FROM pg_class c
              WHERE c.oid = to_regclass($1)) AS owns`,
    [`${db.schema}.audit_log`],
  );
  const row = r.rows[0];
  return { role: row.role, superuser: row.superuser, ownsAuditLog: row.owns === true };
}
