import { actions, button, card, fields, form, image, note, table, text } from './builders.js';
import { renderBarChart } from './chart-png.js';
import type { Card, FormInput } from './model.js';
import { dateLabel, slashDateTimeLabel } from '../src/domain/calendar.js';
import { REPEATS, type CampaignSpec } from '../src/domain/rectification/campaign-file.js';
import { problemRef, SOURCE_NAMES, STATE_NAMES, type LedgerFigures, type Problem } from '../src/domain/rectification/ledger.js';
import { smallCount } from '../src/domain/small-counts.js';

/** The cards of 自查自纠 and the 问题清单: pure functions from ledger values to the neutral card. */

export const REPORT_ACTION = 'rect.report';
export const REPORT_CLEAN_ACTION = 'rect.report.clean';
export const START_ACTION = 'rect.start';
export const APPLY_ACTION = 'rect.apply';
export const ACCEPT_ACTION = 'rect.accept';
export const REFUSE_ACTION = 'rect.refuse';
export const EVIDENCE_ACTION = 'rect.evidence';
export const FILES_ACTION = 'rect.files';

const filesButton = (p: Problem) => p.evidenceFiles.length > 0 && actions(button(`查看佐证文件（${p.evidenceFiles.length} 个）`, FILES_ACTION, { id: p.id }));

export const FOUND = 'found';
export const NOT_FOUND = 'none';

/** The form's input names for an item: its answer and its description. */
export const answerInput = (itemId: string): string => `a_${itemId}`;
export const descriptionInput = (itemId: string): string => `d_${itemId}`;

/** What each target department's head and report owner get when a round opens. */
export function campaignCard(spec: CampaignSpec, round: { round: number; dueOn: string }): Card {
  const inputs: FormInput[] = spec.items.flatMap((it): FormInput[] => [
    { kind: 'select', name: answerInput(it.id), label: `第 ${it.id} 项`, required: true, options: [{ label: '未发现问题', value: NOT_FOUND }, { label: '发现问题', value: FOUND }] },
    { kind: 'text', name: descriptionInput(it.id), label: `第 ${it.id} 项发现的问题`, placeholder: '选择“发现问题”时必填，简要说明', multiline: true, maxLength: 500 },
  ]);
  const value = { c: spec.id, r: round.round };
  return card(`自查自纠：${spec.title}${spec.rounds > 1 ? `（第 ${round.round} 轮）` : ''}`, [
    text(`请对照下列检查项开展本科室自查，于 ${dateLabel(round.dueOn)} 前逐项填报“未发现问题”或“发现问题”。自查从宽、被查从严：主动查摆的问题将列入问题清单限期整改，实行销号管理。`),
    table(['序号', '类别', '检查内容'], spec.items.map((it) => [it.id, it.area ?? '', it.text + (it.responsible ? `（责任科室：${it.responsible}）` : '')])),
    form(REPORT_ACTION, inputs, { submitLabel: '提交自查结果', value }),
    actions(button('全部未发现问题', REPORT_CLEAN_ACTION, value, { confirm: '确认本科室对照全部检查项均未发现问题？提交后不能修改。' })),
    note(`${spec.source ? `依据：${spec.source}。` : ''}每个科室提交一次，由科室负责人或报告联络员填报。`),
  ], 'blue');
}

export function reportSubmittedCard(spec: CampaignSpec, problems: Problem[]): Card {
  if (problems.length === 0) return card(`自查结果已提交：${spec.title}`, [text('本科室对照全部检查项未发现问题，结果已记录。感谢配合。')], 'green');
  return card(`自查结果已提交：${spec.title}`, [
    text(`本科室查摆出 ${problems.length} 个问题，已列入问题清单，由您负责整改。请尽快填写整改措施，整改完成后申请销号。`),
    table(['编号', '问题', '整改期限'], problems.map((p) => [problemRef(p.id), p.description, dateLabel(p.deadline)])),
    note('发送“问题 WT-编号”查看并处理某一条问题；发送“问题清单”查看本科室全部问题。'),
  ], 'orange');
}

function problemFields(p: Problem, timeZone: string): [string, string][] {
  return [
    ['编号', problemRef(p.id)],
    ['科室', p.department ?? '院级（多科室合并）'],
    ['来源', SOURCE_NAMES[p.source]],
    ['状态', STATE_NAMES[p.state]],
    ['问题', p.description],
    ['责任人', p.ownerName],
    ['整改期限', dateLabel(p.deadline)],
    ...(p.measure ? [['整改措施', p.measure] as [string, string]] : []),
    ...(p.evidence ? [['整改结果与佐证', p.evidence + (p.evidenceFiles.length ? `（附件 ${p.evidenceFiles.length} 个）` : '')] as [string, string]] : []),
    ...(p.lastReason && p.state !== 'closed' ? [['上次退回理由', p.lastReason] as [string, string]] : []),
    ...(p.closedAt ? [['销号时间', slashDateTimeLabel(p.closedAt, timeZone)] as [string, string]] : []),
  ];
}

/** One row, with what the viewer may do with it now. */
export function problemCard(p: Problem, may: { rectify: boolean; confirm: boolean }, timeZone: string): Card {
  const value = { id: p.id, v: p.version };
  const color = p.state === 'closed' ? 'green' : p.state === 'applied' ? 'orange' : 'blue';
  return card(`问题 ${problemRef(p.id)} · ${STATE_NAMES[p.state]}`, [
    fields(problemFields(p, timeZone)),
    may.rectify && p.state === 'pending' && form(START_ACTION, [
      { kind: 'text', name: 'measure', label: '整改措施', required: true, multiline: true, maxLength: 500 },
      { kind: 'date', name: 'deadline', label: '整改期限（不填则保持原期限）' },
    ], { submitLabel: '开始整改', value }),
    may.rectify && p.state === 'in_progress' && form(APPLY_ACTION, [
      { kind: 'text', name: 'evidence', label: '整改结果与佐证材料说明', required: true, multiline: true, maxLength: 1000 },
    ], { submitLabel: '申请销号', value }),
    may.rectify && p.state === 'in_progress' && actions(button('添加佐证照片或文件', EVIDENCE_ACTION, value)),
    filesButton(p),
    ...(may.confirm && p.state === 'applied' ? decisionElements(p) : []),
    p.state === 'merged' && p.mergedInto !== null && note(`已合并到院级问题 ${problemRef(p.mergedInto)}，按该问题的进度整改和销号。`),
  ], color);
}

function decisionElements(p: Problem) {
  const value = { id: p.id, v: p.version };
  return [
    actions(button('确认销号', ACCEPT_ACTION, value, { style: 'primary', confirm: `确认问题 ${problemRef(p.id)} 已整改到位、予以销号？` })),
    form(REFUSE_ACTION, [{ kind: 'text', name: 'reason', label: '退回理由', required: true, multiline: true, maxLength: 500 }], { submitLabel: '退回整改', value }),
  ];
}

/** The approval card the discipline office (or the functional department) gets on an application. */
export function confirmCard(p: Problem, timeZone: string): Card {
  return card(`销号申请：${problemRef(p.id)}（${p.department ?? '院级'}）`, [fields(problemFields(p, timeZone)), filesButton(p), ...decisionElements(p), note('退回整改须填写理由；责任人本人不能确认销号。')], 'orange');
}

export function decidedCard(p: Problem, decision: 'accept' | 'refuse', actorName: string, timeZone: string): Card {
  return card(`销号申请：${problemRef(p.id)} · ${decision === 'accept' ? '已销号' : '已退回整改'}`, [
    fields(problemFields(p, timeZone)),
    note(`由${actorName}${decision === 'accept' ? '确认销号' : `退回整改，理由：${p.lastReason ?? ''}`}。`),
  ], decision === 'accept' ? 'green' : 'grey');
}

export function ownerNotice(p: Problem, decision: 'accept' | 'refuse', actorName: string): string {
  return decision === 'accept'
    ? `问题 ${problemRef(p.id)}“${p.description}”已由${actorName}确认销号。感谢您的整改。`
    : `问题 ${problemRef(p.id)}“${p.description}”的销号申请被${actorName}退回整改，理由：${p.lastReason ?? ''}。请继续整改后再次申请销号（发送“问题 ${problemRef(p.id)}”）。`;
}

export function assignedText(p: Problem): string {
  return `纪检监察室将一条问题列入问题清单，由您负责整改：${problemRef(p.id)}“${p.description}”，整改期限 ${dateLabel(p.deadline)}。发送“问题 ${problemRef(p.id)}”填写整改措施。`;
}

export function overdueReminderText(p: Problem, daysOver: number): string {
  return `提醒：问题 ${problemRef(p.id)}“${p.description}”的整改期限 ${dateLabel(p.deadline)} 已过 ${daysOver} 天，目前${STATE_NAMES[p.state]}。请尽快整改并申请销号（发送“问题 ${problemRef(p.id)}”）；如需延期，请与纪检监察室联系。`;
}

export function escalationText(p: Problem, daysOver: number): string {
  return `督办：${p.department ?? '院级'}的问题 ${problemRef(p.id)} 已逾期 ${daysOver} 天仍未整改销号（责任人${p.ownerName}，期限 ${dateLabel(p.deadline)}，${STATE_NAMES[p.state]}）。已提醒责任人；必要时请约谈提醒。`;
}

export function problemListCard(title: string, rows: Problem[], today: string): Card {
  if (rows.length === 0) return card(title, [text('暂无问题。')], 'green');
  const shown = rows.slice(0, 50);
  return card(title, [
    table(['编号', '科室', '问题', '状态', '期限'], shown.map((p) => [problemRef(p.id), p.department ?? '院级', p.description.length > 40 ? `${p.description.slice(0, 40)}…` : p.description, STATE_NAMES[p.state], `${dateLabel(p.deadline)}${(p.state === 'pending' || p.state === 'in_progress') && p.deadline < today ? '（逾期）' : ''}`])),
    note(`${rows.length > shown.length ? `共 ${rows.length} 条，仅显示前 ${shown.length} 条；完整清单请发送“导出 问题清单”。` : ''}发送“问题 WT-编号”查看详情并处理。`),
  ]);
}

export function campaignListCard(rows: { spec: CampaignSpec; rounds: { round: number; startsOn: string; dueOn: string; opened: boolean; reported: number; targets: number }[] }[]): Card {
  if (rows.length === 0) return card('自查自纠活动', [text('还没有导入任何自查自纠活动。管理员可用“npm run cli -- rectification import 活动.yaml”导入。')]);
  return card('自查自纠活动', [
    table(['编号', '标题', '轮次', '开始', '截止', '已填报'], rows.flatMap(({ spec, rounds }) => rounds.map((r) => [spec.id, spec.title, `${r.round}/${spec.rounds}（${REPEATS[spec.repeat]}）`, dateLabel(r.startsOn), dateLabel(r.dueOn), r.opened ? `${r.reported}/${r.targets} 个科室` : '未开始']))),
    note('到开始日期自动推送给各目标科室；发送“开展自查 编号”可立即开始当前一轮。'),
  ]);
}

export interface LedgerLine extends LedgerFigures {
  department: string;
}

const ledgerCells = (f: LedgerFigures, show: (n: number) => string): string[] => [show(f.found), show(f.closed), show(f.found - f.closed), show(f.overdue), show(f.selfFound), show(f.inspected)];

/** The share closed per department, `rows` in display order: the card and the exported workbook show these same bytes. */
export function ledgerChart(rows: LedgerLine[]): Buffer | undefined {
  if (rows.length === 0) return undefined;
  return renderBarChart({ labels: rows.map((r) => r.department), values: rows.map((r) => (100 * r.closed) / r.found), target: 100 });
}

/** `进度 问题清单`: found / closed / open / overdue by department, self-found against inspected. */
export function ledgerProgressCard(title: string, rows: LedgerLine[], opts: { leaderView: boolean; chart?: Buffer }): Card {
  if (rows.length === 0) return card(title, [text('问题清单中还没有问题。')]);
  const show = opts.leaderView ? smallCount : String;
  const total = rows.reduce<LedgerFigures>((a, r) => ({ found: a.found + r.found, closed: a.closed + r.closed, applied: a.applied + r.applied, overdue: a.overdue + r.overdue, selfFound: a.selfFound + r.selfFound, inspected: a.inspected + r.inspected }), { found: 0, closed: 0, applied: 0, overdue: 0, selfFound: 0, inspected: 0 });
  return card(title, [
    fields([['发现问题', show(total.found)], ['已销号', show(total.closed)], ['待销号', show(total.found - total.closed)], ['逾期未整改', show(total.overdue)], ['自查发现 / 检查发现', `${show(total.selfFound)} / ${show(total.inspected)}`]]),
    opts.chart !== undefined && image('ledger.png', opts.chart, '各科室销号率柱状图'),
    table(['序号', '科室', '发现', '已销号', '未销号', '逾期', '自查发现', '检查发现'], rows.map((r, i) => [i + 1, r.department, ...ledgerCells(r, show)])),
    note(`${opts.leaderView ? '1–2 的数目显示为“<3”。' : ''}合并为院级问题的，按院级问题的进度计入原科室。导出表格：导出 问题清单。`),
  ]);
}

/** The overview's line for the ledger. */
export function ledgerOverviewLine(rows: LedgerFigures[], leaderView: boolean): [string, string] {
  const show = leaderView ? smallCount : String;
  const found = rows.reduce((a, r) => a + r.found, 0);
  const closed = rows.reduce((a, r) => a + r.closed, 0);
  const overdue = rows.reduce((a, r) => a + r.overdue, 0);
  return ['问题清单', `发现 ${show(found)}，已销号 ${show(closed)}，逾期 ${show(overdue)}`];
}
