import type { Card } from '../../cards/model.js';
import type { Queryable } from './db.js';

/** What a sandbox message shows, as kept in `sandbox_messages.body`. */
export interface SandboxBody {
  kind: 'text' | 'card';
  text?: string;
  card?: Card;
  fileUrl?: string;
  /** A file message: the file's name (shown once, with its link), and whether the page previews it as a picture. */
  fileName?: string;
  image?: boolean;
}

export interface SandboxRow {
  id: string;
  seq: number;
  inbox: string;
  sender: 'bot' | 'user';
  body: SandboxBody;
  updatedAt: Date;
}

interface Row {
  id: string;
  seq: string | number;
  inbox: string;
  sender: 'bot' | 'user';
  body: SandboxBody | string;
  updated_at: Date | string;
}

const toRow = (r: Row): SandboxRow => ({
  id: r.id,
  seq: Number(r.seq),
  inbox: r.inbox,
  sender: r.sender,
  body: typeof r.body === 'string' ? (JSON.parse(r.body) as SandboxBody) : r.body,
  updatedAt: new Date(r.updated_at),
});
const COLS = 'id, seq, inbox, sender, body, updated_at';

/** Adds a message; with an idempotency key already used, returns the message that key made instead. */
export async function insertSandboxMessage(
  q: Queryable,
  m: { id: string; inbox: string; sender: 'bot' | 'user'; body: SandboxBody; idempotencyKey?: string },
): Promise<{ row: SandboxRow; existed: boolean }> {
  const r = await q.query<Row>(
    `INSERT INTO sandbox_messages (id, inbox, sender, body, idempotency_key) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (idempotency_key) DO NOTHING RETURNING ${COLS}`,
    [m.id, m.inbox, m.sender, JSON.stringify(m.body), m.idempotencyKey ?? null],
  );
  if (r.rows[0]) return { row: toRow(r.rows[0]), existed: false };
  const prev = await q.query<Row>(`SELECT ${COLS} FROM sandbox_messages WHERE idempotency_key = $1`, [m.idempotencyKey]);
  return { row: toRow(prev.rows[0]), existed: true };
}

/** A card written over an earlier one; undefined when the message is no longer kept. */
export async function updateSandboxMessage(q: Queryable, id: string, body: SandboxBody): Promise<SandboxRow | undefined> {
  const r = await q.query<Row>(`UPDATE sandbox_messages SET body = $2, updated_at = now() WHERE id = $1 RETURNING ${COLS}`, [id, JSON.stringify(body)]);
  return r.rows[0] ? toRow(r.rows[0]) : undefined;
}

/** Keeps the newest `keep` messages of an inbox; the rest go, with the files only they showed. Returns the ids dropped. */
export async function pruneSandboxInbox(q: Queryable, inbox: string, keep: number): Promise<string[]> {
  const r = await q.query<{ id: string }>(
    `DELETE FROM sandbox_messages WHERE inbox = $1 AND seq <= (
       SELECT seq FROM sandbox_messages WHERE inbox = $1 ORDER BY seq DESC OFFSET $2 LIMIT 1
     ) RETURNING id`,
    [inbox, keep],
  );
  const ids = r.rows.map((x) => x.id);
  if (ids.length) await q.query('DELETE FROM sandbox_files WHERE message_id = ANY($1::text[])', [ids]);
  return ids;
}

/** Every inbox's newest `keep` messages, oldest first. */
export async function loadSandboxHistory(q: Queryable, keep: number): Promise<SandboxRow[]> {
  const r = await q.query<Row>(
    `SELECT ${COLS} FROM (
       SELECT ${COLS}, row_number() OVER (PARTITION BY inbox ORDER BY seq DESC) AS n FROM sandbox_messages
     ) kept WHERE n <= $1 ORDER BY seq`,
    [keep],
  );
  return r.rows.map(toRow);
}

export interface SandboxFile {
  name: string;
  mime: string;
  data: Buffer;
}

export async function saveSandboxFile(q: Queryable, f: SandboxFile & { id: string; messageId?: string; inbox?: string }): Promise<void> {
  await q.query('INSERT INTO sandbox_files (id, message_id, inbox, name, mime, data) VALUES ($1, $2, $3, $4, $5, $6)', [
    f.id,
    f.messageId ?? null,
    f.inbox ?? null,
    f.name,
    f.mime,
    f.data,
  ]);
}

export async function readSandboxFile(q: Queryable, id: string): Promise<SandboxFile | undefined> {
  const r = await q.query<{ name: string; mime: string; data: Uint8Array }>('SELECT name, mime, data FROM sandbox_files WHERE id = $1', [id]);
  const f = r.rows[0];
  // node-postgres gives a Buffer, PGlite a Uint8Array.
  return f ? { name: f.name, mime: f.mime, data: Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength) } : undefined;
}

/** Card images belong to no one message: the newest `keep` stay. */
export async function pruneSandboxImages(q: Queryable, keep: number): Promise<void> {
  await q.query(
    `DELETE FROM sandbox_files WHERE message_id IS NULL AND id IN (
       SELECT id FROM sandbox_files WHERE message_id IS NULL ORDER BY created_at DESC, id OFFSET $1
     )`,
    [keep],
  );
}
