import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSchema } from '../src/config.js';
import { importPlans, loadDefaultPlan, parsePlanFile, PlanImportError, resolvePlan } from '../src/domain/study.js';
import { freshDb } from './helpers/db.js';

describe('study plans', () => {
  let db: Awaited<ReturnType<typeof freshDb>>;
  beforeAll(async () => {
    db = await freshDb('pglite', 'study_plan');
  });
  afterAll(async () => {
    await db?.dispose();
  });

  it('ships a valid twelve-month plan', () => {
    const plan = loadDefaultPlan();
    expect(plan.map((m) => m.month)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('16 ships general text: no one city’s deadlines, and every month names its document', () => {
    const plan = loadDefaultPlan() as unknown as { month: number; summary: string; source: string; rule: number | null }[];
    for (const m of plan) {
      expect(m.summary, `month ${m.month}`).not.toMatch(/到20\d\d年底|蚌埠市|潍坊市|宝鸡市/);
      expect(m.source, `month ${m.month}`).toMatch(/《.+》/);
    }
    // Each of the nine rules is taught in some month; only the closing review has no single rule.
    expect(new Set(plan.flatMap((m) => (m.rule ? [m.rule] : [])))).toEqual(new Set([1, 2, 3, 4, 5, 6, 7, 8, 9]));
    expect(plan.filter((m) => !m.rule).map((m) => m.month)).toEqual([12]);
  });

  it('refuses a file with every problem named, and imports a good one over the config and the default', async () => {
    expect(() => parsePlanFile('p.yaml', 'plans:\n  - month: 2027-13\n    topic: x\n  - month: 2027-02\n')).toThrow(PlanImportError);
    try {
      parsePlanFile('p.yaml', 'plans:\n  - month: 2027-13\n    topic: x\n  - month: 2027-02\n');
    } catch (e) {
      expect((e as PlanImportError).problems.length).toBeGreaterThanOrEqual(2);
    }
    const settings = fileSchema.parse({ study: { plans: [{ month: '2027-01', topic: '配置中的计划' }] } }).study;
    expect((await resolvePlan(db, settings, { year: 2027, month: 1 })).origin).toBe('config');
    const plans = parsePlanFile(
      'p.json',
      JSON.stringify([{ month: '2027-01', topic: '新年廉洁第一课', audience: { departments: ['心血管内科'] }, dueOn: '2027-01-20', pushDay: 5 }]),
    );
    await importPlans(db, plans, 'test');
    const p = await resolvePlan(db, settings, { year: 2027, month: 1 });
    expect(p).toMatchObject({ origin: 'imported', topic: '新年廉洁第一课', dueOn: '2027-01-20', pushDay: 5, audience: { departments: ['心血管内科'] } });
    expect((await resolvePlan(db, settings, { year: 2027, month: 3 })).origin).toBe('default');
  });
});
