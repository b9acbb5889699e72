import { describe, expect, it } from 'vitest';
import { previewFields, pushTargetsText, reportRemindedCard, reportReminderPreviewCard, resultCard, studyPushedCard, studyPushPreviewCard } from '../cards/push.js';
import { allText, fieldMap } from './helpers/card-parts.js';

const result = { campaignId: 'c1', key: 'study:2026-11', created: true, added: 12, unreachable: 2 };
const preview = { total: 10, byPlatform: { dingtalk: 7, feishu: 3 }, unreachable: 1 };

describe('cards/push', () => {
  it('counts reached people per platform, by the platform name users know', () => {
    expect(previewFields(preview)).toEqual([['收件人数', 10], ['经钉钉', 7], ['经飞书', 3], ['无法送达（未绑定可用账号）', 1]]);
  });

  it('a first push counts only those it can reach; a repeated one says nobody gets it twice', () => {
    const first = resultCard('已推送', result);
    expect(first.color).toBe('green');
    expect(fieldMap(first)).toEqual({ 本次新发出: '10', '无法送达（未绑定可用账号）': '2' });
    expect(allText(first)).toContain('推送已进入发送队列');
    const again = resultCard('已推送', { ...result, created: false, added: 0, unreachable: 0 });
    expect(fieldMap(again)).toEqual({ 本次新发出: '0', '无法送达（未绑定可用账号）': '0' });
    expect(allText(again)).toContain('已收到的人员不会再收到一次');
  });

  it('study push and preview name the month and the topic', () => {
    expect(studyPushedCard({ year: 2026, month: 11 }, result).title).toBe('已推送2026年11月学习任务');
    const p = studyPushPreviewCard({ year: 2026, month: 11 }, { ...preview, topic: '医疗行业九项准则', alreadyDone: 4, alreadySent: 6 });
    expect(p.title).toBe('预览：2026年11月学习任务（不会发送）');
    expect(fieldMap(p)).toMatchObject({ 学习主题: '医疗行业九项准则', 收件人数: '10', '已完成学习（不再推送）': '4', 此前已推送: '6' });
  });

  it('the report reminder preview lists the missing departments, or says there are none', () => {
    expect(reportRemindedCard(result, 'Asia/Shanghai').title).toBe('已推送本月报告提醒');
    expect(fieldMap(reportReminderPreviewCard({ ...preview, departments: ['药剂科', '检验科'] }))['未报送科室']).toBe('药剂科、检验科');
    expect(fieldMap(reportReminderPreviewCard({ ...preview, departments: [] }))['未报送科室']).toBe('无，全部已报送');
  });

  it('16 a repeated manual report reminder says when the day’s round went out, and how to send again', () => {
    const at = new Date('2026-11-18T02:30:00Z'); // 10:30 in Shanghai
    const none = { ...result, created: false, added: 0, unreachable: 0 };
    const repeat = reportRemindedCard({ ...none, manual: { round: 1, previous: { at, departments: 3 }, missing: 2 } }, 'Asia/Shanghai');
    expect(repeat.title).toBe('本月报告提醒未再发送');
    expect(allText(repeat)).toContain('今天已于 10:30 提醒过 3 个科室，未再发送。');
    expect(allText(repeat)).toContain('目前仍有 2 个科室未报送。如需再次提醒，请发送“推送 报告提醒 再次”。');
    expect(allText(reportRemindedCard({ ...none, manual: { round: 2, previous: { at, departments: 3 }, missing: 0 } }, 'Asia/Shanghai'))).toContain('各科室均已报送，无需再次提醒。');
    const second = reportRemindedCard({ ...result, created: true, added: 4, unreachable: 1, manual: { round: 2, previous: { at, departments: 3 }, missing: 2 } }, 'Asia/Shanghai');
    expect(second.title).toBe('已再次推送本月报告提醒（今天第 2 次）');
    expect(allText(second)).toContain('今天已于 10:30 提醒过 3 个科室；这次再提醒仍未报送的 2 个科室。');
    expect(fieldMap(second)).toMatchObject({ 本次新发出: '3' });
  });

  it('an unknown target lists what can be pushed', () => {
    expect(pushTargetsText(['学习 [YYYY-MM]', '报告提醒'])).toBe('请指定要推送的内容：学习 [YYYY-MM]、报告提醒。例如“推送 学习 2026-11”，或先用“预览 学习”查看会发给多少人。');
  });
});
