import { renderBarChart } from '../cards/chart-png.js';
import { card, fields, image, markdown, note, table } from '../cards/builders.js';
import type { Card } from '../cards/model.js';
import type { Bot } from '../src/bot/bot.js';
import type { CommandContext } from '../src/bot/context.js';
import { addMonths, monthKey, monthLabel, monthOf, parseMonth, slashMonthDayTimeLabel, type Month } from '../src/domain/calendar.js';
import {
  AREA_ALIASES,
  AREA_NAMES,
  declarationsByDepartment,
  examByDepartment,
  examPeople,
  formatPercent,
  isEmpty,
  overview,
  ownDeclarationCounts,
  percent,
  reportsByDepartment,
  studyByDepartment,
  studyPeople,
  type Area,
  type Overview,
  type ProgressDeps,
  type Scope,
} from '../src/domain/progress.js';
import { progressWorkbook } from '../src/domain/progress-export.js';
import { UserError } from '../src/errors.js';
import { listDepartments } from '../src/store/staff.js';

/**
 * `进度` for leadership and department heads, `我的进度` for everyone, `导出` for
 * inspections. Leaders and the discipline office see the whole hospital; a department head
 * sees their own department; declarations are counts and amounts only.
 */

interface Request {
  area?: Area;
  month: Month;
  department?: { id: number; name: string };
}

const SELF_HINT = '您可以发送“我的进度”查看自己的学习、考试和申报情况。';

async function parseRequest(bot: Bot, ctx: CommandContext): Promise<Request> {
  const tz = bot.timeZone;
  let area: Area | undefined;
  let month: Month | undefined;
  let department: { id: number; name: string } | undefined;
  const depts = await listDepartments(bot.db);
  for (const arg of ctx.args) {
    const a = AREA_ALIASES[arg.toLowerCase()];
    if (a && !area) {
      area = a;
      continue;
    }
    const d = depts.find((x) => x.name === arg) ?? depts.find((x) => x.name.includes(arg) && arg.length >= 2);
    if (d && !department) {
      department = d;
      continue;
    }
    const m = parseMonth(arg, ctx.now, tz);
    if (m.ok && !month) {
      month = m.month;
      continue;
    }
    throw new UserError(
      `没有看懂“${arg}”。用法：进度 [学习|考试|上报|上缴] [月份] [科室]，例如“进度 学习 2026-11 心血管内科”。${m.ok ? '' : m.message}`,
    );
  }
  return { area, month: month ?? monthOf(ctx.now, tz), department };
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

const change = (now: number | null, before: number | null, unit = '个百分点'): string => {
  if (now === null || before === null) return '';
  const d = now - before;
  if (Math.abs(d) < 0.05) return '（与上月持平）';
  return `（较上月${d > 0 ? '↑' : '↓'}${Math.abs(d).toFixed(1)}${unit}）`;
};

function overviewCard(title: string, month: Month, o: Overview, prev: Overview): Card {
  const amount = (n: number) => `${n.toLocaleString('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} 元`;
  return card(title, [
    fields([
      ['学习完成率', `${formatPercent(o.study)}（${o.study.done}/${o.study.total}）${change(percent(o.study), percent(prev.study))}`],
      ['考试参加率', `${formatPercent(o.examTook)}（${o.examTook.done}/${o.examTook.total}）${change(percent(o.examTook), percent(prev.examTook))}`],
      ['考试通过率', `${formatPercent(o.examPassed)}（参加者中 ${o.examPassed.done} 人通过）${change(percent(o.examPassed), percent(prev.examPassed))}`],
      ['月度上报', `已交 ${o.reports.submitted}/${o.reports.required}，逾期 ${o.reports.late}，未交 ${o.reports.required - o.reports.submitted}（上月已交 ${prev.reports.submitted}/${prev.reports.required}）`],
      ['上缴登记', `${o.declarations.registered} 件，${amount(o.declarations.amount)}（上月 ${prev.declarations.registered} 件，${amount(prev.declarations.amount)}）`],
    ]),
    note(`${monthLabel(month)}。查看明细：进度 学习|考试|上报|上缴 [月份] [科室]；导出表格：导出 学习|考试|上报|上缴 [月份]。`),
  ], 'blue');
}

async function chart(bot: Bot, ctx: CommandContext, values: number[]): Promise<Card['elements'][number] | undefined> {
  const platform = bot.platform(ctx.platform);
  if (!platform || values.length === 0) return undefined;
  try {
    const url = await platform.uploadImage(renderBarChart({ values, target: 100 }), 'progress.png');
    return image(url, '各科室完成率柱状图（编号与下表序号对应）');
  } catch (e) {
    // The figures are in the table; a failed upload must not cost the user the answer.
    bot.log.warn({ err: (e as Error).message }, 'progress chart upload failed');
    return undefined;
  }
}

async function detailCard(bot: Bot, ctx: CommandContext, deps: ProgressDeps, area: Area, month: Month, scope: Scope, department?: { id: number; name: string }): Promise<Card> {
  const title = `${AREA_NAMES[area]}进度 · ${monthLabel(month)}${department ? ` · ${department.name}` : ''}`;
  const one = department ?? (scope.departmentId !== undefined ? { id: scope.departmentId, name: ctx.staff.department } : undefined);
  switch (area) {
    case 'study':
    case 'exam': {
      const rows =
        area === 'study'
          ? (await studyByDepartment(deps, month, scope)).map((r) => ({ name: r.department, p: percent({ done: r.figures.done, total: r.figures.audience }), cells: [r.figures.audience, r.figures.done, formatPercent({ done: r.figures.done, total: r.figures.audience })] }))
          : (await examByDepartment(deps, month, scope)).map((r) => ({ name: r.department, p: percent({ done: r.figures.took, total: r.figures.staff }), cells: [r.figures.staff, r.figures.took, formatPercent({ done: r.figures.took, total: r.figures.staff }), formatPercent({ done: r.figures.passed, total: r.figures.took })] }));
      if (one) {
        const people = area === 'study' ? await studyPeople(deps, month, one.id) : await examPeople(deps, month, one.id);
        const r = rows[0];
        return card(title, [
          r ? fields(area === 'study' ? [['完成率', `${r.cells[2]}（${r.cells[1]}/${r.cells[0]}）`]] : [['参加率', `${r.cells[2]}`], ['通过率', `${r.cells[3]}`]]) : note('本月该科室没有需要统计的人员。'),
          table(['工号', '姓名', '状态', area === 'study' ? '完成时间' : '情况'], people.map((p) => [p.staffId, p.name, p.status, p.detail])),
        ]);
      }
      rows.sort((a, b) => (a.p ?? 101) - (b.p ?? 101) || a.name.localeCompare(b.name, 'zh'));
      const img = await chart(bot, ctx, rows.map((r) => r.p ?? 0));
      return card(title, [
        img,
        table(area === 'study' ? ['序号', '科室', '应学', '已学', '完成率'] : ['序号', '科室', '人数', '参加', '参加率', '通过率'], rows.map((r, i) => [i + 1, r.name, ...r.cells])),
        note('按完成率从低到高排列。查看某科室的人员：在命令后加科室名称。'),
      ]);
    }
    case 'report': {
      const rows = await reportsByDepartment(deps, month, scope);
      const rank = (r: (typeof rows)[number]) => (r.figures.submitted ? (r.figures.late ? 1 : 2) : 0);
      rows.sort((a, b) => rank(a) - rank(b));
      return card(title, [
        fields([['应报科室', rows.length], ['已提交', rows.filter((r) => r.figures.submitted).length], ['逾期', rows.filter((r) => r.figures.late).length], ['未提交', rows.filter((r) => !r.figures.submitted).length]]),
        table(['科室', '状态', '提交人', '提交时间'], rows.map((r) => [r.department, r.figures.submitted ? (r.figures.late ? '逾期提交' : '按时提交') : '未提交', r.figures.submittedBy ?? '', r.figures.submittedAt ? slashMonthDayTimeLabel(r.figures.submittedAt, deps.timeZone) : ''])),
      ]);
    }
    case 'declaration': {
      const rows = (await declarationsByDepartment(deps, month, scope)).sort((a, b) => b.figures.registered - a.figures.registered);
      return card(title, [
        fields([['登记件数', rows.reduce((a, r) => a + r.figures.registered, 0)], ['登记金额', `${rows.reduce((a, r) => a + r.figures.amount, 0).toFixed(2)} 元`], ['审批中', rows.reduce((a, r) => a + r.figures.pending, 0)]]),
        table(['科室', '登记件数', '登记金额（元）', '审批中'], rows.map((r) => [r.department, r.figures.registered, r.figures.amount.toFixed(2), r.figures.pending])),
        note('按收到日期所在月份统计，只含件数和金额，不含个人信息。'),
      ]);
    }
  }
}

export function registerProgress(bot: Bot): void {
  const deps = (): ProgressDeps => ({ db: bot.db, settings: bot.deps.settings, timeZone: bot.timeZone });

  bot.command(
    { names: ['进度', 'progress'], usage: '进度 [学习|考试|上报|上缴] [月份] [科室]', summary: '查看全院或本科室的学习、考试、上报和上缴进度', roles: ['leader', 'discipline', 'dept_head'], group: '进度与导出',
      // A department's detail lists each person (工号, 姓名, 状态), and 上报 names who submitted.
      confidential: true },
    async (ctx) => {
      const req = await parseRequest(bot, ctx);
      const scope = scopeFor(ctx, req.department);
      if (!req.area) {
        const [o, prev] = await Promise.all([overview(deps(), req.month, scope), overview(deps(), addMonths(req.month, -1), scope)]);
        const where = scope.departmentId !== undefined ? (req.department?.name ?? ctx.staff.department) : '全院';
        if (isEmpty(o)) return `${monthLabel(req.month)}${where}还没有任何数据。`;
        return overviewCard(`${where}清廉建设进度 · ${monthLabel(req.month)}`, req.month, o, prev);
      }
      return detailCard(bot, ctx, deps(), req.area, req.month, scope, req.department);
    },
  );

  bot.command(
    { names: ['我的进度', 'myprogress'], usage: '我的进度', summary: '查看自己本月的学习、考试和申报情况', group: '进度与导出', confidential: true },
    async (ctx) => {
      const month = monthOf(ctx.now, bot.timeZone);
      const d = deps();
      const [study] = (await studyPeople(d, month, ctx.staff.departmentId)).filter((p) => p.staffId === ctx.staff.staffId);
      const [exam] = (await examPeople(d, month, ctx.staff.departmentId)).filter((p) => p.staffId === ctx.staff.staffId);
      const decl = await ownDeclarationCounts(bot.db, ctx.staff.staffId);
      const declText = decl.length === 0 ? '无' : decl.map((r) => `${r.label} ${r.n} 件`).join('，');
      return card(`我的进度 · ${monthLabel(month)}`, [
        fields([
          ['本月学习', study ? `${study.status}${study.detail ? `（${study.detail}）` : ''}` : '本月无学习任务'],
          ['本月测验', exam ? `${exam.status}${exam.detail ? `（${exam.detail}）` : ''}` : '未参加'],
          ['我的申报', declText],
        ]),
        markdown(`发送 **学习** 查看本月学习任务，**考试** 开始测验，**我的申报** 查看申报详情。`),
      ]);
    },
  );

  bot.command(
    { names: ['导出', 'export'], usage: '导出 学习|考试|上报|上缴 [月份]', summary: '把某月的进度导出为 Excel 表格', roles: ['leader', 'discipline', 'dept_head'], group: '进度与导出', confidential: true },
    async (ctx) => {
      const req = await parseRequest(bot, ctx);
      if (!req.area) throw new UserError('请说明要导出哪一项，例如“导出 学习 2026-11”（可选：学习、考试、上报、上缴）。');
      const scope = scopeFor(ctx, req.department);
      const file = await progressWorkbook(deps(), req.area, req.month, scope, ctx.now);
      await ctx.replyFile({ name: file.name, data: file.data, mime: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' });
      bot.log.info({ area: req.area, month: monthKey(req.month), staffId: ctx.staff.staffId }, 'progress exported');
      return `已生成 ${file.name}，请查收。`;
    },
  );
}
