import { z } from 'zod';
import { actions, button, card, fields, form, note, table, text } from '../cards/builders.js';
import type { Card, CardElement } from '../cards/model.js';
import { hasScheduling, scheduling } from '../scheduler/index.js';
import type { Bot } from '../src/bot/bot.js';
import {
  amountLabel,
  declarationRef,
  formatYuan,
  GIVERS,
  HANDLINGS,
  KINDS,
  parseRef,
  STATE_NAMES,
  STEP_NAMES,
  stepOfState,
  type Step,
} from '../src/domain/declaration.js';
import { approversFor, canView, claimDueDeadlines, decide, isApproverOf, type DeadlineClaim, type DecideResult, type Moved } from '../src/domain/declaration/workflow.js';
import type { FollowUp, SentHook, Staged } from '../scheduler/outbound.js';
import type { Queryable } from '../src/store/db.js';
import type { PlatformName } from '../src/platform/types.js';
import { UserError } from '../src/errors.js';
import type { CommandContext } from '../src/bot/context.js';
import { cardsFor, getDeclaration, listPending, recordCard } from '../src/store/declarations.js';
import type { Declaration } from '../src/domain/declaration/record.js';
import { getStaff, listActiveStaff, type Staff } from '../src/store/staff.js';

/**
 * Approval cards for 上缴申报: sending them to each step's approvers, deciding, updating every
 * card of a decided step in place, telling the declarant, and the deadline reminders.
 */

/**
 * One answer for "no such declaration" and "not yours to see or to decide": whether a
 * declaration exists is itself confidential.
 */
export const NO_SUCH_DECLARATION = '没有找到这条申报，或您无权查看。';

/** A time as shown on cards and exports, in the bot's zone (BOT_TIMEZONE). */
export function formatTime(d: Date | null | undefined, timeZone: string): string {
  if (!d) return '';
  return new Intl.DateTimeFormat('zh-CN', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false })
    .format(d)
    .replace(/\//g, '-');
}

/**
 * The declaration's content as card elements. Everything the declarant typed goes into plain
 * text elements (escaped by every renderer), never into markdown.
 */
export function detailElements(d: Declaration, opts: { withDeclarant?: boolean } = {}): CardElement[] {
  const pairs: [string, string][] = [['编号', declarationRef(d)]];
  if (d.receiptNo) pairs.push(['申报序号', `SB-${d.id}`]);
  if (opts.withDeclarant !== false) pairs.push(['申报人', `${d.declarantName}（${d.department}）`]);
  pairs.push(
    ['类别', KINDS[d.kind]],
    [`${amountLabel(d.kind)}（元）`, formatYuan(d.amount)],
    ['收到日期', d.receivedOn],
    ['送礼人', GIVERS[d.giver]],
    ['处理方式', HANDLINGS[d.handling]],
    ['状态', STATE_NAMES[d.state]],
  );
  if (d.revision > 1) pairs.push(['版本', `第 ${d.revision} 版（修改自 SB-${d.previousId}）`]);
  const files = d.attachments.length ? text(`附件（${d.attachments.length} 个）：${d.attachments.map((a) => a.name).join('、')}`) : null;
  const kept = d.attachments.filter((a) => a.fileId).length;
  // The files themselves never ride in a card: a click sends them privately to whoever may see them.
  const view = kept ? actions(button(`查看附件（${kept}）`, 'decl.files', { id: d.id })) : null;
  return [fields(pairs), text(`情况说明：${d.description || '（未填写）'}`), ...(files ? [files] : []), ...(view ? [view] : [])];
}

const refSchema = z.object({
  id: z.string().regex(/^\d{1,18}$/),
  v: z.coerce.number().int().min(1),
  step: z.enum(['dept', 'discipline', 'finance']),
});

export function approvalCard(d: Declaration, step: Step, previousReason?: string | null): Card {
  const value = { id: d.id, v: d.version, step };
  const finance = step === 'finance';
  return card(
    `上缴申报待${finance ? '确认收款' : '审核'} · ${declarationRef(d)}`,
    [
      note(`审批环节：${STEP_NAMES[step]}${step === 'discipline' ? '（室内任何一位同志均可处理，以先处理者为准）' : ''}`),
      ...detailElements(d),
      previousReason ? text(`上一版被驳回的理由：${previousReason}`) : null,
      finance ? note('请核实款物已交到财务科（或已存入患者住院账户）后再确认收款。') : null,
      actions(button(finance ? '确认已收款' : '同意', 'decl.approve', value, { style: 'primary' })),
      form('decl.reject', [{ kind: 'text', name: 'reason', label: '驳回理由', required: true, multiline: true, maxLength: 200, placeholder: '驳回时必填，申报人会看到' }], {
        submitLabel: '驳回',
        value,
      }),
      // Where a platform does not deliver card clicks, typing the same decision works.
      note(`也可以直接回复“${finance ? '确认收款' : '同意'} ${declarationRef(d)}”或“驳回 ${declarationRef(d)} 理由”。`),
      note('申报内容仅限申报人、审批人和纪检监察室查看，请勿转发或截图外传。'),
    ],
    finance ? 'purple' : 'orange',
  );
}

export function decidedCard(d: Declaration, step: Step, how: { decision: 'approve' | 'reject'; actorName: string; at: Date; reason?: string | null; timeZone: string }): Card {
  const verb = how.decision === 'reject' ? '驳回' : step === 'finance' ? '确认收款' : '同意';
  return card(
    `上缴申报 · ${declarationRef(d)} · 已${verb}`,
    [
      note(`已由 ${how.actorName}（${STEP_NAMES[step]}）于 ${formatTime(how.at, how.timeZone)} ${verb}。`),
      how.reason ? text(`驳回理由：${how.reason}`) : null,
      ...detailElements(d),
    ],
    how.decision === 'reject' ? 'red' : 'green',
  );
}

/** A click waits this long for its follow-ups to leave: well inside DingTalk's 2 s (Feishu's 3 s) answer limit. */
const FOLLOW_UP_WAIT_MS = 1000;

function outboundOf(bot: Bot) {
  // Follow-ups live in the outbound queue's ledger; a bot without one could only lose them.
  if (!hasScheduling(bot)) throw new Error('declaration follow-ups need the outbound queue (attachScheduling)');
  return scheduling(bot).outbound;
}

/** The current step's approval card, one per approver (their message ids are recorded on send). */
async function stageApprovalCards(bot: Bot, tx: Queryable, d: Declaration): Promise<Staged> {
  const step = stepOfState(d.state);
  if (!step) return [];
  const approvers = await approversFor(tx, d, step);
  if (approvers.length === 0) {
    bot.log.warn({ declarationId: d.id, step }, 'declaration step has no approver on the roster');
    return [];
  }
  const prevReason = d.previousId ? ((await getDeclaration(tx, d.previousId))?.lastReason ?? null) : null;
  const body = approvalCard(d, step, prevReason);
  return outboundOf(bot).stage(tx, {
    key: `decl.${d.id}.v${d.version}.cards`,
    kind: APPROVAL_CARD_KIND,
    title: '上缴申报审批卡片',
    meta: { declarationId: d.id, state: d.state, version: d.version },
    to: approvers.map((staff) => ({ staff, content: body })),
  });
}

const APPROVAL_CARD_KIND = 'decl.approval';

/** Where each approval card went, so the decided step's cards can be updated in place later. */
const recordSentCard: SentHook = async (tx, row, messageId) => {
  const meta = row.meta as { declarationId: string; state: Declaration['state']; version: number };
  await recordCard(tx, { declarationId: meta.declarationId, state: meta.state, version: meta.version, staffId: row.staff_id, platform: row.platform ?? '', messageId });
};

export interface StagedMove {
  staged: Staged;
  /** The decided step's card, for the click's own answer. */
  decidedBody?: Card;
}

/**
 * In the move's transaction: every card of the decided step shows who decided, the next
 * step's approvers get their cards, the declarant is told. Sent after the commit by the
 * outbound queue (deliverFollowUps), or by the next process if this one dies first.
 */
export async function stageFollowUps(
  bot: Bot,
  tx: Queryable,
  m: Moved,
  decided?: { actor: Staff; decision: 'approve' | 'reject'; cardVersion: number },
): Promise<StagedMove> {
  const d = m.declaration;
  const outbound = outboundOf(bot);
  const staged: Staged = [];
  let decidedBody: Card | undefined;
  const step = stepOfState(m.from);
  if (decided && step) {
    decidedBody = decidedCard(d, step, { decision: decided.decision, actorName: decided.actor.name, at: bot.now(), reason: d.lastReason, timeZone: bot.timeZone });
    const body = decidedBody;
    const cards = await cardsFor(tx, d.id, decided.cardVersion);
    staged.push(
      ...(await outbound.stage(tx, {
        key: `decl.${d.id}.v${decided.cardVersion}.decided`,
        kind: 'decl.decided',
        title: '上缴申报审批卡片更新',
        updates: cards.map((c) => ({ staffId: c.staffId, platform: c.platform as PlatformName, messageId: c.messageId, card: body })),
      })),
    );
  }
  if (m.to.startsWith('pending_')) staged.push(...(await stageApprovalCards(bot, tx, d)));
  const declarant = await getStaff(tx, d.declarantId);
  if (declarant?.active) {
    staged.push(...(await outbound.stage(tx, { key: `decl.${d.id}.v${d.version}.notice`, kind: 'decl.notice', title: '上缴申报进度通知', to: [{ staff: declarant, content: declarantMessage(m) }] })));
  }
  return { staged, ...(decidedBody ? { decidedBody } : {}) };
}

/** After the commit: queue the staged follow-ups and give them a moment to leave. */
export async function deliverFollowUps(bot: Bot, staged: Staged): Promise<void> {
  await outboundOf(bot).deliver(staged, { waitMs: FOLLOW_UP_WAIT_MS });
}

/** What the declarant is told after each move. */
export function declarantMessage(m: Moved): Card | string {
  const d = m.declaration;
  const ref = declarationRef(d);
  switch (m.to) {
    case 'pending_dept':
      return `您的上缴申报 ${ref} 已提交，正在等待科室负责人审核。每一步处理后都会通知您。`;
    case 'pending_discipline':
      return m.from === 'draft'
        ? `您的上缴申报 ${ref} 已提交，正在等待纪检监察室审核${m.skippedDept ? '（您是本科室负责人，跳过科室审核）' : ''}。每一步处理后都会通知您。`
        : `您的上缴申报 ${ref} 已由科室负责人同意，已转纪检监察室审核。`;
    case 'pending_finance':
      return `您的上缴申报 ${ref} 已由纪检监察室同意。请将款物交到财务科（或存入患者住院账户），财务确认收款后即完成登记。`;
    case 'registered':
      return card(
        `上缴登记完成 · ${ref}`,
        [
          text(`您的上缴申报已完成登记，回执编号 ${ref}，请妥善保存。感谢您主动上缴，守住了廉洁从业的底线（《九项准则》第八条）。`),
          ...detailElements(d, { withDeclarant: false }),
        ],
        'green',
      );
    case 'rejected':
      return card(
        `上缴申报被驳回 · ${ref}`,
        [
          text(`您的上缴申报 ${ref} 被${STEP_NAMES[stepOfState(m.from) ?? 'discipline']}驳回。`),
          text(`驳回理由：${d.lastReason ?? ''}`),
          ...detailElements(d, { withDeclarant: false }),
          note('您可以按驳回理由修改后重新提交；原申报会保留在记录中。'),
          actions(button('修改后重新提交', 'decl.amend', { id: d.id }, { style: 'primary' })),
        ],
        'red',
      );
    default:
      return `您的上缴申报 ${ref} 状态已更新：${STATE_NAMES[d.state]}。`;
  }
}

async function staleReply(bot: Bot, r: Extract<DecideResult, { outcome: 'stale' }>, step: Step, actor: Staff) {
  // The decided card shows the content: only to someone who may see it.
  if (!(await canView(bot.db, r.declaration, actor))) return { toast: NO_SUCH_DECLARATION };
  const who = r.last?.actor ? await getStaff(bot.db, r.last.actor) : undefined;
  if (!r.last || !who) return { toast: '这张卡片已过期（申报已有更新），操作没有生效。' };
  const decision = r.last.to_state === 'rejected' ? ('reject' as const) : ('approve' as const);
  const verb = decision === 'reject' ? '驳回' : step === 'finance' ? '确认收款' : '同意';
  return {
    toast: who.staffId === actor.staffId ? `您已${verb}过这条申报，无需重复操作。` : `已由他人处理：${who.name} 已${verb}，您的操作没有生效。`,
    card: decidedCard(r.declaration, step, { decision, actorName: who.name, at: r.last.at, reason: r.last.reason, timeZone: bot.timeZone }),
  };
}

/** The pending declarations whose current step this person may decide. */
async function pendingFor(bot: Bot, staff: Staff): Promise<{ d: Declaration; step: Step }[]> {
  const out: { d: Declaration; step: Step }[] = [];
  for (const d of await listPending(bot.db)) {
    const step = stepOfState(d.state);
    if (step && (await isApproverOf(bot.db, d, staff, step))) out.push({ d, step });
  }
  return out;
}

/**
 * `同意 SB-12` / `确认收款 SB-12` / `驳回 SB-12 理由`: the card's decision typed as a message,
 * through the same decide() and the same checks. It acts on the step the declaration is at now.
 */
async function decideByText(bot: Bot, ctx: CommandContext, decision: 'approve' | 'reject'): Promise<string> {
  const example = decision === 'reject' ? '驳回 SB-12 金额与实际不符' : '同意 SB-12';
  const q = ctx.args[0] ? parseRef(ctx.args[0]) : undefined;
  if (!q || !('id' in q)) throw new UserError(`请写明申报编号，例如“${example}”。发送“待审批”查看等待您处理的申报。`);
  const d = await getDeclaration(bot.db, q.id);
  const step = d ? stepOfState(d.state) : undefined;
  // One answer for "no such", "not yours" and "already decided": existence itself is confidential.
  if (!d || !step || !(await isApproverOf(bot.db, d, ctx.staff, step))) {
    throw new UserError(`SB-${q.id} 目前没有等待您处理的审批。发送“待审批”查看等待您处理的申报。`);
  }
  const reason = decision === 'reject' ? ctx.rest.trim().replace(/^\S+\s*/, '') : undefined;
  const out = await applyDecision(bot, ctx.staff, { id: d.id, v: d.version, step }, decision, reason);
  if (out.stale) return `SB-${d.id} 刚刚已由他人处理，您的操作没有生效。发送“申报 SB-${d.id}”查看处理记录。`;
  return out.message;
}

/**
 * One decision, by click or by message: decide, then move the cards and tell the declarant.
 * The message names the declaration, since a toast may arrive as a separate chat message.
 */
async function applyDecision(
  bot: Bot,
  actor: Staff,
  ref: { id: string; v: number; step: Step },
  decision: 'approve' | 'reject',
  reason: string | undefined,
): Promise<{ stale: Extract<DecideResult, { outcome: 'stale' }> } | { stale?: undefined; message: string; card?: Card }> {
  let follow: StagedMove = { staged: [] };
  const r = await decide(bot.db, actor, ref, decision, {
    now: bot.now(),
    timeZone: bot.timeZone,
    ...(reason !== undefined ? { reason } : {}),
    // Only the decision that commits writes follow-ups: a repeated or concurrent one is stale.
    followUps: async (tx, moved) => {
      follow = await stageFollowUps(bot, tx, moved, { actor, decision, cardVersion: ref.v });
    },
  });
  if (r.outcome === 'stale') return { stale: r };
  // Who decided is in the audit log; a log line names the declaration and the step only.
  bot.log.info({ declarationId: r.declaration.id, action: decision, step: ref.step, to: r.to }, 'declaration decided');
  await deliverFollowUps(bot, follow.staged);
  const card = follow.decidedBody;
  const label = `SB-${r.declaration.id}`;
  const message =
    decision === 'reject'
      ? `已驳回 ${label}，申报人会收到驳回理由。`
      : r.to === 'registered'
        ? `已登记 ${label}，回执编号 ${r.declaration.receiptNo}。`
        : `已同意 ${label}，已转下一环节。`;
  return { message, ...(card ? { card } : {}) };
}

export function registerApprove(bot: Bot): void {
  const approvers = ['dept_head', 'discipline', 'finance'] as const;
  bot.command(
    { names: ['待审批', 'pending', '审批'], usage: '待审批', summary: '列出等待您审批或确认收款的上缴申报', roles: [...approvers], group: '上缴申报', confidential: true },
    async (ctx) => {
      const mine = await pendingFor(bot, ctx.staff);
      if (mine.length === 0) return '目前没有等待您处理的上缴申报。';
      return card(
        `待您处理的上缴申报（${mine.length} 条）`,
        [
          table(
            ['编号', '环节', '申报人', '类别', '金额（元）', '等待'],
            mine.map(({ d, step }) => [declarationRef(d), STEP_NAMES[step], d.declarantName, KINDS[d.kind], formatYuan(d.amount), waitedText(d, ctx.now)]),
          ),
          note('请在收到的审批卡片上处理；也可回复“同意 SB-编号”（财务科：“确认收款 SB-编号”）或“驳回 SB-编号 理由”。发送“申报 SB-编号”查看详情。'),
          note('申报内容仅限申报人、审批人和纪检监察室查看，请勿转发或截图外传。'),
        ],
        'orange',
      );
    },
  );
  bot.command(
    { names: ['同意', 'approve', '确认收款'], usage: '同意 SB-编号', summary: '同意一条待您审批的上缴申报（财务科为确认收款）', roles: [...approvers], group: '上缴申报', confidential: true },
    (ctx) => decideByText(bot, ctx, 'approve'),
  );
  bot.command(
    { names: ['驳回', 'reject'], usage: '驳回 SB-编号 理由', summary: '驳回一条待您审批的上缴申报，理由必填', roles: [...approvers], group: '上缴申报', confidential: true },
    (ctx) => decideByText(bot, ctx, 'reject'),
  );

  if (hasScheduling(bot)) {
    const { scheduler, outbound } = scheduling(bot);
    outbound.onSent(APPROVAL_CARD_KIND, recordSentCard);
    // Hourly in the daytime: reminders reach approvers at work, within an hour of the deadline;
    // each reminder is claimed once in the database, so a rerun sends nothing twice.
    scheduler.every('declaration.deadlines', '5 8-21 * * *', async ({ now }) => {
      const run = await runApprovalDeadlines(bot, now);
      if (run.reminded.length || run.escalated.length) bot.log.info({ reminded: run.reminded.length, escalated: run.escalated.length }, 'declaration deadlines run');
    });
  }
  for (const decision of ['approve', 'reject'] as const) {
    bot.action(
      `decl.${decision}`,
      async (ctx) => {
        const ref = refSchema.parse(ctx.value);
        // A forged or old click by someone who may not decide this step learns nothing, not even
        // that it exists; the declarant already knows it, and decide() tells them why not.
        const d = await getDeclaration(bot.db, ref.id);
        if (!d || (d.declarantId !== ctx.staff.staffId && !(await isApproverOf(bot.db, d, ctx.staff, ref.step)))) throw new UserError(NO_SUCH_DECLARATION);
        const reason = decision === 'reject' ? (ctx.form?.reason ?? '') : undefined;
        const out = await applyDecision(bot, ctx.staff, ref, decision, reason);
        if (out.stale) return staleReply(bot, out.stale, ref.step, ctx.staff);
        return { toast: out.message, ...(out.card ? { card: out.card } : {}) };
      },
      { schema: refSchema as never, confidential: true },
    );
  }
}

function waitedText(d: Declaration, now: Date): string {
  if (!d.stepStartedAt) return '';
  const h = Math.max(0, Math.floor((now.getTime() - d.stepStartedAt.getTime()) / 3_600_000));
  return h < 24 ? `${h} 小时` : `${Math.floor(h / 24)} 天 ${h % 24} 小时`;
}

// ---- deadlines ----------------------------------------------------------------------------

export interface DeadlineRun {
  reminded: string[];
  escalated: string[];
}

/**
 * Approvals pending longer than `declaration.reminderHours` remind their approvers; twice that
 * escalates to the discipline office and leadership (who get the reference and the step, never
 * the declarant's name or the content). Each reminder and escalation is claimed with a guarded
 * UPDATE that writes its messages to the send ledger in the same transaction, so running this
 * twice (or on two instances) sends each once, and a crash after the claim still sends it.
 */
export async function runApprovalDeadlines(bot: Bot, now: Date = bot.now()): Promise<DeadlineRun> {
  const out: DeadlineRun = { reminded: [], escalated: [] };
  const staged: Staged = [];
  const due = await claimDueDeadlines(bot.db, now, bot.deps.settings.declaration.reminderHours, async (tx, c) => {
    // With the claim: a crash after it still reminds, a rerun after it sends nothing twice.
    staged.push(...(await outboundOf(bot).stage(tx, await deadlineFollowUp(tx, c))));
  });
  for (const d of due) {
    if (d.remind) out.reminded.push(d.declaration.id);
    if (d.escalate) out.escalated.push(d.declaration.id);
  }
  await deliverFollowUps(bot, staged);
  return out;
}

async function deadlineFollowUp(tx: Queryable, c: DeadlineClaim): Promise<FollowUp> {
  const { declaration: d, step, waitedHours } = c;
  const ref = declarationRef(d);
  if (c.which === 'remind') {
    const text = `提醒：上缴申报 ${ref} 等待您（${STEP_NAMES[step]}）处理已超过 ${waitedHours} 小时，请在之前收到的审批卡片上尽快处理，或直接回复“${step === 'finance' ? '确认收款' : '同意'} ${ref}”或“驳回 ${ref} 理由”。`;
    return { key: `decl.${d.id}.v${d.version}.remind`, kind: 'decl.remind', title: '上缴申报审批提醒', to: (await approversFor(tx, d, step)).map((staff) => ({ staff, content: text })) };
  }
  const text = `督办：上缴申报 ${ref} 在“${STEP_NAMES[step]}”环节已等待 ${waitedHours} 小时仍未处理，请督促办理。`;
  const to = new Map<string, Staff>();
  for (const role of ['discipline', 'leader'] as const) for (const s of await listActiveStaff(tx, { role })) if (s.staffId !== d.declarantId) to.set(s.staffId, s);
  return { key: `decl.${d.id}.v${d.version}.escalate`, kind: 'decl.escalate', title: '上缴申报审批督办', to: [...to.values()].map((staff) => ({ staff, content: text })) };
}
