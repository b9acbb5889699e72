import { createHash } from 'node:crypto';
import type { Queryable } from './db.js';

/** A file kept in the database (declaration evidence). Only its owner feature decides who sees it. */
export interface StoredFile {
  id: string;
  name: string;
  mime: string;
  size: number;
  sha256: string;
  data: Buffer;
}

export async function saveFile(q: Queryable, f: { name: string; mime: string; data: Buffer; uploadedBy: string | null }): Promise<{ id: string; sha256: string; size: number }> {
  const sha256 = createHash('sha256').update(f.data).digest('hex');
  const r = await q.query<{ id: string }>(
    'INSERT INTO stored_files (name, mime, size, sha256, data, uploaded_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id::text',
    [f.name, f.mime, f.data.length, sha256, f.data, f.uploadedBy],
  );
  return { id: r.rows[0].id, sha256, size: f.data.length };
}

export async function readFiles(q: Queryable, ids: string[]): Promise<StoredFile[]> {
  if (ids.length === 0) return [];
  const r = await q.query<Omit<StoredFile, 'data'> & { data: Uint8Array }>(
    'SELECT id::text, name, mime, size, sha256, data FROM stored_files WHERE id = ANY($1::bigint[]) ORDER BY id',
    [ids],
  );
  // node-postgres gives a Buffer, PGlite a Uint8Array.
  return r.rows.map((x) => ({ ...x, data: Buffer.from(x.data.buffer, x.data.byteOffset, x.data.byteLength) }));
}
