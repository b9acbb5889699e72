import { actions, button, card, fields, form, note, table, text } from './builders.js';
import type { Card, FormInput } from './model.js';
import { ATTACHMENT_MAX, SUMMARY_MAX, type ReportDraft, type Submission } from '../src/domain/report.js';
import { dateLabel, localDate, shortDateLabel } from '../src/domain/study.js';
import { localTime } from '../src/domain/calendar.js';

/** The monthly report's cards: the form, its confirmation, reminders and the overdue list. */

export const REPORT_OPEN = 'report.open';
export const REPORT_SUBMIT = 'report.submit';
export const REPORT_CONFIRM = 'report.confirm';
export const REPORT_EDIT = 'report.edit';
export const REPORT_CANCEL = 'report.cancel';

export const reportMonthTitle = (key: string): string => `${Number(key.slice(0, 4))}年${Number(key.slice(5, 7))}月`;

/** What a form is filled with: the current version, or the draft being corrected with 修改. */
type Filled = Pick<ReportDraft, 'summary' | 'figures'> & { attachment?: string | null };

function formInputs(figures: string[], prev?: Filled): FormInput[] {
  return [
    { kind: 'text', name: 'summary', label: '本月工作进展', required: true, multiline: true, maxLength: SUMMARY_MAX, ...(prev ? { initial: prev.summary } : {}) },
    ...figures.map(
      (f, i): FormInput => ({ kind: 'number', name: `f${i}`, label: f, min: 0, placeholder: '整数，没有可填 0', ...(prev?.figures[f] !== undefined ? { initial: String(prev.figures[f]) } : {}) }),
    ),
    { kind: 'text', name: 'attachment', label: '统计表附件（链接或文件名，选填）', maxLength: ATTACHMENT_MAX, ...(prev?.attachment ? { initial: prev.attachment } : {}) },
  ];
}

/**
 * The figures as the form lists them (stored JSON keeps no order), then any the
 * configuration no longer names, so nothing reported is hidden.
 */
export function figureFields(values: Record<string, number>, figures: string[]): [string, string][] {
  return [
    ...figures.map((f) => [f, values[f] === undefined ? '未填' : String(values[f])] as [string, string]),
    ...Object.entries(values).filter(([k]) => !figures.includes(k)).map(([k, v]) => [k, String(v)] as [string, string]),
  ];
}

function submissionFields(s: Submission, figures: string[], timeZone: string): [string, string][] {
  return [
    ['提交时间', `${dateLabel(localDate(s.submittedAt, timeZone))}${s.late ? '（逾期）' : ''}`],
    ['版本', `第 ${s.version} 版`],
    ...figureFields(s.figures, figures),
  ];
}

export interface ReportFormInput {
  /** YYYY-MM. */
  month: string;
  department: { id: number; name: string };
  /** The deadline day, YYYY-MM-DD. */
  deadline: string;
  /** The deadline has passed. */
  late: boolean;
  /** The department's current version, if any. */
  prev?: Submission;
  /** 修改 on the confirmation: the form comes back with what was typed, not the current version. */
  draft?: Filled;
  figures: string[];
  timeZone: string;
}

/**
 * The form for one department and month: pre-filled with the current version, or read-only
 * once that version exists and the deadline has passed.
 */
export function reportFormCard(r: ReportFormInput): Card {
  const { prev, late, timeZone } = r;
  const title = `${reportMonthTitle(r.month)}专项整治进展报告 · ${r.department.name}`;
  if (prev && late) {
    return card(title, [
      text(`本科室的报告已于${dateLabel(localDate(prev.submittedAt, timeZone))}提交，截止日期已过，不能再修改。`),
      text(prev.summary),
      fields(submissionFields(prev, r.figures, timeZone)),
    ], 'green');
  }
  return card(
    title,
    [
      text(
        prev
          ? `本科室已于${dateLabel(localDate(prev.submittedAt, timeZone))}提交第 ${prev.version} 版。截止日期（${dateLabel(r.deadline)}）前可以重新提交，新版本将替换旧版本，旧版本仍会留档。`
          : `请在${dateLabel(r.deadline)}（含当天）前提交本科室本月的专项整治工作进展和数据统计。${late ? '截止日期已过，现在提交将记为逾期。' : ''}`,
      ),
      form(REPORT_SUBMIT, formInputs(r.figures, r.draft ?? prev), { submitLabel: '提交本月报告', value: { m: r.month, d: r.department.id } }),
      note(`工作进展必填，最多 ${SUMMARY_MAX} 字；各项数字没有可填 0。提交前会请您确认一次。`),
    ],
    'blue',
  );
}

/** What the form said, with the buttons that submit, correct or drop it (the draft waits under `draftId`). */
export function reportConfirmCard(draft: ReportDraft, department: string, figures: string[], draftId: string): Card {
  return card(
    `请确认：${reportMonthTitle(draft.month)}专项整治进展报告 · ${department}`,
    [
      text(draft.summary),
      fields([...figureFields(draft.figures, figures), ['统计表附件', draft.attachment ?? '无']]),
      actions(
        button('确认提交', REPORT_CONFIRM, { id: draftId }, { style: 'primary' }),
        button('修改', REPORT_EDIT, { id: draftId }),
        button('取消', REPORT_CANCEL, { id: draftId }),
      ),
      note('确认后才会提交。点“修改”回到已填好的表单，点“取消”则不提交。'),
    ],
    'blue',
  );
}

/** 取消 on the confirmation: written over it, so the card no longer offers to submit. */
export function reportCancelledCard(month: string, department: string): Card {
  return card(`已取消：${reportMonthTitle(month)}专项整治进展报告 · ${department}`, [
    text('已取消，未提交。'),
    note('如需报送，请重新发送“上报”。'),
  ], 'grey');
}

export function reportConfirmationText(department: string, month: string, s: Submission, replaced: boolean): string {
  return `${replaced ? '已更新' : '已提交'}${department}${reportMonthTitle(month)}的报告（第 ${s.version} 版${s.late ? '，逾期' : ''}）。`;
}

/** The confirmed submission, written over the confirmation card. */
export function reportSubmittedCard(department: string, month: string, submission: Submission, replaced: boolean, figures: string[], timeZone: string): Card {
  return card(`已提交：${reportMonthTitle(month)}专项整治进展报告 · ${department}`, [
    text(reportConfirmationText(department, month, submission, replaced)),
    text(submission.summary),
    fields(submissionFields(submission, figures, timeZone)),
    note(submission.late ? '截止日期后提交，已记为逾期。' : '截止日期前如需修改，可再次发送“上报”，新版本会替换旧版本。'),
  ], 'green');
}

export interface ReportViewInput {
  month: string;
  department: string;
  submission: Submission & { submitterName: string | null };
  figures: string[];
  timeZone: string;
}

/** A department's current report as leadership and the discipline office read it (上报 查看). */
export function reportViewCard(r: ReportViewInput): Card {
  const s = r.submission;
  return card(
    `${reportMonthTitle(r.month)}专项整治进展报告 · ${r.department}`,
    [
      text(s.summary),
      fields([
        ['提交人', s.submitterName ? `${s.submitterName}（${s.submittedBy}）` : s.submittedBy],
        ['提交时间', `${dateLabel(localDate(s.submittedAt, r.timeZone))} ${localTime(s.submittedAt, r.timeZone)}${s.late ? '（逾期）' : ''}`],
        ['版本', `第 ${s.version} 版`],
        ...figureFields(s.figures, r.figures),
        ['统计表附件', s.attachment ?? '无'],
      ]),
      note(s.version > 1 ? `这是截止前重新提交的第 ${s.version} 版，早先的版本留档备查。` : '这是该科室本月提交的报告。'),
    ],
    s.late ? 'orange' : 'green',
  );
}

/** To a department that has not reported; `manual`: an administrator sent it with 推送. */
export function reportReminderCard(month: string, deadline: string, today: string, daysLeft: number, department: string, manual: boolean): Card {
  // Past the deadline the report is still owed (a manual reminder then): it says overdue, never 今天截止.
  const when = daysLeft < 0 ? `已逾期 ${-daysLeft} 天` : daysLeft === 0 ? '今天截止' : `还剩 ${daysLeft} 天`;
  return card(
    `报告提醒：${reportMonthTitle(month)}专项整治进展${when}`,
    [
      text(
        `${manual ? '管理员提醒：' : ''}您好，${department}${reportMonthTitle(month)}的专项整治工作进展和数据统计${daysLeft < 0 ? `应于${dateLabel(deadline)}前报送` : `需在${dateLabel(deadline)}（含当天）前报送`}，今天是${shortDateLabel(today)}，${when}，本科室尚未提交${daysLeft < 0 ? '，请尽快补报' : ''}。`,
      ),
      actions(button('提交本月报告', REPORT_OPEN, { m: month }, { style: 'primary' })),
      note('也可以直接发送“上报”。'),
    ],
    daysLeft <= 1 ? 'red' : 'orange',
  );
}

/** The day after the deadline, to leadership and the discipline office. */
export function reportOverdueCard(
  month: string,
  o: { today: string; deadline: string; required: number; missing: { department: string; owners: string[] }[] },
): Card {
  return card(
    `${reportMonthTitle(month)}专项整治进展报告：${o.missing.length} 个科室未按期报送`,
    [
      text(`截至${dateLabel(o.today)}，应报送的 ${o.required} 个重点责任科室中，以下 ${o.missing.length} 个科室未在${dateLabel(o.deadline)}前提交本月报告：`),
      table(['科室', '报告联络员'], o.missing.map((m) => [m.department, m.owners.join('、') || '（未指定）'])),
      note('科室补交后会记为逾期。'),
    ],
    'red',
  );
}
