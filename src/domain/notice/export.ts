import { monthLabel, slashDateTimeLabel, type Month } from '../calendar.js';
import { buildWorkbook, type Sheet } from '../workbook.js';
import type { DepartmentReads, Notice, NoticeRate, Receipt } from '../../store/notices.js';
import { noticeNumber, shownCount, shownRate } from './notice.js';

/**
 * `导出 通报` in the progress workbooks' style (src/domain/workbook.ts): one notice by
 * department, plus every person's receipt for the discipline office; or a month's notices.
 * `full` false applies the same "<3" rule as the cards.
 */
export type NoticeExport =
  | { notice: Notice; departments: DepartmentReads[]; receipts?: Receipt[]; generatedAt: Date; timeZone: string; full: boolean }
  | { month: Month; rates: NoticeRate[]; generatedAt: Date; timeZone: string; full: boolean };

export async function noticeWorkbook(e: NoticeExport): Promise<{ name: string; data: Buffer }> {
  const stamp = `生成时间：${slashDateTimeLabel(e.generatedAt, e.timeZone)}（${e.timeZone}）`;
  const c = (n: number) => shownCount(n, e.full);
  if ('notice' in e) {
    const n = e.notice;
    const sheets: Sheet[] = [
      {
        name: '按科室',
        preface: [`通报阅读情况 · ${noticeNumber(n.id)} ${n.title}`, `发布时间：${n.publishedAt ? slashDateTimeLabel(n.publishedAt, e.timeZone) : ''}`, stamp, ...(e.full ? [] : ['1–2 人的数字显示为“<3”。'])],
        columns: ['科室', '应阅人数', '已阅', '未阅', '阅读率'],
        rows: e.departments.map((d) => [d.department, c(d.total), c(d.read), c(d.total - d.read), shownRate(d.read, d.total, e.full)]),
      },
    ];
    if (e.receipts) {
      sheets.push({
        name: '个人阅读记录',
        preface: ['仅限纪检监察室使用，请勿外传。'],
        columns: ['工号', '姓名', '科室', '状态', '阅读时间', '确认方式'],
        rows: e.receipts.map((r) => [r.staffId, r.name, r.department, r.readAt ? '已阅' : '未阅', r.readAt ? slashDateTimeLabel(r.readAt, e.timeZone) : '', r.via === 'card' ? '卡片按钮' : r.via === 'message' ? '消息回复' : '']),
      });
    }
    return { name: `通报阅读情况-${noticeNumber(n.id)}.xlsx`, data: await buildWorkbook(sheets) };
  }
  const sheets: Sheet[] = [
    {
      name: '汇总',
      preface: [`通报阅读情况 · ${monthLabel(e.month)}`, stamp],
      columns: ['编号', '标题', '类型', '发布时间', '应阅人数', '已阅', '阅读率'],
      rows: e.rates.map((r) => [noticeNumber(r.id), r.title, r.kind === 'warning' ? '警示教育' : '普通', slashDateTimeLabel(r.publishedAt, e.timeZone), c(r.total), c(r.read), shownRate(r.read, r.total, e.full)]),
    },
  ];
  return { name: `通报阅读情况-${monthLabel(e.month)}.xlsx`, data: await buildWorkbook(sheets) };
}
