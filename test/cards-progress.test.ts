import { describe, expect, it } from 'vitest';
import { CHART_WIDTH } from '../cards/chart-png.js';
import {
  byRate,
  declarationProgressCard,
  departmentPeopleCard,
  departmentRatesCard,
  detailTitle,
  emptyOverviewText,
  examRateRows,
  myProgressCard,
  overviewCard,
  reportProgressCard,
  studyRateRows,
} from '../cards/progress.js';
import type { Overview } from '../src/domain/progress.js';
import { allText, elementsOf, fieldMap } from './helpers/card-parts.js';

const month = { year: 2026, month: 12 };
const o: Overview = { study: { done: 3, total: 4 }, examTook: { done: 2, total: 4 }, examPassed: { done: 1, total: 2 }, reports: { submitted: 2, required: 3, late: 1 }, declarations: { received: 3, registered: 2, amount: 1234.5, registeredInMonth: 4 } };
const prev: Overview = { study: { done: 1, total: 2 }, examTook: { done: 2, total: 4 }, examPassed: { done: 0, total: 0 }, reports: { submitted: 1, required: 3, late: 0 }, declarations: { received: 0, registered: 0, amount: 0, registeredInMonth: 2 } };

describe('cards/progress', () => {
  it('14.2 the overview compares with last month', () => {
    const c = overviewCard('全院', month, o, prev);
    expect(c.title).toBe('全院清廉建设进度 · 2026年12月');
    expect(fieldMap(c)).toEqual({
      学习完成率: '75.0%（3/4）（较上月↑25.0个百分点）',
      考试参加率: '50.0%（2/4）（与上月持平）',
      考试通过率: '50.0%（参加者中 1 人通过）',
      月度上报: '已交 2/3，逾期 1，未交 1（上月已交 1/3）',
      上缴登记: '收到 3 件，已登记 2 件，1,234.50 元（上月收到 0 件，已登记 0 件，0 元）',
      当月办理登记: '4 件（上月 2 件）',
    });
    expect(emptyOverviewText('心内科', month)).toBe('2026年12月心内科还没有任何数据。');
    expect(detailTitle('study', month, { name: '心内科' })).toBe('学习进度 · 2026年12月 · 心内科');
    expect(detailTitle('declaration', month)).toBe('上缴进度 · 2026年12月');
  });

  it('14.2 study and exam rates per department, lowest first, with their chart as PNG bytes (no platform key)', () => {
    const rows = byRate(studyRateRows([
      { departmentId: 1, department: '心内科', figures: { audience: 4, done: 4 } },
      { departmentId: 2, department: '药剂科', figures: { audience: 4, done: 1 } },
      { departmentId: 3, department: '后勤科', figures: { audience: 0, done: 0 } },
    ]));
    expect(rows.map((r) => [r.name, r.p])).toEqual([['药剂科', 25], ['心内科', 100], ['后勤科', null]]);
    const c = departmentRatesCard('学习进度 · 2026年12月', 'study', rows);
    const [chart] = elementsOf(c, 'image');
    expect(chart).toMatchObject({ type: 'image', alt: '各科室完成率柱状图', file: { name: 'progress.png', mime: 'image/png' } });
    if (!('file' in chart)) throw new Error('the card holds an uploaded key');
    expect(chart.file.data.subarray(1, 4).toString('ascii')).toBe('PNG');
    expect(chart.file.data.readUInt32BE(16)).toBe(CHART_WIDTH);
    expect(elementsOf(c, 'table')[0]).toEqual({ type: 'table', columns: ['序号', '科室', '应学', '已学', '完成率'], rows: [['1', '药剂科', '4', '1', '25.0%'], ['2', '心内科', '4', '4', '100.0%'], ['3', '后勤科', '0', '0', '—']] });
    expect(elementsOf(departmentRatesCard('t', 'study', []), 'image')).toHaveLength(0);
    const exam = examRateRows([{ departmentId: 1, department: '心内科', figures: { staff: 4, took: 2, passed: 1 } }]);
    expect(elementsOf(departmentRatesCard('t', 'exam', exam), 'table')[0].columns).toEqual(['序号', '科室', '人数', '参加', '参加率', '通过率']);
    // 16: exams are sorted by participation, and the note says so.
    expect(allText(departmentRatesCard('t', 'exam', exam))).toContain('按参加率从低到高排列。');
    expect(allText(c)).toContain('按完成率从低到高排列。');
    const people = departmentPeopleCard('t', 'exam', exam[0], [{ staffId: 'E1', name: '张三', status: '已通过', detail: '80 分' }]);
    expect(fieldMap(people)).toEqual({ 参加率: '50.0%', 通过率: '50.0%' });
    expect(elementsOf(people, 'table')[0].rows).toEqual([['E1', '张三', '已通过', '80 分']]);
    expect(allText(departmentPeopleCard('t', 'study', undefined, []))).toContain('本月该科室没有需要统计的人员。');
  });

  it('14.2 reports: missing first, then late; declarations: counts and amounts only', () => {
    const r = reportProgressCard('上报进度 · 2026年12月', [
      { departmentId: 1, department: '心内科', figures: { submitted: true, late: false, submittedBy: '张三', submittedAt: new Date('2026-12-10T02:05:00Z') } },
      { departmentId: 2, department: '药剂科', figures: { submitted: false, late: false } },
      { departmentId: 3, department: '检验科', figures: { submitted: true, late: true, submittedBy: '李四', submittedAt: new Date('2026-12-21T02:05:00Z') } },
    ], 'Asia/Shanghai');
    expect(fieldMap(r)).toEqual({ 应报科室: '3', 已提交: '2', 逾期: '1', 未提交: '1' });
    expect(elementsOf(r, 'table')[0].rows.map((x) => x.slice(0, 3))).toEqual([['药剂科', '未提交', ''], ['检验科', '逾期提交', '李四'], ['心内科', '按时提交', '张三']]);
    expect(elementsOf(r, 'table')[0].rows[2][3]).toContain('10:05');
    const rows = [
      { departmentId: 1, department: '心内科', figures: { received: 1, registered: 1, amount: 200, pending: 0, registeredInMonth: 2 } },
      { departmentId: 2, department: '药剂科', figures: { received: 4, registered: 3, amount: 50.5, pending: 1, registeredInMonth: 3 } },
    ];
    const d = declarationProgressCard('上缴进度', rows, { exact: true });
    expect(fieldMap(d)).toEqual({ 收到件数: '5', 登记件数: '4', 登记金额: '250.50 元', 审批中: '1', 当月办理登记: '5' });
    expect(elementsOf(d, 'table')[0].rows).toEqual([['药剂科', '4', '3', '50.50', '1', '3'], ['心内科', '1', '1', '200', '0', '2']]);
    // 16: received and registered-in-month are both shown, and the card says which month rule each follows.
    expect(elementsOf(d, 'table')[0].columns).toEqual(['科室', '收到件数', '登记件数', '登记金额（元）', '审批中', '当月办理登记']);
    expect(allText(d)).toContain('上缴按收到日期所在月份统计，“当月办理登记”按登记日期统计（含以前月份收到的）。');
    expect(allText(overviewCard('全院', month, o, prev))).toContain('上缴按收到日期所在月份统计');
    // 16: leadership sees a department's 1 or 2 declarations as "<3", without the amount.
    const led = declarationProgressCard('上缴进度', rows);
    expect(fieldMap(led)).toEqual({ 收到件数: '5', 登记件数: '4', 登记金额: '250.50 元', 审批中: '<3', 当月办理登记: '5' });
    expect(elementsOf(led, 'table')[0].rows).toEqual([['药剂科', '4', '3', '50.50', '<3', '3'], ['心内科', '<3', '<3', '—', '0', '<3']]);
    expect(allText(led)).toContain('少于 3 件的显示为“<3”，不显示金额。');
    // 16: one money format in every view: thousands separated, cents only when there are cents.
    const big = declarationProgressCard('上缴进度', [{ departmentId: 1, department: '心内科', figures: { received: 3, registered: 3, amount: 1000.7 + 599.1 + 0.2, pending: 0, registeredInMonth: 0 } }], { exact: true });
    expect(fieldMap(big).登记金额).toBe('1,600 元');
    expect(elementsOf(big, 'table')[0].rows[0][3]).toBe('1,600');
    expect(fieldMap(overviewCard('全院', month, { ...o, declarations: { received: 3, registered: 3, amount: 1600, registeredInMonth: 0 } }, prev)).上缴登记).toBe('收到 3 件，已登记 3 件，1,600 元（上月收到 0 件，已登记 0 件，0 元）');
  });

  it('14.2 my progress', () => {
    const c = myProgressCard(month, { staffId: 'E1', name: '张三', status: '已完成', detail: '12月3日' }, undefined, [{ label: '已登记', n: 2 }]);
    expect(c.title).toBe('我的进度 · 2026年12月');
    expect(fieldMap(c)).toEqual({ 本月学习: '已完成（12月3日）', 本月测验: '未参加', 我的申报: '已登记 2 件' });
    expect(fieldMap(myProgressCard(month, undefined, undefined, [])).我的申报).toBe('无');
  });
});
