import type { Queryable } from './db.js';

export interface AuditEntry {
  actor: string | null;
  action: string;
  entityType?: string;
  entityId?: string;
  fromState?: string | null;
  toState?: string | null;
  reason?: string | null;
  detail?: Record<string, unknown>;
}

/** Appends one row; callers pass their transaction so the row commits with the change. */
export async function appendAudit(q: Queryable, e: AuditEntry): Promise<void> {
  await q.query(
    `INSERT INTO audit_log (actor, action, entity_type, entity_id, from_state, to_state, reason, detail)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [e.actor, e.action, e.entityType ?? null, e.entityId ?? null, e.fromState ?? null, e.toState ?? null, e.reason ?? null, e.detail ? JSON.stringify(e.detail) : null],
  );
}

export interface AuditRow {
  id: string;
  at: Date;
  actor: string | null;
  action: string;
  from_state: string | null;
  to_state: string | null;
  reason: string | null;
}

/**
 * One record's history in the order it happened. id is taken before the chain lock, so it
 * can disagree with both; rows of one transaction share `at`, and seq orders those.
 */
export async function auditTrail(q: Queryable, entityType: string, entityId: string): Promise<AuditRow[]> {
  const r = await q.query<AuditRow>(
    `SELECT id::text, at, actor, action, from_state, to_state, reason FROM audit_log
     WHERE entity_type = $1 AND entity_id = $2 ORDER BY at, seq`,
    [entityType, entityId],
  );
  return r.rows;
}
