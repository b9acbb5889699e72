import { describe, expect, it } from 'vitest';
import {
  NOTICE_FILE_ACTION,
  NOTICE_QUESTIONS_ACTION,
  NOTICE_READ_ACTION,
  noticeCard,
  noticeDepartmentsCard,
  noticeListCard,
  noticePreviewCard,
  noticeRatesCard,
  noticeReminderText,
  ruleQuestionsCard,
} from '../cards/notice.js';
import { describeAudience, parseAudience } from '../src/domain/notice/audience.js';
import { parseKind, parseNoticeNumber, shownCount, shownRate } from '../src/domain/notice/notice.js';
import type { QuestionVersion } from '../src/domain/quiz/question.js';
import type { Notice } from '../src/store/notices.js';
import { allText, buttonsOf, elementsOf, fieldMap } from './helpers/card-parts.js';

/** The 通报 cards and rules as pure functions: no bot, no database. */

const TZ = 'Asia/Shanghai';
const notice = (over: Partial<Notice> = {}): Notice => ({
  id: '7',
  state: 'published',
  kind: 'general',
  rule: null,
  title: '关于规范接待的通报',
  body: '请严格执行接待登记制度。',
  fileId: null,
  audience: {},
  createdBy: 'S0041',
  createdAt: new Date('2026-12-10T01:00:00Z'),
  publishedAt: new Date('2026-12-10T02:00:00Z'),
  remindAfterHours: 24,
  pushedAt: null,
  remindedAt: null,
  ...over,
});

describe('通报 cards', () => {
  it('offers 已阅 until read, the file when there is one, and the rule questions for a warning', () => {
    const unread = noticeCard({ notice: notice(), timeZone: TZ });
    expect(buttonsOf(unread).map((b) => [b.actionId, b.value])).toEqual([[NOTICE_READ_ACTION, { n: '7' }]]);
    expect(fieldMap(unread)).toMatchObject({ 编号: 'TB-7', 发布时间: '12月10日 10:00', 我的状态: '未阅' });
    expect(allText(unread)).toContain('回复“已阅 7”');

    const warning = noticeCard({ notice: notice({ kind: 'warning', rule: 8, fileId: '3' }), timeZone: TZ, fileName: '案例.pdf', readAt: new Date('2026-12-11T03:30:00Z') });
    expect(warning.title).toBe('警示教育通报：关于规范接待的通报');
    expect(buttonsOf(warning).map((b) => b.actionId)).toEqual([NOTICE_FILE_ACTION, NOTICE_QUESTIONS_ACTION]);
    expect(fieldMap(warning)).toMatchObject({ 涉及: '九项准则第八条（共建和谐关系，不收受患方“红包”）', 附件: '案例.pdf', 我的状态: '已阅（12月11日 11:30）' });
    expect(warning.color).toBe('green');
  });

  it('previews the audience size and refuses to offer 确认发布 to nobody', () => {
    const p = noticePreviewCard(notice({ state: 'draft', audience: { departments: ['儿科'], roles: ['dept_head'] } }), { total: 1, reach: [['经沙盒', 1]] });
    expect(fieldMap(p)).toMatchObject({ 通报范围: '儿科 中的 科室负责人', 将发送给: '1 人', 附件: '无' });
    expect(buttonsOf(p).map((b) => b.label)).toEqual(['确认发布', '放弃']);
    expect(buttonsOf(p)[0].confirm).toContain('1 人');
    const none = noticePreviewCard(notice({ state: 'draft' }), { total: 0, reach: [] });
    expect(buttonsOf(none).map((b) => b.label)).toEqual(['放弃']);
  });

  it('sends the same reminder words to everyone (DingTalk batches identical texts)', () => {
    expect(noticeReminderText(notice())).toBe('【通报提醒】您还没有确认阅读《关于规范接待的通报》（编号 TB-7）。请发送“通报 7”查看全文，阅读后回复“已阅 7”。');
  });

  it('lists a person’s notices in the order given with their state', () => {
    const c = noticeListCard([{ notice: notice({ id: '9', kind: 'warning', rule: 1 }), readAt: null }, { notice: notice(), readAt: new Date() }], TZ);
    expect(elementsOf(c, 'table')[0].rows.map((r) => [r[0], r[3]])).toEqual([['9', '未阅'], ['7', '已阅']]);
    expect(elementsOf(c, 'table')[0].rows[0][1]).toContain('【警示】');
    expect(fieldMap(c)['未阅']).toBe('1');
  });

  it('shows a rule’s questions with answers and explanations', () => {
    const q: QuestionVersion = { id: 'Q1', version: 1, type: 'single', rule: 9, topic: '', stem: '医务人员可以接受企业宴请吗？', options: ['可以', '不可以'], answer: [1], explanation: '第九条明确禁止。', source: '九项准则' };
    const c = ruleQuestionsCard(9, [q]);
    expect(c.title).toContain('第九条');
    expect(allText(c)).toContain('答案：B');
    expect(allText(c)).toContain('第九条明确禁止。');
    expect(allText(ruleQuestionsCard(9, []))).toContain('暂时没有');
  });

  it('hides counts of one or two, and the rates they would give away, from all but 纪检', () => {
    const rows = [{ departmentId: 1, department: '儿科', total: 6, read: 2 }, { departmentId: 2, department: '药剂科', total: 4, read: 4 }];
    const leader = noticeDepartmentsCard(notice(), rows, false);
    expect(elementsOf(leader, 'table')[0].rows).toEqual([
      ['儿科', '6', '<3', '4', '—'],
      ['药剂科', '4', '4', '0', '100.0%'],
    ]);
    const office = noticeDepartmentsCard(notice(), rows, true, [{ staffId: 'S0017', name: '潘思远', department: '儿科', readAt: null, via: null }]);
    expect(elementsOf(office, 'table')[0].rows[0]).toEqual(['儿科', '6', '2', '4', '33.3%']);
    expect(elementsOf(office, 'table')[1].rows).toEqual([['S0017', '潘思远', '儿科']]);
    const rates = noticeRatesCard('通报阅读情况', [{ id: '7', title: 't', kind: 'general', publishedAt: new Date(), total: 10, read: 9 }], false, Buffer.from('png'));
    expect(elementsOf(rates, 'table')[0].rows[0].slice(3)).toEqual(['10', '9', '—']);
    expect(elementsOf(rates, 'image')).toHaveLength(1);
  });
});

describe('通报 rules', () => {
  const depts = ['心血管内科', '普外科', '儿科'];
  it('parses an audience of 全院, departments and roles, refusing unknown words with the choices', () => {
    expect(parseAudience('全院', depts)).toEqual({ ok: true, audience: {} });
    expect(parseAudience('心血管内科、普外科 科室负责人', depts)).toEqual({ ok: true, audience: { departments: ['心血管内科', '普外科'], roles: ['dept_head'] } });
    const bad = parseAudience('心内科', depts);
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.message).toContain('可填写的科室：心血管内科、普外科、儿科');
    expect(parseAudience('全院 儿科', depts).ok).toBe(false);
    expect(describeAudience({})).toBe('全院职工');
  });

  it('reads a kind answer as general or a warning naming one of the nine rules', () => {
    expect(parseKind('普通')).toEqual({ ok: true, kind: 'general', rule: null });
    expect(parseKind('警示 3')).toEqual({ ok: true, kind: 'warning', rule: 3 });
    expect(parseKind('第八条')).toEqual({ ok: true, kind: 'warning', rule: 8 });
    expect(parseKind('警示教育 第九条')).toEqual({ ok: true, kind: 'warning', rule: 9 });
    expect(parseKind('警示 0').ok).toBe(false);
    expect(parseKind('警示 10').ok).toBe(false);
  });

  it('reads notice numbers and masks small counts', () => {
    expect(parseNoticeNumber('TB-12')).toBe('12');
    expect(parseNoticeNumber('012')).toBe('12');
    expect(parseNoticeNumber('十二')).toBeUndefined();
    expect([0, 1, 2, 3].map((n) => shownCount(n, false))).toEqual(['0', '<3', '<3', '3']);
    expect(shownCount(1, true)).toBe('1');
    expect(shownRate(3, 6, false)).toBe('50.0%');
    expect(shownRate(5, 6, false)).toBe('—');
    expect(shownRate(0, 0, true)).toBe('—');
  });
});
