import { describe, expect, it } from 'vitest';
import {
  describeAudience,
  studyCompletedText,
  studyHeadListCard,
  studyLeaderAndHeadCard,
  studyLeaderSummaryCard,
  studyReminderCard,
  studyTaskCard,
} from '../cards/study.js';
import type { StudyPlan } from '../src/domain/study.js';
import { allText, buttonsOf, elementsOf, fieldMap } from './helpers/card-parts.js';

const TZ = 'Asia/Shanghai';

const plan: StudyPlan = {
  month: '2026-12', topic: '拒收红包', summary: '本月学习拒收红包的规定。', keyPoints: ['不收红包', '如实登记 *上缴*'], source: '九项准则',
  material: { url: 'https://example.org/study.pdf' }, audience: {}, pushDay: 1, pushTime: '09:00', dueOn: '2026-12-25', reminderDaysBeforeDue: [3], origin: 'default',
};

describe('cards/study', () => {
  it('14.2 the task card: 我已学习 carries the month, the material link, and the status', () => {
    const c = studyTaskCard(plan, { timeZone: TZ, pushedOn: '2026-12-01' });
    expect(c.title).toBe('2026年12月廉洁专题学习：拒收红包');
    expect(fieldMap(c)).toEqual({ 学习主题: '拒收红包', 完成期限: '2026年12月25日前', 我的状态: '未完成' });
    expect(buttonsOf(c).map((b) => [b.label, b.actionId, b.value])).toEqual([['我已学习', 'study.done', { m: '2026-12' }]]);
    expect(elementsOf(c, 'actions')[0].buttons[1]).toEqual({ kind: 'link', label: '打开学习材料', url: 'https://example.org/study.pdf' });
    const text = allText(c);
    expect(text).toContain('- 如实登记 \\*上缴\\*');
    expect(text).toContain('出处：九项准则');
    expect(text).toContain('本通知发送于2026年12月1日。');
    // Done at 23:30 UTC on the 3rd is the 4th in Shanghai.
    const done = studyTaskCard(plan, { timeZone: TZ, doneAt: new Date('2026-12-03T23:30:00Z') });
    expect(done.color).toBe('green');
    expect(fieldMap(done).我的状态).toBe('已完成（2026年12月4日）');
    expect(buttonsOf(done)).toEqual([]);
  });

  it('14.2 the reminder names the days left and keeps the button', () => {
    const c = studyReminderCard(plan, 3, '2026-12-22');
    expect(c.title).toBe('学习提醒：2026年12月专题学习还剩 3 天');
    expect(allText(c)).toContain('将于2026年12月25日截止，今天是12月22日，还剩 3 天。');
    expect(buttonsOf(c).map((b) => [b.actionId, b.value])).toEqual([['study.done', { m: '2026-12' }]]);
  });

  it('14.2 after the due date: the head’s list, the leader’s summary, and both in one card', () => {
    const list = studyHeadListCard(plan, { department: '心内科', audience: 3, done: 1, missing: [{ staffId: 'E2', name: '王五' }, { staffId: 'E3', name: '赵六' }] }, '2026-12-26');
    expect(list.title).toBe('本科室未完成2026年12月学习的人员');
    expect(elementsOf(list, 'table')[0].rows).toEqual([['E2', '王五'], ['E3', '赵六']]);
    expect(allText(list)).toContain('心内科应学 3 人，已完成 1 人，以下 2 人尚未完成');
    const summary = studyLeaderSummaryCard(plan, [{ department: '心内科', audience: 3, done: 1 }, { department: '药剂科', audience: 0, done: 0 }], '2026-12-26');
    expect(fieldMap(summary).全院完成).toBe('1 / 3（33.3%）');
    expect(elementsOf(summary, 'table')[0].rows).toEqual([['心内科', '3', '1', '33.3%'], ['药剂科', '0', '0', '—']]);
    expect(summary.color).toBe('orange');
    const both = studyLeaderAndHeadCard(summary, list);
    expect(both.title).toBe(summary.title);
    expect(both.elements).toEqual([...summary.elements, { type: 'divider' }, ...list.elements]);
  });

  it('14.2 confirmation texts and the audience description', () => {
    expect(studyCompletedText({ first: true, at: new Date() }, '2026-12', TZ)).toBe('已记录：您已完成2026年12月的学习，谢谢！');
    expect(studyCompletedText({ first: false, at: new Date('2026-12-03T23:30:00Z') }, '2026-12', TZ)).toBe('您已于2026年12月4日确认完成2026年12月的学习，无需重复确认。');
    expect(describeAudience(plan)).toBe('全院职工');
    expect(describeAudience({ ...plan, audience: { departments: ['心内科', '药剂科'], roles: ['dept_head'] } })).toBe('心内科、药剂科；科室负责人');
  });
});
