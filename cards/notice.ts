import { actions, button, card, fields, image, note, table, text } from './builders.js';
import type { Card } from './model.js';
import { truncate } from './markdown.js';
import { shortDateTimeLabel, slashMonthDayTimeLabel } from '../src/domain/calendar.js';
import { describeAudience } from '../src/domain/notice/audience.js';
import { noticeNumber, shownCount, shownRate } from '../src/domain/notice/notice.js';
import { ruleLabel } from '../src/domain/quiz/rules.js';
import { OPTION_LETTERS, type QuestionVersion } from '../src/domain/quiz/question.js';
import type { DepartmentReads, Notice, NoticeRate, Receipt } from '../src/store/notices.js';

/** The cards of 通报: the push, the author's preview, a person's list, the read figures. */

export const NOTICE_READ_ACTION = 'notice.read';
export const NOTICE_FILE_ACTION = 'notice.file';
export const NOTICE_QUESTIONS_ACTION = 'notice.questions';
export const NOTICE_PUBLISH_ACTION = 'notice.publish';
export const NOTICE_DISCARD_ACTION = 'notice.discard';

const kindTitle = (n: Pick<Notice, 'kind'>): string => (n.kind === 'warning' ? '警示教育通报' : '通报');

export interface NoticeView {
  notice: Notice;
  timeZone: string;
  /** The reader's own receipt; absent: not read yet. */
  readAt?: Date | null;
  fileName?: string;
  /** False: shown to the discipline office outside its audience, with no receipt to give. */
  recipient?: boolean;
}

/** The 通报 as each recipient gets it; after 已阅 the same card without the button. */
export function noticeCard({ notice: n, timeZone, readAt, fileName, recipient = true }: NoticeView): Card {
  const id = n.id;
  const buttons = [
    ...(readAt || !recipient ? [] : [button('已阅', NOTICE_READ_ACTION, { n: id }, { style: 'primary' })]),
    ...(n.fileId ? [button('查看附件', NOTICE_FILE_ACTION, { n: id })] : []),
    ...(n.kind === 'warning' ? [button('相关题目与解析', NOTICE_QUESTIONS_ACTION, { n: id })] : []),
  ];
  return card(
    `${kindTitle(n)}：${n.title}`,
    [
      fields([
        ['编号', noticeNumber(id)],
        ['发布时间', n.publishedAt ? shortDateTimeLabel(n.publishedAt, timeZone) : '尚未发布'],
        ...(n.kind === 'warning' && n.rule ? [['涉及', ruleLabel(n.rule, '')] as [string, string]] : []),
        ...(fileName ? [['附件', fileName] as [string, string]] : []),
        ['我的状态', !recipient ? '不在通报范围内' : readAt ? `已阅（${shortDateTimeLabel(readAt, timeZone)}）` : '未阅'],
      ]),
      text(n.body),
      buttons.length ? actions(...buttons) : null,
      recipient ? note(readAt ? '感谢您的阅读。' : `阅读后请点击“已阅”，或回复“已阅 ${id}”。发送“通报”可查看全部通报。`) : null,
    ],
    readAt ? 'green' : n.kind === 'warning' ? 'red' : 'blue',
  );
}

export interface PreviewFigures {
  total: number;
  /** [label, count] by platform and unreachable, as `预览` shows them (handlers/push.ts). */
  reach: [string, string | number][];
}

/** What the author checks before anything is sent. */
export function noticePreviewCard(n: Notice, figures: PreviewFigures, fileName?: string): Card {
  return card(
    `通报预览（尚未发布）：${n.title}`,
    [
      fields([
        ['类型', n.kind === 'warning' && n.rule ? `典型案例警示教育 · ${ruleLabel(n.rule, '')}` : '普通通报'],
        ['通报范围', describeAudience(n.audience)],
        ['将发送给', `${figures.total} 人`],
        ...figures.reach,
        ['附件', fileName ?? '无'],
      ]),
      text(truncate(n.body, 600)),
      figures.total > 0
        ? actions(
            button('确认发布', NOTICE_PUBLISH_ACTION, { n: n.id }, { style: 'primary', confirm: `确认向 ${figures.total} 人发布这份通报？发布后不能撤回。` }),
            button('放弃', NOTICE_DISCARD_ACTION, { n: n.id }, { style: 'danger' }),
          )
        : actions(button('放弃', NOTICE_DISCARD_ACTION, { n: n.id }, { style: 'danger' })),
      note(figures.total > 0 ? '确认后每人只会收到一次；未阅读的人员会在设定时间后收到一次提醒。' : '这个范围内目前没有在册人员，不能发布。请放弃后重新发送“发布通报”。'),
    ],
    'orange',
  );
}

export function noticePublishedCard(n: Notice, r: { recipients: number; unreachable: number }, remindAfterHours: number): Card {
  return card(
    `通报已发布：${n.title}`,
    [
      fields([
        ['编号', noticeNumber(n.id)],
        ['发送人数', r.recipients],
        ['无法送达（未绑定可用账号）', r.unreachable],
        ['未阅提醒', `发布 ${remindAfterHours} 小时后提醒一次`],
      ]),
      note(`发送“进度 通报 ${n.id}”查看阅读情况，“导出 通报 ${n.id}”导出表格。`),
    ],
    'green',
  );
}

/** The reminder: the same words for everyone, so DingTalk can send it 20 at a time. */
export function noticeReminderText(n: Pick<Notice, 'id' | 'title' | 'kind'>): string {
  return `【${kindTitle(n)}提醒】您还没有确认阅读《${n.title}》（编号 ${noticeNumber(n.id)}）。请发送“通报 ${n.id}”查看全文，阅读后回复“已阅 ${n.id}”。`;
}

/** `通报`: a person's notices, most recent first, with their own read state. */
export function noticeListCard(items: { notice: Notice; readAt: Date | null }[], timeZone: string): Card {
  const unread = items.filter((x) => !x.readAt).length;
  return card(
    '我收到的通报',
    [
      fields([['最近通报', items.length], ['未阅', unread]]),
      table(
        ['编号', '标题', '发布时间', '状态'],
        items.map((x) => [x.notice.id, `${x.notice.kind === 'warning' ? '【警示】' : ''}${truncate(x.notice.title, 30)}`, x.notice.publishedAt ? slashMonthDayTimeLabel(x.notice.publishedAt, timeZone) : '', x.readAt ? '已阅' : '未阅']),
      ),
      note(`发送“通报 编号”查看全文${unread ? '，阅读后回复“已阅 编号”' : ''}。`),
    ],
    unread ? 'orange' : 'blue',
  );
}

/** A warning notice's rule and the bank's questions on it, with answers and explanations to learn from. */
export function ruleQuestionsCard(rule: number, questions: QuestionVersion[], shownMax = 10): Card {
  const shown = questions.slice(0, shownMax);
  return card(
    `${ruleLabel(rule, '')} · 相关题目与解析`,
    [
      questions.length === 0 ? text('题库中暂时没有这一条的题目。') : null,
      ...shown.map((q, i) =>
        text(
          [
            `${i + 1}. ${q.stem}`,
            ...(q.type === 'judge' ? [] : q.options.map((o, j) => `  ${OPTION_LETTERS[j]}. ${o}`)),
            `答案：${q.type === 'judge' ? q.options[q.answer[0]] : q.answer.map((a) => OPTION_LETTERS[a]).join('')}`,
            `解析：${q.explanation}`,
          ].join('\n'),
        ),
      ),
      questions.length > shown.length ? note(`另有 ${questions.length - shown.length} 道题未列出。`) : null,
      note('发送“考试”可做一次测验，巩固学习效果。'),
    ],
    'purple',
  );
}

// ---- figures --------------------------------------------------------------------------

/**
 * `进度 通报`: each notice's read rate. `full` (the discipline office) shows every count;
 * others see counts of one or two as "<3".
 */
export function noticeRatesCard(title: string, rows: NoticeRate[], full: boolean, chart?: Buffer): Card {
  const total = rows.reduce((a, r) => a + r.total, 0);
  const read = rows.reduce((a, r) => a + r.read, 0);
  return card(title, [
    fields([['通报份数', rows.length], ['应阅人次', shownCount(total, full)], ['已阅人次', shownCount(read, full)], ['阅读率', shownRate(read, total, full)]]),
    chart !== undefined && image('notices.png', chart, '各通报阅读率柱状图'),
    table(['序号', '编号', '标题', '应阅', '已阅', '阅读率'], rows.map((r, i) => [i + 1, r.id, truncate(r.title, 24), shownCount(r.total, full), shownCount(r.read, full), shownRate(r.read, r.total, full)])),
    note('查看某份通报各科室的阅读情况：进度 通报 编号；导出表格：导出 通报 [编号]。'),
  ]);
}

/** One notice by department; the discipline office also gets who has not read. */
export function noticeDepartmentsCard(n: Notice, rows: DepartmentReads[], full: boolean, unread?: Receipt[]): Card {
  const total = rows.reduce((a, r) => a + r.total, 0);
  const read = rows.reduce((a, r) => a + r.read, 0);
  const sorted = [...rows].sort((a, b) => a.read / a.total - b.read / b.total || a.departmentId - b.departmentId);
  return card(`通报阅读情况 · ${noticeNumber(n.id)} ${truncate(n.title, 24)}`, [
    fields([['应阅', shownCount(total, full)], ['已阅', shownCount(read, full)], ['未阅', shownCount(total - read, full)], ['阅读率', shownRate(read, total, full)]]),
    table(['科室', '应阅', '已阅', '未阅', '阅读率'], sorted.map((r) => [r.department, shownCount(r.total, full), shownCount(r.read, full), shownCount(r.total - r.read, full), shownRate(r.read, r.total, full)])),
    unread && unread.length > 0 ? table(['未阅人员', '姓名', '科室'], unread.slice(0, 50).map((x) => [x.staffId, x.name, x.department])) : null,
    unread && unread.length > 50 ? note(`另有 ${unread.length - 50} 人未列出，请用“导出 通报 ${n.id}”查看全部。`) : null,
    note(full ? '个人阅读记录仅纪检监察室可见，请勿转发。' : '只含人数和比例；1–2 人的数字显示为“<3”。'),
  ]);
}
