import { z } from 'zod';
import { approvalCard, decidedCard, declarantMessage, decisionMessage, escalationText, pendingListCard, reminderText, STALE_CARD_TOAST, staleToast } from '../cards/approval.js';
import type { Card } from '../cards/model.js';
import { hasScheduling, scheduling } from '../scheduler/index.js';
import { arg, no, ok, text } from '../src/bot/args.js';
import type { Bot } from '../src/bot/bot.js';
import { parseRef, STEP_NAMES, stepOfState, type Step } from '../src/domain/declaration.js';
import {
  approversFor,
  decisionOf,
  NO_SUCH_DECLARATION,
  NotYoursToDecide,
  STALE,
  type DeadlineClaim,
  type DecideResult,
  type Moved,
} from '../src/domain/declaration/workflow.js';
import type { FollowUp, SentHook, Staged } from '../scheduler/outbound.js';
import type { Queryable } from '../src/store/db.js';
import type { PlatformName } from '../src/platform/types.js';
import { UserError } from '../src/errors.js';
import type { CommandContext } from '../src/bot/context.js';
import { cardsFor, getDeclaration, lockDeclaration, recordCard } from '../src/store/declarations.js';
import type { Declaration } from '../src/domain/declaration/record.js';
import { getStaff, listActiveStaff, type Staff } from '../src/store/staff.js';

/**
 * Approvals of 上缴申报 (the cards themselves are in cards/approval.ts): sending them to each step's approvers, deciding, updating every
 * card of a decided step in place, telling the declarant, and the deadline reminders.
 */

const refSchema = z.object({
  id: z.string().regex(/^\d{1,18}$/),
  v: z.coerce.number().int().min(1),
  step: z.enum(['dept', 'discipline', 'finance']),
});

/** A click waits this long for its follow-ups to leave: well inside DingTalk's 2 s (Feishu's 3 s) answer limit. */
const FOLLOW_UP_WAIT_MS = 1000;

function outboundOf(bot: Bot) {
  // Follow-ups live in the outbound queue's ledger; a bot without one could only lose them.
  if (!hasScheduling(bot)) throw new Error('declaration follow-ups need the outbound queue (attachScheduling)');
  return scheduling(bot).outbound;
}

/** The current step's approval card, one per approver (their message ids are recorded on send). */
async function stageApprovalCards(bot: Bot, tx: Queryable, d: Declaration, skipped: Step[] = []): Promise<Staged> {
  const step = stepOfState(d.state);
  if (!step) return [];
  const approvers = await approversFor(tx, d, step);
  if (approvers.length === 0) {
    bot.log.warn({ declarationId: d.id, step }, 'declaration step has no approver on the roster');
    return [];
  }
  const prevReason = d.previousId ? ((await getDeclaration(tx, d.previousId))?.lastReason ?? null) : null;
  const body = approvalCard(d, step, prevReason, skipped);
  return outboundOf(bot).stage(tx, {
    key: `decl.${d.id}.v${d.version}.cards`,
    kind: APPROVAL_CARD_KIND,
    title: '上缴申报审批卡片',
    meta: { declarationId: d.id, state: d.state, version: d.version },
    to: approvers.map((staff) => ({ staff, content: body })),
  });
}

const APPROVAL_CARD_KIND = 'decl.approval';

/**
 * Where each approval card went, so the decided step's cards can be updated in place later.
 * A card still on its way when someone else decided (three discipline members, one quick
 * click) is written over at once with the decision, so nobody is left holding live buttons.
 */
function recordSentCard(bot: Bot): SentHook {
  return async (tx, row, messageId) => {
    const meta = row.meta as { declarationId: string; state: Declaration['state']; version: number };
    const now = await lockDeclaration(tx, meta.declarationId);
    await recordCard(tx, { declarationId: meta.declarationId, state: meta.state, version: meta.version, staffId: row.staff_id, platform: row.platform ?? '', messageId });
    const step = stepOfState(meta.state);
    if (!now || now.version === meta.version || !step) return;
    const last = await decisionOf(tx, meta.declarationId, meta.state);
    const who = last?.actor ? await getStaff(tx, last.actor) : undefined;
    const d = await getDeclaration(tx, meta.declarationId);
    if (!last || !who || !d) return;
    const decision = last.to_state === 'rejected' ? ('reject' as const) : ('approve' as const);
    const card = decidedCard(d, step, { decision, actorName: who.name, at: last.at, reason: last.reason, timeZone: bot.timeZone });
    return outboundOf(bot).stage(tx, {
      key: `decl.${d.id}.v${meta.version}.decided-late.${row.staff_id}`,
      kind: 'decl.decided',
      title: '上缴申报审批卡片更新',
      updates: [{ staffId: row.staff_id, platform: (row.platform ?? '') as PlatformName, messageId, card }],
    });
  };
}

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
  if (m.to.startsWith('pending_')) staged.push(...(await stageApprovalCards(bot, tx, d, m.skipped)));
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

async function staleReply(bot: Bot, r: Extract<DecideResult, { outcome: 'stale' }>, step: Step, actor: Staff) {
  // The decided card shows the content: only to someone who may see it.
  if (!(await bot.repos.declarations.canView(r.declaration, actor))) return { toast: NO_SUCH_DECLARATION };
  const who = r.last?.actor ? await bot.repos.staff.getStaff(r.last.actor) : undefined;
  if (!r.last || !who) return { toast: STALE_CARD_TOAST };
  const decision = r.last.to_state === 'rejected' ? ('reject' as const) : ('approve' as const);
  return {
    toast: staleToast({ decision, step, byName: who.name, byClicker: who.staffId === actor.staffId }),
    card: decidedCard(r.declaration, step, { decision, actorName: who.name, at: r.last.at, reason: r.last.reason, timeZone: bot.timeZone }),
  };
}

/**
 * `同意 SB-12` / `确认收款 SB-12` / `驳回 SB-12 理由`: the card's decision typed as a message,
 * through the same decide() and the same checks. It acts on the step the declaration is at now.
 */
async function decideByText(bot: Bot, ctx: CommandContext<{ id: string; reason?: string }>, decision: 'approve' | 'reject'): Promise<string> {
  const waiting = await bot.repos.declarations.awaitingDecisionBy(ctx.staff, ctx.params.id);
  // One answer for "no such", "not yours" and "already decided": existence itself is confidential.
  if (!waiting) throw new UserError(`SB-${ctx.params.id} 目前没有等待您处理的审批。发送“待审批”查看等待您处理的申报。`);
  const { d, step } = waiting;
  // Confirming money received is its own words, so an approver cannot register a receipt by a habitual 同意.
  if (decision === 'approve' && step === 'finance' && ctx.word !== '确认收款') {
    throw new UserError(`SB-${d.id} 在财务科确认收款环节：请核实款物已交到财务科（或已存入患者住院账户）后，回复“确认收款 SB-${d.id}”。`);
  }
  if (decision === 'approve' && step !== 'finance' && ctx.word === '确认收款') {
    throw new UserError(`SB-${d.id} 目前在${STEP_NAMES[step]}审核环节，“确认收款”只用于财务科确认收款；同意请回复“同意 SB-${d.id}”。`);
  }
  const out = await applyDecision(bot, ctx.staff, { id: d.id, v: d.version, step }, decision, decision === 'reject' ? ctx.params.reason : undefined);
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
  const r = await bot.repos.declarations.decide(actor, ref, decision, {
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
  return { message: decisionMessage(r.declaration, decision, r.to), ...(card ? { card } : {}) };
}

/** SB-12, 12 or #12: a declaration's id (receipt numbers name a declaration only for looking it up). */
const declarationId = arg('id', 'SB-编号', (i) => {
  const q = parseRef(i.word);
  return q && 'id' in q ? ok(q.id) : no();
});
const decideHint = (example: string) => `例如“${example}”。发送“待审批”查看等待您处理的申报。`;

export function registerApprove(bot: Bot): void {
  const approvers = ['dept_head', 'discipline', 'finance'] as const;
  bot.command(
    { names: ['待审批', 'pending', '审批'], summary: '列出等待您审批或确认收款的上缴申报', roles: [...approvers], group: '上缴申报', confidential: true },
    async (ctx) => {
      const mine = await bot.repos.declarations.pendingFor(ctx.staff);
      if (mine.length === 0) return '目前没有等待您处理的上缴申报。';
      return pendingListCard(mine, ctx.now);
    },
  );
  bot.command(
    { names: ['同意', 'approve', '确认收款'], args: [declarationId], hint: decideHint('同意 SB-12'), summary: '同意一条待您审批的上缴申报（财务科为确认收款）', roles: [...approvers], group: '上缴申报', confidential: true },
    (ctx) => decideByText(bot, ctx, 'approve'),
  );
  bot.command(
    { names: ['驳回', 'reject'], args: [declarationId, text('reason', '理由')], hint: decideHint('驳回 SB-12 金额与实际不符'), summary: '驳回一条待您审批的上缴申报，理由必填', roles: [...approvers], group: '上缴申报', confidential: true },
    (ctx) => decideByText(bot, ctx, 'reject'),
  );

  if (hasScheduling(bot)) {
    const { scheduler, outbound } = scheduling(bot);
    outbound.onSent(APPROVAL_CARD_KIND, recordSentCard(bot));
    // Hourly in the daytime: reminders reach approvers at work, within an hour of the deadline;
    // each reminder is claimed once in the database, so a rerun sends nothing twice.
    scheduler.every('declaration.deadlines', '5 8-21 * * *', async ({ now }) => {
      const run = await runApprovalDeadlines(bot, now);
      if (run.reminded.length || run.escalated.length) bot.log.info({ reminded: run.reminded.length, escalated: run.escalated.length }, 'declaration deadlines run');
    });
  }
  bot.action(
    'decl.open',
    async (ctx) => {
      const { id } = ctx.value;
      const waiting = await bot.repos.declarations.awaitingDecisionBy(ctx.staff, id);
      if (!waiting) {
        // Decided since the list was sent, or never theirs: only someone who may see it learns which.
        const d = await bot.repos.declarations.getDeclaration(id);
        return { toast: d && (await bot.repos.declarations.canView(d, ctx.staff)) ? STALE : NO_SUCH_DECLARATION };
      }
      const { d, step } = waiting;
      const prevReason = d.previousId ? ((await bot.repos.declarations.getDeclaration(d.previousId))?.lastReason ?? null) : null;
      // A new message: the list stays as it is, for the other rows.
      return { toast: `已发送 SB-${d.id} 的审批卡片，请在新卡片上处理。`, send: approvalCard(d, step, prevReason) };
    },
    { schema: z.object({ id: z.string().regex(/^\d{1,18}$/) }), confidential: true },
  );
  for (const decision of ['approve', 'reject'] as const) {
    bot.action(
      `decl.${decision}`,
      async (ctx) => {
        const ref = ctx.value;
        const reason = decision === 'reject' ? (ctx.form?.reason ?? '') : undefined;
        const out = await applyDecision(bot, ctx.staff, ref, decision, reason).catch((e: unknown) => {
          // A forged or old click learns nothing, not even that the declaration exists.
          throw e instanceof NotYoursToDecide ? new UserError(NO_SUCH_DECLARATION) : e;
        });
        if (out.stale) return staleReply(bot, out.stale, ref.step, ctx.staff);
        return { toast: out.message, ...(out.card ? { card: out.card } : {}) };
      },
      { schema: refSchema, confidential: true },
    );
  }
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
  const due = await bot.repos.declarations.claimDueDeadlines(now, bot.deps.settings.declaration.reminderHours, async (tx, c) => {
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
  if (c.which === 'remind') {
    const text = reminderText(d, step, waitedHours);
    return { key: `decl.${d.id}.v${d.version}.remind`, kind: 'decl.remind', title: '上缴申报审批提醒', to: (await approversFor(tx, d, step)).map((staff) => ({ staff, content: text })) };
  }
  const text = escalationText(d, step, waitedHours);
  const to = new Map<string, Staff>();
  for (const role of ['discipline', 'leader'] as const) for (const s of await listActiveStaff(tx, { role })) if (s.staffId !== d.declarantId) to.set(s.staffId, s);
  return { key: `decl.${d.id}.v${d.version}.escalate`, kind: 'decl.escalate', title: '上缴申报审批督办', to: [...to.values()].map((staff) => ({ staff, content: text })) };
}
