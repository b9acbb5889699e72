import { actions, button, card, fields, form, note, table, text } from './builders.js';
import type { ActionValue, Card, CardElement, FormDialogue, FormInput } from './model.js';
import {
  amountLabel,
  declarationRef,
  DESCRIPTION_MAX,
  formatYuan,
  GIVERS,
  HANDLINGS,
  KINDS,
  STATE_NAMES,
  type RawInput,
  type Route,
} from '../src/domain/declaration.js';
import { formatTime } from '../src/domain/declaration/format.js';
import { AUDIT_ACTION_NAMES, type Declaration, type MonthlyTotal, type Resubmission, type TrailEntry } from '../src/domain/declaration/record.js';
import { maskingNotice, type MaskResult } from '../src/domain/masking.js';

/**
 * The declarant's and the discipline office's cards for 上缴申报: the form, the review before
 * submitting, lookups, lists and nameless totals. Pure functions of domain values.
 */

export const CONFIDENTIAL = '仅您本人、审批人和纪检监察室可以看到这条申报。';

/**
 * The declaration's content as card elements. Everything the declarant typed goes into plain
 * text elements (escaped by every renderer), never into markdown.
 */
/** Where a rejected declaration went next: its amendment, submitted or still a draft. */
export const resubmittedText = (next: Resubmission): string =>
  next.state === 'draft' ? `正在修改，修改稿 SB-${next.id} 尚未提交` : `已重新提交为 SB-${next.id}`;

export function detailElements(d: Declaration, opts: { withDeclarant?: boolean; resubmittedAs?: Resubmission } = {}): CardElement[] {
  const pairs: [string, string][] = [['编号', declarationRef(d)]];
  if (d.receiptNo) pairs.push(['申报序号', `SB-${d.id}`]);
  if (opts.withDeclarant !== false) pairs.push(['申报人', `${d.declarantName}（${d.department}）`]);
  pairs.push(
    ['类别', KINDS[d.kind]],
    [`${amountLabel(d.kind)}（元）`, formatYuan(d.amount)],
    ['收到日期', d.receivedOn],
    ['送礼人', GIVERS[d.giver]],
    ['处理方式', HANDLINGS[d.handling]],
    ['状态', STATE_NAMES[d.state]],
  );
  if (d.revision > 1) pairs.push(['版本', `第 ${d.revision} 版（修改自 SB-${d.previousId}）`]);
  if (opts.resubmittedAs) pairs.push(['后续', resubmittedText(opts.resubmittedAs)]);
  const files = d.attachments.length ? text(`附件（${d.attachments.length} 个）：${d.attachments.map((a) => a.name).join('、')}`) : null;
  const kept = d.attachments.filter((a) => a.fileId).length;
  // The files themselves never ride in a card: a click sends them privately to whoever may see them.
  const view = kept ? actions(button(`查看附件（${kept}）`, 'decl.files', { id: d.id })) : null;
  return [fields(pairs), text(`情况说明：${d.description || '（未填写）'}`), ...(files ? [files] : []), ...(view ? [view] : [])];
}

const options = <T extends string>(labels: Record<T, string>) => (Object.entries(labels) as [T, string][]).map(([value, label]) => ({ value, label }));

function formInputs(maxYuan: number, current?: RawInput): FormInput[] {
  const init = (v?: string) => (v ? { initial: v } : {});
  return [
    { kind: 'select', name: 'kind', label: '类别', required: true, options: options(KINDS), ...init(current?.kind) },
    { kind: 'number', name: 'amount', label: '金额或估计价值（元）', required: true, min: 0.01, max: maxYuan, placeholder: '礼金填金额，礼品等填估计价值，例如 500', ...init(current?.amount) },
    { kind: 'date', name: 'receivedOn', label: '收到日期', required: true, ...init(current?.receivedOn) },
    { kind: 'select', name: 'giver', label: '送礼人', required: true, options: options(GIVERS), ...init(current?.giver) },
    { kind: 'select', name: 'handling', label: '处理方式', required: true, options: options(HANDLINGS), ...init(current?.handling) },
    {
      kind: 'text',
      name: 'description',
      label: '情况说明',
      multiline: true,
      maxLength: DESCRIPTION_MAX,
      placeholder: '简要说明经过；选“其他”时必填。请勿填写患者身份证号、手机号',
      ...init(current?.description),
    },
  ];
}

/** The form; `dialogue` is the dialogue asking the same fields where forms cannot be shown. */
export function declarationForm(opts: { maxYuan: number; value: ActionValue; dialogue: FormDialogue; current?: RawInput; title?: string }): Card {
  return card(
    opts.title ?? '红包/礼品 主动上缴申报',
    [
      text('收到礼金、红包、礼品、购物卡、有价证券或宴请邀请时，请如实申报（《九项准则》第八条、第九条）。填写后会先让您核对，确认后才提交。'),
      form('decl.form', formInputs(opts.maxYuan, opts.current), { submitLabel: '下一步：核对', value: opts.value, dialogue: opts.dialogue }),
      note(CONFIDENTIAL),
    ],
    'blue',
  );
}

function routeText(route: Route): string {
  const steps = [route.dept ? '科室负责人审核' : '', '纪检监察室审核', route.finance ? '财务科确认收款' : '', '登记并发放回执编号'].filter(Boolean);
  return `提交后依次：${steps.join(' → ')}。`;
}

/** The draft as it will be submitted, with the steps it will go through. */
export function previewCard(d: Declaration, route: Route, masking?: MaskResult): Card {
  const notice = masking ? maskingNotice(masking, '情况说明') : undefined;
  const v = { id: d.id, v: d.version };
  return card(
    `请核对您的上缴申报 · SB-${d.id}`,
    [
      text('请核对以下内容，无误后点“确认提交”。'),
      ...detailElements(d, { withDeclarant: false }),
      notice ? note(notice) : null,
      note(routeText(route)),
      actions(
        button('确认提交', 'decl.confirm', v, { style: 'primary' }),
        button('修改', 'decl.edit', v),
        button('添加照片或文件', 'decl.attach', v),
        button('取消', 'decl.cancel', v, { style: 'danger', confirm: '确定取消这份申报吗？' }),
      ),
      note(CONFIDENTIAL),
    ],
    'blue',
  );
}

export function submittedCard(d: Declaration): Card {
  return card(`上缴申报已提交 · SB-${d.id}`, [text('已提交，每一步处理后都会通知您。'), ...detailElements(d, { withDeclarant: false }), note(CONFIDENTIAL)], 'green');
}

export function cancelledCard(id: string): Card {
  return card(`上缴申报已取消 · SB-${id}`, [text('这份申报已取消，没有提交。需要时可重新发送“上缴”。')], 'grey');
}

/** The day after a draft was begun, to its author: the reference only, never the content (it may be read on a lock screen). */
export function draftReminderText(d: Pick<Declaration, 'id'>): string {
  const ref = `SB-${d.id}`;
  return `您有一份上缴申报草稿 ${ref} 尚未提交，草稿不会进入审批，提交后才算完成申报。发送“申报 ${ref}”查看并提交，或删除。`;
}

export const stateName = (s: string | null): string => (s ? (STATE_NAMES[s as keyof typeof STATE_NAMES] ?? s) : '');

/** The history as a table, oldest first; it is never edited, only appended to. */
export function trailTable(trail: TrailEntry[], timeZone: string): CardElement {
  return table(
    ['时间', '操作人', '操作', '原状态', '新状态', '理由'],
    trail.map((r) => [formatTime(r.at, timeZone), r.actorName, AUDIT_ACTION_NAMES[r.action] ?? r.action, stateName(r.fromState), stateName(r.toState), r.reason ?? '']),
  );
}

/** One declaration with its history, for whoever may see it (canView); `resubmittedAs` only when they may see that one too. */
export function declarationDetailCard(d: Declaration, trail: TrailEntry[], timeZone: string, opts: { resubmittedAs?: Resubmission } = {}): Card {
  return card(`上缴申报 · ${declarationRef(d)}`, [...detailElements(d, opts), note('处理记录（不可修改）：'), trailTable(trail, timeZone), note(CONFIDENTIAL)], 'blue');
}

/**
 * The author's own draft looked up by its number: the review card may be long gone, so this
 * card carries the same submit, edit and discard actions (and the same confirmation).
 */
export function draftDetailCard(d: Declaration, trail: TrailEntry[], route: Route, timeZone: string): Card {
  const v = { id: d.id, v: d.version };
  return card(
    `上缴申报草稿 · SB-${d.id}`,
    [
      text('这份申报还是草稿，尚未提交，不会进入审批。请核对后提交，或修改、删除。'),
      ...detailElements(d, { withDeclarant: false }),
      note(routeText(route)),
      actions(
        button('提交', 'decl.confirm', v, { style: 'primary' }),
        button('修改', 'decl.edit', v),
        button('删除', 'decl.cancel', v, { style: 'danger', confirm: '确定删除这份草稿吗？删除后不会提交，需要时可重新发送“上缴”。' }),
      ),
      note('处理记录（不可修改）：'),
      trailTable(trail, timeZone),
      note(CONFIDENTIAL),
    ],
    'blue',
  );
}

/**
 * 我的申报: drafts in a section of their own, since a one-liner saves one each time and nobody
 * reviews them until they are submitted; submitted ones with where they stand.
 */
export function myDeclarationsCard(mine: Declaration[], resubmissions: Map<string, Resubmission> = new Map()): Card {
  const drafts = mine.filter((d) => d.state === 'draft');
  const sent = mine.filter((d) => d.state !== 'draft');
  // Each version of a resubmitted declaration names the other, so the chain reads either way.
  const links = (d: Declaration) => {
    const next = resubmissions.get(d.id);
    const all = [d.previousId ? `修改自 SB-${d.previousId}` : '', next ? resubmittedText(next) : ''].filter(Boolean);
    return all.length ? `（${all.join('；')}）` : '';
  };
  const row = (d: Declaration) => [declarationRef(d), KINDS[d.kind], formatYuan(d.amount), d.receivedOn];
  return card(
    '我的上缴申报',
    [
      ...(drafts.length
        ? [
            text(`草稿（尚未提交）：${drafts.length} 份`),
            table(['编号', '类别', '金额（元）', '收到日期'], drafts.map((d) => [`${declarationRef(d)}${links(d)}`, ...row(d).slice(1)])),
            note('草稿不会进入审批。发送“申报 编号”（例如“申报 SB-12”）可以提交、修改或删除草稿。'),
          ]
        : []),
      ...(sent.length
        ? [text(`已提交：${sent.length} 份`), table(['编号', '类别', '金额（元）', '收到日期', '状态'], sent.map((d) => [...row(d), `${STATE_NAMES[d.state]}${links(d)}`]))]
        : [text('已提交：暂无。')]),
      note('发送“申报 编号”（例如“申报 SB-12”或“申报 HB-2026-000001”）查看详情和处理记录。'),
    ],
    'blue',
  );
}

export function declarationListCard(all: Declaration[], timeZone: string): Card {
  return card(
    '上缴申报列表（最近 50 条）',
    [
      table(
        ['编号', '申报人', '科室', '类别', '金额（元）', '状态', '提交时间'],
        all.map((d) => [declarationRef(d), d.declarantName, d.department, KINDS[d.kind], formatYuan(d.amount), STATE_NAMES[d.state], formatTime(d.submittedAt, timeZone)]),
      ),
      note('发送“申报 编号”查看详情和处理记录；发送“导出申报”获取全部申报和处理记录的 Excel 文件。'),
    ],
    'blue',
  );
}

/** Counts and sums only; the closing note depends on whether the reader may ask for details. */
export function declarationStatsCard(rows: MonthlyTotal[], opts: { discipline: boolean }): Card {
  const total = rows.reduce((a, r) => ({ n: a.n + r.registered, amount: a.amount + Number(r.registeredAmount), pending: a.pending + r.pending }), { n: 0, amount: 0, pending: 0 });
  return card(
    '上缴申报统计（按收到月份、科室）',
    [
      fields([
        ['已登记件数', total.n],
        ['已登记金额（元）', formatYuan(total.amount)],
        ['审批中件数', total.pending],
      ]),
      table(['月份', '科室', '已登记件数', '已登记金额（元）', '审批中件数'], rows.map((r) => [r.month, r.department, r.registered, formatYuan(r.registeredAmount), r.pending])),
      note(opts.discipline ? '统计不含个人信息；明细请发送“申报列表”或“导出申报”。' : '为保护申报人，统计只含件数和金额，不含姓名和申报内容。'),
    ],
    'blue',
  );
}
