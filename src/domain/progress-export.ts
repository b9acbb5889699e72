import { buildWorkbook, type Sheet } from './workbook.js';
import { localDate, monthLabel, slashDateTimeLabel, type Month } from './calendar.js';
import { ledgerSheets } from './rectification/progress.js';
import {
  AREA_NAMES,
  declarationsByDepartment,
  examByDepartment,
  examPeople,
  formatPercent,
  reportsByDepartment,
  studyByDepartment,
  studyPeople,
  type Area,
  type ProgressDeps,
  type Scope,
} from './progress.js';

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
      const detail: (string | number)[][] = [];
      for (const r of rows) for (const p of await studyPeople(deps, month, r.departmentId)) detail.push([r.department, p.staffId, p.name, p.status, p.detail]);
      sheets = [
        { name: '汇总', preface, columns: ['科室', '应学人数', '已学习', '未学习', '完成率'], rows: rows.map((r) => [r.department, r.figures.audience, r.figures.done, r.figures.audience - r.figures.done, formatPercent({ done: r.figures.done, total: r.figures.audience })]) },
        { name: '明细', columns: ['科室', '工号', '姓名', '状态', '完成时间'], rows: detail },
      ];
      break;
    }
    case 'exam': {
      const rows = await examByDepartment(deps, month, scope);
      const detail: (string | number)[][] = [];
      for (const r of rows) for (const p of await examPeople(deps, month, r.departmentId)) detail.push([r.department, p.staffId, p.name, p.status, p.detail]);
      sheets = [
        {
          name: '汇总',
          preface,
          columns: ['科室', '人数', '参加人数', '参加率', '通过人数', '通过率（参加者）'],
          rows: rows.map((r) => [r.department, r.figures.staff, r.figures.took, formatPercent({ done: r.figures.took, total: r.figures.staff }), r.figures.passed, formatPercent({ done: r.figures.passed, total: r.figures.took })]),
        },
        { name: '明细', columns: ['科室', '工号', '姓名', '结果', '次数与最高分'], rows: detail },
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
            r.figures.submittedAt ? slashDateTimeLabel(r.figures.submittedAt, deps.timeZone) : '',
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
          rows: [[rows.reduce((a, r) => a + r.figures.registered, 0), rows.reduce((a, r) => a + r.figures.amount, 0), rows.reduce((a, r) => a + r.figures.pending, 0)]],
        },
        { name: '按科室', columns: ['科室', '登记件数', '登记金额（元）', '审批中件数'], rows: rows.map((r) => [r.department, r.figures.registered, r.figures.amount, r.figures.pending]) },
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
