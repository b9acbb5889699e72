import { actions, button, card, divider, fields, link, markdown, note, table, text } from './builders.js';
import { escapeMarkdown } from './markdown.js';
import type { Card } from './model.js';
import { ROLE_NAMES } from '../src/domain/roles.js';
import { dateLabel, localDate, monthTitle, shortDateLabel } from '../src/domain/calendar.js';
import { isLateCompletion, type StudyPlan } from '../src/domain/study.js';
import type { Staff } from '../src/store/staff.js';

/** The monthly study task's cards and the texts that answer a confirmation. */

export const STUDY_DONE_ACTION = 'study.done';

/** Who the month's task is for, as a person reads it. */
export function describeAudience(plan: StudyPlan): string {
  const parts: string[] = [];
  if (plan.audience.departments?.length) parts.push(plan.audience.departments.join('、'));
  if (plan.audience.roles?.length) parts.push(plan.audience.roles.map((r) => ROLE_NAMES[r]).join('、'));
  return parts.length ? parts.join('；') : '全院职工';
}

function materialElements(plan: StudyPlan) {
  return [
    plan.summary ? text(plan.summary) : null,
    plan.keyPoints.length ? markdown(plan.keyPoints.map((p) => `- ${escapeMarkdown(p)}`).join('\n')) : null,
    plan.material?.text ? text(plan.material.text) : null,
    plan.source ? note(`出处：${plan.source}`) : null,
  ];
}

/** The task with the person's status; `pushedOn` when it goes out as the month's push. */
/**
 * The month's task as its owner sees it. With `today` past the due day it says so: a task
 * pushed late or looked up later is still open, and a completion then is recorded as late.
 */
export function studyTaskCard(plan: StudyPlan, opts: { doneAt?: Date; timeZone: string; pushedOn?: string; today?: string }): Card {
  const doneOn = opts.doneAt ? localDate(opts.doneAt, opts.timeZone) : undefined;
  const overdue = !doneOn && opts.today !== undefined && opts.today > plan.dueOn;
  const buttons = [
    ...(opts.doneAt ? [] : [button('我已学习', STUDY_DONE_ACTION, { m: plan.month }, { style: 'primary' })]),
    ...(plan.material?.url ? [link('打开学习材料', plan.material.url)] : []),
  ];
  return card(
    `${monthTitle(plan.month)}廉洁专题学习：${plan.topic}`,
    [
      fields([
        ['学习主题', plan.topic],
        ['完成期限', `${dateLabel(plan.dueOn)}前`],
        ['我的状态', doneOn ? `已完成（${dateLabel(doneOn)}${doneOn > plan.dueOn ? '，逾期完成' : ''}）` : overdue ? `未完成（已逾期，完成期限为${dateLabel(plan.dueOn)}）` : '未完成'],
      ]),
      ...materialElements(plan),
      buttons.length ? actions(...buttons) : null,
      note(
        doneOn
          ? `感谢您完成${monthTitle(plan.month)}的学习。`
          : overdue
            ? `这项学习已过完成期限，仍请补学；确认后记为逾期完成。学习完成后请点击“我已学习”（或回复“学习 ${plan.month} 完成”）。`
            : '学习完成后请点击“我已学习”（或回复“学习 完成”），每人每月只需确认一次。',
      ),
      opts.pushedOn ? note(`本通知发送于${dateLabel(opts.pushedOn)}。`) : null,
    ],
    doneOn ? 'green' : overdue ? 'orange' : 'blue',
  );
}

export function studyReminderCard(plan: StudyPlan, daysLeft: number, today: string): Card {
  return card(
    `学习提醒：${monthTitle(plan.month)}专题学习还剩 ${daysLeft} 天`,
    [
      text(`您好，${monthTitle(plan.month)}的廉洁专题学习“${plan.topic}”将于${dateLabel(plan.dueOn)}截止，今天是${shortDateLabel(today)}，还剩 ${daysLeft} 天。学习后请点击“我已学习”。`),
      ...materialElements(plan),
      actions(button('我已学习', STUDY_DONE_ACTION, { m: plan.month }, { style: 'primary' }), ...(plan.material?.url ? [link('打开学习材料', plan.material.url)] : [])),
    ],
    'orange',
  );
}

export interface DepartmentMissing {
  department: string;
  audience: number;
  done: number;
  missing: Pick<Staff, 'staffId' | 'name'>[];
}

/** After the due date, to a department head: who in their department has not finished. */
export function studyHeadListCard(plan: StudyPlan, dept: DepartmentMissing, today: string): Card {
  return card(
    `本科室未完成${monthTitle(plan.month)}学习的人员`,
    [
      text(`“${plan.topic}”已于${dateLabel(plan.dueOn)}截止。${dept.department}应学 ${dept.audience} 人，已完成 ${dept.done} 人，以下 ${dept.missing.length} 人尚未完成，请督促补学：`),
      table(['工号', '姓名'], dept.missing.map((s) => [s.staffId, s.name])),
      note(`统计截至${dateLabel(today)}。`),
    ],
    'orange',
  );
}

/** After the due date, to leadership: completion per department. */
export function studyLeaderSummaryCard(plan: StudyPlan, rows: { department: string; audience: number; done: number }[], today: string): Card {
  const total = rows.reduce((n, r) => n + r.audience, 0);
  const done = rows.reduce((n, r) => n + r.done, 0);
  const pct = (a: number, b: number) => (b === 0 ? '—' : `${Math.round((a / b) * 1000) / 10}%`);
  return card(
    `${monthTitle(plan.month)}廉洁专题学习完成情况`,
    [
      fields([
        ['学习主题', plan.topic],
        ['截止日期', dateLabel(plan.dueOn)],
        ['全院完成', `${done} / ${total}（${pct(done, total)}）`],
      ]),
      table(['科室', '应学', '已完成', '完成率'], rows.map((r) => [r.department, r.audience, r.done, pct(r.done, r.audience)])),
      note(`统计截至${dateLabel(today)}；未完成名单已分别发给各科室负责人。`),
    ],
    done === total ? 'green' : 'orange',
  );
}

/** A leader who also heads a department gets the summary and their own list in one card. */
export function studyLeaderAndHeadCard(summary: Card, list: Card): Card {
  return { ...summary, elements: [...summary.elements, divider(), ...list.elements] };
}

/** What a person is told after confirming the month's study, by button or by message. */
export function studyCompletedText(r: { first: boolean; at: Date }, month: string, timeZone: string, dueOn?: string): string {
  const late = dueOn !== undefined && isLateCompletion({ dueOn }, r.at, timeZone);
  if (!r.first) return `您已于${dateLabel(localDate(r.at, timeZone))}确认完成${monthTitle(month)}的学习${late ? '（逾期完成）' : ''}，无需重复确认。`;
  return late ? `已记录：您已完成${monthTitle(month)}的学习（完成期限为${dateLabel(dueOn)}，记为逾期完成），谢谢！` : `已记录：您已完成${monthTitle(month)}的学习，谢谢！`;
}
