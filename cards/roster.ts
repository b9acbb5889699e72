import { card, fields, note, table } from './builders.js';
import type { Card } from './model.js';
import { ROLE_NAMES, ROLES } from '../src/domain/roles.js';
import type { Staff } from '../src/store/staff.js';

/** `名单` for administrators: one person's record, or counts over the active roster. */

export function staffCard(s: Staff): Card {
  return card(`人员信息 · ${s.staffId}`, [
    fields([
      ['姓名', s.name],
      ['科室', s.department],
      ['角色', s.roles.map((r) => ROLE_NAMES[r]).join('、')],
      ['状态', s.active ? '在册' : '已停用'],
      ['钉钉账号', s.dingtalkUserId ?? '未绑定'],
      ['飞书账号', s.feishuUserId ?? '未绑定'],
    ]),
  ]);
}

export function rosterSummaryCard(staff: Staff[]): Card {
  const byDept = new Map<string, number>();
  for (const s of staff) byDept.set(s.department, (byDept.get(s.department) ?? 0) + 1);
  return card('人员名单统计', [
    fields([
      ['在册人数', staff.length],
      ['科室数', byDept.size],
      ...ROLES.filter((r) => r !== 'staff').map((r) => [ROLE_NAMES[r], staff.filter((s) => s.roles.includes(r)).length] as [string, number]),
      ['未绑定钉钉', staff.filter((s) => !s.dingtalkUserId).length],
      ['未绑定飞书', staff.filter((s) => !s.feishuUserId).length],
    ]),
    table(['科室', '人数'], [...byDept].map(([d, n]) => [d, n])),
    note('更新名单：在服务器上运行 npm run cli -- roster import 文件.csv（可先加 --dry-run 试运行）。'),
  ]);
}
