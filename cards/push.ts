import type { CampaignResult, Preview } from '../scheduler/outbound.js';
import { localTime, monthLabel, type Month } from '../src/domain/calendar.js';
import type { ManualRound } from '../src/domain/report.js';
import { PLATFORM_LABELS, type PlatformName } from '../src/platform/types.js';
import { actions, button, card, fields, markdown, note, text } from './builders.js';
import type { Card } from './model.js';

/** What an administrator sees after `推送 …` and `预览 …`: counts only, never names. */

export function previewFields(p: Preview): [string, string | number][] {
  return [
    ['收件人数', p.total],
    ...Object.entries(p.byPlatform).map(([k, v]) => [`经${PLATFORM_LABELS[k as PlatformName]}`, v] as [string, number]),
    ['无法送达（未绑定可用账号）', p.unreachable],
  ];
}

export function resultCard(title: string, r: CampaignResult): Card {
  return card(title, [
    fields([
      ['本次新发出', r.added - r.unreachable],
      ['无法送达（未绑定可用账号）', r.unreachable],
    ]),
    note(r.created ? '推送已进入发送队列，会按平台限速逐一发出；未送达的人员会汇总发给管理员。' : '这项推送此前已经发起过，已收到的人员不会再收到一次；本次只补发给新增的人员。'),
  ], 'green');
}

export const studyPushedCard = (month: Month, r: CampaignResult): Card => resultCard(`已推送${monthLabel(month)}学习任务`, r);

export function studyPushPreviewCard(month: Month, p: Preview & { topic: string; alreadyDone: number; alreadySent: number }): Card {
  return card(`预览：${monthLabel(month)}学习任务（不会发送）`, [
    fields([['学习主题', p.topic], ...previewFields(p), ['已完成学习（不再推送）', p.alreadyDone], ['此前已推送', p.alreadySent]]),
    note('发送“推送 学习”即按此名单推送；此前已收到的人员不会重复收到。'),
  ]);
}

export const STUDY_PUSH_CONFIRM_ACTION = 'push.study.confirm';

/** `推送 学习 2027-01`: not this month's task, so who it would reach is shown and confirmed first. */
export function otherMonthStudyCard(month: Month, p: Preview & { topic: string; alreadyDone: number; alreadySent: number }, past: boolean): Card {
  const key = `${month.year}-${String(month.month).padStart(2, '0')}`;
  return card(
    `请确认：推送${monthLabel(month)}学习任务`,
    [
      markdown(
        past
          ? `${monthLabel(month)}不是本月。这项任务推送后，收到的人员会看到它已过完成期限（补学后记为逾期完成）。`
          : `${monthLabel(month)}不是本月，任务会提前发给下列人员。`,
      ),
      fields([['学习主题', p.topic], ...previewFields(p), ['已完成学习（不再推送）', p.alreadyDone], ['此前已推送', p.alreadySent]]),
      actions(button('确认推送', STUDY_PUSH_CONFIRM_ACTION, { m: key }, { style: 'primary' })),
      note(`也可以发送“推送 学习 ${key} 确认”。此前已收到的人员不会重复收到。`),
    ],
    'orange',
  );
}

/**
 * After `推送 报告提醒`. Repeated on a day, it says when the day's round went out and sends
 * nothing new unless asked `再次`, which reminds the departments still missing once more.
 */
export function reportRemindedCard(r: CampaignResult & { manual?: ManualRound }, timeZone: string): Card {
  const m = r.manual;
  if (!m?.previous) return resultCard('已推送本月报告提醒', r);
  const earlier = `今天已于 ${localTime(m.previous.at, timeZone)} 提醒过 ${m.previous.departments} 个科室`;
  if (r.created) {
    return card(`已再次推送本月报告提醒（今天第 ${m.round} 次）`, [
      text(`${earlier}；这次再提醒仍未报送的 ${m.missing} 个科室。`),
      fields([
        ['本次新发出', r.added - r.unreachable],
        ['无法送达（未绑定可用账号）', r.unreachable],
      ]),
      note('推送已进入发送队列，会按平台限速逐一发出。'),
    ], 'green');
  }
  // Someone new to the round (a new report owner, say) got it: counted as before.
  if (r.added > 0) return resultCard('已推送本月报告提醒', r);
  return card('本月报告提醒未再发送', [
    text(`${earlier}，未再发送。`),
    m.missing > 0
      ? note(`目前仍有 ${m.missing} 个科室未报送。如需再次提醒，请发送“推送 报告提醒 再次”。`)
      : note('各科室均已报送，无需再次提醒。'),
  ], 'orange');
}

export function reportReminderPreviewCard(p: Preview & { departments: string[] }): Card {
  return card('预览：本月报告提醒（不会发送）', [
    fields([...previewFields(p), ['未报送科室', p.departments.join('、') || '无，全部已报送']]),
    note('发送“推送 报告提醒”即提醒这些科室的报告联络员。'),
  ]);
}

/** The answer to 推送/预览 without a known target: what can be pushed here. */
export const pushTargetsText = (labels: string[]): string =>
  `请指定要推送的内容：${labels.join('、')}。例如“推送 学习 2026-11”，或先用“预览 学习”查看会发给多少人。`;
