import {
  byRate,
  declarationProgressCard,
  departmentMatchText,
  departmentPeopleCard,
  departmentRatesCard,
  detailTitle,
  emptyOverviewText,
  examRateRows,
  myProgressCard,
  notStartedText,
  overviewCard,
  reportProgressCard,
  studyRateRows,
  withLeadNote,
} from '../cards/progress.js';
import type { Card } from '../cards/model.js';
import type { Bot } from '../src/bot/bot.js';
import type { CommandContext } from '../src/bot/context.js';
import { addMonths, localDate, monthKey, monthOf, monthRange, type Month } from '../src/domain/calendar.js';
import { tipoffProgressLine } from '../cards/tipoff.js';
import {
  AREA_ALIASES,
  isEmpty,
  isFutureMonth,
  type Area,
  type Scope,
} from '../src/domain/progress.js';
import { UserError } from '../src/errors.js';
import { ledgerOverviewLine } from '../cards/rectification.js';
import { ledgerScopeFor } from '../src/domain/rectification/progress.js';
import { ledgerProgress } from './rectification.js';
import { noticeOverviewLine } from './notice.js';
import { choice, department, hide, month, opt } from '../src/bot/args.js';

/**
 * `进度` for leadership and department heads, `我的进度` for everyone, `导出` for
 * inspections. Leaders and the discipline office see the whole hospital; a department head
 * sees their own department; declarations are counts and amounts only.
 */

const SELF_HINT = '您可以发送“我的进度”查看自己的学习、考试和申报情况。';
const AREA_LABEL = '学习|考试|上报|上缴|问题清单';
const USAGE_EXAMPLE = '进度 学习 2026-11 心血管内科';

/** `进度 学习 2026-11 心血管内科`, in any order. */
const progressArgs = [opt(choice('area', AREA_ALIASES, AREA_LABEL)), opt(month('month')), opt(department('department'))];

type Asked = { area?: Area; month?: Month; department?: { id: number; name: string; typed?: string } };

/** The request with its defaults, and the note when a department was found from part of its name. */
function requestOf(bot: Bot, ctx: CommandContext<Asked>): { area?: Area; month: Month; department?: { id: number; name: string }; matchNote?: string } {
  const d = ctx.params.department;
  return {
    ...(ctx.params.area ? { area: ctx.params.area } : {}),
    month: ctx.params.month ?? monthOf(ctx.now, bot.timeZone),
    ...(d ? { department: { id: d.id, name: d.name } } : {}),
    ...(d?.typed ? { matchNote: departmentMatchText(d.typed, d.name) } : {}),
  };
}

/** Who may see what: the whole hospital, one department, or nothing (refused politely). */
function scopeFor(ctx: CommandContext<Asked>, asked?: { id: number; name: string }): Scope {
  if (ctx.hasRole('leader', 'discipline')) return asked ? { departmentId: asked.id } : {};
  if (ctx.hasRole('dept_head')) {
    if (asked && asked.id !== ctx.staff.departmentId) throw new UserError(`抱歉，科室负责人只能查看本科室（${ctx.staff.department}）的进度。`);
    return { departmentId: ctx.staff.departmentId };
  }
  throw new UserError(`抱歉，全院和科室进度仅限院领导、纪检监察室和科室负责人查看。${SELF_HINT}`);
}

async function detailCard(bot: Bot, ctx: CommandContext<Asked>, area: Area, month: Month, scope: Scope, department?: { id: number; name: string }): Promise<Card> {
  const title = detailTitle(area, month, department);
  const one = department ?? (scope.departmentId !== undefined ? { id: scope.departmentId, name: ctx.staff.department } : undefined);
  switch (area) {
    case 'study':
    case 'exam': {
      const rows = area === 'study' ? studyRateRows(await bot.repos.progress.studyByDepartment(month, scope)) : examRateRows(await bot.repos.progress.examByDepartment(month, scope));
      if (one) {
        const people = area === 'study' ? await bot.repos.progress.studyPeople(month, one.id) : await bot.repos.progress.examPeople(month, one.id);
        return departmentPeopleCard(title, area, rows[0], people);
      }
      const sorted = byRate(rows);
      return departmentRatesCard(title, area, sorted);
    }
    case 'report':
      return reportProgressCard(title, await bot.repos.progress.reportsByDepartment(month, scope), bot.timeZone);
    case 'declaration':
      return declarationProgressCard(title, await bot.repos.progress.declarationsByDepartment(month, scope), { exact: ctx.staff.roles.includes('discipline') });
    case 'ledger':
      return ledgerProgress(bot, ctx, { ...(one ? { departmentId: one.id, departmentName: one.name } : {}) });
  }
}

export function registerProgress(bot: Bot): void {
  bot.command(
    { names: ['进度', 'progress'], args: progressArgs, anyOrder: true, example: USAGE_EXAMPLE, summary: '查看全院或本科室的学习、考试、上报、上缴、问题清单进度和通报阅读率', roles: ['leader', 'discipline', 'dept_head'], group: '进度与导出',
      // A department's detail lists each person (工号, 姓名, 状态), and 上报 names who submitted.
      confidential: true },
    async (ctx) => {
      const req = requestOf(bot, ctx);
      const scope = scopeFor(ctx, req.department);
      if (isFutureMonth(req.month, monthOf(ctx.now, bot.timeZone))) return withLeadNote(notStartedText(req.month), req.matchNote);
      if (!req.area) {
        const [o, prev] = await Promise.all([bot.repos.progress.overview(req.month, scope), bot.repos.progress.overview(addMonths(req.month, -1), scope)]);
        const where = scope.departmentId !== undefined ? (req.department?.name ?? ctx.staff.department) : '全院';
        const notices = await noticeOverviewLine(bot, req.month, scope.departmentId, ctx.hasRole('discipline'));
        const ledger = await bot.repos.rectification.ledgerTotals(localDate(ctx.now, bot.timeZone), scope);
        const extra: [string, string][] = [notices.line, ...(ledger.length ? [ledgerOverviewLine(ledger, ledgerScopeFor(ctx.staff).leaderView)] : [])];
        const nothing = isEmpty(o) && !notices.published && ledger.length === 0;
        if (scope.departmentId !== undefined) return withLeadNote(nothing ? emptyOverviewText(where, req.month) : overviewCard(where, req.month, o, prev, extra), req.matchNote);
        // Tip-offs are counted hospital-wide only: a department's own count could point at someone.
        const tipoffs = await bot.repos.tipoffs.monthFigures(monthRange(req.month, bot.timeZone), localDate(ctx.now, bot.timeZone));
        if (nothing) return tipoffs.received ? `${emptyOverviewText(where, req.month)}\n${tipoffProgressLine(tipoffs)}` : emptyOverviewText(where, req.month);
        const card = overviewCard(where, req.month, o, prev, extra);
        return tipoffs.received ? { ...card, elements: [...card.elements, { type: 'text', text: tipoffProgressLine(tipoffs) }] } : card;
      }
      return withLeadNote(await detailCard(bot, ctx, req.area, req.month, scope, req.department), req.matchNote);
    },
  );

  bot.command(
    { names: ['我的进度', 'myprogress'], summary: '查看自己本月的学习、考试和申报情况', group: '进度与导出', confidential: true },
    async (ctx) => {
      const month = monthOf(ctx.now, bot.timeZone);
      const [study] = (await bot.repos.progress.studyPeople(month, ctx.staff.departmentId)).filter((p) => p.staffId === ctx.staff.staffId);
      const [exam] = (await bot.repos.progress.examPeople(month, ctx.staff.departmentId)).filter((p) => p.staffId === ctx.staff.staffId);
      return myProgressCard(month, study, exam, await bot.repos.progress.ownDeclarationCounts(ctx.staff.staffId));
    },
  );

  bot.command(
    { names: ['导出', 'export'], args: [choice('area', AREA_ALIASES, AREA_LABEL), opt(month('month')), hide(opt(department('department')))], anyOrder: true, example: '导出 学习 2026-11', summary: '把某月的进度或通报阅读情况导出为 Excel 表格', roles: ['leader', 'discipline', 'dept_head'], group: '进度与导出', confidential: true },
    async (ctx) => {
      const req = { ...requestOf(bot, ctx), area: ctx.params.area };
      const scope = scopeFor(ctx, req.department);
      if (isFutureMonth(req.month, monthOf(ctx.now, bot.timeZone))) return withLeadNote(notStartedText(req.month), req.matchNote);
      const file = await bot.repos.progress.progressWorkbook(req.area, req.month, scope, ctx.now, ledgerScopeFor(ctx.staff));
      await ctx.replyFile(file.name, file.data);
      bot.log.info({ area: req.area, month: monthKey(req.month), staffId: ctx.staff.staffId }, 'progress exported');
      return withLeadNote(`已生成 ${file.name}，请查收。`, req.matchNote);
    },
  );
}
