import { card, fields, image, markdown, note, table } from './builders.js';
import { renderBarChart } from './chart-png.js';
import { formatYuan } from '../src/domain/declaration.js';
import { SMALL_COUNT_LABEL, SMALL_COUNT_LIMIT, smallCount } from '../src/domain/small-counts.js';
import type { Card } from './model.js';
import { monthLabel, slashMonthDayTimeLabel, type Month } from '../src/domain/calendar.js';
import {
  AREA_NAMES,
  formatPercent,
  percent,
  type Area,
  type DeclarationFigures,
  type DepartmentRow,
  type ExamFigures,
  type Overview,
  type PersonRow,
  type ReportFigures,
  type StudyFigures,
} from '../src/domain/progress.js';

/** The cards of `进度` and `我的进度`: counts and rates, per department or per person. */

const change = (now: number | null, before: number | null, unit = '个百分点'): string => {
  if (now === null || before === null) return '';
  const d = now - before;
  if (Math.abs(d) < 0.05) return '（与上月持平）';
  return `（较上月${d > 0 ? '↑' : '↓'}${Math.abs(d).toFixed(1)}${unit}）`;
};

/**
 * 上缴 is counted by the month the gift was received, so a registration today of last month's
 * gift would not show this month: 当月办理登记 counts it by its registration date, and both
 * views say which rule each figure follows.
 */
const DECLARATION_MONTH_RULE = '上缴按收到日期所在月份统计，“当月办理登记”按登记日期统计（含以前月份收到的）。';

/** `where`: the department's name, or 全院; `extra`: lines other features add (通报阅读, 问题清单). */
export function overviewCard(where: string, month: Month, o: Overview, prev: Overview, extra: [string, string][] = []): Card {
  const amount = (n: number) => `${formatYuan(n)} 元`;
  const ledger = extra.some(([label]) => label === '问题清单') ? '|问题清单' : '';
  return card(`${where}清廉建设进度 · ${monthLabel(month)}`, [
    fields([
      ['学习完成率', `${formatPercent(o.study)}（${o.study.done}/${o.study.total}）${change(percent(o.study), percent(prev.study))}`],
      ['考试参加率', `${formatPercent(o.examTook)}（${o.examTook.done}/${o.examTook.total}）${change(percent(o.examTook), percent(prev.examTook))}`],
      ['考试通过率', `${formatPercent(o.examPassed)}（参加者中 ${o.examPassed.done} 人通过）${change(percent(o.examPassed), percent(prev.examPassed))}`],
      ['月度上报', `已交 ${o.reports.submitted}/${o.reports.required}，逾期 ${o.reports.late}，未交 ${o.reports.required - o.reports.submitted}（上月已交 ${prev.reports.submitted}/${prev.reports.required}）`],
      ['上缴登记', `收到 ${o.declarations.received} 件，已登记 ${o.declarations.registered} 件，${amount(o.declarations.amount)}（上月收到 ${prev.declarations.received} 件，已登记 ${prev.declarations.registered} 件，${amount(prev.declarations.amount)}）`],
      ['当月办理登记', `${o.declarations.registeredInMonth} 件（上月 ${prev.declarations.registeredInMonth} 件）`],
      ...extra,
    ]),
    note(`${monthLabel(month)}。${DECLARATION_MONTH_RULE}查看明细：进度 学习|考试|上报|上缴${ledger} [月份] [科室]，进度 通报 [编号|月份]；导出表格：导出 学习|考试|上报|上缴${ledger}|通报 [月份]。`),
  ], 'blue');
}

/** Said when a partial word was taken for a department, so a wrong guess is seen at once. */
export const departmentMatchText = (word: string, department: string): string => `按“${word}”匹配到科室：${department}`;

/** A reply with a line put first: a note on a card, a first line on a text. */
export function withLeadNote(reply: Card | string, text: string | undefined): Card | string {
  if (!text) return reply;
  return typeof reply === 'string' ? `${text}\n${reply}` : { ...reply, elements: [note(text), ...reply.elements] };
}

export const notStartedText = (month: Month): string => `${monthLabel(month)}尚未开始，暂无进度。`;

export function emptyOverviewText(where: string, month: Month): string {
  return `${monthLabel(month)}${where}还没有任何数据。`;
}

export function detailTitle(area: Area, month: Month, department?: { name: string }): string {
  return `${AREA_NAMES[area]}进度 · ${monthLabel(month)}${department ? ` · ${department.name}` : ''}`;
}

/** A department's rate (`p`, null when nobody counts) and the table cells shown for it. */
export interface RateRow {
  name: string;
  p: number | null;
  cells: (string | number)[];
}

export function studyRateRows(rows: DepartmentRow<StudyFigures>[]): RateRow[] {
  return rows.map((r) => ({ name: r.department, p: percent({ done: r.figures.done, total: r.figures.audience }), cells: [r.figures.audience, r.figures.done, formatPercent({ done: r.figures.done, total: r.figures.audience })] }));
}

export function examRateRows(rows: DepartmentRow<ExamFigures>[]): RateRow[] {
  return rows.map((r) => ({ name: r.department, p: percent({ done: r.figures.took, total: r.figures.staff }), cells: [r.figures.staff, r.figures.took, formatPercent({ done: r.figures.took, total: r.figures.staff }), formatPercent({ done: r.figures.passed, total: r.figures.took })] }));
}

/** Lowest rate first, so the departments that need a push lead the table and the chart. */
export function byRate(rows: RateRow[]): RateRow[] {
  return [...rows].sort((a, b) => (a.p ?? 101) - (b.p ?? 101) || a.name.localeCompare(b.name, 'zh'));
}

/** One department's study or exam detail: its rate and every person in it. */
export function departmentPeopleCard(title: string, area: 'study' | 'exam', row: RateRow | undefined, people: PersonRow[]): Card {
  return card(title, [
    row ? fields(area === 'study' ? [['完成率', `${row.cells[2]}（${row.cells[1]}/${row.cells[0]}）`]] : [['参加率', `${row.cells[2]}`], ['通过率', `${row.cells[3]}`]]) : note('本月该科室没有需要统计的人员。'),
    table(['工号', '姓名', '状态', area === 'study' ? '完成时间' : '情况'], people.map((p) => [p.staffId, p.name, p.status, p.detail])),
  ]);
}

/** The rates' bar chart, `rows` in display order: the card and the exported workbook show these same bytes. */
export function departmentRatesChart(rows: RateRow[]): Buffer {
  return renderBarChart({ labels: rows.map((r) => r.name), values: rows.map((r) => r.p ?? 0), target: 100 });
}

/** Every department's study or exam rate, `rows` already in display order, with their bar chart. */
export function departmentRatesCard(title: string, area: 'study' | 'exam', rows: RateRow[]): Card {
  return card(title, [
    rows.length > 0 && image('progress.png', departmentRatesChart(rows), '各科室完成率柱状图'),
    table(area === 'study' ? ['序号', '科室', '应学', '已学', '完成率'] : ['序号', '科室', '人数', '参加', '参加率', '通过率'], rows.map((r, i) => [i + 1, r.name, ...r.cells])),
    // byRate sorts exams by participation (examRateRows' p), so the words name that rate.
    note(`按${area === 'study' ? '完成率' : '参加率'}从低到高排列。查看某科室的人员：在命令后加科室名称。`),
  ]);
}

/** Monthly reports per department: missing first, then late, then on time. */
export function reportProgressCard(title: string, rows: DepartmentRow<ReportFigures>[], timeZone: string): Card {
  const rank = (r: DepartmentRow<ReportFigures>) => (r.figures.submitted ? (r.figures.late ? 1 : 2) : 0);
  const sorted = [...rows].sort((a, b) => rank(a) - rank(b));
  return card(title, [
    fields([['应报科室', sorted.length], ['已提交', sorted.filter((r) => r.figures.submitted).length], ['逾期', sorted.filter((r) => r.figures.late).length], ['未提交', sorted.filter((r) => !r.figures.submitted).length]]),
    table(['科室', '状态', '提交人', '提交时间'], sorted.map((r) => [r.department, r.figures.submitted ? (r.figures.late ? '逾期提交' : '按时提交') : '未提交', r.figures.submittedBy ?? '', r.figures.submittedAt ? slashMonthDayTimeLabel(r.figures.submittedAt, timeZone) : ''])),
  ]);
}

/**
 * Declarations per department: counts and amounts only, most registered first. Without
 * `exact` (everyone but the discipline office) a department's 1 or 2 declarations show as
 * "<3" and their amount is withheld: in a small department one count and one sum name a person.
 */
export function declarationProgressCard(title: string, rows: DepartmentRow<DeclarationFigures>[], opts: { exact?: boolean } = {}): Card {
  const sorted = [...rows].sort((a, b) => b.figures.registered - a.figures.registered);
  const count = (n: number) => (opts.exact ? n : smallCount(n));
  const money = (registered: number, amount: number) => (opts.exact || registered === 0 || registered >= SMALL_COUNT_LIMIT ? formatYuan(amount) : '—');
  const registered = sorted.reduce((a, r) => a + r.figures.registered, 0);
  const amount = sorted.reduce((a, r) => a + r.figures.amount, 0);
  return card(title, [
    fields([
      ['收到件数', count(sorted.reduce((a, r) => a + r.figures.received, 0))],
      ['登记件数', count(registered)],
      ['登记金额', money(registered, amount) === '—' ? '—' : `${formatYuan(amount)} 元`],
      ['审批中', count(sorted.reduce((a, r) => a + r.figures.pending, 0))],
      ['当月办理登记', count(sorted.reduce((a, r) => a + r.figures.registeredInMonth, 0))],
    ]),
    table(['科室', '收到件数', '登记件数', '登记金额（元）', '审批中', '当月办理登记'], sorted.map((r) => [r.department, count(r.figures.received), count(r.figures.registered), money(r.figures.registered, r.figures.amount), count(r.figures.pending), count(r.figures.registeredInMonth)])),
    note(`${DECLARATION_MONTH_RULE}只含件数和金额，不含个人信息。${opts.exact ? '' : `少于 ${SMALL_COUNT_LIMIT} 件的显示为“${SMALL_COUNT_LABEL}”，不显示金额。`}`),
  ]);
}

/** `我的进度`: the person's own study, quiz and declaration counts this month. */
export function myProgressCard(month: Month, study: PersonRow | undefined, exam: PersonRow | undefined, declarations: { label: string; n: number }[]): Card {
  const declText = declarations.length === 0 ? '无' : declarations.map((r) => `${r.label} ${r.n} 件`).join('，');
  return card(`我的进度 · ${monthLabel(month)}`, [
    fields([
      ['本月学习', study ? `${study.status}${study.detail ? `（${study.detail}）` : ''}` : '本月无学习任务'],
      ['本月测验', exam ? `${exam.status}${exam.detail ? `（${exam.detail}）` : ''}` : '未参加'],
      ['我的申报', declText],
    ]),
    markdown(`发送 **学习** 查看本月学习任务，**考试** 开始测验，**我的申报** 查看申报详情。`),
  ]);
}
