import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_ROSTER } from '../src/app.js';
import { importRosterFile } from '../src/domain/roster.js';
import { appendAudit, auditTrail } from '../src/store/audit.js';
import type { Db } from '../src/store/db.js';
import { exportData, importData, TransferError } from '../src/store/transfer.js';
import { readFiles, saveFile } from '../src/store/files.js';
import { freshDb } from './helpers/db.js';

const PHOTO = Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x5c, 0x78, 0x27, 0x22, 0x0a, 0xfe]);

async function fingerprint(db: Db): Promise<Record<string, string>> {
  const tables = (
    await db.query<{ name: string }>(`SELECT relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND relkind = 'r' AND relname <> 'schema_migrations'`)
  ).rows.map((r) => r.name);
  const out: Record<string, string> = {};
  for (const t of tables.sort()) {
    const r = await db.query<{ s: string | null }>(`SELECT string_agg(x::text, '\n' ORDER BY x::text) AS s FROM (SELECT row_to_json(t)::text AS x FROM ${t} t) q`);
    out[t] = r.rows[0].s ?? '';
  }
  return out;
}

describe('moving every record from PGlite to PostgreSQL', () => {
  let from: Awaited<ReturnType<typeof freshDb>>;
  let to: Awaited<ReturnType<typeof freshDb>>;
  beforeAll(async () => {
    from = await freshDb('pglite', 'transfer_from');
    to = await freshDb('pg', 'transfer_to');
    await importRosterFile(from, 'roster.csv', readFileSync(SAMPLE_ROSTER), { actor: 'S0002' });
    await appendAudit(from, { actor: 'S0040', action: 'test.move', entityType: 'thing', entityId: 'X', fromState: 'a', toState: 'b', reason: '原因', detail: { n: 1.5 } });
    await saveFile(from, { name: '照片.jpg', mime: 'image/jpeg', data: PHOTO, uploadedBy: 'S0001' });
  });
  afterAll(async () => {
    await from.dispose();
    await to.dispose();
  });

  it('carries every row of every table, and ids continue after the imported ones', async () => {
    const lines: string[] = [];
    for await (const l of exportData(from, 7)) lines.push(l);
    const counts = await importData(to, lines);
    expect(counts.staff).toBe(42);
    expect(counts.audit_log).toBeGreaterThanOrEqual(2);
    expect(await fingerprint(to)).toEqual(await fingerprint(from));
    // Binary columns arrive as the same bytes, not as their text form.
    const [photo] = await readFiles(to, ['1']);
    expect(photo.data.equals(PHOTO)).toBe(true);
    await appendAudit(to, { actor: 'S0041', action: 'test.after', entityType: 'thing', entityId: 'X' });
    const trail = await auditTrail(to, 'thing', 'X');
    expect(trail.map((t) => t.action)).toEqual(['test.move', 'test.after']);
    expect(Number(trail[1].id)).toBeGreaterThan(Number(trail[0].id));
  });

  it('refuses a target that is not empty, and a file that is not an export', async () => {
    const lines: string[] = [];
    for await (const l of exportData(from)) lines.push(l);
    await expect(importData(to, lines)).rejects.toThrow(/目标数据库不是空的/);
    await expect(importData(to, ['{"hello":1}'])).rejects.toBeInstanceOf(TransferError);
  });
});
