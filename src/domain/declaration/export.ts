import { declarationRef, GIVERS, HANDLINGS, KINDS, STATE_NAMES } from '../declaration.js';
import { buildWorkbook } from '../workbook.js';
import type { Queryable } from '../../store/db.js';
import { listSubmitted, trailsOf } from '../../store/declarations.js';
import { formatTime } from './format.js';
import { AUDIT_ACTION_NAMES } from './record.js';

const stateName = (s: string | null) => (s ? (STATE_NAMES[s as keyof typeof STATE_NAMES] ?? s) : '');

/**
 * 导出申报: every submitted declaration and its whole history as a workbook. Two statements
 * whatever the number of declarations: the list, then all their histories with actor names.
 */
export async function exportDeclarations(q: Queryable, timeZone: string): Promise<{ buffer: Buffer; count: number }> {
  const all = await listSubmitted(q);
  const trails = await trailsOf(q, all.map((d) => d.id));
  const auditRows: (string | number)[][] = [];
  // Histories oldest declaration first, the list newest first, as they always were.
  for (const d of [...all].reverse()) {
    for (const r of trails.get(d.id) ?? []) {
      auditRows.push([`SB-${d.id}`, formatTime(r.at, timeZone), r.actor ?? '', r.actorName, AUDIT_ACTION_NAMES[r.action] ?? r.action, stateName(r.fromState), stateName(r.toState), r.reason ?? '']);
    }
  }
  const buffer = await buildWorkbook([
    {
      name: '上缴申报',
      columns: ['编号', '申报序号', '状态', '工号', '申报人', '科室', '类别', '金额或估计价值（元）', '收到日期', '送礼人', '处理方式', '情况说明', '附件', '版本', '修改自', '提交时间', '登记时间', '驳回理由'],
      rows: all.map((d) => [
        declarationRef(d),
        `SB-${d.id}`,
        STATE_NAMES[d.state],
        d.declarantId,
        d.declarantName,
        d.department,
        KINDS[d.kind],
        Number(d.amount),
        d.receivedOn,
        GIVERS[d.giver],
        HANDLINGS[d.handling],
        // Plain strings: ExcelJS only writes a formula when given {formula}, so "=…" stays text.
        d.description,
        d.attachments.map((a) => a.name).join('、'),
        d.revision,
        d.previousId ? `SB-${d.previousId}` : '',
        formatTime(d.submittedAt, timeZone),
        formatTime(d.registeredAt, timeZone),
        d.state === 'rejected' ? (d.lastReason ?? '') : '',
      ]),
    },
    { name: '处理记录', columns: ['申报序号', '时间', '操作人工号', '操作人', '操作', '原状态', '新状态', '理由'], rows: auditRows },
  ]);
  return { buffer, count: all.length };
}
