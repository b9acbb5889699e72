import { z } from 'zod';
import type { Card } from '../cards/model.js';
import {
  ACCEPT_ACTION,
  answerInput,
  APPLY_ACTION,
  assignedText,
  campaignCard,
  campaignListCard,
  confirmCard,
  decidedCard,
  descriptionInput,
  EVIDENCE_ACTION,
  FILES_ACTION,
  escalationText,
  FOUND,
  ledgerChart,
  ledgerProgressCard,
  NOT_FOUND,
  overdueReminderText,
  ownerNotice,
  problemCard,
  problemListCard,
  REFUSE_ACTION,
  REPORT_ACTION,
  REPORT_CLEAN_ACTION,
  reportSubmittedCard,
  START_ACTION,
} from '../cards/rectification.js';
import { hasScheduling, scheduling } from '../scheduler/index.js';
import type { CampaignResult, FollowUp, Staged } from '../scheduler/outbound.js';
import { arg, day, department, either, flag, many, no, ok, opt, text, word } from '../src/bot/args.js';
import type { Bot } from '../src/bot/bot.js';
import type { CommandContext } from '../src/bot/context.js';
import { addDays, localDate, parseTypedDay } from '../src/domain/calendar.js';
import { mayConfirm, mayRectify, mayView, parseProblemRef, problemRef, STATE_NAMES, type Move } from '../src/domain/rectification/ledger.js';
import {
  appliedBy,
  approversFor,
  NO_SUCH_PROBLEM,
  type Moved,
  type OverdueClaim,
} from '../src/domain/rectification/workflow.js';
import { byClosedRate, ledgerScopeFor, type LedgerScope } from '../src/domain/rectification/progress.js';
import type { Role } from '../src/domain/roles.js';
import { FileTooLargeError, PlatformError, UserError } from '../src/errors.js';
import { MAX_ATTACHMENT_BYTES } from '../src/domain/declaration/record.js';
import type { Queryable } from '../src/store/db.js';
import type { ReportAnswer } from '../src/store/rectification.js';
import { listActiveStaff, type Staff } from '../src/store/staff.js';

/**
 * 自查自纠 and the 问题清单: campaign rounds pushed to each target department, the department's
 * answer turning found problems into ledger rows, the rows' moves to 销号 with their approval
 * cards, overdue reminders and escalation, and the ledger's progress.
 */

const FOLLOW_UP_WAIT_MS = 1000;
/** Everyone who can own, confirm or oversee a row: a row's owner is always a department's head or report owner, or the discipline office. */
/** The ledger's rows are internal to the hospital's supervision: its commands answer privately (CommandSpec.confidential). */
const LEDGER_ROLES: Role[] = ['dept_head', 'report_owner', 'discipline', 'admin', 'leader'];
const DEFAULT_INSPECTION_DAYS = 30;

// ---- arguments ------------------------------------------------------------------------------

/** WT-12 or 12. */
const problemId = (name: string) =>
  arg(name, 'WT-编号', (i) => {
    const id = parseProblemRef(i.word);
    return id ? ok(id) : no();
  });
const REF_HINT = (example: string) => `例如“${example}”。发送“问题清单”查看问题编号。`;
const DESCRIPTION_MAX = 500;

/** `问题清单 [我的|科室]`. */
const listScope = either('scope', '我的|科室', ['mine', flag('mine', ['我的', 'mine'])], ['department', department('department')]);

// ---- action payloads ------------------------------------------------------------------------

const roundSchema = z.object({ c: z.string().regex(/^[a-z0-9][a-z0-9-]{0,59}$/), r: z.coerce.number().int().min(1).max(20) });
const refSchema = z.object({ id: z.string().regex(/^\d{1,18}$/), v: z.coerce.number().int().min(1) });

// ---- pushes and follow-ups -------------------------------------------------------------------

const campaignKey = (id: string, round: number): string => `rect.${id}.r${round}.push`;

function outboundOf(bot: Bot) {
  if (!hasScheduling(bot)) throw new Error('rectification follow-ups need the outbound queue (attachScheduling)');
  return scheduling(bot).outbound;
}

async function deliver(bot: Bot, staged: Staged): Promise<void> {
  await outboundOf(bot).deliver(staged, { waitMs: FOLLOW_UP_WAIT_MS });
}

/**
 * A round's push to each target department's head and report owner who has not answered yet.
 * Idempotent by key: a second call reaches only people added since.
 */
export async function pushRound(bot: Bot, campaignId: string, round: number, createdBy = 'scheduler'): Promise<CampaignResult | undefined> {
  const c = await bot.repos.rectification.getCampaign(campaignId);
  const r = (await bot.repos.rectification.listRounds(campaignId)).find((x) => x.round === round);
  if (!c || !r) return undefined;
  const reported = await bot.repos.rectification.reportedDepartments(campaignId, round);
  const recipients = (await bot.repos.rectification.campaignRecipients(c.spec)).filter((s) => !reported.has(s.departmentId));
  const body = campaignCard(c.spec, { round, dueOn: r.dueOn });
  return outboundOf(bot).createCampaign({ key: campaignKey(campaignId, round), kind: 'rect.campaign', title: `自查自纠：${c.spec.title}（第 ${round} 轮）`, recipients, createdBy, render: () => body });
}

/** The daily run: rounds whose start has come open and push; open rounds reach late joiners; overdue rows remind and escalate. */
export async function runRectificationDaily(bot: Bot, now: Date): Promise<{ opened: string[]; reminded: string[]; escalated: string[] }> {
  const today = localDate(now, bot.timeZone);
  const opened: string[] = [];
  for (const r of await bot.repos.rectification.dueRounds(today)) {
    if (await bot.repos.rectification.openRound(r.campaignId, r.round, 'system', now)) opened.push(`${r.campaignId}#${r.round}`);
  }
  for (const r of await bot.repos.rectification.listRounds()) {
    if (r.openedAt && (opened.includes(`${r.campaignId}#${r.round}`) || r.dueOn >= today)) await pushRound(bot, r.campaignId, r.round);
  }
  const run = await runOverdue(bot, now);
  return { opened, ...run };
}

export async function runOverdue(bot: Bot, now: Date): Promise<{ reminded: string[]; escalated: string[] }> {
  const staged: Staged = [];
  const claims = await bot.repos.rectification.claimOverdueRows(now, localDate(now, bot.timeZone), async (tx, c) => {
    staged.push(...(await outboundOf(bot).stage(tx, await overdueFollowUp(tx, c))));
  });
  await deliver(bot, staged);
  return { reminded: claims.filter((c) => c.which === 'remind').map((c) => c.problem.id), escalated: claims.filter((c) => c.which === 'escalate').map((c) => c.problem.id) };
}

async function overdueFollowUp(tx: Queryable, c: OverdueClaim): Promise<FollowUp> {
  const p = c.problem;
  if (c.which === 'remind') {
    const owner = (await listActiveStaff(tx)).find((s) => s.staffId === p.ownerId);
    return { key: `rect.${p.id}.v${p.version}.remind`, kind: 'rect.remind', title: '问题整改逾期提醒', to: owner ? [{ staff: owner, content: overdueReminderText(p, c.daysOver) }] : [] };
  }
  const to = new Map<string, Staff>();
  for (const role of ['discipline', 'leader'] as const) for (const s of await listActiveStaff(tx, { role })) if (s.staffId !== p.ownerId) to.set(s.staffId, s);
  const text = escalationText(p, c.daysOver);
  return { key: `rect.${p.id}.v${p.version}.escalate`, kind: 'rect.escalate', title: '问题整改逾期督办', to: [...to.values()].map((staff) => ({ staff, content: text })) };
}

/** In the move's transaction: the approvers' cards on an application, the owner's notice on a decision. */
async function moveFollowUps(bot: Bot, tx: Queryable, m: Moved): Promise<Staged> {
  const p = m.problem;
  const outbound = outboundOf(bot);
  if (m.move === 'apply') {
    const approvers = await approversFor(tx, p, m.actor.staffId);
    if (approvers.length === 0) bot.log.warn({ problemId: p.id }, 'rectification row has no one to confirm its closure');
    const body = confirmCard(p, bot.timeZone);
    return outbound.stage(tx, { key: `rect.${p.id}.v${p.version}.confirm`, kind: 'rect.confirm', title: '问题销号申请', to: approvers.map((staff) => ({ staff, content: body })) });
  }
  if (m.move === 'accept' || m.move === 'refuse') {
    const people = await listActiveStaff(tx);
    const applicant = await appliedBy(tx, p.id);
    const to = people.filter((s) => s.staffId === p.ownerId || s.staffId === applicant);
    const text = ownerNotice(p, m.move, m.actor.name);
    return outbound.stage(tx, { key: `rect.${p.id}.v${p.version}.notice`, kind: 'rect.notice', title: '问题销号结果通知', to: to.map((staff) => ({ staff, content: text })) });
  }
  return [];
}

// ---- evidence files ---------------------------------------------------------------------------

const EVIDENCE_DIALOGUE = 'rect.evidence';
const EVIDENCE_PROMPT = '请直接发送整改佐证的照片或文件（每条问题最多 9 个），发完后回复“完成”；回复“取消”结束。';
const DONE_WORDS = new Set(['完成', '好了', '发完了', 'done']);

/** Copies what a user sent from the platform, all or none; a string is the reason none was kept. */
async function fetchEvidence(bot: Bot, files: { name: string; ref: string }[]): Promise<{ name: string; data: Buffer; mime: string }[] | string> {
  const out: { name: string; data: Buffer; mime: string }[] = [];
  for (const f of files) {
    try {
      out.push({ name: f.name, ...(await bot.fetchFile(f.ref, MAX_ATTACHMENT_BYTES)) });
    } catch (e) {
      if (e instanceof FileTooLargeError) return `“${f.name}”超过 ${MAX_ATTACHMENT_BYTES / 1024 / 1024} MB，本次发送的文件都没有添加，请压缩后重新发送。`;
      if (!(e instanceof PlatformError)) throw e;
      bot.log.warn({ platform: e.platform, code: e.code, retryable: e.retryable }, 'evidence download failed');
      return '暂时无法从平台取回文件，本次发送的文件都没有添加，请稍后重新发送。';
    }
  }
  return out;
}

function registerEvidence(bot: Bot): void {
  // One step that keeps itself open: every message with files is saved at once, "完成" ends it.
  bot.dialogue({
    name: EVIDENCE_DIALOGUE,
    cancelMessage: '已停止添加。已经收到的文件仍附在问题上。',
    steps: (initial) => [{
      key: 'done',
      prompt: () => EVIDENCE_PROMPT,
      parse: async (t, _data, files) => {
        if (files?.length) {
          const fetched = await fetchEvidence(bot, files);
          if (typeof fetched === 'string') return { ok: false, message: fetched };
          const staff = (await bot.repos.staff.listActiveStaff()).find((s) => s.staffId === String(initial.staffId));
          if (!staff) return { ok: false, message: NO_SUCH_PROBLEM };
          const p = await bot.repos.rectification.addEvidenceFiles(staff, String(initial.id), fetched).catch((e: unknown) => {
            if (e instanceof UserError) return e;
            throw e;
          });
          if (p instanceof UserError) return { ok: false, message: p.message };
          return { ok: false, message: `已添加 ${files.length} 个，共 ${p.evidenceFiles.length} 个。可继续发送，发完后回复“完成”。` };
        }
        if (DONE_WORDS.has(t)) return { ok: true, value: true };
        return { ok: false, message: EVIDENCE_PROMPT };
      },
    }],
    complete: async (ctx, data) => showProblem(bot, ctx.staff, String(data.id ?? '')),
  });

  bot.action(
    EVIDENCE_ACTION,
    async (ctx) => {
      const p = await bot.repos.rectification.getProblem(ctx.value.id);
      if (!p || !mayRectify(p, ctx.staff)) throw new UserError(NO_SUCH_PROBLEM);
      if (p.state !== 'in_progress') throw new UserError(`问题 ${problemRef(p.id)} 目前${STATE_NAMES[p.state]}，只有整改中的问题可以添加佐证材料。`);
      // Who and which row ride in the dialogue: its steps see no handler context.
      await ctx.startDialogue(EVIDENCE_DIALOGUE, { id: p.id, staffId: ctx.staff.staffId, data: { id: p.id } });
      return { toast: '请在对话中发送照片或文件。' };
    },
    { schema: refSchema, confidential: true },
  );

  bot.action(
    FILES_ACTION,
    async (ctx) => {
      const files = await bot.repos.rectification.openEvidence(ctx.staff, ctx.value.id);
      // Confidential: clicked in a group, these go to the clicker's private chat.
      for (const f of files) await ctx.replyFile(f.name, f.data, f.mime);
      return { toast: `已把 ${files.length} 个佐证文件发送给您。` };
    },
    { schema: z.object({ id: z.string().regex(/^\d{1,18}$/) }), confidential: true },
  );
}

// ---- handlers -----------------------------------------------------------------------------

const canSeeAll = (s: Staff): boolean => s.roles.includes('discipline') || s.roles.includes('admin');

async function showProblem(bot: Bot, s: Staff, id: string): Promise<Card> {
  const p = await bot.repos.rectification.getProblem(id);
  if (!p || !mayView(p, s)) throw new UserError(NO_SUCH_PROBLEM);
  return problemCard(p, { rectify: mayRectify(p, s), confirm: mayConfirm(p, s, await bot.repos.rectification.appliedBy(p.id)) }, bot.timeZone);
}

/** One move by click or by message; a stale one says what the row is now. */
async function applyMove(bot: Bot, actor: Staff, ref: { id: string; v: number }, move: Move, input: { measure?: string; deadline?: string; evidence?: string; reason?: string }): Promise<{ toast: string; card?: Card }> {
  let staged: Staged = [];
  const now = bot.now();
  const r = await bot.repos.rectification.moveRow(actor, ref, move, {
    now,
    today: localDate(now, bot.timeZone),
    ...input,
    followUps: async (tx, m) => {
      staged = await moveFollowUps(bot, tx, m);
    },
  });
  if (r.outcome === 'stale') {
    return { toast: `问题 ${problemRef(r.problem.id)} 已有更新（现在${STATE_NAMES[r.problem.state]}），您的操作没有生效。`, card: await showProblem(bot, actor, r.problem.id).catch(() => undefined) ?? problemCard(r.problem, { rectify: false, confirm: false }, bot.timeZone) };
  }
  bot.log.info({ problemId: r.moved.problem.id, move, to: r.moved.problem.state }, 'rectification row moved');
  await deliver(bot, staged);
  const p = r.moved.problem;
  const toast = {
    start: `问题 ${problemRef(p.id)} 已开始整改，期限 ${p.deadline}。整改完成后请申请销号。`,
    apply: `问题 ${problemRef(p.id)} 的销号申请已提交，等待纪检监察室${p.confirmDepartment ? `或${p.confirmDepartment}` : ''}确认。`,
    accept: `问题 ${problemRef(p.id)} 已确认销号。`,
    refuse: `问题 ${problemRef(p.id)} 已退回整改，已通知责任人。`,
  }[move];
  const card = move === 'accept' || move === 'refuse' ? decidedCard(p, move, actor.name, bot.timeZone) : problemCard(p, { rectify: mayRectify(p, actor), confirm: false }, bot.timeZone);
  return { toast, card };
}

/** The form's answers as the domain reads them: each item found or not, with its description. */
function answersFrom(itemIds: string[], form: Record<string, string> | undefined, allClean: boolean): ReportAnswer[] {
  if (allClean) return itemIds.map((item) => ({ item, found: false }));
  const out: ReportAnswer[] = [];
  for (const item of itemIds) {
    const a = form?.[answerInput(item)];
    if (a !== FOUND && a !== NOT_FOUND) continue;
    out.push(a === FOUND ? { item, found: true, description: form?.[descriptionInput(item)] ?? '' } : { item, found: false });
  }
  return out;
}

export function registerRectification(bot: Bot): void {
  const today = (now: Date) => localDate(now, bot.timeZone);

  bot.command(
    { names: ['自查', 'selfcheck'], summary: '查看本科室待填报的自查自纠，逐项填报“未发现问题”或“发现问题”', roles: ['dept_head', 'report_owner'], group: '自查自纠与问题清单' },
    async (ctx) => {
      const rounds = (await bot.repos.rectification.listRounds()).filter((r) => r.openedAt);
      const cards: Card[] = [];
      for (const r of rounds) {
        const c = await bot.repos.rectification.getCampaign(r.campaignId);
        if (!c || !(await bot.repos.rectification.targetDepartments(c.spec)).some((d) => d.id === ctx.staff.departmentId)) continue;
        if ((await bot.repos.rectification.reportedDepartments(r.campaignId, r.round)).has(ctx.staff.departmentId)) continue;
        cards.push(campaignCard(c.spec, r));
      }
      if (cards.length === 0) return '本科室目前没有待填报的自查自纠。发送“问题清单”查看本科室的问题。';
      for (const c of cards.slice(0, -1)) await ctx.reply(c);
      return cards[cards.length - 1];
    },
  );

  bot.command(
    { names: ['自查活动', 'selfchecks'], summary: '列出导入的自查自纠活动、轮次和各科室填报情况', roles: ['admin', 'discipline', 'leader'], group: '自查自纠与问题清单' },
    async () => {
      const rows = [];
      for (const c of await bot.repos.rectification.listCampaigns()) {
        const targets = (await bot.repos.rectification.targetDepartments(c.spec)).length;
        const rounds = [];
        for (const r of await bot.repos.rectification.listRounds(c.id)) rounds.push({ round: r.round, startsOn: r.startsOn, dueOn: r.dueOn, opened: r.openedAt !== null, reported: (await bot.repos.rectification.reportedDepartments(c.id, r.round)).size, targets });
        rows.push({ spec: c.spec, rounds });
      }
      return campaignListCard(rows);
    },
  );

  bot.command(
    { names: ['开展自查', 'startcheck'], args: [word('campaign', '活动编号')], hint: '例如“开展自查 baoji-2023”。发送“自查活动”查看编号。', summary: '立即开始某项自查自纠活动的下一轮，推送给各目标科室', roles: ['admin', 'discipline'], group: '自查自纠与问题清单' },
    async (ctx) => {
      const id = ctx.params.campaign.toLowerCase();
      const c = await bot.repos.rectification.getCampaign(id);
      if (!c) throw new UserError(`没有编号为 ${id} 的自查自纠活动。发送“自查活动”查看已导入的活动。`);
      const rounds = await bot.repos.rectification.listRounds(id);
      const next = rounds.find((r) => !r.openedAt);
      const current = next ?? rounds[rounds.length - 1];
      if (next) await bot.repos.rectification.openRound(id, next.round, ctx.staff.staffId, ctx.now);
      const r = await pushRound(bot, id, current.round, ctx.staff.staffId);
      return next
        ? `已开始“${c.spec.title}”第 ${current.round} 轮，推送给 ${r?.added ?? 0} 位科室负责人和报告联络员（截止 ${current.dueOn}）。`
        : `“${c.spec.title}”的 ${rounds.length} 轮都已开始；已补推给尚未收到的 ${r?.added ?? 0} 人。`;
    },
  );

  bot.command(
    { names: ['问题清单', 'problems'], args: [opt(listScope)], example: '问题清单 心血管内科', summary: '查看问题清单：纪检监察室看全院，科室负责人和联络员看本科室，“我的”看自己负责的', roles: LEDGER_ROLES, group: '自查自纠与问题清单', confidential: true },
    async (ctx) => {
      const scope = ctx.params.scope;
      const req = { mine: scope?.kind === 'mine', department: scope?.kind === 'department' ? scope.value : undefined };
      const s = ctx.staff;
      const all = canSeeAll(s);
      if (req.mine || (!all && !s.roles.includes('dept_head') && !s.roles.includes('report_owner'))) {
        return problemListCard('我负责的问题', (await bot.repos.rectification.listProblems({ ownerId: s.staffId })).filter((p) => p.state !== 'merged'), today(ctx.now));
      }
      const department = req.department ?? (all ? undefined : { id: s.departmentId, name: s.department });
      if (!all && department && department.id !== s.departmentId) throw new UserError(`抱歉，您只能查看本科室（${s.department}）的问题清单。`);
      const rows = await bot.repos.rectification.listProblems(department ? { departmentId: department.id } : {});
      return problemListCard(`问题清单 · ${department?.name ?? '全院'}`, rows, today(ctx.now));
    },
  );

  bot.command(
    { names: ['问题', 'problem'], args: [problemId('id')], hint: REF_HINT('问题 WT-12'), summary: '查看一条问题，填写整改措施、申请销号或确认销号', roles: LEDGER_ROLES, group: '自查自纠与问题清单', confidential: true },
    async (ctx) => showProblem(bot, ctx.staff, ctx.params.id),
  );

  bot.command(
    { names: ['新增问题', 'addproblem'], args: [department('department'), opt(day('deadline', '整改期限')), text('description', '问题描述')], example: '新增问题 心血管内科 2026-12-31 耗材申领记录不全', summary: '把监督检查发现的问题列入问题清单（被查从严）', roles: ['discipline'], group: '自查自纠与问题清单', confidential: true },
    async (ctx) => {
      const { department, deadline = addDays(today(ctx.now), DEFAULT_INSPECTION_DAYS), description } = ctx.params;
      if (deadline < today(ctx.now)) throw new UserError('整改期限不能早于今天。');
      if (description.length > DESCRIPTION_MAX) throw new UserError(`问题描述不能超过 ${DESCRIPTION_MAX} 字，请精简后重新发送。`);
      const input = { department, deadline, description };
      let staged: Staged = [];
      const p = await bot.repos.rectification.addInspectionProblem(ctx.staff, input, {
        followUps: async (tx, row) => {
          const owner = (await listActiveStaff(tx)).find((s) => s.staffId === row.ownerId);
          staged = owner ? await outboundOf(bot).stage(tx, { key: `rect.${row.id}.assigned`, kind: 'rect.assigned', title: '问题整改交办', to: [{ staff: owner, content: assignedText(row) }] }) : [];
        },
      });
      await deliver(bot, staged);
      return `已列入问题清单：${problemRef(p.id)}（${input.department.name}，检查发现），责任人${p.ownerName}，整改期限 ${p.deadline}。已通知责任人。`;
    },
  );

  bot.command(
    { names: ['合并问题', 'mergeproblems'], args: [many(problemId('ids'), 2), opt(department('department', '负责科室', { exact: true })), text('description', '描述')], example: '合并问题 WT-3 WT-5 医务科 统一规范耗材申领流程', summary: '把多个科室的同类问题合并为一个院级问题统一整改', roles: ['discipline'], group: '自查自纠与问题清单', confidential: true },
    async (ctx) => {
      const input = ctx.params;
      if (input.description.length > DESCRIPTION_MAX) throw new UserError(`问题描述不能超过 ${DESCRIPTION_MAX} 字，请精简后重新发送。`);
      const owner = input.department ? await bot.repos.rectification.departmentOwner(input.department.id) : ctx.staff;
      if (!owner) throw new UserError(`${input.department!.name}没有科室负责人或报告联络员，无法指定整改责任人。`);
      const rows = await Promise.all(input.ids.map((id) => bot.repos.rectification.getProblem(id)));
      const deadline = rows.reduce((d, p) => (p && p.deadline > d ? p.deadline : d), addDays(today(ctx.now), DEFAULT_INSPECTION_DAYS));
      let staged: Staged = [];
      const m = await bot.repos.rectification.mergeProblems(ctx.staff, { ids: input.ids, description: input.description, owner, deadline, now: ctx.now }, {
        followUps: async (tx, merged) => {
          const people = new Map((await listActiveStaff(tx)).map((s) => [s.staffId, s]));
          const to = [merged.item.ownerId, ...merged.merged.map((x) => x.ownerId)].filter((id, i, a) => a.indexOf(id) === i && id !== ctx.staff.staffId).flatMap((id) => (people.get(id) ? [people.get(id)!] : []));
          const text = `问题 ${merged.merged.map((x) => problemRef(x.id)).join('、')} 已合并为院级问题 ${problemRef(merged.item.id)}“${merged.item.description}”，由${merged.item.ownerName}负责统一整改，期限 ${merged.item.deadline}。`;
          staged = await outboundOf(bot).stage(tx, { key: `rect.${merged.item.id}.merged`, kind: 'rect.merged', title: '问题合并通知', to: to.map((staff) => ({ staff, content: text })) });
        },
      });
      await deliver(bot, staged);
      return `已合并为院级问题 ${problemRef(m.item.id)}，责任人${m.item.ownerName}，整改期限 ${m.item.deadline}；原问题 ${m.merged.map((x) => problemRef(x.id)).join('、')} 按它的进度计入各自科室。`;
    },
  );

  bot.command(
    { names: ['确认销号', 'closeproblem'], args: [problemId('id')], hint: REF_HINT('确认销号 WT-12'), summary: '确认一条已申请销号的问题整改到位（纪检监察室或指定的职能科室）', roles: ['discipline', 'dept_head'], group: '自查自纠与问题清单', confidential: true },
    async (ctx) => {
      const { id } = ctx.params;
      const p = await bot.repos.rectification.getProblem(id);
      if (!p) throw new UserError(NO_SUCH_PROBLEM);
      return (await applyMove(bot, ctx.staff, { id, v: p.version }, 'accept', {})).toast;
    },
  );

  bot.command(
    { names: ['退回整改', 'refuseproblem'], args: [problemId('id'), text('reason', '理由')], hint: REF_HINT('退回整改 WT-12 佐证材料不足'), summary: '把销号申请退回整改，理由必填', roles: ['discipline', 'dept_head'], group: '自查自纠与问题清单', confidential: true },
    async (ctx) => {
      const { id, reason } = ctx.params;
      const p = await bot.repos.rectification.getProblem(id);
      if (!p) throw new UserError(NO_SUCH_PROBLEM);
      return (await applyMove(bot, ctx.staff, { id, v: p.version }, 'refuse', { reason })).toast;
    },
  );

  for (const [actionId, allClean] of [[REPORT_ACTION, false], [REPORT_CLEAN_ACTION, true]] as const) {
    bot.action(
      actionId,
      async (ctx) => {
        const c = await bot.repos.rectification.getCampaign(ctx.value.c);
        if (!c) throw new UserError('这项自查自纠活动不存在或已结束。');
        const answers = answersFrom(c.spec.items.map((i) => i.id), ctx.form, allClean);
        const r = await bot.repos.rectification.submitReport(ctx.staff, { campaignId: ctx.value.c, round: ctx.value.r }, answers, { now: ctx.now, today: today(ctx.now) });
        bot.log.info({ campaignId: ctx.value.c, round: ctx.value.r, departmentId: ctx.staff.departmentId, found: r.problems.length }, 'self-inspection submitted');
        return { toast: r.problems.length ? `已提交，发现 ${r.problems.length} 个问题，已列入问题清单。` : '已提交：未发现问题。', card: reportSubmittedCard(c.spec, r.problems) };
      },
      // The answer lists the department's problems: clicked in a group, it goes privately.
      { schema: roundSchema, confidential: true },
    );
  }

  const moveActions: [string, Move][] = [[START_ACTION, 'start'], [APPLY_ACTION, 'apply'], [ACCEPT_ACTION, 'accept'], [REFUSE_ACTION, 'refuse']];
  for (const [actionId, move] of moveActions) {
    bot.action(
      actionId,
      async (ctx) => {
        const f = ctx.form ?? {};
        const deadline = f.deadline?.trim() ? parseTypedDay(f.deadline.trim()) : undefined;
        if (deadline && !deadline.ok) throw new UserError('整改期限请按 年-月-日 填写，例如 2026-12-31。');
        return applyMove(bot, ctx.staff, ctx.value, move, { measure: f.measure, evidence: f.evidence, reason: f.reason, ...(deadline?.ok ? { deadline: deadline.day } : {}) });
      },
      { schema: refSchema, confidential: true },
    );
  }

  registerEvidence(bot);

  if (!hasScheduling(bot)) return;
  scheduling(bot).scheduler.every('rectification.daily', '15 8 * * *', async ({ now }) => {
    const run = await runRectificationDaily(bot, now);
    if (run.opened.length || run.reminded.length || run.escalated.length) bot.log.info({ opened: run.opened, reminded: run.reminded.length, escalated: run.escalated.length }, 'rectification daily run');
  });
}

// ---- progress (called by handlers/progress.ts) ----------------------------------------------

/** `进度 问题清单`: the ledger by department, with its chart; leaders read small counts as "<3". */
export async function ledgerProgress(bot: Bot, ctx: CommandContext, scope: LedgerScope): Promise<Card> {
  const rows = await bot.repos.rectification.ledgerByDepartment(localDate(ctx.now, bot.timeZone), scope.departmentId);
  const sorted = byClosedRate(rows);
  const chart = ledgerChart(sorted);
  const where = scope.departmentName ?? '全院';
  return ledgerProgressCard(`问题清单进度 · ${where} · 截至 ${localDate(ctx.now, bot.timeZone)}`, sorted, { leaderView: ledgerScopeFor(ctx.staff).leaderView, ...(chart !== undefined ? { chart } : {}) });
}
