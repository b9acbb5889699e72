import { rosterSummaryCard, staffCard } from '../cards/roster.js';
import type { Bot } from '../src/bot/bot.js';
import { UserError } from '../src/errors.js';

/** Administrator commands that do not belong to one feature. */
export function registerAdmin(bot: Bot): void {
  bot.command(
    { names: ['名单', 'roster'], usage: '名单 [工号]', summary: '查看人员名单统计，或某位人员的科室、角色和平台账号', roles: ['admin'], group: '管理员', confidential: true },
    async (ctx) => {
      if (ctx.args[0]) {
        const s = await bot.repos.staff.getStaff(ctx.args[0]);
        if (!s) throw new UserError(`人员名单中没有工号 ${ctx.args[0]}。`);
        return staffCard(s);
      }
      return rosterSummaryCard(await bot.repos.staff.listActiveStaff());
    },
  );
}
