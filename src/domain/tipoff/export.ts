import type { Queryable } from '../../store/db.js';
import { listTipoffs, tipoffTrail } from '../../store/tipoffs.js';
import { dateTimeLabel, localDate } from '../calendar.js';
import { buildWorkbook } from '../workbook.js';
import { caseNo, DISPOSITION_LABELS, SOURCE_LABELS, STATE_LABELS, type TipoffState } from './record.js';

/**
 * 导出线索: the ledger and every case's history as a workbook for the discipline office. The
 * reporter is never in it, not even for 实名 cases: a file travels further than a chat, so
 * a 实名 reporter's name is shown only in chat, to 纪检, case by case.
 */
const stateName = (s: string | null) => (s ? (STATE_LABELS[s as TipoffState] ?? s) : '');

export async function exportTipoffs(q: Queryable, now: Date, timeZone: string): Promise<{ buffer: Buffer; count: number }> {
  const all = await listTipoffs(q);
  const today = localDate(now, timeZone);
  const history: (string | number)[][] = [];
  for (const t of [...all].reverse()) {
    for (const e of await tipoffTrail(q, t.id)) history.push([caseNo(t.id), dateTimeLabel(e.at, timeZone), e.actorName, e.action.replace(/^tipoff\./, ''), stateName(e.fromState), stateName(e.toState), e.reason ?? '']);
  }
  const buffer = await buildWorkbook([
    {
      name: '线索台账',
      preface: [`线索台账（导出时间 ${dateTimeLabel(now, timeZone)}）`, '举报人信息严格保密：本表不含举报人身份。'],
      columns: ['编号', '来源', '来源说明', '身份', '状态', '时间', '地点', '科室', '人员', '具体事项', '承办人', '处置', '回复', '收到时间', '本环节期限', '实名反馈期限', '是否超期', '办结时间'],
      rows: all.map((t) => [
        caseNo(t.id),
        SOURCE_LABELS[t.source],
        t.sourceDetail ?? '',
        t.source === 'bot' ? (t.realName ? '实名' : '身份保密') : '—',
        STATE_LABELS[t.state] + (t.mergedInto ? ` → ${caseNo(t.mergedInto)}` : ''),
        t.occurred,
        t.place,
        t.department,
        t.persons,
        t.matter,
        t.handlerName ?? '',
        t.disposition ? DISPOSITION_LABELS[t.disposition] : '',
        t.reply ?? '',
        dateTimeLabel(t.createdAt, timeZone),
        t.dueOn ?? '',
        t.feedbackDueOn ?? '',
        t.state !== 'closed' && t.state !== 'merged' && ((t.dueOn ?? '9') < today || (t.realName && !t.repliedAt && (t.feedbackDueOn ?? '9') < today)) ? '是' : '',
        dateTimeLabel(t.closedAt, timeZone),
      ]),
    },
    { name: '处理记录', columns: ['编号', '时间', '操作人', '操作', '原状态', '新状态', '说明'], rows: history },
  ]);
  return { buffer, count: all.length };
}
