import type { Db, Queryable } from './db.js';

/**
 * Moves every record between two databases of the bot (PGlite → PostgreSQL, or a backup),
 * table by table in foreign-key order, as JSON lines. Generic over the schema, so a table a
 * later migration adds is carried without changing this file.
 */

export interface TransferHeader {
  format: 'qinglian-data';
  version: 1;
  migrations: number[];
  exportedAt: string;
}

async function tablesInOrder(q: Queryable): Promise<string[]> {
  const tables = (
    await q.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname <> 'schema_migrations' ORDER BY c.relname`,
    )
  ).rows.map((r) => r.name);
  const deps = (
    await q.query<{ child: string; parent: string }>(
      `SELECT c.relname AS child, p.relname AS parent FROM pg_constraint k
       JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE k.contype = 'f' AND n.nspname = current_schema() AND c.relname <> p.relname`,
    )
  ).rows;
  const ordered: string[] = [];
  const visiting = new Set<string>();
  const visit = (t: string) => {
    if (ordered.includes(t) || visiting.has(t)) return;
    visiting.add(t);
    for (const d of deps.filter((x) => x.child === t)) visit(d.parent);
    ordered.push(t);
  };
  tables.forEach(visit);
  return ordered;
}

async function migrationVersions(q: Queryable): Promise<number[]> {
  return (await q.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).rows.map((r) => r.version);
}

export async function* exportData(db: Db, batch = 1000): AsyncGenerator<string> {
  const header: TransferHeader = { format: 'qinglian-data', version: 1, migrations: await migrationVersions(db), exportedAt: new Date().toISOString() };
  yield JSON.stringify(header);
  for (const table of await tablesInOrder(db)) {
    // ctid order is stable within one export and needs no primary key knowledge. The audit
    // log goes in chain order: the import re-chains each row and refuses one out of place.
    const order = table === 'audit_log' ? 'seq' : 'ctid';
    for (let offset = 0; ; offset += batch) {
      const rows = (await db.query<{ r: unknown }>(`SELECT row_to_json(t) AS r FROM ${table} t ORDER BY ${order} LIMIT $1 OFFSET $2`, [batch, offset])).rows;
      for (const r of rows) yield JSON.stringify({ t: table, r: r.r });
      if (rows.length < batch) break;
    }
  }
}

export class TransferError extends Error {}

export async function importData(db: Db, lines: AsyncIterable<string> | Iterable<string>): Promise<Record<string, number>> {
  return db.transaction(async (tx) => {
    let header: TransferHeader | undefined;
    const counts: Record<string, number> = {};
    let known: Set<string> | undefined;
    for await (const line of lines) {
      if (!line.trim()) continue;
      const obj = JSON.parse(line) as TransferHeader | { t: string; r: Record<string, unknown> };
      if (!header) {
        if (!('format' in obj) || obj.format !== 'qinglian-data') throw new TransferError('这不是清廉助手的数据导出文件（缺少文件头）。');
        header = obj;
        const here = await migrationVersions(tx);
        if (JSON.stringify(here) !== JSON.stringify(header.migrations)) {
          throw new TransferError(`数据库版本不一致：导出文件为迁移 ${header.migrations.join(',')}，目标数据库为 ${here.join(',')}。请先用同一版本启动一次目标数据库。`);
        }
        known = new Set(await tablesInOrder(tx));
        for (const t of known) {
          const n = (await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${t}`)).rows[0].n;
          if (n > 0) throw new TransferError(`目标数据库不是空的（表 ${t} 已有 ${n} 行），为避免混杂，导入已取消。`);
        }
        continue;
      }
      if (!('t' in obj) || !known!.has(obj.t)) throw new TransferError(`导出文件中有未知的表：${'t' in obj ? obj.t : '?'}`);
      await tx.query(`INSERT INTO ${obj.t} SELECT * FROM json_populate_record(NULL::${obj.t}, $1::json)`, [JSON.stringify(obj.r)]);
      counts[obj.t] = (counts[obj.t] ?? 0) + 1;
    }
    if (!header) throw new TransferError('导出文件是空的。');
    // Serial columns continue after the imported ids.
    const serials = await tx.query<{ tbl: string; col: string; seq: string }>(
      `SELECT c.relname AS tbl, a.attname AS col, pg_get_serial_sequence(quote_ident(c.relname), a.attname) AS seq
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid
       WHERE n.nspname = current_schema() AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
         AND pg_get_serial_sequence(quote_ident(c.relname), a.attname) IS NOT NULL`,
    );
    for (const s of serials.rows) {
      await tx.query(`SELECT setval($1, COALESCE((SELECT max(${s.col}) FROM ${s.tbl}), 0) + 1, false)`, [s.seq]);
    }
    return counts;
  });
}
