import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approversFor, createDraft, decide, isApproverOf, NotYoursToDecide, submitDraft } from '../src/domain/declaration/workflow.js';
import { approvalCard, declarantMessage } from '../cards/approval.js';
import { importRosterFile } from '../src/domain/roster.js';
import { getStaff, type Staff } from '../src/store/staff.js';
import type { DeclarationInput } from '../src/domain/declaration.js';
import { freshDb } from './helpers/db.js';

const toFinance: DeclarationInput = { kind: 'cash', amount: '100.00', receivedOn: '2026-11-20', giver: 'patient', handling: 'to_finance', description: '' };
const opts = { now: new Date('2026-11-25T08:00:00Z'), timeZone: 'Asia/Shanghai' };
const HEADER = 'staff_id,name,department,roles,dingtalk_user_id,feishu_user_id\n';

/** A roster whose 纪检监察室 head is also a discipline member; `others` more discipline members beside the declarant. */
function roster(others: number): Buffer {
  const rows = [
    'T0001,甲主任,纪检监察室,staff|dept_head|discipline,,',
    'T0002,乙同志,纪检监察室,staff|discipline,,',
    ...Array.from({ length: others }, (_, i) => `T001${i},丙同志${i},纪检监察室,staff|discipline,,`),
    'T0009,丁会计,财务科,staff|finance,,',
  ];
  return Buffer.from(HEADER + rows.join('\n') + '\n');
}

async function setUp(label: string, others: number) {
  const db = await freshDb('pglite', label);
  await importRosterFile(db, 'roster.csv', roster(others));
  const staff: Record<string, Staff> = {};
  for (const id of ['T0001', 'T0002', 'T0009', ...Array.from({ length: others }, (_, i) => `T001${i}`)]) staff[id] = (await getStaff(db, id))!;
  return { db, staff };
}

/** Issue 16.1: whoever decided one step of a declaration does not decide another step of it. */
describe('one person, two steps of one declaration', () => {
  describe('another discipline member is there', () => {
    let env: Awaited<ReturnType<typeof setUp>>;
    beforeAll(async () => {
      env = await setUp('decl_two_steps_others', 1);
    });
    afterAll(async () => {
      await env.db.dispose();
    });

    it('the head who approved the dept step is not an approver of the discipline step', async () => {
      const { db, staff } = env;
      const d = await createDraft(db, staff.T0002, toFinance);
      const s = await submitDraft(db, staff.T0002, d.id, d.version, opts.now);
      expect(s.to).toBe('pending_dept');
      const r = await decide(db, staff.T0001, { id: d.id, v: s.declaration.version, step: 'dept' }, 'approve', opts);
      if (r.outcome !== 'done') throw new Error('not decided');
      expect(r.to).toBe('pending_discipline');
      expect(r.skipped).toBeUndefined();
      expect((await approversFor(db, r.declaration, 'discipline')).map((x) => x.staffId)).toEqual(['T0010']);
      expect(await isApproverOf(db, r.declaration, staff.T0001, 'discipline')).toBe(false);
      // Before the fix the head approved the discipline step too.
      await expect(decide(db, staff.T0001, { id: d.id, v: r.declaration.version, step: 'discipline' }, 'approve', opts)).rejects.toBeInstanceOf(NotYoursToDecide);
      const ok = await decide(db, staff.T0010, { id: d.id, v: r.declaration.version, step: 'discipline' }, 'approve', opts);
      expect(ok.outcome === 'done' && ok.to).toBe('pending_finance');
    });
  });

  describe('nobody else may decide the discipline step', () => {
    let env: Awaited<ReturnType<typeof setUp>>;
    beforeAll(async () => {
      env = await setUp('decl_two_steps_alone', 0);
    });
    afterAll(async () => {
      await env.db.dispose();
    });

    it('the discipline step passes to finance, and the cards say why', async () => {
      const { db, staff } = env;
      const d = await createDraft(db, staff.T0002, toFinance);
      const s = await submitDraft(db, staff.T0002, d.id, d.version, opts.now);
      const r = await decide(db, staff.T0001, { id: d.id, v: s.declaration.version, step: 'dept' }, 'approve', opts);
      if (r.outcome !== 'done') throw new Error('not decided');
      expect(r.to).toBe('pending_finance');
      expect(r.skipped).toEqual(['discipline']);
      expect((await approversFor(db, r.declaration, 'finance')).map((x) => x.staffId)).toEqual(['T0009']);
      const why = '纪检监察室审核已跳过';
      expect(JSON.stringify(approvalCard(r.declaration, 'finance', null, r.skipped))).toContain(why);
      expect(String(declarantMessage(r))).toContain(why);
    });
  });
});
