import { actions, button, card, form, note, table, text } from './builders.js';
import type { Card } from './model.js';
import { declarationRef, formatYuan, KINDS, STATE_NAMES, STEP_NAMES, stepOfState, type State, type Step } from '../src/domain/declaration.js';
import { formatTime } from '../src/domain/declaration/format.js';
import type { Declaration } from '../src/domain/declaration/record.js';
import { detailElements } from './declaration.js';

/**
 * The approvers' cards for 上缴申报 and what the declarant is told after each move. Pure
 * functions of domain values: no Bot, no database.
 */

const APPROVAL_SECRECY = '申报内容仅限申报人、审批人和纪检监察室查看，请勿转发或截图外传。';

export type DecisionKind = 'approve' | 'reject';

/** The verb of a decision as users read it: finance confirms receipt rather than agreeing. */
export const decisionVerb = (decision: DecisionKind, step: Step): string => (decision === 'reject' ? '驳回' : step === 'finance' ? '确认收款' : '同意');

/** Why a step was passed over: its only possible approvers had already decided another step of this declaration. */
export function skippedNote(skipped: readonly Step[] = []): string | null {
  if (skipped.length === 0) return null;
  return `${skipped.map((s) => STEP_NAMES[s]).join('、')}审核已跳过：能审核该环节的同志已审批过本申报的其他环节，同一人不能审批同一申报的两个环节。`;
}

export function approvalCard(d: Declaration, step: Step, previousReason?: string | null, skipped: readonly Step[] = []): Card {
  const value = { id: d.id, v: d.version, step };
  const finance = step === 'finance';
  return card(
    `上缴申报待${finance ? '确认收款' : '审核'} · ${declarationRef(d)}`,
    [
      note(`审批环节：${STEP_NAMES[step]}${step === 'discipline' ? '（室内任何一位同志均可处理，以先处理者为准）' : ''}`),
      skippedNote(skipped) ? note(skippedNote(skipped)!) : null,
      ...detailElements(d),
      previousReason ? text(`上一版被驳回的理由：${previousReason}`) : null,
      finance ? note('请核实款物已交到财务科（或已存入患者住院账户）后再确认收款。') : null,
      actions(button(finance ? '确认已收款' : '同意', 'decl.approve', value, { style: 'primary' })),
      form('decl.reject', [{ kind: 'text', name: 'reason', label: '驳回理由', required: true, multiline: true, maxLength: 200, placeholder: '驳回时必填，申报人会看到' }], {
        submitLabel: '驳回',
        submitStyle: 'danger',
        value,
      }),
      // Where a platform does not deliver card clicks, typing the same decision works.
      note(`也可以直接回复“${finance ? '确认收款' : '同意'} ${declarationRef(d)}”或“驳回 ${declarationRef(d)} 理由”。`),
      note(APPROVAL_SECRECY),
    ],
    finance ? 'purple' : 'orange',
  );
}

export function decidedCard(d: Declaration, step: Step, how: { decision: DecisionKind; actorName: string; at: Date; reason?: string | null; timeZone: string }): Card {
  const verb = decisionVerb(how.decision, step);
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

/** What the declarant is told after a move from `from` to `to` (the declaration as it is now). */
export function declarantMessage(m: { declaration: Declaration; from: State; to: State; skippedDept?: boolean; skipped?: Step[] }): Card | string {
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
      return `您的上缴申报 ${ref} 已由${m.from === 'pending_dept' ? '科室负责人' : '纪检监察室'}同意。${skippedNote(m.skipped) ?? ''}请将款物交到财务科（或存入患者住院账户），财务确认收款后即完成登记。`;
    case 'registered':
      return card(
        `上缴登记完成 · ${ref}`,
        [
          text(`您的上缴申报已完成登记，回执编号 ${ref}，请妥善保存。感谢您主动上缴，守住了廉洁从业的底线（《九项准则》第八条）。`),
          skippedNote(m.skipped) ? note(skippedNote(m.skipped)!) : null,
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

/** The answer to a decision that took effect; it names the declaration, since a toast may arrive as a chat message. */
export function decisionMessage(d: Pick<Declaration, 'id' | 'receiptNo'>, decision: DecisionKind, to: State): string {
  const label = `SB-${d.id}`;
  return decision === 'reject' ? `已驳回 ${label}，申报人会收到驳回理由。` : to === 'registered' ? `已登记 ${label}，回执编号 ${d.receiptNo}。` : `已同意 ${label}，已转下一环节。`;
}

/** The toast for a click on a step someone (perhaps the clicker) has already decided. */
export function staleToast(opts: { decision: DecisionKind; step: Step; byName: string; byClicker: boolean }): string {
  const verb = decisionVerb(opts.decision, opts.step);
  return opts.byClicker ? `您已${verb}过这条申报，无需重复操作。` : `已由他人处理：${opts.byName} 已${verb}，您的操作没有生效。`;
}

export const STALE_CARD_TOAST = '这张卡片已过期（申报已有更新），操作没有生效。';

export function waitedText(d: Pick<Declaration, 'stepStartedAt'>, now: Date): string {
  if (!d.stepStartedAt) return '';
  const h = Math.max(0, Math.floor((now.getTime() - d.stepStartedAt.getTime()) / 3_600_000));
  // Read at a glance: whole hours within a day, whole days after that.
  if (h < 1) return '不到 1 小时';
  return h < 24 ? `${h} 小时` : `${Math.floor(h / 24)} 天`;
}

/** `待审批`: what waits for this approver, and how long each has waited. */
export function pendingListCard(mine: { d: Declaration; step: Step }[], now: Date): Card {
  return card(
    `待您处理的上缴申报（${mine.length} 条）`,
    [
      table(
        ['编号', '环节', '申报人', '类别', '金额（元）', '等待'],
        mine.map(({ d, step }) => [declarationRef(d), STEP_NAMES[step], d.declarantName, KINDS[d.kind], formatYuan(d.amount), waitedText(d, now)]),
      ),
      // The approval card again, as a new message: the one sent by the workflow may be far up the chat.
      actions(...mine.map(({ d }) => button(`处理 SB-${d.id}`, 'decl.open', { id: d.id }))),
      note('点击“处理 SB-编号”会收到该申报的审批卡片；也可回复“同意 SB-编号”（财务科：“确认收款 SB-编号”）或“驳回 SB-编号 理由”。发送“申报 SB-编号”查看详情。'),
      note(APPROVAL_SECRECY),
    ],
    'orange',
  );
}

/** To the step's approvers: the reference and the step only, as every notification. */
export function reminderText(d: Pick<Declaration, 'id' | 'receiptNo'>, step: Step, waitedHours: number): string {
  const ref = declarationRef(d);
  return `提醒：上缴申报 ${ref} 等待您（${STEP_NAMES[step]}）处理已超过 ${waitedHours} 小时，请在之前收到的审批卡片上尽快处理，或直接回复“${step === 'finance' ? '确认收款' : '同意'} ${ref}”或“驳回 ${ref} 理由”。`;
}

/** To the discipline office and leadership: never the declarant's name or the content. */
export function escalationText(d: Pick<Declaration, 'id' | 'receiptNo'>, step: Step, waitedHours: number): string {
  return `督办：上缴申报 ${declarationRef(d)} 在“${STEP_NAMES[step]}”环节已等待 ${waitedHours} 小时仍未处理，请督促办理。`;
}
