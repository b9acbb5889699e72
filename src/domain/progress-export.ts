import { buildWorkbook, dateTimeCell, percentCell, sheetChart, yuanCell, type CellValue, type Sheet, type SheetChart } from './workbook.js';
import { byRate, departmentRatesChart, examRateRows, studyRateRows, type RateRow } from '../../cards/progress.js';
import { CHART_SCALE } from '../../cards/chart-png.js';
import { localDate, monthLabel, slashDateTimeLabel, type Month } from './calendar.js';
import { ledgerSheets } from './rectification/progress.js';
import {
  AREA_NAMES,
  declarationsByDepartment,
  examByDepartment,
  examPeople,
  reportsByDepartment,
  studyByDepartment,
  studyPeople,
  type Area,
  type DepartmentRow,
  type ProgressDeps,
  type Scope,
} from './progress.js';

/** The chat card's chart, worst first like the card, shown at its logical size. */
function rateChart(rows: RateRow[]): { chart?: SheetChart } {
  if (rows.length === 0) return {};
  return { chart: sheetChart(departmentRatesChart(byRate(rows)), CHART_SCALE) };
}

const HOSPITAL = '全院';

/**
 * A by-department sheet's rows and, under them, the 全院 line: each figure summed over the
 * departments, and rates taken from those sums (not averaged), as the overview card does.
 */
function withTotal<T extends object>(rows: DepartmentRow<T>[], line: (r: DepartmentRow<T>) => CellValue[], total: (sums: T) => CellValue[]): CellValue[][] {
  if (rows.length === 0) return [];
  const sums = {} as Record<string, number>;
  for (const r of rows) for (const [k, v] of Object.entries(r.figures)) if (typeof v === 'number') sums[k] = (sums[k] ?? 0) + v;
  return [...rows.map(line), total(sums as T)];
}

/**
 * The workbook handed to an inspection for one area and month: a summary sheet by
 * department and a detail sheet (people for study and exams, submissions for reports,
 * counts and amounts for declarations — never names).
 */
export async function progressWorkbook(
  deps: ProgressDeps,
  area: Area,
  month: Month,
  scope: Scope = {},
  generatedAt = new Date(),
  /** Who reads it: leaders get the ledger's counts only, 1–2 as "<3" (the CLI, an administrator, gets everything). */
  viewer: { leaderView: boolean; rows: boolean } = { leaderView: false, rows: true },
): Promise<{ name: string; data: Buffer }> {
  const stamp = slashDateTimeLabel(generatedAt, deps.timeZone);
  const preface = [`${AREA_NAMES[area]}情况 · ${monthLabel(month)}`, `生成时间：${stamp}（${deps.timeZone}）`];
  let sheets: Sheet[];
  switch (area) {
    case 'study': {
      const rows = await studyByDepartment(deps, month, scope);
      const detail: CellValue[][] = [];
      for (const r of rows) for (const p of await studyPeople(deps, month, r.departmentId)) detail.push([r.department, p.staffId, p.name, p.status, dateTimeCell(p.completedAt, deps.timeZone), p.late ? '逾期' : '']);
      const line = (name: string, audience: number, done: number): CellValue[] => [name, audience, done, audience - done, percentCell(done, audience)];
      sheets = [
        { name: '汇总', preface, ...rateChart(studyRateRows(rows)), columns: ['科室', '应学人数', '已学习', '未学习', '完成率'], rows: withTotal(rows, (r) => line(r.department, r.figures.audience, r.figures.done), (t) => line(HOSPITAL, t.audience, t.done)) },
        { name: '明细', columns: ['科室', '工号', '姓名', '状态', '完成时间', '是否逾期'], rows: detail },
      ];
      break;
    }
    case 'exam': {
      const rows = await examByDepartment(deps, month, scope);
      const detail: CellValue[][] = [];
      for (const r of rows) for (const p of await examPeople(deps, month, r.departmentId)) detail.push([r.department, p.staffId, p.name, p.status, p.attempts ?? 0, p.best ?? null]);
      const line = (name: string, staff: number, took: number, passed: number): CellValue[] => [name, staff, took, percentCell(took, staff), passed, percentCell(passed, took)];
      sheets = [
        {
          name: '汇总',
          preface,
          ...rateChart(examRateRows(rows)),
          columns: ['科室', '人数', '参加人数', '参加率', '通过人数', '通过率（参加者）'],
          rows: withTotal(rows, (r) => line(r.department, r.figures.staff, r.figures.took, r.figures.passed), (t) => line(HOSPITAL, t.staff, t.took, t.passed)),
        },
        { name: '明细', columns: ['科室', '工号', '姓名', '结果', '次数', '最高分'], rows: detail },
      ];
      break;
    }
    case 'report': {
      const rows = await reportsByDepartment(deps, month, scope);
      const figures = deps.settings.report.figures;
      sheets = [
        { name: '汇总', preface, columns: ['应报科室', '已提交', '逾期提交', '未提交'], rows: [[rows.length, rows.filter((r) => r.figures.submitted).length, rows.filter((r) => r.figures.late).length, rows.filter((r) => !r.figures.submitted).length]] },
        {
          name: '明细',
          // The report itself, a column per figure in the form's order: an inspection reads the numbers, not only who filed.
          columns: ['科室', '状态', '提交人', '提交时间', '工作进展', ...figures],
          rows: rows.map((r) => [
            r.department,
            r.figures.submitted ? (r.figures.late ? '逾期提交' : '按时提交') : '未提交',
            r.figures.submittedBy ?? '',
            dateTimeCell(r.figures.submittedAt, deps.timeZone),
            r.figures.summary ?? '',
            ...figures.map((f) => r.figures.values?.[f] ?? ''),
          ]),
        },
      ];
      break;
    }
    case 'declaration': {
      const rows = await declarationsByDepartment(deps, month, scope);
      sheets = [
        {
          name: '汇总',
          preface: [...preface, '按收到日期所在月份统计；只含件数和金额，不含个人信息。'],
          columns: ['登记件数', '登记金额（元）', '审批中件数'],
          rows: [[rows.reduce((a, r) => a + r.figures.registered, 0), yuanCell(rows.reduce((a, r) => a + r.figures.amount, 0)), rows.reduce((a, r) => a + r.figures.pending, 0)]],
        },
        {
          name: '按科室',
          columns: ['科室', '登记件数', '登记金额（元）', '审批中件数'],
          rows: withTotal(rows, (r) => [r.department, r.figures.registered, yuanCell(r.figures.amount), r.figures.pending], (t) => [HOSPITAL, t.registered, yuanCell(t.amount), t.pending]),
        },
      ];
      break;
    }
    case 'ledger': {
      // The ledger is a standing list, not a month's figures: it is exported as it stands today.
      sheets = await ledgerSheets(deps.db, { timeZone: deps.timeZone, generatedAt, scope, leaderView: viewer.leaderView, summaryOnly: !viewer.rows });
      return { name: `问题清单-${localDate(generatedAt, deps.timeZone)}.xlsx`, data: await buildWorkbook(sheets) };
    }
  }
  const name = `${AREA_NAMES[area]}情况-${monthLabel(month)}.xlsx`;
  return { name, data: await buildWorkbook(sheets) };
}
