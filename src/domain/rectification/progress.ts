import type { Queryable } from '../../store/db.js';
import { ledgerByDepartment, listProblems } from '../../store/rectification.js';
import type { Staff } from '../../store/staff.js';
import { dateLabel, slashDateTimeLabel, localDate } from '../calendar.js';
import { smallCount } from '../small-counts.js';
import { sheetChart, type Sheet } from '../workbook.js';
import { ledgerChart } from '../../../cards/rectification.js';
import { CHART_SCALE } from '../../../cards/chart-png.js';
import { problemRef, SOURCE_NAMES, STATE_NAMES, type LedgerFigures } from './ledger.js';

/**
 * The ledger for leadership and inspections: counts by department (leaders read 1–2 as "<3"),
 * and for the discipline office and administrators the rows themselves.
 */

export interface LedgerScope {
  departmentId?: number;
  departmentName?: string;
}

/** Leaders who are not also the discipline office see aggregates only, small counts hidden. */
export function ledgerScopeFor(s: Pick<Staff, 'roles'>): { leaderView: boolean; rows: boolean } {
  const discipline = s.roles.includes('discipline') || s.roles.includes('admin');
  return { leaderView: s.roles.includes('leader') && !discipline, rows: discipline || s.roles.includes('dept_head') };
}

/** Lowest share closed first, so the departments that need a push lead the card, its chart and the export's chart. */
export function byClosedRate<T extends LedgerFigures & { department: string }>(rows: T[]): T[] {
  return [...rows].sort((a, b) => a.closed / a.found - b.closed / b.found || a.department.localeCompare(b.department, 'zh'));
}

export async function ledgerTotals(q: Queryable, today: string, scope: LedgerScope = {}): Promise<LedgerFigures[]> {
  return ledgerByDepartment(q, today, scope.departmentId);
}

/** The chat card's chart, in the card's order. */
function chartOf(rows: (LedgerFigures & { department: string })[]): Pick<Sheet, 'chart'> {
  const png = ledgerChart(byClosedRate(rows));
  return png ? { chart: sheetChart(png, CHART_SCALE) } : {};
}

/** The sheets of `导出 问题清单`: a summary by department, and the rows unless `summaryOnly`. */
export async function ledgerSheets(q: Queryable, opts: { timeZone: string; generatedAt: Date; scope?: LedgerScope; leaderView: boolean; summaryOnly: boolean }): Promise<Sheet[]> {
  const today = localDate(opts.generatedAt, opts.timeZone);
  const show = (n: number): string | number => (opts.leaderView ? smallCount(n) : n);
  const rows = await ledgerByDepartment(q, today, opts.scope?.departmentId);
  const preface = [`问题清单 · 截至 ${dateLabel(today)}${opts.scope?.departmentName ? ` · ${opts.scope.departmentName}` : ''}`, `生成时间：${slashDateTimeLabel(opts.generatedAt, opts.timeZone)}（${opts.timeZone}）`];
  if (opts.leaderView) preface.push('1–2 的数目显示为“<3”。');
  const sheets: Sheet[] = [{
    name: '汇总',
    preface,
    ...chartOf(rows),
    columns: ['科室', '发现问题', '已销号', '申请销号中', '未销号', '逾期未整改', '自查发现', '检查发现', '销号率'],
    rows: rows.map((r) => [r.department, show(r.found), show(r.closed), show(r.applied), show(r.found - r.closed), show(r.overdue), show(r.selfFound), show(r.inspected), r.found ? `${((100 * r.closed) / r.found).toFixed(1)}%` : '—']),
  }];
  if (opts.summaryOnly) return sheets;
  const problems = await listProblems(q, opts.scope?.departmentId !== undefined ? { departmentId: opts.scope.departmentId } : {});
  sheets.push({
    name: '明细',
    columns: ['编号', '科室', '来源', '问题', '责任人', '整改措施', '整改期限', '状态', '是否逾期', '合并到', '销号时间'],
    rows: problems.map((p) => [
      problemRef(p.id), p.department ?? '院级（合并）', SOURCE_NAMES[p.source], p.description, p.ownerName, p.measure ?? '', p.deadline, STATE_NAMES[p.state],
      (p.state === 'pending' || p.state === 'in_progress') && p.deadline < today ? '逾期' : '', p.mergedInto ? problemRef(p.mergedInto) : '', p.closedAt ? slashDateTimeLabel(p.closedAt, opts.timeZone) : '',
    ]),
  });
  return sheets;
}
