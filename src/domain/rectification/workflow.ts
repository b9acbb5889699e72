import { UserError } from '../../errors.js';
import { appendAudit, auditTrail } from '../../store/audit.js';
import type { Db, Queryable } from '../../store/db.js';
import {
  appendEvidenceFiles,
  claimOverdue,
  claimRound,
  getCampaign,
  getProblem,
  getReport,
  getRound,
  insertProblem,
  insertReport,
  listProblems,
  moveProblem,
  overdueProblems,
  saveCampaign,
  type ReportAnswer,
} from '../../store/rectification.js';
import { readFiles, saveFile, type StoredFile } from '../../store/files.js';
import { listActiveStaff, listDepartments, type Staff } from '../../store/staff.js';
import { addDays, daysBetween } from '../calendar.js';
import { maskPersonalNumbers } from '../masking.js';
import { roundDates, type CampaignSpec } from './campaign-file.js';
import { mayConfirm, mayRectify, mayView, MOVES, problemRef, STATE_NAMES, type EvidenceFile, type Move, type Problem } from './ledger.js';

/** The ledger's transitions, each one guarded statement and one audit row in one transaction. */

const ENTITY = 'rectification_problem';
export const NO_SUCH_PROBLEM = '没有找到这条问题，或您无权查看。发送“问题清单”查看与您有关的问题。';

/** Days past the deadline after which an overdue row is escalated (its owner was reminded on the first). */
export const ESCALATE_AFTER_DAYS = 7;

export type FollowUps<T> = (tx: Queryable, x: T) => Promise<void>;

// ---- campaigns ------------------------------------------------------------------------------

export async function importCampaign(db: Db, spec: CampaignSpec, actor: string): Promise<{ created: boolean; rounds: { round: number; startsOn: string; dueOn: string }[] }> {
  const rounds = Array.from({ length: spec.rounds }, (_, i) => ({ round: i + 1, ...roundDates(spec, i + 1) }));
  return db.transaction(async (tx) => {
    const created = await saveCampaign(tx, spec, rounds, actor);
    await appendAudit(tx, { actor, action: 'rectification.campaign.import', entityType: 'rectification_campaign', entityId: spec.id, detail: { items: spec.items.length, rounds: spec.rounds } });
    return { created, rounds };
  });
}

export async function targetDepartments(q: Queryable, spec: CampaignSpec): Promise<{ id: number; name: string }[]> {
  const all = await listDepartments(q);
  return spec.departments === 'all' ? all : all.filter((d) => (spec.departments as string[]).includes(d.name));
}

/** Who answers a round for a department: its head and its report owner. */
export const answersForDepartment = (s: Staff): boolean => s.roles.includes('dept_head') || s.roles.includes('report_owner');

export async function campaignRecipients(q: Queryable, spec: CampaignSpec): Promise<Staff[]> {
  const ids = new Set((await targetDepartments(q, spec)).map((d) => d.id));
  return (await listActiveStaff(q)).filter((s) => ids.has(s.departmentId) && answersForDepartment(s));
}

/** Claims a round's opening once, with its audit row. */
export async function openRound(db: Db, campaignId: string, round: number, actor: string, now: Date): Promise<boolean> {
  return db.transaction(async (tx) => {
    if (!(await claimRound(tx, campaignId, round, now))) return false;
    await appendAudit(tx, { actor, action: 'rectification.round.open', entityType: 'rectification_campaign', entityId: campaignId, detail: { round } });
    return true;
  });
}

// ---- a department's self-inspection ---------------------------------------------------------

export interface SubmittedReport {
  campaign: CampaignSpec;
  round: number;
  problems: Problem[];
}

/**
 * One department's answer for a round: "未发现问题" or "发现问题" with a description per item.
 * The first answer of a department wins; every problem found becomes a ledger row owned by
 * whoever answered, with the campaign's rectification period as its deadline.
 */
export async function submitReport(
  db: Db,
  staff: Staff,
  ref: { campaignId: string; round: number },
  answers: ReportAnswer[],
  opts: { now: Date; today: string; followUps?: FollowUps<SubmittedReport> },
): Promise<SubmittedReport> {
  const c = await getCampaign(db, ref.campaignId);
  if (!c || !c.active) throw new UserError('这项自查自纠活动不存在或已结束。');
  const spec = c.spec;
  if (!answersForDepartment(staff) || !(await targetDepartments(db, spec)).some((d) => d.id === staff.departmentId)) {
    throw new UserError(`“${spec.title}”由各目标科室的负责人或报告联络员填报，您不在填报范围内。`);
  }
  if (!(await getRound(db, ref.campaignId, ref.round))?.openedAt) throw new UserError('这一轮自查还没有开始。');
  const byItem = new Map(answers.map((a) => [a.item, a]));
  const missing = spec.items.filter((it) => !byItem.has(it.id));
  if (missing.length) throw new UserError(`请对每一项作答：第 ${missing.map((m) => m.id).join('、')} 项还没有选择“未发现问题”或“发现问题”。`);
  const empty = spec.items.filter((it) => byItem.get(it.id)!.found && !byItem.get(it.id)!.description?.trim());
  if (empty.length) throw new UserError(`第 ${empty.map((m) => m.id).join('、')} 项选择了“发现问题”，请简要说明发现的问题（不超过 500 字）。`);
  const clean: ReportAnswer[] = spec.items.map((it) => {
    const a = byItem.get(it.id)!;
    return a.found ? { item: it.id, found: true, description: maskPersonalNumbers(a.description!.trim().slice(0, 500)).text } : { item: it.id, found: false };
  });
  const confirmDepartmentId = spec.confirmDepartment ? (await listDepartments(db)).find((d) => d.name === spec.confirmDepartment)?.id ?? null : null;
  return db.transaction(async (tx) => {
    if (!(await insertReport(tx, { ...ref, departmentId: staff.departmentId, submittedBy: staff.staffId, answers: clean, now: opts.now }))) {
      const prev = await getReport(tx, ref.campaignId, ref.round, staff.departmentId);
      throw new UserError(`本科室的“${spec.title}”自查结果已由${prev?.submittedByName ?? '他人'}提交，不能重复提交。发送“问题清单”查看本科室的问题。`);
    }
    const ids: string[] = [];
    for (const a of clean.filter((x) => x.found)) {
      ids.push(await insertProblem(tx, {
        departmentId: staff.departmentId, campaignId: ref.campaignId, round: ref.round, itemId: a.item, source: 'self', description: a.description!,
        ownerId: staff.staffId, confirmDepartmentId, deadline: addDays(opts.today, spec.rectifyDays), createdBy: staff.staffId,
      }));
    }
    await appendAudit(tx, { actor: staff.staffId, action: 'rectification.report', entityType: 'rectification_campaign', entityId: ref.campaignId, detail: { round: ref.round, departmentId: staff.departmentId, found: ids.length } });
    for (const id of ids) await appendAudit(tx, { actor: staff.staffId, action: 'rectification.create', entityType: ENTITY, entityId: id, toState: 'pending', detail: { source: 'self' } });
    const problems = (await Promise.all(ids.map((id) => getProblem(tx, id)))).filter((p): p is Problem => Boolean(p));
    const out = { campaign: spec, round: ref.round, problems };
    await opts.followUps?.(tx, out);
    return out;
  });
}

// ---- rows the discipline office adds or merges -------------------------------------------------

/** The person who answers for a department's problems: its head, else its report owner. */
export async function departmentOwner(q: Queryable, departmentId: number): Promise<Staff | undefined> {
  const people = await listActiveStaff(q, { departmentId });
  return people.find((s) => s.roles.includes('dept_head')) ?? people.find((s) => s.roles.includes('report_owner'));
}

export async function addInspectionProblem(
  db: Db,
  actor: Staff,
  input: { department: { id: number; name: string }; description: string; deadline: string },
  opts: { followUps?: FollowUps<Problem> } = {},
): Promise<Problem> {
  const owner = await departmentOwner(db, input.department.id);
  if (!owner) throw new UserError(`${input.department.name}没有科室负责人或报告联络员，无法指定整改责任人。请先在人员名单中补上。`);
  return db.transaction(async (tx) => {
    const id = await insertProblem(tx, { departmentId: input.department.id, source: 'inspection', description: maskPersonalNumbers(input.description).text, ownerId: owner.staffId, deadline: input.deadline, createdBy: actor.staffId });
    await appendAudit(tx, { actor: actor.staffId, action: 'rectification.create', entityType: ENTITY, entityId: id, toState: 'pending', detail: { source: 'inspection' } });
    const p = (await getProblem(tx, id))!;
    await opts.followUps?.(tx, p);
    return p;
  });
}

export interface Merged {
  item: Problem;
  merged: Problem[];
}

/**
 * Duplicates reported by several departments become one institutional item: each source row
 * moves to 已合并 pointing at it (and counts, for its department, in the item's state).
 */
export async function mergeProblems(
  db: Db,
  actor: Staff,
  input: { ids: string[]; description: string; owner: Staff; deadline: string; now: Date },
  opts: { followUps?: FollowUps<Merged> } = {},
): Promise<Merged> {
  const ids = [...new Set(input.ids)];
  if (ids.length < 2) throw new UserError('请至少写明两条要合并的问题，例如“合并问题 WT-3 WT-5 统一规范耗材申领流程”。');
  return db.transaction(async (tx) => {
    const rows: Problem[] = [];
    for (const id of ids) {
      const p = await getProblem(tx, id);
      if (!p) throw new UserError(`没有找到问题 ${problemRef(id)}。`);
      if (p.state === 'closed' || p.state === 'merged' || p.source === 'merged') throw new UserError(`问题 ${problemRef(id)} ${STATE_NAMES[p.state]}${p.source === 'merged' ? '（本身是院级问题）' : ''}，不能再合并。`);
      rows.push(p);
    }
    const itemId = await insertProblem(tx, { departmentId: null, source: 'merged', description: maskPersonalNumbers(input.description).text, ownerId: input.owner.staffId, deadline: input.deadline, createdBy: actor.staffId });
    await appendAudit(tx, { actor: actor.staffId, action: 'rectification.create', entityType: ENTITY, entityId: itemId, toState: 'pending', detail: { source: 'merged', from: ids } });
    for (const p of rows) {
      if (!(await moveProblem(tx, p.id, p.state, p.version, 'merged', { now: input.now, mergedInto: itemId }))) throw new UserError(`问题 ${problemRef(p.id)} 刚刚有了更新，请重新合并。`);
      await appendAudit(tx, { actor: actor.staffId, action: 'rectification.merge', entityType: ENTITY, entityId: p.id, fromState: p.state, toState: 'merged', detail: { into: itemId } });
    }
    const out = { item: (await getProblem(tx, itemId))!, merged: await listProblems(tx, { mergedInto: itemId }) };
    await opts.followUps?.(tx, out);
    return out;
  });
}

// ---- moves ------------------------------------------------------------------------------------

export interface Moved {
  problem: Problem;
  move: Move;
  actor: Staff;
}

export class NotYours extends UserError {
  constructor() {
    super(NO_SUCH_PROBLEM);
  }
}

/** Who applied for the row's current 销号 (from its audit trail). */
export async function appliedBy(q: Queryable, id: string): Promise<string | undefined> {
  const trail = await auditTrail(q, ENTITY, id);
  return [...trail].reverse().find((a) => a.action === MOVES.apply.action)?.actor ?? undefined;
}

export type MoveResult = { outcome: 'moved'; moved: Moved } | { outcome: 'stale'; problem: Problem };

/**
 * One move of a row by a person. The card's id and version are only a claim: the row is read
 * again, the person checked against it, and the UPDATE guarded by state and version.
 */
export async function moveRow(
  db: Db,
  actor: Staff,
  ref: { id: string; v: number },
  move: Move,
  input: { now: Date; today: string; measure?: string; deadline?: string; evidence?: string; evidenceFiles?: EvidenceFile[]; reason?: string; followUps?: FollowUps<Moved> },
): Promise<MoveResult> {
  const spec = MOVES[move];
  return db.transaction(async (tx) => {
    const p = await getProblem(tx, ref.id);
    if (!p) throw new NotYours();
    if (move === 'accept' || move === 'refuse') {
      if (!mayConfirm(p, actor, await appliedBy(tx, p.id))) {
        if (p.ownerId === actor.staffId) throw new UserError(`问题 ${problemRef(p.id)} 的销号须由纪检监察室${p.confirmDepartment ? `或${p.confirmDepartment}` : ''}确认，责任人不能自行销号。`);
        throw new NotYours();
      }
    } else if (!mayRectify(p, actor)) throw new NotYours();
    if (p.state !== spec.from || p.version !== ref.v) return { outcome: 'stale' as const, problem: p };
    const set: Parameters<typeof moveProblem>[5] = { now: input.now };
    if (move === 'start') {
      const measure = input.measure?.trim();
      if (!measure) throw new UserError('请填写整改措施（不超过 500 字）。');
      set.measure = maskPersonalNumbers(measure.slice(0, 500)).text;
      if (input.deadline) {
        if (daysBetween(input.today, input.deadline) < 0) throw new UserError('整改期限不能早于今天。');
        set.deadline = input.deadline;
      }
    } else if (move === 'apply') {
      const evidence = input.evidence?.trim();
      if (!evidence) throw new UserError('申请销号须说明整改结果和佐证材料（不超过 1000 字）。');
      set.evidence = maskPersonalNumbers(evidence.slice(0, 1000)).text;
      if (input.evidenceFiles) set.evidenceFiles = input.evidenceFiles;
    } else if (move === 'refuse') {
      const reason = input.reason?.trim();
      if (!reason) throw new UserError('退回整改须填写理由，请说明还需要怎样整改。');
      set.reason = maskPersonalNumbers(reason.slice(0, 500)).text;
    }
    if (!(await moveProblem(tx, p.id, spec.from, p.version, spec.to, set))) return { outcome: 'stale' as const, problem: p };
    await appendAudit(tx, { actor: actor.staffId, action: spec.action, entityType: ENTITY, entityId: p.id, fromState: spec.from, toState: spec.to, reason: set.reason ?? null });
    const moved = { problem: (await getProblem(tx, p.id))!, move, actor };
    await input.followUps?.(tx, moved);
    return { outcome: 'moved' as const, moved };
  });
}

export const MAX_EVIDENCE_FILES = 9;

/** Photos or files of the rectification, kept in the database (platform download codes expire). */
export async function addEvidenceFiles(db: Db, actor: Staff, id: string, files: { name: string; mime: string; data: Buffer }[]): Promise<Problem> {
  return db.transaction(async (tx) => {
    const p = await getProblem(tx, id);
    if (!p || !mayRectify(p, actor)) throw new NotYours();
    if (p.state !== 'in_progress') throw new UserError(`问题 ${problemRef(p.id)} 目前${STATE_NAMES[p.state]}，只有整改中的问题可以添加佐证材料。`);
    const saved: EvidenceFile[] = [];
    for (const f of files) saved.push({ fileId: (await saveFile(tx, { ...f, name: maskPersonalNumbers(f.name).text, uploadedBy: actor.staffId })).id, name: maskPersonalNumbers(f.name).text });
    const n = await appendEvidenceFiles(tx, p.id, saved, MAX_EVIDENCE_FILES);
    if (n === undefined) throw new UserError(`每条问题最多 ${MAX_EVIDENCE_FILES} 个佐证文件，已有 ${p.evidenceFiles.length} 个，本次的 ${files.length} 个没有添加。`);
    await appendAudit(tx, { actor: actor.staffId, action: 'rectification.evidence', entityType: ENTITY, entityId: p.id, fromState: p.state, toState: p.state, detail: { files: files.length } });
    return (await getProblem(tx, p.id))!;
  });
}

/** The evidence of a row, for those who may see the row or decide on it; every opening is on record. */
export async function openEvidence(db: Db, actor: Staff, id: string): Promise<StoredFile[]> {
  return db.transaction(async (tx) => {
    const p = await getProblem(tx, id);
    if (!p || !(mayView(p, actor) || mayConfirm(p, actor, await appliedBy(tx, p.id)))) throw new NotYours();
    const files = await readFiles(tx, p.evidenceFiles.map((f) => f.fileId));
    await appendAudit(tx, { actor: actor.staffId, action: 'rectification.files_viewed', entityType: ENTITY, entityId: p.id, detail: { files: files.length } });
    return files;
  });
}

export async function approversFor(q: Queryable, p: Problem, applicant: string | undefined): Promise<Staff[]> {
  const people = await listActiveStaff(q);
  return people.filter((s) => mayConfirm(p, s, applicant));
}

// ---- overdue ----------------------------------------------------------------------------------

export interface OverdueClaim {
  problem: Problem;
  which: 'remind' | 'escalate';
  daysOver: number;
}

/**
 * Rows past their deadline remind their owner once; ESCALATE_AFTER_DAYS later they escalate
 * once to the discipline office and leadership. Each is claimed with a guarded UPDATE in the
 * transaction that stages its messages, so reruns and a second scheduler send nothing twice.
 */
export async function claimOverdueRows(db: Db, now: Date, today: string, followUps: FollowUps<OverdueClaim>): Promise<OverdueClaim[]> {
  const out: OverdueClaim[] = [];
  for (const p of await overdueProblems(db, today)) {
    const daysOver = daysBetween(p.deadline, today);
    for (const which of ['remind', 'escalate'] as const) {
      if (which === 'remind' ? p.remindedAt : p.escalatedAt) continue;
      if (which === 'escalate' && daysOver < ESCALATE_AFTER_DAYS) continue;
      const claimed = await db.transaction(async (tx) => {
        if (!(await claimOverdue(tx, p.id, p.version, which === 'remind' ? 'reminded_at' : 'escalated_at', now))) return false;
        await appendAudit(tx, { actor: 'system', action: `rectification.${which}`, entityType: ENTITY, entityId: p.id, fromState: p.state, toState: p.state, detail: { daysOver } });
        await followUps(tx, { problem: p, which, daysOver });
        return true;
      });
      if (claimed) out.push({ problem: p, which, daysOver });
    }
  }
  return out;
}
