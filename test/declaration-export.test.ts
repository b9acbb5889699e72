import { readFileSync } from 'node:fs';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_ROSTER } from '../src/app.js';
import { exportDeclarations } from '../src/domain/declaration/export.js';
import { createDraft, decide, submitDraft } from '../src/domain/declaration/workflow.js';
import { importRosterFile } from '../src/domain/roster.js';
import type { Queryable } from '../src/store/db.js';
import { getStaff, type Staff } from '../src/store/staff.js';
import { BACKENDS, freshDb } from './helpers/db.js';

const input = { kind: 'cash' as const, amount: '100.00', receivedOn: '2026-11-20', giver: 'patient' as const, handling: 'refused' as const, description: '' };
const now = new Date('2026-11-25T08:00:00Z');
const TZ = 'Asia/Shanghai';

for (const backend of BACKENDS) {
  describe(`导出申报 on ${backend}`, () => {
    let db: Awaited<ReturnType<typeof freshDb>>;
    const staff: Record<string, Staff> = {};
    beforeAll(async () => {
      db = await freshDb(backend, `declaration_export_${backend}`);
      await importRosterFile(db, SAMPLE_ROSTER, readFileSync(SAMPLE_ROSTER));
      for (const id of ['S0001', 'S0003', 'S0040']) staff[id] = (await getStaff(db, id))!;
    });
    afterAll(async () => {
      await db.dispose();
    });

    /** A declaration by S0001 approved by its department head, now with the discipline office. */
    async function atDiscipline(): Promise<string> {
      const d = await createDraft(db, staff.S0001, input);
      const s = await submitDraft(db, staff.S0001, d.id, d.version, now);
      await decide(db, staff.S0003, { id: d.id, v: s.declaration.version, step: 'dept' }, 'approve', { now, timeZone: TZ });
      return d.id;
    }

    /** The export through a connection that counts its statements. */
    async function exportCounting(): Promise<{ statements: number; workbook: ExcelJS.Workbook; count: number }> {
      let statements = 0;
      const counting: Queryable = {
        query: (sql, params) => {
          statements++;
          return db.query(sql, params);
        },
      };
      const { buffer, count } = await exportDeclarations(counting, TZ);
      const workbook = new ExcelJS.Workbook();
      await workbook.xlsx.load(buffer as never);
      return { statements, workbook, count };
    }

    it('14.7 reads every declaration with its history in a fixed number of statements, however many there are', async () => {
      const first = [await atDiscipline(), await atDiscipline()];
      const few = await exportCounting();
      expect(few.count).toBe(2);
      for (let i = 0; i < 4; i++) await atDiscipline();
      const many = await exportCounting();
      expect(many.count).toBe(6);
      // The old export read each declaration's trail, then each actor's name, one by one.
      expect(many.statements).toBe(few.statements);
      expect(many.statements).toBeLessThanOrEqual(2);

      const trail = (many.workbook.getWorksheet('处理记录')!.getSheetValues().slice(2) as unknown[][]).map((r) => r.slice(1));
      // Oldest declaration first, each history in order, actors by name.
      expect(trail.filter((r) => r[0] === `SB-${first[0]}`).map((r) => [r[2], r[3], r[4]])).toEqual([
        ['S0001', staff.S0001.name, '填写草稿'],
        ['S0001', staff.S0001.name, '提交申报'],
        ['S0003', staff.S0003.name, '同意'],
      ]);
      expect(trail.findIndex((r) => r[0] === `SB-${first[0]}`)).toBeLessThan(trail.findIndex((r) => r[0] === `SB-${first[1]}`));
      expect(trail).toHaveLength(18);
    });

    it('14.7 names the scheduler 系统 and keeps the id of an actor no longer on the roster', async () => {
      const id = await atDiscipline();
      await db.query(`INSERT INTO audit_log (actor, action, entity_type, entity_id, from_state, to_state) VALUES ('system', 'declaration.remind', 'declaration', $1, 'pending_discipline', 'pending_discipline'), ('X9999', 'declaration.files_viewed', 'declaration', $1, 'pending_discipline', 'pending_discipline')`, [id]);
      const { workbook } = await exportCounting();
      const rows = (workbook.getWorksheet('处理记录')!.getSheetValues().slice(2) as unknown[][]).map((r) => r.slice(1)).filter((r) => r[0] === `SB-${id}`);
      expect(rows.slice(-2).map((r) => [r[2], r[3], r[4]])).toEqual([
        ['system', '系统', '超时提醒审批人'],
        ['X9999', 'X9999', '查看附件'],
      ]);
    });
  });
}
