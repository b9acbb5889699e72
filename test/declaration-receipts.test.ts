import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_ROSTER } from '../src/app.js';
import { decide, submitDraft, createDraft } from '../src/domain/declaration/workflow.js';
import { importRosterFile } from '../src/domain/roster.js';
import { auditTrail } from '../src/store/audit.js';
import { getDeclaration } from '../src/store/declarations.js';
import { getStaff, type Staff } from '../src/store/staff.js';
import { BACKENDS, freshDb } from './helpers/db.js';

/**
 * The workflow against the database directly: gapless receipt numbers and one decision under
 * concurrency (real PostgreSQL with a connection pool, so the transactions truly overlap),
 * and the same rules on PGlite.
 */

const input = { kind: 'cash' as const, amount: '100.00', receivedOn: '2026-11-20', giver: 'patient' as const, handling: 'refused' as const, description: '' };
const opts = { now: new Date('2026-11-25T08:00:00Z'), timeZone: 'Asia/Shanghai' };

for (const backend of BACKENDS) {
  describe(`declaration workflow on ${backend}`, () => {
    let db: Awaited<ReturnType<typeof freshDb>>;
    const staff: Record<string, Staff> = {};
    beforeAll(async () => {
      db = await freshDb(backend, `declaration_receipts_${backend}`);
      await importRosterFile(db, SAMPLE_ROSTER, readFileSync(SAMPLE_ROSTER));
      for (const id of ['S0001', 'S0003', 'S0006', 'S0040', 'S0041', 'S0042', 'S0037']) staff[id] = (await getStaff(db, id))!;
    });
    afterAll(async () => {
      await db.dispose();
    });

    /** A declaration by S0001 waiting for the discipline office. */
    async function pendingDiscipline(): Promise<string> {
      const d = await createDraft(db, staff.S0001, input);
      const s = await submitDraft(db, staff.S0001, d.id, d.version, opts.now);
      const r = await decide(db, staff.S0003, { id: d.id, v: s.declaration.version, step: 'dept' }, 'approve', opts);
      expect(r.outcome).toBe('done');
      return d.id;
    }

    it('gives 50 concurrent registrations the receipt numbers 1..50 of the year, each once', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 50; i++) ids.push(await pendingDiscipline());
      const members = [staff.S0040, staff.S0041, staff.S0042];
      // Each declaration is clicked by two members at once: 100 decisions, 50 take effect.
      const results = await Promise.all(
        ids.flatMap((id, i) => {
          const v = 3; // draft 1 → submitted 2 → dept approved 3
          return [members[i % 3], members[(i + 1) % 3]].map((m) => decide(db, m, { id, v, step: 'discipline' }, 'approve', opts));
        }),
      );
      expect(results.filter((r) => r.outcome === 'done')).toHaveLength(50);
      expect(results.filter((r) => r.outcome === 'stale')).toHaveLength(50);
      const receipts = await Promise.all(ids.map(async (id) => (await getDeclaration(db, id))!.receiptNo!));
      expect(receipts.map((r) => r.slice(0, 8))).toEqual(Array(50).fill('HB-2026-'));
      expect(receipts.map((r) => Number(r.slice(-6))).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      // One decision each in the audit log.
      for (const id of ids) expect((await auditTrail(db, 'declaration', id)).filter((r) => r.from_state === 'pending_discipline')).toHaveLength(1);
    });

    it('leaves no gap when a registration rolls back', async () => {
      const id = await pendingDiscipline();
      const before = Number((await db.query<{ n: number }>('SELECT last_number AS n FROM declaration_receipt_counters WHERE year = 2026')).rows[0].n);
      // A registration whose transaction fails after taking a number gives the number back.
      await expect(
        db.transaction(async (tx) => {
          await tx.query(`UPDATE declaration_receipt_counters SET last_number = last_number + 1 WHERE year = 2026`);
          throw new Error('simulated crash');
        }),
      ).rejects.toThrow('simulated crash');
      const r = await decide(db, staff.S0041, { id, v: 3, step: 'discipline' }, 'approve', opts);
      expect(r.outcome === 'done' && r.declaration.receiptNo).toBe(`HB-2026-${String(before + 1).padStart(6, '0')}`);
    });

    it('starts a new sequence in a new year (in the hospital time zone)', async () => {
      const id = await pendingDiscipline();
      // 2026-12-31 16:30 UTC is already 2027-01-01 in Shanghai.
      const r = await decide(db, staff.S0042, { id, v: 3, step: 'discipline' }, 'approve', { ...opts, now: new Date('2026-12-31T16:30:00Z') });
      expect(r.outcome === 'done' && r.declaration.receiptNo).toBe('HB-2027-000001');
    });

    it('refuses the declarant, non-approvers and rejections without a reason, changing nothing', async () => {
      const id = await pendingDiscipline();
      const ref = { id, v: 3, step: 'discipline' as const };
      await expect(decide(db, staff.S0001, ref, 'approve', opts)).rejects.toThrow('不能审批自己的申报');
      await expect(decide(db, staff.S0006, ref, 'approve', opts)).rejects.toThrow('无权处理');
      await expect(decide(db, staff.S0003, ref, 'approve', opts)).rejects.toThrow('无权处理');
      await expect(decide(db, staff.S0040, ref, 'reject', opts)).rejects.toThrow('驳回理由');
      expect(await decide(db, staff.S0040, { ...ref, v: 2 }, 'approve', opts)).toMatchObject({ outcome: 'stale' });
      const d = (await getDeclaration(db, id))!;
      expect([d.state, d.version]).toEqual(['pending_discipline', 3]);
      expect(await auditTrail(db, 'declaration', id)).toHaveLength(3); // draft, submit, dept approval
    });

    it('refuses to rewrite or delete the audit trail', async () => {
      await expect(db.query(`UPDATE audit_log SET actor = 'someone' WHERE entity_type = 'declaration'`)).rejects.toThrow(/append-only/);
      await expect(db.query(`DELETE FROM audit_log`)).rejects.toThrow(/append-only/);
      await expect(db.query(`TRUNCATE audit_log`)).rejects.toThrow(/append-only/);
    });
  });
}
