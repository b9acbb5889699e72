import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_ROSTER } from '../src/app.js';
import { cancelDraft, canView, createDraft, decide, editDraft, NO_SUCH_DECLARATION, NotYoursToDecide, submitDraft } from '../src/domain/declaration/workflow.js';
import { importRosterFile } from '../src/domain/roster.js';
import { getDeclaration, recordCard } from '../src/store/declarations.js';
import { getStaff, type Staff } from '../src/store/staff.js';
import type { DeclarationInput } from '../src/domain/declaration.js';
import { BACKENDS, freshDb } from './helpers/db.js';

const refused: DeclarationInput = { kind: 'cash', amount: '100.00', receivedOn: '2026-11-20', giver: 'patient', handling: 'refused', description: '' };
const toFinance: DeclarationInput = { ...refused, handling: 'to_finance' };
const opts = { now: new Date('2026-11-25T08:00:00Z'), timeZone: 'Asia/Shanghai' };

/**
 * Who may read a declaration follows from the record itself (its author, its steps and who
 * decided them), not from the log of where approval cards were delivered.
 */
for (const backend of BACKENDS) {
  describe(`declaration read access on ${backend}`, () => {
    let db: Awaited<ReturnType<typeof freshDb>>;
    const staff: Record<string, Staff> = {};
    beforeAll(async () => {
      db = await freshDb(backend, `declaration_access_${backend}`);
      await importRosterFile(db, SAMPLE_ROSTER, readFileSync(SAMPLE_ROSTER));
      for (const id of ['S0001', 'S0003', 'S0006', 'S0009', 'S0036', 'S0037', 'S0040']) staff[id] = (await getStaff(db, id))!;
    });
    afterAll(async () => {
      await db.dispose();
    });

    /** S0001's declaration approved by the department head S0003: no approval card was ever recorded. */
    async function pastDept(input: DeclarationInput) {
      const d = await createDraft(db, staff.S0001, input);
      const s = await submitDraft(db, staff.S0001, d.id, d.version, opts.now);
      const r = await decide(db, staff.S0003, { id: d.id, v: s.declaration.version, step: 'dept' }, 'approve', opts);
      if (r.outcome !== 'done') throw new Error('not decided');
      return r.declaration;
    }
    const view = async (id: string, who: string) => canView(db, (await getDeclaration(db, id))!, staff[who]);

    it('14.7 the department head who decided a step still sees it when no card delivery was recorded', async () => {
      const d = await pastDept(refused);
      expect(d.state).toBe('pending_discipline');
      // The old rule read the card delivery log, which has no row here: the approver lost sight of it.
      expect(await view(d.id, 'S0003')).toBe(true);
      expect(await view(d.id, 'S0040')).toBe(true);
      expect(await view(d.id, 'S0001')).toBe(true);
      expect(await view(d.id, 'S0006')).toBe(false);
      expect(await view(d.id, 'S0009')).toBe(false);
      expect(await view(d.id, 'S0037')).toBe(false);
    });

    it('14.7 a card delivered to someone who is not among the record’s approvers grants nothing', async () => {
      const d = await pastDept(refused);
      await recordCard(db, { declarationId: d.id, state: 'pending_dept', version: 2, staffId: 'S0006', platform: 'sandbox', messageId: 'm-stray' });
      expect(await view(d.id, 'S0006')).toBe(false);
    });

    it('14.7 finance sees a declaration only once it has reached the finance step, and keeps seeing it after registration', async () => {
      const handedIn = await pastDept(toFinance);
      expect(await view(handedIn.id, 'S0037')).toBe(false);
      const atFinance = await decide(db, staff.S0040, { id: handedIn.id, v: handedIn.version, step: 'discipline' }, 'approve', opts);
      if (atFinance.outcome !== 'done') throw new Error('not decided');
      expect(atFinance.to).toBe('pending_finance');
      expect(await view(handedIn.id, 'S0037')).toBe(true);
      const done = await decide(db, staff.S0036, { id: handedIn.id, v: atFinance.declaration.version, step: 'finance' }, 'approve', opts);
      expect(done.outcome === 'done' && done.to).toBe('registered');
      // S0037 did not confirm it, but is one of the step's approvers.
      expect(await view(handedIn.id, 'S0037')).toBe(true);
      expect(await view(handedIn.id, 'S0003')).toBe(true);

      const refusedOne = await pastDept(refused);
      const registered = await decide(db, staff.S0040, { id: refusedOne.id, v: refusedOne.version, step: 'discipline' }, 'approve', opts);
      expect(registered.outcome === 'done' && registered.to).toBe('registered');
      expect(await view(refusedOne.id, 'S0037')).toBe(false);
    });

    it('14.7 a department head appointed after the step began does not see it; one appointed before deciding does', async () => {
      const d = await pastDept(refused);
      await db.query(`INSERT INTO staff_roles (staff_id, role) VALUES ('S0006', 'dept_head')`);
      try {
        expect(await view(d.id, 'S0006')).toBe(false);
        // A second declaration: S0006 is made head while it waits, and decides it.
        const e = await createDraft(db, staff.S0001, refused);
        const s = await submitDraft(db, staff.S0001, e.id, e.version, opts.now);
        const head = (await getStaff(db, 'S0006'))!;
        expect((await decide(db, head, { id: e.id, v: s.declaration.version, step: 'dept' }, 'approve', opts)).outcome).toBe('done');
        expect(await view(e.id, 'S0006')).toBe(true);
      } finally {
        await db.query(`DELETE FROM staff_roles WHERE staff_id = 'S0006' AND role = 'dept_head'`);
      }
    });

    it('14.7 the workflow alone refuses someone else\'s draft as a missing declaration, and a non-approver\'s decision before its reason (the handlers no longer check first)', async () => {
      const d = await createDraft(db, staff.S0001, refused);
      for (const attempt of [
        () => submitDraft(db, staff.S0006, d.id, d.version, opts.now),
        () => editDraft(db, staff.S0006, d.id, d.version, refused),
        () => cancelDraft(db, staff.S0006, d.id, d.version, opts.now),
        () => createDraft(db, staff.S0006, refused, { amends: d.id }),
        () => submitDraft(db, staff.S0006, '999999', 1, opts.now),
      ]) {
        await expect(attempt()).rejects.toThrow(NO_SUCH_DECLARATION);
      }
      const s = await submitDraft(db, staff.S0001, d.id, d.version, opts.now);
      const ref = { id: d.id, v: s.declaration.version, step: 'dept' as const };
      // Not an approver of the step: refused before the missing reason is even looked at (a click
      // turns NotYoursToDecide into the neutral answer: see declaration-neutral-answers).
      await expect(decide(db, staff.S0009, ref, 'approve', opts)).rejects.toBeInstanceOf(NotYoursToDecide);
      await expect(decide(db, staff.S0009, ref, 'reject', opts)).rejects.toThrow('无权处理');
      await expect(decide(db, staff.S0009, { ...ref, id: '999999' }, 'approve', opts)).rejects.toBeInstanceOf(NotYoursToDecide);
      // The declarant knows it exists and is told why not.
      await expect(decide(db, staff.S0001, ref, 'approve', opts)).rejects.toThrow('不能审批自己的申报');
      await expect(decide(db, staff.S0003, ref, 'reject', opts)).rejects.toThrow('驳回时请填写驳回理由。');
      expect((await getDeclaration(db, d.id))!.state).toBe('pending_dept');
    });

    it('14.7 whoever decided keeps access after leaving the role', async () => {
      const d = await pastDept(refused);
      await db.query(`DELETE FROM staff_roles WHERE staff_id = 'S0003' AND role = 'dept_head'`);
      try {
        expect(await view(d.id, 'S0003')).toBe(true);
      } finally {
        await db.query(`INSERT INTO staff_roles (staff_id, role) VALUES ('S0003', 'dept_head')`);
      }
    });
  });
}
