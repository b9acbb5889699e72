import { z } from 'zod';
import { cancelledCard, declarationDetailCard, declarationForm, draftDetailCard, declarationListCard, declarationStatsCard, myDeclarationsCard, previewCard, submittedCard } from '../cards/declaration.js';
import type { ActionValue, Card } from '../cards/model.js';
import { opt, words } from '../src/bot/args.js';
import type { Bot } from '../src/bot/bot.js';
import type { HandlerContext } from '../src/bot/context.js';
import type { DialogueStep } from '../src/bot/dialogue.js';
import {
  checkAmount,
  checkDate,
  checkDescription,
  checkGiver,
  checkHandling,
  checkKind,
  describeErrors,
  DESCRIPTION_MAX,
  descriptionRequired,
  GIVERS,
  HANDLINGS,
  KINDS,
  localDate,
  ONE_LINE_USAGE,
  parseOneLine,
  readDeclarationWords,
  parseRef,
  validateDeclaration,
  type Check,
  type DeclarationInput,
  type Giver,
  type Handling,
  type Kind,
  type RawInput,
} from '../src/domain/declaration.js';
import { MAX_ATTACHMENT_BYTES, type Declaration } from '../src/domain/declaration/record.js';
import {
  NO_SUCH_DECLARATION,
} from '../src/domain/declaration/workflow.js';
import { FileTooLargeError, PlatformError, UserError } from '../src/errors.js';
import { PLATFORM_LABELS, type PlatformName } from '../src/platform/types.js';
import { deliverFollowUps, stageFollowUps, type StagedMove } from './approve.js';

/**
 * 上缴申报: `上缴`/`申报` opens a form card (or, where the platform has no forms, a dialogue
 * asking the same fields with the same checks); a one-liner works too. The declarant reviews
 * everything on one card before submitting. Lookups and the discipline office's list/export,
 * and leadership's nameless totals, live here too.
 */

export const DECLARE_DIALOGUE = 'declare';
export const ATTACH_DIALOGUE = 'declare.attach';
/** A card value naming one declaration (查看附件, 修改后重新提交). */
const idRef = z.object({ id: z.string().regex(/^\d{1,18}$/) });

/**
 * Copies what a user sent from the platform, all or none: a declaration keeps its evidence in
 * its own records, since the platforms' download codes expire. A string is the reason none was kept.
 */
async function fetchAttachments(bot: Bot, files: { name: string; ref: string }[]): Promise<{ name: string; ref: string; data: Buffer; mime: string }[] | string> {
  const out: { name: string; ref: string; data: Buffer; mime: string }[] = [];
  for (const f of files) {
    try {
      out.push({ ...f, ...(await bot.fetchFile(f.ref, MAX_ATTACHMENT_BYTES)) });
    } catch (e) {
      const none = files.length > 1 ? `本次发送的 ${files.length} 个都没有添加` : '没有添加';
      if (e instanceof FileTooLargeError) return `“${f.name}”超过 ${MAX_ATTACHMENT_BYTES / 1024 / 1024} MB，${none}。请压缩或分开拍照后重新发送。`;
      if (!(e instanceof PlatformError)) throw e;
      // The reference and the error code only: never the file's content or name.
      bot.log.warn({ platform: e.platform, code: e.code, retryable: e.retryable }, 'attachment download failed');
      return `暂时无法从${PLATFORM_LABELS[f.ref.split(':')[0] as PlatformName] ?? '平台'}取回“${f.name}”，${none}。请稍后重新发送。`;
    }
  }
  return out;
}

const ATTACH_PROMPT = '请直接发送照片或文件（最多 9 个），发完后回复“完成”；回复“取消”放弃添加。';
const DONE_WORDS = new Set(['完成', '好了', '发完了', 'done']);

const rawOf = (d: Declaration): RawInput => ({ kind: d.kind, amount: d.amount, receivedOn: d.receivedOn, giver: d.giver, handling: d.handling, description: d.description });

type Target = { id: string; v: number } | { amends: string } | Record<string, never>;

/** Saves validated content as a new draft, an edited draft, or an amendment of a rejected one. */
async function saveDraft(bot: Bot, ctx: HandlerContext, target: Target, input: DeclarationInput): Promise<Declaration> {
  if ('id' in target) return bot.repos.declarations.editDraft(ctx.staff, target.id, target.v, input);
  if ('amends' in target) return bot.repos.declarations.createDraft(ctx.staff, input, { amends: target.amends });
  return bot.repos.declarations.createDraft(ctx.staff, input);
}

function validate(bot: Bot, raw: RawInput) {
  return validateDeclaration(raw, { maxAmountYuan: bot.deps.settings.declaration.maxAmountYuan, today: localDate(bot.now(), bot.timeZone) });
}

/** The form; where forms cannot be shown, the degrade stage asks the same fields in DECLARE_DIALOGUE instead. */
function formCard(bot: Bot, target: Target, current?: RawInput, title?: string, prefilled?: { amount: string }): Card {
  // The dialogue's answers are what completion sees, so the target rides along as a hidden answer;
  // an amount already given (`上缴 500`) is an answer too, and its question is skipped.
  const data = { __target: JSON.stringify(target), ...(prefilled ?? {}) };
  const dialogue = { name: DECLARE_DIALOGUE, initial: { ...(current ? { current } : {}), data }, notice: '请在对话中逐项修改。' };
  if (prefilled) current = { ...current, ...prefilled };
  return declarationForm({ maxYuan: bot.deps.settings.declaration.maxAmountYuan, value: target as ActionValue, dialogue, ...(current ? { current } : {}), ...(title ? { title } : {}) });
}


// ---- the step-by-step dialogue -------------------------------------------------------------

const KEEP = new Set(['不变', '保持', '同上']);
const SKIP = new Set(['跳过', '无', '没有', 'skip']);
const list = (labels: Record<string, string>) => Object.values(labels).map((l, i) => `${i + 1}. ${l}`).join('\n');
const byIndex = <T extends string>(labels: Record<T, string>, t: string): string => {
  const keys = Object.keys(labels) as T[];
  return /^\d+$/.test(t) && keys[Number(t) - 1] ? keys[Number(t) - 1] : t;
};
const result = <T>(c: Check<T>) => (c.ok ? { ok: true as const, value: c.value as unknown } : { ok: false as const, message: c.message });

function dialogueSteps(bot: Bot, initial: Record<string, unknown>): DialogueStep[] {
  const current = (initial.current as RawInput | undefined) ?? {};
  const labelOf: Record<string, (v: string) => string> = {
    kind: (v) => KINDS[v as Kind] ?? v,
    giver: (v) => GIVERS[v as Giver] ?? v,
    handling: (v) => HANDLINGS[v as Handling] ?? v,
  };
  const keepHint = (key: keyof RawInput) => {
    const v = current[key];
    return v ? `\n（当前：${labelOf[key]?.(v) ?? v}，回复“不变”保留）` : '';
  };
  const step = (key: keyof RawInput, prompt: (data: Record<string, unknown>) => string, check: (t: string, data: Record<string, unknown>) => Check<unknown>): DialogueStep => ({
    key,
    prompt: (data) => `${prompt(data)}${keepHint(key)}`,
    parse: (t, data) => (KEEP.has(t) && current[key] !== undefined ? { ok: true, value: current[key] } : result(check(t, data))),
  });
  const max = () => bot.deps.settings.declaration.maxAmountYuan;
  return [
    step('kind', () => `第 1 步（共 6 步）：请选择类别，回复序号或名称：\n${list(KINDS)}`, (t) => checkKind(byIndex(KINDS, t))),
    {
      ...step('amount', (data) => `第 2 步：请填写${data.kind === 'cash' ? '金额' : '估计价值'}（元），例如 500：`, (t, data) => checkAmount(t, max(), data.kind as Kind)),
      // Given with the command (`上缴 500`): already checked there.
      skip: (data) => typeof data.amount === 'string' && data.amount !== '',
    },
    step('receivedOn', () => '第 3 步：请填写收到日期，格式 年-月-日，例如 2026-11-20（也可回复“今天”“昨天”）：', (t) => checkDate(t, localDate(bot.now(), bot.timeZone))),
    step('giver', () => `第 4 步：请选择送礼人，回复序号或名称：\n${list(GIVERS)}`, (t) => checkGiver(byIndex(GIVERS, t))),
    step('handling', () => `第 5 步：请选择处理方式，回复序号或名称：\n${list(HANDLINGS)}`, (t) => checkHandling(byIndex(HANDLINGS, t))),
    step(
      'description',
      (data) =>
        `第 6 步：请填写情况说明，简要说明经过（不超过 ${DESCRIPTION_MAX} 字${descriptionRequired(data as never) ? '，您选择了“其他”，此项必填' : '，没有可回复“跳过”'}）。请勿填写患者身份证号、手机号：`,
      (t, data) => checkDescription(SKIP.has(t) ? '' : t, descriptionRequired(data as never)),
    ),
  ];
}

// ---- lookups, list, export, totals ------------------------------------------------------------

async function showDeclaration(bot: Bot, ctx: HandlerContext, refText: string): Promise<Card> {
  const q = parseRef(refText);
  const d = q ? ('receiptNo' in q ? await bot.repos.declarations.getDeclarationByReceipt(q.receiptNo) : await bot.repos.declarations.getDeclaration(q.id)) : undefined;
  // The same answer for "no such" and "not yours": existence itself is confidential.
  if (!d || !(await bot.repos.declarations.canView(d, ctx.staff))) throw new UserError(`${NO_SUCH_DECLARATION}申报仅限申报人、审批人和纪检监察室查看。`);
  const trail = (await bot.repos.declarations.trailsOf([d.id])).get(d.id) ?? [];
  // Only its author ever gets this far with a draft (canView).
  if (d.state === 'draft') return draftDetailCard(d, trail, await bot.repos.declarations.routeFor(d), bot.timeZone);
  // Its resubmission is named only to whoever may see that one too: an unsubmitted amendment is its author's alone.
  const next = (await bot.repos.declarations.amendmentsOf([d.id])).get(d.id);
  const shown = next ? await bot.repos.declarations.getDeclaration(next.id) : undefined;
  const resubmittedAs = next && shown && (await bot.repos.declarations.canView(shown, ctx.staff)) ? { resubmittedAs: next } : {};
  return declarationDetailCard(d, trail, bot.timeZone, resubmittedAs);
}

// ---- registration --------------------------------------------------------------------------

const draftRef = z.object({ id: z.string().regex(/^\d{1,18}$/), v: z.coerce.number().int().min(1) });
const formTarget = z.union([draftRef, z.object({ amends: z.string().regex(/^\d{1,18}$/) }), z.object({})]);

export function registerDeclare(bot: Bot): void {
  const draftCard = async (ctx: HandlerContext, target: Target, raw: RawInput): Promise<{ card: Card } | { errors: string; fields: Record<string, string> }> => {
    const v = validate(bot, raw);
    // The form's inputs are named after the fields, so each message can stand next to its input.
    if (!v.ok) return { errors: describeErrors(v.errors), fields: Object.fromEntries(v.errors.map((e) => [e.field, e.message])) };
    const d = await saveDraft(bot, ctx, target, v.value);
    // The declaration id and the action only: who filed is confidential, in logs too.
    bot.log.info({ declarationId: d.id, action: 'draft' }, 'declaration draft saved');
    return { card: previewCard(d, await bot.repos.declarations.routeFor(d), v.masking) };
  };

  bot.dialogue({
    name: DECLARE_DIALOGUE,
    steps: (initial) => dialogueSteps(bot, initial),
    complete: async (ctx, data) => {
      const target = formTarget.parse(JSON.parse(String(data.__target ?? '{}'))) as Target;
      const out = await draftCard(ctx, target, {
        kind: String(data.kind ?? ''),
        amount: String(data.amount ?? ''),
        receivedOn: String(data.receivedOn ?? ''),
        giver: String(data.giver ?? ''),
        handling: String(data.handling ?? ''),
        description: String(data.description ?? ''),
      });
      return 'errors' in out ? `申报内容有以下问题，请重新发送“上缴”填写：\n${out.errors}` : out.card;
    },
  });

  bot.command(
    { names: ['上缴', '申报', 'declare'], args: [opt(words('entry', '类别 金额 送礼人 日期 处理方式 说明'))], summary: '红包、礼品等主动上缴申报（保密）；“申报 编号”查看一条申报', group: '上缴申报', confidential: true },
    async (ctx) => {
      // `上缴 500` gives the amount and asks for the rest; a reference (`上缴 SB-500`, `申报 500`) looks one up.
      if (!ctx.params.entry) return formCard(bot, {});
      const said = readDeclarationWords(ctx.params.entry);
      if (said.kind === 'number' && ctx.word === '上缴') {
        const amount = checkAmount(said.text, bot.deps.settings.declaration.maxAmountYuan);
        if (!amount.ok) return `${amount.message}\n也可以只发送“上缴”，按表单逐项填写。`;
        return formCard(bot, {}, undefined, undefined, { amount: amount.value });
      }
      if (said.kind !== 'line' && parseRef(said.text)) return showDeclaration(bot, ctx, said.text);
      const out = await draftCard(ctx, {}, said.kind === 'line' ? said.input : parseOneLine(ctx.params.entry));
      if ('errors' in out) return `申报内容有以下问题，请修改后重新发送：\n${out.errors}\n\n格式：${ONE_LINE_USAGE}\n也可以只发送“上缴”，按表单逐项填写。`;
      return out.card;
    },
  );

  bot.command({ names: ['我的申报', 'mydeclarations'], summary: '查看自己的上缴申报及其进度', group: '上缴申报', confidential: true }, async (ctx) => {
    const mine = await bot.repos.declarations.listByDeclarant(ctx.staff.staffId);
    if (mine.length === 0) return '您还没有上缴申报记录。需要申报时发送“上缴”。';
    return myDeclarationsCard(mine, await bot.repos.declarations.amendmentsOf(mine.map((d) => d.id)));
  });

  bot.command(
    { names: ['申报列表', 'declarations'], summary: '查看全部上缴申报（纪检监察室）', roles: ['discipline'], group: '上缴申报', confidential: true },
    async () => {
      const all = await bot.repos.declarations.listSubmitted({ limit: 50 });
      if (all.length === 0) return '目前还没有已提交的上缴申报。';
      return declarationListCard(all, bot.timeZone);
    },
  );

  bot.command(
    { names: ['导出申报', 'exportdeclarations'], summary: '导出全部上缴申报及处理记录为 Excel（纪检监察室）', roles: ['discipline'], group: '上缴申报', confidential: true },
    async (ctx) => {
      const { buffer, count } = await bot.repos.declarations.exportDeclarations(bot.timeZone);
      // Who took a copy of confidential records is itself on record.
      await bot.repos.audit.appendAudit({ actor: ctx.staff.staffId, action: 'declaration.export', entityType: 'declaration_export', detail: { count } });
      await ctx.replyFile(`上缴申报-${localDate(bot.now(), bot.timeZone)}.xlsx`, buffer);
      return `已导出 ${count} 条申报及其处理记录。文件含申报人信息，请妥善保管，勿外传。`;
    },
  );

  bot.command(
    { names: ['申报统计', 'declarationstats'], summary: '按月份和科室统计上缴申报件数和金额（不含姓名）', roles: ['leader', 'discipline'], group: '上缴申报' /* counts and sums only: may be shown in a group */ },
    async (ctx) => {
      const rows = await bot.repos.declarations.monthlyTotals();
      if (rows.length === 0) return '目前还没有已提交的上缴申报。';
      return declarationStatsCard(rows, { discipline: ctx.hasRole('discipline') });
    },
  );

  bot.action(
    'decl.form',
    async (ctx) => {
      const target = ctx.value as Target;
      // A forged form is answered before its content is judged; saving checks again in its transaction.
      if ('id' in target || 'amends' in target) await bot.repos.declarations.ownDeclaration(ctx.staff, 'id' in target ? target.id : target.amends);
      const f = ctx.form ?? {};
      const out = await draftCard(ctx, target, { kind: f.kind, amount: f.amount, receivedOn: f.receivedOn, giver: f.giver, handling: f.handling, description: f.description });
      if ('errors' in out) return { toast: `请修改后再提交：\n${out.errors}`, fieldErrors: out.fields };
      return out;
    },
    { schema: formTarget, confidential: true },
  );

  bot.action(
    'decl.confirm',
    async (ctx) => {
      const { id, v } = ctx.value;
      let follow: StagedMove = { staged: [] };
      const moved = await bot.repos.declarations.submitDraft(ctx.staff, id, v, bot.now(), async (tx, m) => {
        follow = await stageFollowUps(bot, tx, m);
      });
      bot.log.info({ declarationId: id, action: 'submit', to: moved.to }, 'declaration submitted');
      await deliverFollowUps(bot, follow.staged);
      return {
        toast: '已提交。',
        card: submittedCard(moved.declaration),
      };
    },
    { schema: draftRef, confidential: true },
  );

  bot.action(
    'decl.edit',
    async (ctx) => {
      const { id, v } = ctx.value;
      const d = await bot.repos.declarations.draftToEdit(ctx.staff, id, v);
      return { card: formCard(bot, { id, v }, rawOf(d), `修改上缴申报 · SB-${id}`) };
    },
    { schema: draftRef, confidential: true },
  );

  // One step that keeps itself open: every message with files is saved at once, "完成" ends it.
  bot.dialogue({
    name: ATTACH_DIALOGUE,
    cancelMessage: '已停止添加。已经收到的照片或文件仍附在申报上；申报尚未提交，请在申报卡片上确认提交。',
    // ATTACH_PROMPT says how to finish and how to stop; a “逐项填写” hint under it would be stray.
    hints: false,
    steps: (initial) => [
      {
        key: 'done',
        prompt: () => ATTACH_PROMPT,
        parse: async (t, _data, files) => {
          const id = String(initial.id);
          if (files?.length) {
            const fetched = await fetchAttachments(bot, files);
            if (typeof fetched === 'string') return { ok: false, message: fetched };
            const d = await bot.repos.declarations.addAttachments({ staffId: String(initial.staffId) }, id, fetched, bot.now()).catch((e: unknown) => {
              if (e instanceof UserError) return e;
              throw e;
            });
            if (d instanceof UserError) return { ok: false, message: d.message };
            return { ok: false, message: `已添加 ${files.length} 个，共 ${d.attachments.length} 个。可继续发送，发完后回复“完成”。` };
          }
          if (DONE_WORDS.has(t)) return { ok: true, value: true };
          return { ok: false, message: ATTACH_PROMPT };
        },
      },
    ],
    complete: async (ctx, data) => {
      const d = await bot.repos.declarations.findOwnDeclaration(ctx.staff, String(data.id ?? ''));
      if (!d) return '找不到这份申报，请重新发送“上缴”。';
      if (d.state !== 'draft') return '这份申报已提交或已取消，不能再添加照片或文件。';
      return previewCard(d, await bot.repos.declarations.routeFor(d));
    },
  });

  bot.action(
    'decl.attach',
    async (ctx) => {
      const { id, v } = ctx.value;
      await bot.repos.declarations.draftToAttach(ctx.staff, id, v);
      // Who and which draft ride in the dialogue: its steps see no handler context.
      await ctx.startDialogue(ATTACH_DIALOGUE, { id, staffId: ctx.staff.staffId, data: { id } });
      return { toast: '请在对话中发送照片或文件。' };
    },
    { schema: draftRef, confidential: true },
  );

  bot.action(
    'decl.files',
    async (ctx) => {
      const { id } = ctx.value;
      const d = await bot.repos.declarations.getDeclaration(id);
      if (!d || !(await bot.repos.declarations.canView(d, ctx.staff))) throw new UserError(NO_SUCH_DECLARATION);
      // The action is confidential: clicked in a group, ctx already answers in the private chat.
      const stored = await bot.repos.declarations.openAttachments(ctx.staff, id);
      // Each file goes with the type it was received with: a photo's name (“图片”) has no extension.
      for (const f of stored) await ctx.replyFile(f.name, f.data, f.mime);
      return { toast: `已把 ${stored.length} 个附件私聊发送给您。附件涉及保密信息，请勿转发。` };
    },
    { schema: idRef, confidential: true },
  );

  bot.action(
    'decl.cancel',
    async (ctx) => {
      const { id, v } = ctx.value;
      await bot.repos.declarations.cancelDraft(ctx.staff, id, v, bot.now());
      return { toast: '已取消。', card: cancelledCard(id) };
    },
    { schema: draftRef, confidential: true },
  );

  bot.action(
    'decl.amend',
    async (ctx) => {
      const { id } = ctx.value;
      const d = await bot.repos.declarations.rejectedToAmend(ctx.staff, id);
      // A new message: the rejection card with its reason stays in the chat.
      return { toast: '请在新卡片中修改后重新提交。', send: formCard(bot, { amends: id }, rawOf(d), `修改后重新提交 · 原申报 SB-${id}`) };
    },
    { schema: idRef, confidential: true },
  );
}
