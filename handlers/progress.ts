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
import { addMonths, localDate, monthKey, monthOf, monthRange, parseMonth, type Month } from '../src/domain/calendar.js';
import { tipoffProgressLine } from '../cards/tipoff.js';
import { monthFigures } from '../src/store/tipoffs.js';
import {
  AREA_ALIASES,
  isEmpty,
  isFutureMonth,
  type Area,
  type Scope,
} from '../src/domain/progress.js';
import { UserError } from '../src/errors.js';
import { ambiguousDepartmentText, matchDepartment } from '../src/domain/roster.js';
import { ledgerOverviewLine } from '../cards/rectification.js';
import { ledgerScopeFor, ledgerTotals } from '../src/domain/rectification/progress.js';
import { ledgerProgress } from './rectification.js';
import { noticeExport, noticeOverviewLine, noticeProgress } from './notice.js';

/**
 * `进度` for leadership and department heads, `我的进度` for everyone, `导出` for
 * inspections. Leaders and the discipline office see the whole hospital; a department head
 * sees their own department; declarations are counts and amounts only.
 */

interface Request {
  area?: Area;
  month: Month;
  department?: { id: number; name: string };
  /** Set when the department was found from part of its name: said on the reply. */
  matchNote?: string;
}

const SELF_HINT = '您可以发送“我的进度”查看自己的学习、考试和申报情况。';
/** 通报 figures are the notice feature's own (handlers/notice.ts), arguments included. */
const NOTICE_WORDS = new Set(['通报', 'notice', 'notices']);

async function parseRequest(bot: Bot, ctx: CommandContext): Promise<Request> {
  const tz = bot.timeZone;
  let area: Area | undefined;
  let month: Month | undefined;
  let department: { id: number; name: string } | undefined;
  let matchNote: string | undefined;
  const depts = await bot.repos.staff.listDepartments();
  for (const arg of ctx.args) {
    const a = AREA_ALIASES[arg.toLowerCase()];
    if (a && !area) {
      area = a;
      continue;
    }
    const d = department ? { kind: 'none' as const } : matchDepartment(depts, arg);
    if (d.kind === 'many') throw new UserError(ambiguousDepartmentText(arg, d.candidates));
    if (d.kind === 'exact' || d.kind === 'one') {
      department = d.department;
      if (d.kind === 'one') matchNote = departmentMatchText(arg, d.department.name);
      continue;
    }
    const m = parseMonth(arg, ctx.now, tz);
    if (m.ok && !month) {
      month = m.month;
      continue;
    }
    throw new UserError(
      `没有看懂“${arg}”。用法：进度 [学习|考试|上报|上缴|问题清单] [月份] [科室]，例如“进度 学习 2026-11 心血管内科”。${m.ok ? '' : m.message}`,
    );
  }
  return { area, month: month ?? monthOf(ctx.now, tz), department, matchNote };
}

/** Who may see what: the whole hospital, one department, or nothing (refused politely). */
function scopeFor(ctx: CommandContext, asked?: { id: number; name: string }): Scope {
  if (ctx.hasRole('leader', 'discipline')) return asked ? { departmentId: asked.id } : {};
  if (ctx.hasRole('dept_head')) {
    if (asked && asked.id !== ctx.staff.departmentId) throw new UserError(`抱歉，科室负责人只能查看本科室（${ctx.staff.department}）的进度。`);
    return { departmentId: ctx.staff.departmentId };
  }
  throw new UserError(`抱歉，全院和科室进度仅限院领导、纪检监察室和科室负责人查看。${SELF_HINT}`);
}

async function detailCard(bot: Bot, ctx: CommandContext, area: Area, month: Month, scope: Scope, department?: { id: number; name: string }): Promise<Card> {
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
    { names: ['进度', 'progress'], usage: '进度 [学习|考试|上报|上缴|问题清单] [月份] [科室] | 进度 通报 [编号|月份]', summary: '查看全院或本科室的学习、考试、上报、上缴、问题清单进度和通报阅读率', roles: ['leader', 'discipline', 'dept_head'], group: '进度与导出',
      // A department's detail lists each person (工号, 姓名, 状态), and 上报 names who submitted.
      confidential: true },
    async (ctx) => {
      if (NOTICE_WORDS.has(ctx.args[0]?.toLowerCase() ?? '')) return noticeProgress(bot, ctx, ctx.args.slice(1));
      const req = await parseRequest(bot, ctx);
      const scope = scopeFor(ctx, req.department);
      if (isFutureMonth(req.month, monthOf(ctx.now, bot.timeZone))) return withLeadNote(notStartedText(req.month), req.matchNote);
      if (!req.area) {
        const [o, prev] = await Promise.all([bot.repos.progress.overview(req.month, scope), bot.repos.progress.overview(addMonths(req.month, -1), scope)]);
        const where = scope.departmentId !== undefined ? (req.department?.name ?? ctx.staff.department) : '全院';
        const notices = await noticeOverviewLine(bot, req.month, scope.departmentId, ctx.hasRole('discipline'));
        const ledger = await ledgerTotals(bot.db, localDate(ctx.now, bot.timeZone), scope);
        const extra: [string, string][] = [notices.line, ...(ledger.length ? [ledgerOverviewLine(ledger, ledgerScopeFor(ctx.staff).leaderView)] : [])];
        const nothing = isEmpty(o) && !notices.published && ledger.length === 0;
        if (scope.departmentId !== undefined) return withLeadNote(nothing ? emptyOverviewText(where, req.month) : overviewCard(where, req.month, o, prev, extra), req.matchNote);
        // Tip-offs are counted hospital-wide only: a department's own count could point at someone.
        const tipoffs = await monthFigures(bot.db, monthRange(req.month, bot.timeZone), localDate(ctx.now, bot.timeZone));
        if (nothing) return tipoffs.received ? `${emptyOverviewText(where, req.month)}\n${tipoffProgressLine(tipoffs)}` : emptyOverviewText(where, req.month);
        const card = overviewCard(where, req.month, o, prev, extra);
        return tipoffs.received ? { ...card, elements: [...card.elements, { type: 'text', text: tipoffProgressLine(tipoffs) }] } : card;
      }
      return withLeadNote(await detailCard(bot, ctx, req.area, req.month, scope, req.department), req.matchNote);
    },
  );

  bot.command(
    { names: ['我的进度', 'myprogress'], usage: '我的进度', summary: '查看自己本月的学习、考试和申报情况', group: '进度与导出', confidential: true },
    async (ctx) => {
      const month = monthOf(ctx.now, bot.timeZone);
      const [study] = (await bot.repos.progress.studyPeople(month, ctx.staff.departmentId)).filter((p) => p.staffId === ctx.staff.staffId);
      const [exam] = (await bot.repos.progress.examPeople(month, ctx.staff.departmentId)).filter((p) => p.staffId === ctx.staff.staffId);
      return myProgressCard(month, study, exam, await bot.repos.progress.ownDeclarationCounts(ctx.staff.staffId));
    },
  );

  bot.command(
    { names: ['导出', 'export'], usage: '导出 学习|考试|上报|上缴|问题清单 [月份] | 导出 通报 [编号|月份]', summary: '把某月的进度或通报阅读情况导出为 Excel 表格', roles: ['leader', 'discipline', 'dept_head'], group: '进度与导出', confidential: true },
    async (ctx) => {
      if (NOTICE_WORDS.has(ctx.args[0]?.toLowerCase() ?? '')) return noticeExport(bot, ctx, ctx.args.slice(1));
      const req = await parseRequest(bot, ctx);
      if (!req.area) throw new UserError('请说明要导出哪一项，例如“导出 学习 2026-11”（可选：学习、考试、上报、上缴、问题清单）。');
      const scope = scopeFor(ctx, req.department);
      if (isFutureMonth(req.month, monthOf(ctx.now, bot.timeZone))) return withLeadNote(notStartedText(req.month), req.matchNote);
      const file = await bot.repos.progress.progressWorkbook(req.area, req.month, scope, ctx.now, ledgerScopeFor(ctx.staff));
      await ctx.replyFile(file.name, file.data);
      bot.log.info({ area: req.area, month: monthKey(req.month), staffId: ctx.staff.staffId }, 'progress exported');
      return withLeadNote(`已生成 ${file.name}，请查收。`, req.matchNote);
    },
  );
}
