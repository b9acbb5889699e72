import { actions, button, card, fields, form, note, table, text } from './builders.js';
import type { Card, CardElement, FormInput } from './model.js';
import { dateTimeLabel } from '../src/domain/calendar.js';
import { smallCount, smallShare } from '../src/domain/small-counts.js';
import {
  caseNo,
  DISPOSITION_LABELS,
  DISPOSITIONS,
  LIMITS,
  MOVES,
  movesFrom,
  REGISTERED_SOURCES,
  SOURCE_LABELS,
  STATE_LABELS,
  STATES,
  type Move,
  type MonthStateCount,
  type Tipoff,
  type TipoffState,
  type TrailEntry,
} from '../src/domain/tipoff/record.js';
import { IDENTITY_CHOICES, PLEDGE_TEXT, PLEDGE_VALUE, type TipoffInput } from '../src/domain/tipoff/validation.js';

/**
 * The cards of 线索反映: the reporter's form, review and receipt; the 查询码 answer; the
 * discipline office's ledger; leadership's counts. Pure functions of domain values. Nothing a
 * reporter typed goes into markdown, and nothing here can name an identity-protected reporter:
 * the reporter is passed in only as the label the caller was allowed to open.
 */

export const TIPOFF_FORM = 'tipoff.form';
export const TIPOFF_CONFIRM = 'tipoff.confirm';
export const TIPOFF_ATTACH = 'tipoff.attach';
export const TIPOFF_DISCARD = 'tipoff.discard';
export const TIPOFF_STEP = 'tipoff.step';
export const TIPOFF_MOVE = 'tipoff.move';
export const TIPOFF_FILES = 'tipoff.files';
export const TIPOFF_REGISTER = 'tipoff.register';

export const PROTECTION_NOTE = '举报人信息严格保密；对泄露举报人信息或打击报复举报人的，一经查实，依法依规从严惩处。';
export const PROTECTED_LABEL = '身份保密';

const fiveInputs = (init: Partial<TipoffInput> = {}): FormInput[] => {
  const i = (v?: string) => (v ? { initial: v } : {});
  return [
    { kind: 'text', name: 'occurred', label: '时间', required: true, maxLength: LIMITS.occurred, placeholder: '例如 2026年11月中旬、每周三上午', ...i(init.occurred) },
    { kind: 'text', name: 'place', label: '地点', required: true, maxLength: LIMITS.place, placeholder: '例如 门诊三楼诊室', ...i(init.place) },
    { kind: 'text', name: 'department', label: '科室', required: true, maxLength: LIMITS.department, ...i(init.department) },
    { kind: 'text', name: 'persons', label: '人员', required: true, maxLength: LIMITS.persons, placeholder: '被反映人的姓名或特征', ...i(init.persons) },
    { kind: 'text', name: 'matter', label: '具体事项', required: true, multiline: true, maxLength: LIMITS.matter, placeholder: '经过、涉及的金额或物品、知情人等', ...i(init.matter) },
  ];
};

export function tipoffForm(): Card {
  return card('线索反映', [
    text('请如实填写时间、地点、科室、人员和具体事项。证据照片或文件可在下一步添加。'),
    note(PROTECTION_NOTE),
    form(
      TIPOFF_FORM,
      [
        ...fiveInputs(),
        { kind: 'select', name: 'identity', label: '身份', required: true, options: [{ value: 'real', label: IDENTITY_CHOICES.real }, { value: 'protected', label: IDENTITY_CHOICES.protected }] },
        { kind: 'select', name: 'pledge', label: '承诺', required: true, options: [{ value: PLEDGE_VALUE, label: PLEDGE_TEXT }] },
      ],
      { submitLabel: '下一步：核对' },
    ),
  ], 'blue');
}

function contentFields(t: Pick<Tipoff, 'occurred' | 'place' | 'department' | 'persons'>): CardElement {
  return fields([
    ['时间', t.occurred],
    ['地点', t.place],
    ['科室', t.department],
    ['人员', t.persons],
  ]);
}

/** The review before filing: everything as it will be filed, with 确认提交 and a way out. */
export function reviewCard(draftId: string, input: TipoffInput, files: { name: string }[]): Card {
  return card('线索反映 · 请核对', [
    contentFields(input),
    text(`具体事项：${input.matter}`),
    fields([['身份', input.realName ? '实名' : PROTECTED_LABEL], ['证据文件', files.length ? files.map((f) => f.name).join('、') : '无']]),
    note(input.realName ? '实名：纪检监察室可看到您的姓名，处理意见将私聊回复您。' : '身份保密：处理人看不到您是谁；提交后您会得到一个查询码，凭它查看进展和回复。'),
    note(`您已承诺：${PLEDGE_TEXT}。`),
    actions(
      button('确认提交', TIPOFF_CONFIRM, { d: draftId }, { style: 'primary' }),
      button('添加证据文件', TIPOFF_ATTACH, { d: draftId }),
      button('放弃', TIPOFF_DISCARD, { d: draftId }, { style: 'danger' }),
    ),
  ], 'blue');
}

export function receiptCard(t: Tipoff, queryCode?: string): Card {
  return card('线索反映已提交', [
    fields([['编号', caseNo(t.id)], ['身份', t.realName ? '实名' : PROTECTED_LABEL]]),
    queryCode
      ? text(`您的查询码：${queryCode}\n请抄下并妥善保存，系统不会再次显示。发送“举报 查询 ${queryCode}”可查看办理进展和回复。`)
      : text('纪检监察室将按规定受理、核实，处理意见会私聊回复您。'),
    note(PROTECTION_NOTE),
  ], 'green');
}

/** What a 查询码 shows: where the case is and the reply, nothing about anyone. */
export function queryAnswerCard(t: Tipoff, shownState: TipoffState, reply: string | null): Card {
  return card(`线索 ${caseNo(t.id)} 办理进展`, [
    fields([['状态', STATE_LABELS[shownState]]]),
    reply ? text(`处理意见：${reply}`) : note('尚未回复。回复后可凭查询码在此查看。'),
  ]);
}

const ACTION_NAMES: Record<string, string> = {
  'tipoff.file': '提交',
  'tipoff.register': '登记',
  'tipoff.assign': '分派承办人',
  'tipoff.link': '关联',
  'tipoff.merge': '合并',
  'tipoff.merged_in': '合并重复线索',
  'tipoff.remind': '超期提醒',
  'tipoff.escalate': '超期督办',
  ...Object.fromEntries(Object.entries(MOVES).map(([m, s]) => [`tipoff.${m}`, s.label])),
};

export interface DetailView {
  /** The reporter as the viewer may see them: a name for 实名 to 纪检, else 身份保密 or the source. */
  reporter: string;
  links: string[];
  today: string;
}

export const isOverdue = (t: Tipoff, today: string): boolean =>
  t.state !== 'closed' && t.state !== 'merged' && ((t.dueOn !== null && t.dueOn < today) || (t.realName && t.source === 'bot' && !t.repliedAt && t.feedbackDueOn !== null && t.feedbackDueOn < today));

export function caseDetailCard(t: Tipoff, trail: TrailEntry[], view: DetailView, timeZone: string): Card {
  const pairs: [string, string][] = [
    ['编号', caseNo(t.id)],
    ['来源', SOURCE_LABELS[t.source] + (t.sourceDetail ? `（${t.sourceDetail}）` : '')],
    ['举报人', view.reporter],
    ['状态', STATE_LABELS[t.state] + (t.mergedInto ? ` → ${caseNo(t.mergedInto)}` : '')],
    ['承办人', t.handlerName ?? '未分派'],
  ];
  if (t.dueOn) pairs.push(['本环节期限', `${t.dueOn}${isOverdue(t, view.today) ? '（已超期）' : ''}`]);
  if (t.feedbackDueOn && !t.repliedAt) pairs.push(['实名反馈期限', t.feedbackDueOn]);
  if (t.disposition) pairs.push(['处置', DISPOSITION_LABELS[t.disposition]]);
  const moves = movesFrom(t.state);
  const kept = t.attachments.filter((a) => a.fileId).length;
  return card(`线索 ${caseNo(t.id)}`, [
    fields(pairs),
    contentFields(t),
    text(`具体事项：${t.matter}`),
    t.reply ? text(`回复：${t.reply}`) : null,
    view.links.length ? text(`关联：${view.links.join('、')}`) : null,
    trail.length ? table(['时间', '操作', '操作人', '说明'], trail.map((e) => [dateTimeLabel(e.at, timeZone), ACTION_NAMES[e.action] ?? e.action, e.actorName, e.reason ?? ''])) : null,
    moves.length || kept
      ? actions(...moves.map((m) => button(MOVES[m].label, TIPOFF_STEP, { id: t.id, v: t.version, m })), ...(kept ? [button(`查看证据（${kept}）`, TIPOFF_FILES, { id: t.id })] : []))
      : null,
    note('文字命令：线索 编号 受理|转核实|转处置|处置决定 处理/移交/了结|回复|办结 说明；分派 工号；合并 XS-编号；关联 SB-编号或工号。'),
  ]);
}

/** The note (and for 处置决定 the disposition) a move requires, as a form. */
export function moveForm(t: Tipoff, move: Move): Card {
  const inputs: FormInput[] = [];
  if (move === 'decide') inputs.push({ kind: 'select', name: 'disposition', label: '处置方式', required: true, options: DISPOSITIONS.map((d) => ({ value: d, label: DISPOSITION_LABELS[d] })) });
  inputs.push({ kind: 'text', name: 'note', label: move === 'reply' ? '回复内容' : '说明', required: true, multiline: true, maxLength: move === 'reply' ? LIMITS.reply : LIMITS.note });
  return card(`线索 ${caseNo(t.id)} · ${MOVES[move].label}`, [
    fields([['当前状态', STATE_LABELS[t.state]], ['操作后', STATE_LABELS[MOVES[move].to]]]),
    move === 'reply' && t.realName && t.source === 'bot' ? note('实名举报：回复将私聊发送给举报人。') : null,
    move === 'reply' && !t.realName && t.source === 'bot' ? note('身份保密：举报人凭查询码查看这条回复。') : null,
    form(TIPOFF_MOVE, inputs, { submitLabel: MOVES[move].label, value: { id: t.id, v: t.version, m: move } }),
  ]);
}

export function caseListCard(list: Tipoff[], today: string, filterLabel: string): Card {
  return card(`线索列表${filterLabel ? ` · ${filterLabel}` : ''}（${list.length} 条）`, [
    table(
      ['编号', '来源', '状态', '承办人', '期限', '超期'],
      list.map((t) => [caseNo(t.id), SOURCE_LABELS[t.source], STATE_LABELS[t.state], t.handlerName ?? '未分派', t.dueOn ?? '—', isOverdue(t, today) ? '是' : '']),
    ),
    note('发送“线索 编号”查看详情和处理记录。筛选：线索列表 [状态] [超期] [来源]。'),
  ]);
}

export function registerForm(): Card {
  return card('登记线索（其他来源）', [
    text('登记上级转办、电话、信件、邮箱、来访收到的线索。'),
    form(
      TIPOFF_REGISTER,
      [
        { kind: 'select', name: 'source', label: '来源', required: true, options: REGISTERED_SOURCES.map((s) => ({ value: s, label: SOURCE_LABELS[s] })) },
        { kind: 'text', name: 'sourceDetail', label: '来源说明', required: true, maxLength: LIMITS.sourceDetail, placeholder: '如转办单位和文号、来电时间' },
        ...fiveInputs(),
      ],
      { submitLabel: '登记' },
    ),
  ]);
}

/** Leadership: counts by month and state, each below 3 shown as "<3". No department, no names. */
export function tipoffStatsCard(rows: MonthStateCount[]): Card {
  const months = [...new Set(rows.map((r) => r.month))];
  const count = (m: string, s: TipoffState) => rows.find((r) => r.month === m && r.state === s)?.count ?? 0;
  return card('线索反映统计', [
    table(['月份', ...STATES.map((s) => STATE_LABELS[s]), '合计'], months.map((m) => [m, ...STATES.map((s) => smallCount(count(m, s))), smallCount(STATES.reduce((n, s) => n + count(m, s), 0))])),
    note('按收到月份和办理状态统计，不含科室、人员和内容；少于 3 件显示为“<3”。'),
  ]);
}

/** The 线索 line of 进度 for leadership. */
export function tipoffProgressLine(f: { received: number; inTime: number; realName: number; realNameReplied: number }): string {
  return `线索反映（本月）：收到 ${smallCount(f.received)} 件，按期办理 ${smallShare(f.inTime, f.received)}，实名反馈率 ${smallShare(f.realNameReplied, f.realName)}。`;
}

/** Reminders and escalations: the case number and the step, never its content. */
const AWAITING: Record<TipoffState, string> = {
  received: '待受理',
  preliminary: '待初核',
  verifying: '待核实',
  disposing: '待处置',
  replying: '待回复',
  replied: '待办结',
  closed: '已办结',
  merged: '已合并',
};
export const reminderText = (t: Tipoff): string => `线索 ${caseNo(t.id)} ${AWAITING[t.state]}，已过办理期限（${t.dueOn}），请及时处理。发送“线索 ${caseNo(t.id)}”查看。`;
export const escalationText = (t: Tipoff): string => `督办：线索 ${caseNo(t.id)} ${AWAITING[t.state]}，超过办理期限（${t.dueOn}）仍未办理。发送“线索 ${caseNo(t.id)}”查看。`;
export const replyMessage = (t: Tipoff, reply: string): string => `您反映的线索 ${caseNo(t.id)} 有了处理意见：\n${reply}\n如有疑问，可联系纪检监察室。感谢您的监督。`;
