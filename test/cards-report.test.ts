import { describe, expect, it } from 'vitest';
import { reportCancelledCard, reportConfirmationText, reportConfirmCard, reportFormCard, reportOverdueCard, reportReminderCard, reportSubmittedCard, reportViewCard } from '../cards/report.js';
import type { Submission } from '../src/domain/report.js';
import { allText, buttonsOf, elementsOf, fieldMap } from './helpers/card-parts.js';

const TZ = 'Asia/Shanghai';
const figures = ['自查问题数', '整改完成数'];
const dept = { id: 7, name: '药剂科' };

const prev: Submission = {
  id: 'a1', month: '2026-12', departmentId: 7, version: 2, summary: '完成自查。', figures: { 自查问题数: 3, 整改完成数: 2 },
  attachment: '统计表.xlsx', submittedBy: 'E1', submittedAt: new Date('2026-12-10T17:00:00Z'), late: false,
};

describe('cards/report', () => {
  it('14.2 the report form: inputs per figure, the month and department in the submit value', () => {
    const c = reportFormCard({ month: '2026-12', department: dept, deadline: '2026-12-20', late: false, figures, timeZone: TZ });
    expect(c.title).toBe('2026年12月专项整治进展报告 · 药剂科');
    const [f] = elementsOf(c, 'form');
    expect([f.actionId, f.value, f.submitLabel]).toEqual(['report.submit', { m: '2026-12', d: 7 }, '提交本月报告']);
    expect(f.inputs.map((i) => [i.name, i.kind, i.label, i.initial])).toEqual([
      ['summary', 'text', '本月工作进展', undefined],
      ['f0', 'number', '自查问题数', undefined],
      ['f1', 'number', '整改完成数', undefined],
      ['attachment', 'text', '统计表附件（链接或文件名，选填）', undefined],
    ]);
    expect(allText(c)).toContain('请在2026年12月20日（含当天）前提交');
    expect(allText(reportFormCard({ month: '2026-12', department: dept, deadline: '2026-12-20', late: true, figures, timeZone: TZ }))).toContain('截止日期已过，现在提交将记为逾期。');
  });

  it('14.2 with a current version: pre-filled before the deadline, read-only after it', () => {
    const open = reportFormCard({ month: '2026-12', department: dept, deadline: '2026-12-20', late: false, prev, figures, timeZone: TZ });
    expect(elementsOf(open, 'form')[0].inputs.map((i) => i.initial)).toEqual(['完成自查。', '3', '2', '统计表.xlsx']);
    // 17:00 UTC on the 10th is the 11th in Shanghai.
    expect(allText(open)).toContain('本科室已于2026年12月11日提交第 2 版。');
    const closed = reportFormCard({ month: '2026-12', department: dept, deadline: '2026-12-20', late: true, prev, figures, timeZone: TZ });
    expect(elementsOf(closed, 'form')).toHaveLength(0);
    expect(closed.color).toBe('green');
    expect(fieldMap(closed)).toEqual({ 提交时间: '2026年12月11日', 版本: '第 2 版', 自查问题数: '3', 整改完成数: '2' });
  });

  it('14.2 the confirmation carries only the draft id; the submitted card says what went in', () => {
    const c = reportConfirmCard({ month: '2026-12', departmentId: 7, summary: '完成自查。', figures: { 自查问题数: 3 } }, '药剂科', figures, 'd-1');
    expect(c.title).toBe('请确认：2026年12月专项整治进展报告 · 药剂科');
    expect(fieldMap(c)).toEqual({ 自查问题数: '3', 整改完成数: '未填', 统计表附件: '无' });
    expect(buttonsOf(c).map((b) => [b.label, b.actionId, b.value])).toEqual([
      ['确认提交', 'report.confirm', { id: 'd-1' }],
      ['修改', 'report.edit', { id: 'd-1' }],
      ['取消', 'report.cancel', { id: 'd-1' }],
    ]);
    expect(reportConfirmationText('药剂科', '2026-12', { ...prev, late: true }, true)).toBe('已更新药剂科2026年12月的报告（第 2 版，逾期）。');
    const done = reportSubmittedCard('药剂科', '2026-12', prev, false, figures, TZ);
    expect(done.title).toBe('已提交：2026年12月专项整治进展报告 · 药剂科');
    expect(allText(done)).toContain('已提交药剂科2026年12月的报告（第 2 版）。');
    expect(allText(done)).toContain('截止日期前如需修改，可再次发送“上报”');
  });

  it('16 the confirmation and the submitted card list figures in the configured order and show the summary', () => {
    // Stored JSON (jsonb) gives keys shortest first, not in the form's order.
    const stored = { ...prev, summary: '完成全科自查，整改两项。', figures: { 乙: 1, 甲甲甲: 4 } };
    const order = ['甲甲甲', '丙', '乙'];
    const done = reportSubmittedCard('药剂科', '2026-12', stored, false, order, TZ);
    expect(elementsOf(done, 'fields')[0].fields.map((f) => [f.label, f.value]).slice(2)).toEqual([['甲甲甲', '4'], ['丙', '未填'], ['乙', '1']]);
    expect(elementsOf(done, 'text').map((t) => t.text)).toContain('完成全科自查，整改两项。');
    const c = reportConfirmCard({ month: '2026-12', departmentId: 7, summary: '草稿', figures: { 乙: 1, 甲甲甲: 4 } }, '药剂科', order, 'd-1');
    expect(elementsOf(c, 'fields')[0].fields.map((f) => f.label)).toEqual(['甲甲甲', '丙', '乙', '统计表附件']);
    // A figure the configuration no longer names still shows, after the configured ones.
    expect(fieldMap(reportSubmittedCard('药剂科', '2026-12', { ...stored, figures: { 旧项: 9, 乙: 1 } }, false, order, TZ))).toMatchObject({ 乙: '1', 旧项: '9' });
  });

  it('16 修改 re-opens the form with the draft, 取消 says nothing was submitted', () => {
    const draft = { summary: '草稿进展', figures: { 整改完成数: 1 }, attachment: '表.xlsx' };
    const again = reportFormCard({ month: '2026-12', department: dept, deadline: '2026-12-20', late: false, prev, draft, figures, timeZone: TZ });
    expect(elementsOf(again, 'form')[0].inputs.map((i) => i.initial)).toEqual(['草稿进展', undefined, '1', '表.xlsx']);
    const x = reportCancelledCard('2026-12', '药剂科');
    expect(x.title).toBe('已取消：2026年12月专项整治进展报告 · 药剂科');
    expect(allText(x)).toContain('已取消，未提交。');
    expect(buttonsOf(x)).toEqual([]);
  });

  it('16 上报 查看: the text, who filed it and when, every figure in order, the attachment', () => {
    const v = reportViewCard({ month: '2026-12', department: '药剂科', submission: { ...prev, figures: { 整改完成数: 2 }, submitterName: '钟立新' }, figures, timeZone: TZ });
    expect(v.title).toBe('2026年12月专项整治进展报告 · 药剂科');
    expect(elementsOf(v, 'text')[0].text).toBe('完成自查。');
    expect(elementsOf(v, 'fields')[0].fields.map((f) => [f.label, f.value])).toEqual([
      ['提交人', '钟立新（E1）'],
      ['提交时间', '2026年12月11日 01:00'],
      ['版本', '第 2 版'],
      ['自查问题数', '未填'],
      ['整改完成数', '2'],
      ['统计表附件', '统计表.xlsx'],
    ]);
    expect(v.color).toBe('green');
    expect(buttonsOf(v)).toEqual([]);
    const late = reportViewCard({ month: '2026-12', department: '药剂科', submission: { ...prev, version: 1, late: true, attachment: null, submitterName: null }, figures, timeZone: TZ });
    expect(fieldMap(late)).toMatchObject({ 提交人: 'E1', 提交时间: '2026年12月11日 01:00（逾期）', 统计表附件: '无' });
    expect(late.color).toBe('orange');
  });

  it('14.2 reminders open the month’s form; the overdue list names the owners', () => {
    const r = reportReminderCard('2026-12', '2026-12-20', '2026-12-20', 0, '药剂科', true);
    expect([r.title, r.color]).toEqual(['报告提醒：2026年12月专项整治进展今天截止', 'red']);
    expect(allText(r)).toContain('管理员提醒：您好，药剂科2026年12月的专项整治工作进展和数据统计需在2026年12月20日（含当天）前报送，今天是12月20日，今天截止');
    expect(buttonsOf(r).map((b) => [b.label, b.actionId, b.value])).toEqual([['提交本月报告', 'report.open', { m: '2026-12' }]]);
    expect(reportReminderCard('2026-12', '2026-12-20', '2026-12-17', 3, '药剂科', false).color).toBe('orange');
    // 16: after the deadline a manual reminder says how late, never 今天截止.
    const late = reportReminderCard('2026-12', '2026-12-20', '2026-12-22', -2, '药剂科', true);
    expect(late.title).toBe('报告提醒：2026年12月专项整治进展已逾期 2 天');
    expect(allText(late)).toContain('应于2026年12月20日前报送，今天是12月22日，已逾期 2 天，本科室尚未提交，请尽快补报。');
    expect(allText(late)).not.toContain('今天截止');
    const o = reportOverdueCard('2026-12', { today: '2026-12-21', deadline: '2026-12-20', required: 5, missing: [{ department: '药剂科', owners: ['张三', '李四'] }, { department: '检验科', owners: [] }] });
    expect(o.title).toBe('2026年12月专项整治进展报告：2 个科室未按期报送');
    expect(elementsOf(o, 'table')[0].rows).toEqual([['药剂科', '张三、李四'], ['检验科', '（未指定）']]);
    expect(allText(o)).toContain('截至2026年12月21日，应报送的 5 个重点责任科室中');
  });
});
