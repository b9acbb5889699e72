import { rosterSummaryCard, staffCard } from '../cards/roster.js';
import { opt, staffId } from '../src/bot/args.js';
import type { Bot } from '../src/bot/bot.js';
import { UserError } from '../src/errors.js';

/** Administrator commands that do not belong to one feature. */
export function registerAdmin(bot: Bot): void {
  bot.command(
    { names: ['名单', 'roster'], args: [opt(staffId('id'))], summary: '查看人员名单统计，或某位人员的科室、角色和平台账号', roles: ['admin'], group: '管理员', confidential: true },
    async (ctx) => {
      const { id } = ctx.params;
      if (id) {
        const s = await bot.repos.staff.getStaff(id);
        if (!s) throw new UserError(`人员名单中没有工号 ${id}。`);
        return staffCard(s);
      }
      return rosterSummaryCard(await bot.repos.staff.listActiveStaff());
    },
  );
}
