import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  caseDetailCard,
  caseListCard,
  escalationText,
  moveForm,
  queryAnswerCard,
  receiptCard,
  registerForm,
  reminderText,
  replyMessage,
  reviewCard,
  TIPOFF_ATTACH,
  TIPOFF_CONFIRM,
  TIPOFF_DISCARD,
  TIPOFF_FILES,
  TIPOFF_FORM,
  TIPOFF_MOVE,
  TIPOFF_REGISTER,
  TIPOFF_STEP,
  tipoffForm,
  tipoffStatsCard,
} from '../cards/tipoff.js';
import type { Card } from '../cards/model.js';
import { hasScheduling, scheduling } from '../scheduler/index.js';
import type { FollowUp, Staged } from '../scheduler/outbound.js';
import { arg, hide, no, ok, opt, words } from '../src/bot/args.js';
import type { Bot } from '../src/bot/bot.js';
import { parseListArgs, parseTipoffArgs, type ListFilter, type TipoffArgs } from '../src/domain/tipoff/requests.js';
import type { CommandContext, CommandReply, HandlerContext } from '../src/bot/context.js';
import { localDate } from '../src/domain/calendar.js';
import { MAX_ATTACHMENT_BYTES } from '../src/domain/declaration/record.js';
import { hashQueryCode, normaliseCode, CODE_LENGTH } from '../src/domain/tipoff/query-code.js';
import {
  caseNo,
  DISPOSITIONS,
  MAX_TIPOFF_ATTACHMENTS,
  MOVES,
  MOVE_NAMES,
  STATE_LABELS,
  type Move,
} from '../src/domain/tipoff/record.js';
import type { Keyring } from '../src/domain/tipoff/sealing.js';
import { checkRegistered, checkTipoff, type TipoffInput } from '../src/domain/tipoff/validation.js';
import {
  disciplineOffice,
  NO_SUCH_CASE,
  reporterForReply,
  requireDiscipline,
  type Clock,
  type DeadlineClaim,
  type MoveRequest,
} from '../src/domain/tipoff/workflow.js';
import { FileTooLargeError, PlatformError, UserError } from '../src/errors.js';
import type { Queryable } from '../src/store/db.js';
import { linkedStaffIds } from '../src/store/tipoffs.js';
import type { Staff } from '../src/store/staff.js';

/**
 * 线索反映: staff file tip-offs privately (form or dialogue, review, receipt with a 查询码 when
 * identity-protected); the discipline office runs the case ledger (受理 → 初核 → 核实 → 处置 →
 * 回复 → 办结) by card or by message; deadlines remind the handler and escalate to the head;
 * leadership sees counts only. Logs name case numbers and actions, never content or people.
 */

// ---- arguments ---------------------------------------------------------------------------------

/** `线索 XS-12 [操作 …]`: the ledger's small language (src/domain/tipoff/requests.ts). */
const caseRequest = arg('request', 'XS-编号 [操作]', (i) => ok(parseTipoffArgs(i.words)), { greedy: true });
/** `线索列表 [状态] [超期] [来源]`. */
const listFilter = arg(
  'filter',
  '状态、超期或来源',
  (i) => {
    const f = parseListArgs(i.words);
    return f.ok ? ok(f) : no(f.message);
  },
  { greedy: true, shown: '[状态] [超期] [来源]' },
);

// ---- keys --------------------------------------------------------------------------------------

const keyrings = new WeakMap<Bot, () => Keyring>();
/** createApp hands over the deployment's keys (TIPOFF_KEY …) before handlers run. */
export function provideTipoffKeys(bot: Bot, keyring: () => Keyring): void {
  keyrings.set(bot, keyring);
}
function keysOf(bot: Bot): Keyring {
  const k = keyrings.get(bot);
  if (!k) throw new Error('tip-off keys were not provided (provideTipoffKeys)');
  return k();
}

// ---- drafts (between the form and 确认提交) -------------------------------------------------------

const DRAFT_TTL_MS = 60 * 60 * 1000;
const draftSchema = z.object({
  owner: z.string(),
  input: z.object({ occurred: z.string(), place: z.string(), department: z.string(), persons: z.string(), matter: z.string(), realName: z.boolean() }),
  files: z.array(z.object({ name: z.string(), ref: z.string() })).max(MAX_TIPOFF_ATTACHMENTS),
});
type Draft = z.infer<typeof draftSchema>;
const draftKey = (d: string) => `tipoff.draft.${d}`;
const draftRef = z.object({ d: z.string().regex(/^[a-f0-9]{32}$/) });
const caseRef = z.object({ id: z.string().regex(/^\d{1,12}$/) });
const moveRef = z.object({ id: z.string().regex(/^\d{1,12}$/), v: z.coerce.number().int().min(1), m: z.enum(MOVE_NAMES as [Move, ...Move[]]) });

const EXPIRED = '这份线索反映已过期或已提交，请重新发送“举报”。';
const ATTACH_DIALOGUE = 'tipoff.attach';
const ATTACH_PROMPT = `请直接发送证据照片或文件（最多 ${MAX_TIPOFF_ATTACHMENTS} 个），发完后回复“完成”；回复“取消”不再添加。`;
const DONE_WORDS = new Set(['完成', '好了', '发完了', 'done']);
const FOLLOW_UP_WAIT_MS = 1000;
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

export function registerTipoff(bot: Bot): void {
  const clock = (): Clock => ({ now: bot.now(), timeZone: bot.timeZone, settings: bot.deps.settings.tipoff });
  const today = () => localDate(bot.now(), bot.timeZone);
  const outbound = () => {
    if (!hasScheduling(bot)) throw new Error('tip-off follow-ups need the outbound queue (attachScheduling)');
    return scheduling(bot).outbound;
  };

  const readDraft = async (ctx: HandlerContext, d: string): Promise<Draft> => {
    const r = await bot.state.get(draftKey(d), draftSchema);
    // Someone else's draft id answers as an expired one: nothing about it is shown.
    if (!r || !('value' in r) || r.value.owner !== ctx.staff.staffId) throw new UserError(EXPIRED);
    return r.value;
  };

  const detail = async (viewer: Staff, id: string): Promise<Card> => {
    requireDiscipline(viewer);
    const t = await bot.repos.tipoffs.getTipoff(id);
    if (!t) throw new UserError(NO_SUCH_CASE);
    const links = (await bot.repos.tipoffs.linksOf(id)).map((l) => (l.kind === 'declaration' ? `申报 SB-${l.ref}` : `${l.name ?? ''}（${l.ref}）`));
    return caseDetailCard(t, await bot.repos.tipoffs.tipoffTrail(id), { reporter: await bot.repos.tipoffs.reporterLabel(keysOf(bot), t, viewer), links, today: today() }, bot.timeZone);
  };

  /** One ledger move, typed or clicked; the reply to a 实名 reporter is staged with it. */
  const move = async (actor: Staff, req: MoveRequest): Promise<{ message: string; card: Card }> => {
    let staged: Staged = [];
    const moved = await bot.repos.tipoffs.moveCase(actor, req, clock(), async (tx, m) => {
      if (m.move !== 'reply') return;
      const reporter = await reporterForReply(tx, keysOf(bot), m.tipoff);
      if (reporter) staged = await outbound().stage(tx, { key: `tipoff.${m.tipoff.id}.reply`, kind: 'tipoff.reply', title: '线索反映处理意见', to: [{ staff: reporter, content: replyMessage(m.tipoff, req.note.trim()) }] });
    });
    bot.log.info({ tipoffId: moved.tipoff.id, action: req.move, to: moved.tipoff.state }, 'tip-off moved');
    await outbound().deliver(staged, { waitMs: FOLLOW_UP_WAIT_MS });
    const told = req.move === 'reply' ? (staged.length ? '，已私聊发送给实名举报人' : moved.tipoff.source === 'bot' && !moved.tipoff.realName ? '，举报人可凭查询码查看' : '') : '';
    return { message: `${caseNo(moved.tipoff.id)} 已${MOVES[req.move].label}，现为“${STATE_LABELS[moved.tipoff.state]}”${told}。`, card: await detail(actor, moved.tipoff.id) };
  };

  /** 举报 查询: the same answer for a wrong code and an unknown one, and a limit per hour either way. */
  const query = async (ctx: HandlerContext, code: string): Promise<Card | string> => {
    const hour = Math.floor(bot.now().getTime() / 3_600_000);
    let allowed = false;
    for (let i = 0; i < bot.deps.settings.tipoff.queriesPerHour && !allowed; i++) allowed = await bot.state.setIfAbsent(`tipoff.query.${ctx.staff.staffId}.${hour}.${i}`, 1, 3_600_000);
    if (!allowed) return '查询次数过多，请一小时后再试。';
    const unknown = `没有找到与这个查询码对应的线索。请核对查询码（${CODE_LENGTH} 位字母和数字，例如“举报 查询 ABCD-EFGH-JKMN”）后再试。`;
    if (normaliseCode(code).length !== CODE_LENGTH) return unknown;
    const t = await bot.repos.tipoffs.findByQueryCode(hashQueryCode(code));
    if (!t) return unknown;
    // A duplicate merged away is followed to the case that carries on.
    const live = t.mergedInto ? ((await bot.repos.tipoffs.getTipoff(t.mergedInto)) ?? t) : t;
    return queryAnswerCard(t, live.state === 'merged' ? 'merged' : live.state, live.reply ?? t.reply);
  };

  const request = async (ctx: CommandContext, a: TipoffArgs): Promise<CommandReply> => {
      switch (a.kind) {
        case 'form':
          if (a.typedContent) await ctx.reply('为保护您和被反映人，请不要在消息里直接写反映内容，请用下面的表单填写。');
          return tipoffForm();
        case 'query':
          return query(ctx, a.code);
        case 'usage':
          throw new UserError(a.message);
        case 'show':
          return detail(ctx.staff, a.id);
        case 'move': {
          const out = await move(ctx.staff, { id: a.id, move: a.move, note: a.note, ...(a.disposition ? { disposition: a.disposition } : {}) });
          await ctx.reply(out.message);
          return out.card;
        }
        case 'assign': {
          const t = await bot.repos.tipoffs.assignHandler(ctx.staff, a.id, a.staffId, bot.deps.settings.tipoff);
          bot.log.info({ tipoffId: t.id, action: 'assign' }, 'tip-off assigned');
          return `已把 ${caseNo(t.id)} 分派给 ${t.handlerName}承办。`;
        }
        case 'merge':
          await bot.repos.tipoffs.mergeCase(ctx.staff, a.id, a.into, clock());
          bot.log.info({ tipoffId: a.id, action: 'merge', into: a.into }, 'tip-off merged');
          return `已把 ${caseNo(a.id)} 作为重复线索并入 ${caseNo(a.into)}。`;
        case 'link':
          return bot.repos.tipoffs.linkCase(ctx.staff, a.id, a.target);
      }
  };
  const lineOf = { summary: '线索反映（仅限私聊，身份保密可选）；凭查询码查看进展；纪检监察室查看和办理线索', group: '线索反映', confidential: true };
  // Anything typed after 举报 is taken for content: it is neither stored nor echoed.
  bot.command({ names: ['举报', 'tipoff'], args: [hide(opt(words('content', '内容')))], ...lineOf }, (ctx) => request(ctx, { kind: 'form', typedContent: ctx.params.content !== undefined }));
  bot.command({ names: ['举报 查询', '举报 query'], args: [words('code', '查询码')], ...lineOf }, (ctx) => request(ctx, { kind: 'query', code: ctx.params.code.join('') }));
  bot.command(
    { names: ['线索'], partOf: '举报', args: [caseRequest], hint: '反映线索请发送“举报”；纪检监察室办理线索请发送“线索 XS-编号”，例如“线索 XS-12 受理 材料齐全”。', ...lineOf },
    (ctx) => request(ctx, ctx.params.request),
  );

  bot.command(
    { names: ['线索列表', 'tipoffs'], args: [opt(listFilter)], summary: '线索台账，可按状态、超期、来源筛选（纪检监察室）', roles: ['discipline'], group: '线索反映', confidential: true },
    async (ctx) => {
      const f: Omit<ListFilter, 'ok'> = ctx.params.filter ?? { overdue: false, label: '' };
      const list = await bot.repos.tipoffs.listTipoffs({ ...(f.state ? { state: f.state } : {}), ...(f.source ? { source: f.source } : {}), ...(f.overdue ? { overdueOn: today() } : {}), limit: 50 });
      if (list.length === 0) return f.label ? `没有符合“${f.label}”的线索。` : '目前还没有线索。';
      return caseListCard(list, today(), f.label);
    },
  );

  bot.command(
    { names: ['线索登记', 'registertipoff'], summary: '登记上级转办、电话、信件、邮箱、来访收到的线索（纪检监察室）', roles: ['discipline'], group: '线索反映', confidential: true },
    async () => registerForm(),
  );

  bot.command(
    { names: ['导出线索', 'exporttipoffs'], summary: '导出线索台账及处理记录为 Excel，不含举报人（纪检监察室）', roles: ['discipline'], group: '线索反映', confidential: true },
    async (ctx) => {
      const { buffer, count } = await bot.repos.tipoffs.exportTipoffs(bot.now(), bot.timeZone);
      await bot.repos.tipoffs.recordExport(ctx.staff, count);
      await ctx.replyFile(`线索台账-${today()}.xlsx`, buffer, XLSX);
      return `已导出 ${count} 条线索及处理记录（不含举报人身份）。文件涉及保密信息，请妥善保管，勿外传。`;
    },
  );

  bot.command(
    { names: ['线索统计', 'tipoffstats'], summary: '按月份和状态统计线索件数（少于 3 件显示“<3”）', roles: ['leader', 'discipline'], group: '线索反映' /* counts only: may be shown in a group */ },
    async () => {
      const rows = await bot.repos.tipoffs.countsByMonthAndState(bot.timeZone);
      if (rows.length === 0) return '目前还没有线索。';
      return tipoffStatsCard(rows);
    },
  );

  // ---- filing ----

  bot.action(
    TIPOFF_FORM,
    async (ctx) => {
      const checked = checkTipoff(ctx.form ?? {});
      if (!checked.ok) return { toast: `请补充后再提交：\n${checked.errors.join('\n')}` };
      const d = randomUUID().replace(/-/g, '');
      await bot.state.set(draftKey(d), { owner: ctx.staff.staffId, input: checked.value, files: [] } satisfies Draft, DRAFT_TTL_MS);
      return { card: reviewCard(d, checked.value, []) };
    },
    { confidential: true },
  );

  bot.dialogue({
    name: ATTACH_DIALOGUE,
    cancelMessage: '已停止添加。已经发送的文件仍在这份线索反映中，请在核对卡片上确认提交。',
    steps: (initial) => [
      {
        key: 'done',
        prompt: () => ATTACH_PROMPT,
        parse: async (t, _data, files) => {
          const key = draftKey(String(initial.d));
          const r = await bot.state.get(key, draftSchema);
          if (!r || !('value' in r) || r.value.owner !== String(initial.owner)) return { ok: true, value: 'expired' };
          if (files?.length) {
            const all = [...r.value.files, ...files.map((f) => ({ name: f.name, ref: f.ref }))];
            if (all.length > MAX_TIPOFF_ATTACHMENTS) return { ok: false, message: `最多 ${MAX_TIPOFF_ATTACHMENTS} 个文件，已有 ${r.value.files.length} 个，本次发送的 ${files.length} 个没有添加。发完请回复“完成”。` };
            await bot.state.set(key, { ...r.value, files: all }, DRAFT_TTL_MS);
            return { ok: false, message: `已添加 ${files.length} 个，共 ${all.length} 个。可继续发送，发完后回复“完成”。` };
          }
          if (DONE_WORDS.has(t)) return { ok: true, value: 'done' };
          return { ok: false, message: ATTACH_PROMPT };
        },
      },
    ],
    complete: async (ctx, data) => {
      if (data.done === 'expired') return EXPIRED;
      const draft = await readDraft(ctx, String(data.d ?? ''));
      return reviewCard(String(data.d), draft.input as TipoffInput, draft.files);
    },
  });

  bot.action(
    TIPOFF_ATTACH,
    async (ctx) => {
      await readDraft(ctx, ctx.value.d);
      await ctx.startDialogue(ATTACH_DIALOGUE, { d: ctx.value.d, owner: ctx.staff.staffId, data: { d: ctx.value.d } });
      return { toast: '请在对话中发送证据照片或文件。' };
    },
    { schema: draftRef, confidential: true },
  );

  bot.action(
    TIPOFF_DISCARD,
    async (ctx) => {
      await readDraft(ctx, ctx.value.d);
      await bot.state.delete(draftKey(ctx.value.d));
      return { toast: '已放弃，没有保存任何内容。', card: { title: '线索反映（已放弃）', elements: [{ type: 'text', text: '这份线索反映已放弃，内容没有保存。' }] } };
    },
    { schema: draftRef, confidential: true },
  );

  bot.action(
    TIPOFF_CONFIRM,
    async (ctx) => {
      const draft = await readDraft(ctx, ctx.value.d);
      const files = await fetchEvidence(bot, draft.files);
      if (typeof files === 'string') return { toast: files };
      // The draft goes first: a second click finds nothing to file twice.
      const claimed = await bot.state.setIfAbsent(`tipoff.filed.${ctx.value.d}`, 1, DRAFT_TTL_MS);
      if (!claimed) throw new UserError(EXPIRED);
      const filed = await bot.repos.tipoffs.fileTipoff(keysOf(bot), ctx.staff, draft.input as TipoffInput, files, clock()).catch(async (e: unknown) => {
        await bot.state.delete(`tipoff.filed.${ctx.value.d}`);
        throw e;
      });
      await bot.state.delete(draftKey(ctx.value.d));
      bot.log.info({ tipoffId: filed.tipoff.id, action: 'file' }, 'tip-off filed');
      return { toast: `已提交，编号 ${caseNo(filed.tipoff.id)}。`, card: receiptCard(filed.tipoff, filed.queryCode) };
    },
    { schema: draftRef, confidential: true },
  );

  // ---- the ledger ----

  bot.action(
    TIPOFF_REGISTER,
    async (ctx) => {
      const checked = checkRegistered(ctx.form ?? {});
      if (!checked.ok) return { toast: `请补充后再登记：\n${checked.errors.join('\n')}` };
      const t = await bot.repos.tipoffs.registerTipoff(ctx.staff, checked.value, clock());
      bot.log.info({ tipoffId: t.id, action: 'register', source: t.source }, 'tip-off registered');
      return { toast: `已登记，编号 ${caseNo(t.id)}。`, card: await detail(ctx.staff, t.id) };
    },
    { roles: ['discipline'], confidential: true },
  );

  bot.action(
    TIPOFF_STEP,
    async (ctx) => {
      requireDiscipline(ctx.staff);
      const t = await bot.repos.tipoffs.getTipoff(ctx.value.id);
      if (!t) throw new UserError(NO_SUCH_CASE);
      return { card: moveForm(t, ctx.value.m) };
    },
    { schema: moveRef, roles: ['discipline'], confidential: true },
  );

  bot.action(
    TIPOFF_MOVE,
    async (ctx) => {
      const f = ctx.form ?? {};
      const disposition = DISPOSITIONS.find((d) => d === f.disposition);
      const out = await move(ctx.staff, { id: ctx.value.id, version: ctx.value.v, move: ctx.value.m, note: f.note ?? '', ...(disposition ? { disposition } : {}) });
      return { toast: out.message, card: out.card };
    },
    { schema: moveRef, roles: ['discipline'], confidential: true },
  );

  bot.action(
    TIPOFF_FILES,
    async (ctx) => {
      requireDiscipline(ctx.staff);
      const reach = ctx.conversation.type === 'direct' ? { platform: ctx.platform, conversation: ctx.conversation } : bot.reachFor(ctx.staff);
      const platform = reach && bot.platform(reach.platform);
      if (!reach || !platform) throw new UserError('无法私聊发送证据给您，请在与机器人的私聊中点击。');
      const stored = await bot.repos.tipoffs.openEvidence(ctx.staff, ctx.value.id);
      for (const f of stored) await platform.sendFile({ conversation: reach.conversation }, { name: f.name, data: f.data, mime: f.mime });
      return { toast: `已把 ${stored.length} 个证据文件私聊发送给您，请勿转发。` };
    },
    { schema: caseRef, roles: ['discipline'], confidential: true },
  );

  if (hasScheduling(bot)) {
    // Hourly in the daytime; each reminder and escalation is claimed once in the database.
    scheduling(bot).scheduler.every('tipoff.deadlines', '15 8-21 * * *', async ({ now }) => {
      const run = await runTipoffDeadlines(bot, now);
      if (run.length) bot.log.info({ reminded: run.filter((c) => c.which === 'remind').length, escalated: run.filter((c) => c.which === 'escalate').length }, 'tip-off deadlines run');
    });
  }
}

/** Copies evidence from the platform, all or none; a string is why none was kept. */
async function fetchEvidence(bot: Bot, files: { name: string; ref: string }[]): Promise<{ name: string; ref: string; data: Buffer; mime: string }[] | string> {
  const out: { name: string; ref: string; data: Buffer; mime: string }[] = [];
  for (const f of files) {
    try {
      out.push({ ...f, ...(await bot.fetchFile(f.ref, MAX_ATTACHMENT_BYTES)) });
    } catch (e) {
      if (e instanceof FileTooLargeError) return `“${f.name}”超过 ${MAX_ATTACHMENT_BYTES / 1024 / 1024} MB，线索反映没有提交。请放弃后重新填写，并压缩或分开发送文件。`;
      if (!(e instanceof PlatformError)) throw e;
      bot.log.warn({ platform: e.platform, code: e.code, retryable: e.retryable }, 'tip-off evidence download failed');
      return '暂时无法从平台取回证据文件，线索反映没有提交，请稍后再点“确认提交”。';
    }
  }
  return out;
}

/**
 * Reminds the handler (or the whole office, when none is assigned) once a state's deadline
 * has passed, and tells the head once it is `escalateAfterDays` working days late. Nobody
 * linked to the case is told, and the messages carry the case number and the step only.
 */
export async function runTipoffDeadlines(bot: Bot, now: Date = bot.now()): Promise<DeadlineClaim[]> {
  const s = bot.deps.settings.tipoff;
  const { outbound } = scheduling(bot);
  const staged: Staged = [];
  const claimed = await bot.repos.tipoffs.claimDueTipoffs({ now, timeZone: bot.timeZone, settings: s }, async (tx, c) => {
    staged.push(...(await outbound.stage(tx, await deadlineFollowUp(tx, c, s))));
  });
  await outbound.deliver(staged, { waitMs: FOLLOW_UP_WAIT_MS });
  return claimed;
}

async function deadlineFollowUp(tx: Queryable, c: DeadlineClaim, s: Clock['settings']): Promise<FollowUp> {
  const t = c.tipoff;
  const named = await linkedStaffIds(tx, t.id);
  const office = await disciplineOffice(tx, s);
  const pick = (list: Staff[]) => list.filter((x) => !named.has(x.staffId));
  if (c.which === 'remind') {
    const handler = office.members.find((m) => m.staffId === t.handlerId);
    const to = pick(handler ? [handler] : office.members);
    return { key: `tipoff.${t.id}.v${t.version}.remind`, kind: 'tipoff.remind', title: '线索办理提醒', to: to.map((staff) => ({ staff, content: reminderText(t) })) };
  }
  return { key: `tipoff.${t.id}.v${t.version}.escalate`, kind: 'tipoff.escalate', title: '线索办理督办', to: pick(office.heads).map((staff) => ({ staff, content: escalationText(t) })) };
}

