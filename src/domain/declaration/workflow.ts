import { FormError, UserError } from '../../errors.js';
import { appendAudit, auditTrail, type AuditRow } from '../../store/audit.js';
import type { Db, Queryable } from '../../store/db.js';
import { readFiles, saveFile, type StoredFile } from '../../store/files.js';
import {
  appendAttachments,
  claimDeadline,
  draftsToRemind,
  getDeclaration,
  hasLiveAmendment,
  recordedApprovers,
  insertDraft,
  listPending,
  lockDeclaration,
  nextReceiptNumber,
  setReceiptNo,
  transition,
  updateDraft,
  wasApprover,
} from '../../store/declarations.js';
import { MAX_ATTACHMENTS, type Attachment, type Declaration } from './record.js';
import { listActiveStaff, type Staff } from '../../store/staff.js';
import {
  declarationRef,
  formatReceiptNo,
  localDate,
  needsFinance,
  nextState,
  stateOfStep,
  stepOfState,
  type DeclarationInput,
  type Route,
  type State,
  type Step,
} from '../declaration.js';

/**
 * The approval workflow: every change is one guarded UPDATE plus one audit row in the same
 * transaction. Each function re-reads the record and re-checks the actor; nothing a card
 * carries is trusted beyond naming which record and which version the user saw.
 */

export const ENTITY = 'declaration';
/**
 * One answer for "no such declaration" and "not yours to see or to decide": whether a
 * declaration exists is itself confidential.
 */
export const NO_SUCH_DECLARATION = '没有找到这条申报，或您无权查看。';
export const STALE = '这条申报已由他人处理或已有更新，这张卡片上的操作不再生效。';

/** A decision about to be recorded: its decider counts as having decided that step already. */
export interface Decided {
  staffId: string;
  step: Step;
}

const DECIDING_ACTIONS = new Set(['declaration.approve', 'declaration.register', 'declaration.reject']);

/** The audit row that moved the declaration out of `state` (the decision taken there), if any. */
export async function decisionOf(q: Queryable, id: string, state: State) {
  return [...(await auditTrail(q, ENTITY, id))].reverse().find((r) => r.from_state === state);
}

/** Who decided which step of this declaration so far, read from its audit trail. */
async function stepDeciders(q: Queryable, id: string | undefined): Promise<Decided[]> {
  if (!id) return [];
  const out: Decided[] = [];
  for (const r of await auditTrail(q, ENTITY, id)) {
    const step = r.from_state ? stepOfState(r.from_state as State) : undefined;
    if (r.actor && step && DECIDING_ACTIONS.has(r.action)) out.push({ staffId: r.actor, step });
  }
  return out;
}

/** Everyone holding the step's role, before any exclusion. */
async function holdersOf(q: Queryable, d: Pick<Declaration, 'departmentId'>, step: Step): Promise<Staff[]> {
  return step === 'dept'
    ? listActiveStaff(q, { role: 'dept_head', departmentId: d.departmentId })
    : listActiveStaff(q, { role: step === 'discipline' ? 'discipline' : 'finance' });
}

/**
 * Who may decide a step right now: by role (and department for the head), never the declarant,
 * and never someone who decided another step of the same declaration: each step is a second pair
 * of eyes, so one person holding two roles (a 纪检监察室 head who is also a discipline member)
 * must not approve twice.
 */
export async function approversFor(
  q: Queryable,
  d: Pick<Declaration, 'declarantId' | 'departmentId'> & { id?: string },
  step: Step,
  also?: Decided,
): Promise<Staff[]> {
  const decided = [...(await stepDeciders(q, d.id)), ...(also ? [also] : [])];
  const other = new Set(decided.filter((x) => x.step !== step).map((x) => x.staffId));
  return (await holdersOf(q, d, step)).filter((s) => s.staffId !== d.declarantId && !other.has(s.staffId));
}

/**
 * After `from` is approved by `also`: the state it moves to, skipping a dept or discipline step
 * whose only role holders already decided another step of it (the next eligible role takes it).
 * The finance step is never skipped: money handed in must be confirmed by someone.
 */
async function nextEligibleState(q: Queryable, d: Declaration, from: State, route: Route, also: Decided): Promise<{ to: State; skipped: Step[] }> {
  const skipped: Step[] = [];
  let to = nextState(from, route);
  for (let s = stepOfState(to); s && s !== 'finance'; s = stepOfState(to)) {
    const holders = (await holdersOf(q, d, s)).filter((x) => x.staffId !== d.declarantId);
    if (holders.length === 0 || (await approversFor(q, d, s, also)).length > 0) break;
    skipped.push(s);
    to = nextState(to, route);
  }
  return { to, skipped };
}

export async function routeFor(q: Queryable, d: Pick<Declaration, 'declarantId' | 'departmentId' | 'handling'>): Promise<Route> {
  return { dept: (await approversFor(q, d, 'dept')).length > 0, finance: needsFinance(d.handling) };
}

/** The pending declarations whose current step this person may decide, oldest first. */
export async function pendingFor(q: Queryable, staff: Staff): Promise<{ d: Declaration; step: Step }[]> {
  const out: { d: Declaration; step: Step }[] = [];
  for (const d of await listPending(q)) {
    const step = stepOfState(d.state);
    if (step && (await isApproverOf(q, d, staff, step))) out.push({ d, step });
  }
  return out;
}

/** The declaration and its current step, when that step waits for this person; else undefined. */
export async function awaitingDecisionBy(q: Queryable, staff: Staff, id: string): Promise<{ d: Declaration; step: Step } | undefined> {
  const d = await getDeclaration(q, id);
  const step = d ? stepOfState(d.state) : undefined;
  return d && step && (await isApproverOf(q, d, staff, step)) ? { d, step } : undefined;
}

export async function isApproverOf(q: Queryable, d: Declaration, staff: Staff, step: Step): Promise<boolean> {
  if (staff.staffId === d.declarantId) return false;
  return (await approversFor(q, d, step)).some((s) => s.staffId === staff.staffId);
}

/**
 * Confidentiality: its author, the discipline office, the approvers of the step it is at, and
 * the approvers its earlier steps had and whoever decided them: the record names them in the
 * audit row that began each step, so a lost card grants nothing and withholds nothing, and someone appointed later does
 * not see steps that were never theirs.
 */
export async function canView(q: Queryable, d: Declaration, staff: Staff): Promise<boolean> {
  if (d.declarantId === staff.staffId) return true;
  // An unsubmitted draft is the author's alone, even to the discipline office.
  if (d.state === 'draft' || d.state === 'cancelled') return false;
  if (staff.roles.includes('discipline')) return true;
  const step = stepOfState(d.state);
  if (step && (await isApproverOf(q, d, staff, step))) return true;
  const recorded = await recordedApprovers(q, d.id);
  // Steps begun before approvers were recorded: the cards sent for them are all that says who they were.
  if (recorded === undefined) return wasApprover(q, d.id, staff.staffId);
  return recorded.includes(staff.staffId);
}

/** The audit detail that begins a step names its approvers (see canView). */
async function stepApprovers(q: Queryable, d: Declaration, to: State, also?: Decided): Promise<{ approvers?: string[] }> {
  const step = stepOfState(to);
  return step ? { approvers: (await approversFor(q, d, step, also)).map((s) => s.staffId) } : {};
}

/** The author's own declaration, or undefined: someone else's is as absent as a missing one. */
export async function findOwnDeclaration(q: Queryable, author: Pick<Staff, 'staffId'>, id: string): Promise<Declaration | undefined> {
  const d = await getDeclaration(q, id);
  return d && d.declarantId === author.staffId ? d : undefined;
}

/**
 * The one ownership rule behind every change a declarant makes: someone else's declaration
 * gets the same answer as a missing one, since whether it exists is itself confidential.
 */
export async function ownDeclaration(q: Queryable, author: Pick<Staff, 'staffId'>, id: string): Promise<Declaration> {
  const d = await findOwnDeclaration(q, author, id);
  if (!d) throw new UserError(NO_SUCH_DECLARATION);
  return d;
}

export const EDIT_REFUSED = '这份申报已提交或已有更新，不能再按这张卡片修改。';
const ATTACH_REFUSED = '这份申报已提交或已有更新，不能再按这张卡片添加。';

/** The author's draft exactly as their card showed it (the version), or `refusal`. */
async function ownDraftAt(q: Queryable, author: Pick<Staff, 'staffId'>, id: string, version: number, refusal: string): Promise<Declaration> {
  const d = await ownDeclaration(q, author, id);
  if (d.state !== 'draft' || d.version !== version) throw new UserError(refusal);
  return d;
}

/** Before the form opens: the draft may still be edited from this card. editDraft checks again when it saves. */
export function draftToEdit(q: Queryable, author: Staff, id: string, version: number): Promise<Declaration> {
  return ownDraftAt(q, author, id, version, EDIT_REFUSED);
}

/** Before files are asked for: the draft may still take them from this card, and has room. */
export async function draftToAttach(q: Queryable, author: Staff, id: string, version: number): Promise<Declaration> {
  const d = await ownDraftAt(q, author, id, version, ATTACH_REFUSED);
  if (d.attachments.length >= MAX_ATTACHMENTS) throw new UserError(`每份申报最多附 ${MAX_ATTACHMENTS} 个照片或文件，已经附满。`);
  return d;
}

/** The author's rejected declaration that has no live amendment yet; createDraft checks again when it saves. */
export async function rejectedToAmend(q: Queryable, author: Pick<Staff, 'staffId'>, id: string): Promise<Declaration> {
  const d = await ownDeclaration(q, author, id);
  if (d.state !== 'rejected') throw new UserError('只有被驳回的申报可以修改后重新提交。');
  await refuseSecondAmendment(q, d.id);
  return d;
}

export const ALREADY_AMENDED = '这条申报已经有修改后的新版本，请在“我的申报”中查看。';

/** A rejected declaration has at most one live amendment (the database enforces it too). */
export async function refuseSecondAmendment(q: Queryable, id: string): Promise<void> {
  if (await hasLiveAmendment(q, id)) throw new UserError(ALREADY_AMENDED);
}

export async function createDraft(db: Db, author: Staff, input: DeclarationInput, opts: { amends?: string } = {}): Promise<Declaration> {
  return db.transaction(async (tx) => {
    let revision = 1;
    let attachments: Attachment[] = [];
    if (opts.amends) {
      const prev = await rejectedToAmend(tx, author, opts.amends);
      // The amended version still needs its evidence: the photos/files carry over.
      attachments = prev.attachments;
      revision = prev.revision + 1;
    }
    const id = await insertDraft(tx, {
      ...input,
      declarantId: author.staffId,
      departmentId: author.departmentId,
      revision,
      attachments,
      ...(opts.amends ? { previousId: opts.amends } : {}),
    });
    await appendAudit(tx, {
      actor: author.staffId,
      action: 'declaration.draft',
      entityType: ENTITY,
      entityId: id,
      fromState: null,
      toState: 'draft',
      ...(opts.amends ? { detail: { amends: opts.amends, revision } } : {}),
    });
    return (await getDeclaration(tx, id))!;
  });
}

/**
 * Adds photos/files to the author's own draft (at most MAX_ATTACHMENTS in all). The audit row
 * records only how many were added: names and references stay in the declaration itself.
 */
export async function addAttachments(
  db: Db,
  author: Pick<Staff, 'staffId'>,
  id: string,
  files: { name: string; ref: string; data: Buffer; mime: string }[],
  now: Date,
): Promise<Declaration> {
  return db.transaction(async (tx) => {
    const add: Attachment[] = [];
    // The copies commit with the declaration's change, or not at all.
    for (const f of files) {
      const saved = await saveFile(tx, { name: f.name, mime: f.mime, data: f.data, uploadedBy: author.staffId });
      add.push({ name: f.name, ref: f.ref, platform: f.ref.split(':')[0] ?? '', addedAt: now.toISOString(), fileId: saved.id, size: saved.size, sha256: saved.sha256 });
    }
    const n = await appendAttachments(tx, id, author.staffId, add);
    if (n === undefined) {
      const d = await ownDeclaration(tx, author, id);
      if (d.state !== 'draft') throw new UserError('这份申报已提交或已取消，不能再添加照片或文件。');
      throw new UserError(
        `每份申报最多附 ${MAX_ATTACHMENTS} 个照片或文件，已附 ${d.attachments.length} 个，本次发送的 ${files.length} 个没有添加。发完请回复“完成”。`,
      );
    }
    await appendAudit(tx, { actor: author.staffId, action: 'declaration.attach', entityType: ENTITY, entityId: id, fromState: 'draft', toState: 'draft', detail: { count: files.length } });
    return (await getDeclaration(tx, id))!;
  });
}

/**
 * The kept copies of a declaration's photos and files, for someone allowed to see it; the view
 * is audited (how many, never what) in the same transaction that reads them.
 */
export async function openAttachments(db: Db, viewer: Staff, id: string): Promise<StoredFile[]> {
  return db.transaction(async (tx) => {
    const d = await getDeclaration(tx, id);
    if (!d || !(await canView(tx, d, viewer))) throw new UserError('您无权查看这份申报的附件。申报仅限申报人、审批人和纪检监察室查看。');
    const files = await readFiles(tx, d.attachments.flatMap((a) => (a.fileId ? [a.fileId] : [])));
    if (files.length === 0) throw new UserError('这份申报没有保存在系统中的附件。');
    await appendAudit(tx, { actor: viewer.staffId, action: 'declaration.files_viewed', entityType: ENTITY, entityId: d.id, fromState: d.state, toState: d.state, detail: { count: files.length } });
    return files;
  });
}

export interface DueDeadline {
  declaration: Declaration;
  step: Step;
  waitedHours: number;
  remind: boolean;
  escalate: boolean;
}

/**
 * The approval deadlines now due, each claimed here once: a step pending `hours` reminds its
 * approvers, twice that escalates. The claim is a guarded UPDATE with its audit row, so a rerun
 * (or a second instance) gets nothing twice.
 */
/**
 * What must follow a change, written in the change's own transaction (the outbox: see
 * scheduler/outbound.ts), so a crash after the commit cannot lose it.
 */
export type FollowUps<T> = (tx: Queryable, change: T) => Promise<void>;

export type DeadlineClaim = Omit<DueDeadline, 'remind' | 'escalate'> & { which: 'remind' | 'escalate' };

export async function claimDueDeadlines(db: Db, now: Date, hours: number, followUps?: FollowUps<DeadlineClaim>): Promise<DueDeadline[]> {
  const out: DueDeadline[] = [];
  for (const d of await listPending(db)) {
    const step = stepOfState(d.state);
    if (!step || !d.stepStartedAt) continue;
    const waited = (now.getTime() - d.stepStartedAt.getTime()) / 3_600_000;
    const claim = { declaration: d, step, waitedHours: Math.floor(waited) };
    const remind = waited >= hours && !d.remindedAt && (await claimOnce(db, { ...claim, which: 'remind' }, now, followUps));
    const escalate = waited >= 2 * hours && !d.escalatedAt && (await claimOnce(db, { ...claim, which: 'escalate' }, now, followUps));
    if (remind || escalate) out.push({ ...claim, remind, escalate });
  }
  return out;
}

async function claimOnce(db: Db, c: DeadlineClaim, now: Date, followUps?: FollowUps<DeadlineClaim>): Promise<boolean> {
  const d = c.declaration;
  return db.transaction(async (tx) => {
    if (!(await claimDeadline(tx, d.id, d.version, c.which === 'remind' ? 'reminded_at' : 'escalated_at', now))) return false;
    await appendAudit(tx, { actor: 'system', action: c.which === 'remind' ? 'declaration.remind' : 'declaration.escalate', entityType: ENTITY, entityId: d.id, fromState: d.state, toState: d.state });
    await followUps?.(tx, c);
    return true;
  });
}

/**
 * Drafts begun in [from, before) whose author was not reminded yet, each handed to `followUps`
 * in a transaction that holds it still a draft (one submitted meanwhile is left alone).
 */
export async function remindDrafts(db: Db, from: Date, before: Date, followUps: FollowUps<Declaration>): Promise<Declaration[]> {
  const out: Declaration[] = [];
  for (const d of await draftsToRemind(db, from, before)) {
    const held = await db.transaction(async (tx) => {
      if ((await lockDeclaration(tx, d.id))?.state !== 'draft') return false;
      await followUps(tx, d);
      return true;
    });
    if (held) out.push(d);
  }
  return out;
}

export async function editDraft(db: Db, author: Staff, id: string, version: number, input: DeclarationInput): Promise<Declaration> {
  return db.transaction(async (tx) => {
    await ownDraftAt(tx, author, id, version, EDIT_REFUSED);
    const v = await updateDraft(tx, id, version, input);
    if (v === undefined) throw new UserError(EDIT_REFUSED);
    await appendAudit(tx, { actor: author.staffId, action: 'declaration.edit', entityType: ENTITY, entityId: id, fromState: 'draft', toState: 'draft', detail: { version: v } });
    return (await getDeclaration(tx, id))!;
  });
}

export async function cancelDraft(db: Db, author: Staff, id: string, version: number, now: Date): Promise<Declaration> {
  return db.transaction(async (tx) => {
    const d = await ownDeclaration(tx, author, id);
    if (d.state !== 'draft' || d.version !== version || !(await transition(tx, id, 'draft', version, 'cancelled', { now }))) {
      throw new UserError('这份申报已提交或已有更新，不能再取消。');
    }
    await appendAudit(tx, { actor: author.staffId, action: 'declaration.cancel', entityType: ENTITY, entityId: id, fromState: 'draft', toState: 'cancelled' });
    return (await getDeclaration(tx, id))!;
  });
}

export interface Moved {
  declaration: Declaration;
  from: State;
  to: State;
  /** The dept step was skipped on submission (the declarant heads the department, or it has no other head). */
  skippedDept?: boolean;
  /** Steps passed over because everyone who could decide them had decided another step of it. */
  skipped?: Step[];
}

export async function submitDraft(db: Db, author: Staff, id: string, version: number, now: Date, followUps?: FollowUps<Moved>): Promise<Moved> {
  return db.transaction(async (tx) => {
    const d = await ownDeclaration(tx, author, id);
    if (d.state !== 'draft' || d.version !== version) throw new UserError('这份申报已提交或已有更新，请勿重复提交。');
    const route = await routeFor(tx, d);
    const to = nextState('draft', route);
    if (!(await transition(tx, id, 'draft', version, to, { now, submitted: true }))) throw new UserError('这份申报已提交或已有更新，请勿重复提交。');
    await appendAudit(tx, {
      actor: author.staffId,
      action: d.previousId ? 'declaration.resubmit' : 'declaration.submit',
      entityType: ENTITY,
      entityId: id,
      fromState: 'draft',
      toState: to,
      detail: { revision: d.revision, ...(route.dept ? {} : { skipped: 'dept' }), ...(d.previousId ? { amends: d.previousId } : {}), ...(await stepApprovers(tx, d, to)) },
    });
    const moved: Moved = { declaration: (await getDeclaration(tx, id))!, from: 'draft', to, skippedDept: !route.dept };
    await followUps?.(tx, moved);
    return moved;
  });
}

export type Decision = 'approve' | 'reject';

export type DecideResult =
  | ({ outcome: 'done'; decision: Decision; actor: Staff } & Moved)
  | { outcome: 'stale'; declaration: Declaration; last?: AuditRow };

class StaleDecision extends Error {}

/**
 * Someone who may not decide this step of this declaration (or it does not exist). The message
 * says why; a click answers with NO_SUCH_DECLARATION instead, so a forged one learns nothing.
 */
export class NotYoursToDecide extends UserError {}

/**
 * One approver's decision on the step `step` of declaration `id` as they saw it at `version`.
 * The first decision wins; a later one (another member of the office, a double click, an old
 * card) gets `stale` and changes nothing. Registering takes the year's next receipt number in
 * the same transaction.
 */
export async function decide(
  db: Db,
  actor: Staff,
  ref: { id: string; v: number; step: Step },
  decision: Decision,
  opts: { now: Date; timeZone: string; reason?: string; followUps?: FollowUps<Moved> },
): Promise<DecideResult> {
  const reason = opts.reason?.trim() ?? '';
  try {
    return await db.transaction(async (tx) => {
      const d = await getDeclaration(tx, ref.id);
      if (!d) throw new NotYoursToDecide('找不到这条申报，它可能已被删除或编号有误。');
      const own = d.declarantId === actor.staffId;
      // Who may decide comes before what they sent: the declarant already knows it exists, and is told why not.
      if (!own && !(await isApproverOf(tx, d, actor, ref.step))) throw new NotYoursToDecide('您不是这条申报当前步骤的审批人，无权处理。');
      // Named after the reject form's input, so the sandbox can show it there.
      if (decision === 'reject' && !reason) throw new FormError('驳回时请填写驳回理由。', { reason: '请填写驳回理由。' });
      if ([...reason].length > 200) {
        const tooLong = `驳回理由最多 200 字，现在是 ${[...reason].length} 字，请精简后重新提交。`;
        throw new FormError(tooLong, { reason: tooLong });
      }
      if (own) throw new UserError('不能审批自己的申报。');
      const from = stateOfStep(ref.step);
      if (d.state !== from || d.version !== ref.v) throw new StaleDecision();
      const also: Decided = { staffId: actor.staffId, step: ref.step };
      const next = decision === 'reject' ? { to: 'rejected' as State, skipped: [] } : await nextEligibleState(tx, d, from, await routeFor(tx, d), also);
      const to = next.to;
      if (!(await transition(tx, d.id, from, ref.v, to, { now: opts.now, ...(decision === 'reject' ? { reason } : {}) }))) throw new StaleDecision();
      let receiptNo: string | undefined;
      if (to === 'registered') {
        const year = Number(localDate(opts.now, opts.timeZone).slice(0, 4));
        receiptNo = formatReceiptNo(year, await nextReceiptNumber(tx, year));
        await setReceiptNo(tx, d.id, receiptNo);
      }
      await appendAudit(tx, {
        actor: actor.staffId,
        action: decision === 'reject' ? 'declaration.reject' : to === 'registered' ? 'declaration.register' : 'declaration.approve',
        entityType: ENTITY,
        entityId: d.id,
        fromState: from,
        toState: to,
        reason: decision === 'reject' ? reason : null,
        detail: {
          step: ref.step,
          version: ref.v,
          ...(receiptNo ? { receiptNo } : {}),
          ...(next.skipped.length ? { skipped: next.skipped } : {}),
          ...(await stepApprovers(tx, d, to, also)),
        },
      });
      const moved: Moved = { declaration: (await getDeclaration(tx, d.id))!, from, to, ...(next.skipped.length ? { skipped: next.skipped } : {}) };
      await opts.followUps?.(tx, moved);
      return { outcome: 'done' as const, decision, actor, ...moved };
    });
  } catch (e) {
    if (!(e instanceof StaleDecision)) throw e;
    const declaration = (await getDeclaration(db, ref.id))!;
    const last = await decisionOf(db, ref.id, stateOfStep(ref.step));
    return { outcome: 'stale', declaration, ...(last ? { last } : {}) };
  }
}


export { declarationRef };
