import { describe, expect, it } from 'vitest';
import { helpCard } from '../cards/help.js';
import { rosterSummaryCard, staffCard } from '../cards/roster.js';
import type { Staff } from '../src/store/staff.js';
import { elementsOf, fieldMap } from './helpers/card-parts.js';

const zhang: Staff = { staffId: 'E1', name: '张*三', departmentId: 1, department: '心内科', roles: ['staff', 'dept_head'], active: true, dingtalkUserId: 'dt1' };
const li: Staff = { staffId: 'E2', name: '李四', departmentId: 2, department: '药剂科', roles: ['staff'], active: true, feishuUserId: 'ou_2' };

describe('cards/help and cards/roster', () => {
  it('16 help lists the common commands first, the rest in order met, and 帮助 and 点 last; hides ? as an alternative', () => {
    const c = helpCard(zhang, [
      { names: ['点', '按'], usage: '点 代码 序号', summary: '用消息代替点击按钮', group: '通用' },
      { names: ['帮助', 'help', '?', '？'], usage: '帮助', summary: '查看您可以使用的命令', group: '通用' },
      { names: ['学习', 'study'], usage: '学习 [完成]', summary: '查看本月的廉洁学习任务', group: '学习与上报' },
      { names: ['上报'], usage: '上报', summary: '报送本科室本月的专项整治进展', group: '学习与上报' },
      { names: ['我的进度'], usage: '我的进度', summary: '查看自己本月的情况', group: '进度与导出' },
      { names: ['上缴'], usage: '上缴', summary: '主动上缴申报', group: '上缴申报' },
    ]);
    expect([c.title, c.color]).toEqual(['清廉助手 · 使用帮助', 'blue']);
    expect(elementsOf(c, 'markdown').map((m) => m.markdown)).toEqual([
      '张\\*三，您好！以下是您可以使用的命令：',
      '**常用**\n- **学习 \\[完成\\]**：查看本月的廉洁学习任务（也可发 study）\n- **上缴**：主动上缴申报\n- **我的进度**：查看自己本月的情况',
      '**学习与上报**\n- **上报**：报送本科室本月的专项整治进展',
      '**通用**\n- **帮助**：查看您可以使用的命令（也可发 help）\n- **点 代码 序号**：用消息代替点击按钮（也可发 按）',
    ]);
    expect(elementsOf(c, 'note')[0].text).toBe('您的身份：心内科 · 员工、科室负责人。多步填写时可随时回复“取消”结束。');
  });

  it('14.2 roster: one person, and counts over the roster', () => {
    expect(staffCard(li).title).toBe('人员信息 · E2');
    expect(fieldMap(staffCard(li))).toEqual({ 姓名: '李四', 科室: '药剂科', 角色: '员工', 状态: '在册', 钉钉账号: '未绑定', 飞书账号: 'ou_2' });
    const c = rosterSummaryCard([zhang, li]);
    expect(fieldMap(c)).toMatchObject({ 在册人数: '2', 科室数: '2', 科室负责人: '1', 未绑定钉钉: '1', 未绑定飞书: '1' });
    expect(elementsOf(c, 'table')[0].rows).toEqual([['心内科', '1'], ['药剂科', '1']]);
  });
});
