import { card, fields, note, table } from '../cards/builders.js';
import type { Bot } from '../src/bot/bot.js';
import { ROLE_NAMES, ROLES } from '../src/domain/roles.js';
import { UserError } from '../src/errors.js';
import { getStaff, listActiveStaff } from '../src/store/staff.js';

/** Administrator commands that do not belong to one feature. */
export function registerAdmin(bot: Bot): void {
  bot.command(
    { names: ['名单', 'roster'], usage: '名单 [工号]', summary: '查看人员名单统计，或某位人员的科室、角色和平台账号', roles: ['admin'], group: '管理员', confidential: true },
    async (ctx) => {
      if (ctx.args[0]) {
        const s = await getStaff(bot.db, ctx.args[0]);
        if (!s) throw new UserError(`人员名单中没有工号 ${ctx.args[0]}。`);
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
      const staff = await listActiveStaff(bot.db);
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
    },
  );
}
