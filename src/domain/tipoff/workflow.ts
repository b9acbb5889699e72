import type { Settings } from '../../config.js';
import { UserError } from '../../errors.js';
import { appendAudit } from '../../store/audit.js';
import type { Db, Queryable } from '../../store/db.js';
import { readFiles, saveFile, type StoredFile } from '../../store/files.js';
import { getStaff, listActiveStaff, type Staff } from '../../store/staff.js';
import {
  addLink,
  claimTipoffDeadline,
  getTipoff,
  insertReporter,
  insertTipoff,
  linkedStaffIds,
  listPastDue,
  moveTipoff,
  readReporter,
  setHandler,
} from '../../store/tipoffs.js';
import { getDeclaration } from '../../store/declarations.js';
import { addWorkingDays, localDate, type WorkCalendar } from '../calendar.js';
import type { Attachment } from '../declaration/record.js';
import { hashQueryCode, newQueryCode } from './query-code.js';
import { caseNo, DISPOSITION_LABELS, MOVES, STATE_LABELS, type Disposition, type Move, type OpenState, type Source, type Tipoff, type TipoffState } from './record.js';
import type { Keyring } from './sealing.js';
import type { TipoffInput } from './validation.js';

/**
 * The case ledger's transitions. Each is one guarded UPDATE and one audit row in a transaction,
 * with its follow-up messages staged in the same transaction. What the reporter filed is
 * audited with no actor: the audit log, like the case row, never names them.
 */

export const ENTITY = 'tipoff';
export type TipoffSettings = Settings['tipoff'];
export type FollowUps<T> = (tx: Queryable, change: T) => Promise<void>;

/** One answer for "no such case" and "not yours to see": existence itself is confidential. */
export const NO_SUCH_CASE = '没有找到这条线索，或您无权查看。线索仅限纪检监察室查看。';
export const STALE_MOVE = '这条线索刚刚已有更新，您的操作没有生效。请发送“线索 编号”查看最新状态。';

const calendarOf = (s: TipoffSettings): WorkCalendar => ({ holidays: s.holidays, workingWeekends: s.workingWeekends });

/** The local day a state must be left by, counted in working days from `today`. */
export function dueFor(state: TipoffState, today: string, s: TipoffSettings): string | null {
  if (state === 'closed' || state === 'merged') return null;
  return addWorkingDays(today, s.deadlines[state as OpenState], calendarOf(s));
}

export interface Clock {
  now: Date;
  timeZone: string;
  settings: TipoffSettings;
}

const today = (c: Clock) => localDate(c.now, c.timeZone);

export function requireDiscipline(actor: Staff): void {
  if (!actor.roles.includes('discipline')) throw new UserError(NO_SUCH_CASE);
}

async function saveEvidence(tx: Queryable, files: { name: string; ref: string; data: Buffer; mime: string }[], now: Date, uploadedBy: string | null): Promise<Attachment[]> {
  const out: Attachment[] = [];
  for (const f of files) {
    const saved = await saveFile(tx, { name: f.name, mime: f.mime, data: f.data, uploadedBy });
    out.push({ name: f.name, ref: f.ref, platform: f.ref.split(':')[0] ?? '', addedAt: now.toISOString(), fileId: saved.id, size: saved.size, sha256: saved.sha256 });
  }
  return out;
}

export interface Filed {
  tipoff: Tipoff;
  /** Shown once to an identity-protected reporter; only its hash is kept. */
  queryCode?: string;
}

/**
 * A staff member's own tip-off. Who filed it is sealed into tipoff_reporters; the evidence is
 * stored without an uploader, and the audit row has no actor.
 */
export async function fileTipoff(
  db: Db,
  keyring: Keyring,
  reporter: Staff,
  input: TipoffInput,
  files: { name: string; ref: string; data: Buffer; mime: string }[],
  c: Clock,
): Promise<Filed> {
  if (!keyring.canSeal) throw new UserError('抱歉，线索反映暂时无法受理：系统尚未配置举报人信息的加密密钥，为保护您的身份，暂不保存任何内容。请联系管理员，或直接联系纪检监察室反映。');
  const queryCode = input.realName ? undefined : newQueryCode();
  return db.transaction(async (tx) => {
    const attachments = await saveEvidence(tx, files, c.now, null);
    const day = today(c);
    const id = await insertTipoff(tx, {
      source: 'bot',
      realName: input.realName,
      occurred: input.occurred,
      place: input.place,
      department: input.department,
      persons: input.persons,
      matter: input.matter,
      attachments,
      queryCodeHash: queryCode ? hashQueryCode(queryCode) : null,
      dueOn: dueFor('received', day, c.settings)!,
      feedbackDueOn: input.realName ? addWorkingDays(day, c.settings.feedbackDays, calendarOf(c.settings)) : null,
      now: c.now,
    });
    await insertReporter(tx, id, keyring.seal(JSON.stringify({ staffId: reporter.staffId }), `tipoff:${id}`));
    await appendAudit(tx, { actor: null, action: 'tipoff.file', entityType: ENTITY, entityId: id, toState: 'received', detail: { source: 'bot', realName: input.realName, files: files.length } });
    return { tipoff: (await getTipoff(tx, id))!, ...(queryCode ? { queryCode } : {}) };
  });
}

/** A case the discipline office registers from another channel (上级转办, 电话, 信件, 邮箱, 来访). */
export async function registerTipoff(db: Db, actor: Staff, input: Omit<TipoffInput, 'realName'> & { source: Exclude<Source, 'bot'>; sourceDetail: string }, c: Clock): Promise<Tipoff> {
  requireDiscipline(actor);
  return db.transaction(async (tx) => {
    const id = await insertTipoff(tx, {
      source: input.source,
      realName: false,
      occurred: input.occurred,
      place: input.place,
      department: input.department,
      persons: input.persons,
      matter: input.matter,
      sourceDetail: input.sourceDetail,
      attachments: [],
      dueOn: dueFor('received', today(c), c.settings)!,
      now: c.now,
    });
    await appendAudit(tx, { actor: actor.staffId, action: 'tipoff.register', entityType: ENTITY, entityId: id, toState: 'received', reason: input.sourceDetail, detail: { source: input.source } });
    return (await getTipoff(tx, id))!;
  });
}

/** Whether the bot can answer this case's reporter: filed in chat under their real name. */
export const hasBotReporter = (t: Tipoff): boolean => t.source === 'bot' && t.realName;

/**
 * The reporter's staff id, opened only for a 实名 case and only for the discipline office (or
 * the system sending the reply). An identity-protected case never opens, whoever asks.
 */
export async function openReporter(q: Queryable, keyring: Keyring, t: Tipoff, asker: Staff | 'system'): Promise<string | undefined> {
  if (!hasBotReporter(t)) return undefined;
  if (asker !== 'system' && !asker.roles.includes('discipline')) return undefined;
  const sealed = await readReporter(q, t.id);
  if (!sealed) return undefined;
  const plain = keyring.open(sealed, `tipoff:${t.id}`);
  return plain ? (JSON.parse(plain) as { staffId: string }).staffId : undefined;
}

export interface Moved {
  tipoff: Tipoff;
  from: TipoffState;
  move: Move | 'merge';
}

export interface MoveRequest {
  id: string;
  /** The version a card was showing; absent for a typed command (acts on the case as it is now). */
  version?: number;
  move: Move;
  note: string;
  disposition?: Disposition;
}

/** One step of the ledger, refused unless the actor is 纪检 and the case is where the move starts. */
export async function moveCase(db: Db, actor: Staff, req: MoveRequest, c: Clock, followUps?: FollowUps<Moved>): Promise<Moved> {
  requireDiscipline(actor);
  const spec = MOVES[req.move];
  const note = req.note.trim();
  if (!note) throw new UserError(req.move === 'reply' ? '请填写回复内容。' : `请填写“${spec.label}”的说明（必填，记入处理记录）。`);
  if (req.move === 'decide' && !req.disposition) throw new UserError(`请选择处置方式：${Object.values(DISPOSITION_LABELS).join('、')}。`);
  return db.transaction(async (tx) => {
    const t = await getTipoff(tx, req.id);
    if (!t) throw new UserError(NO_SUCH_CASE);
    if (req.version !== undefined && req.version !== t.version) throw new UserError(STALE_MOVE);
    if (!(spec.from as readonly string[]).includes(t.state)) {
      throw new UserError(`${caseNo(t.id)} 目前是“${STATE_LABELS[t.state]}”，不能${spec.label}。`);
    }
    // 实名举报 100% 反馈: a case with a reporter the bot can answer is not closed unanswered.
    if (req.move === 'close' && t.state === 'replying' && hasBotReporter(t)) {
      throw new UserError(`${caseNo(t.id)} 是实名举报，须先回复举报人（“线索 ${caseNo(t.id)} 回复 内容”），才能办结。`);
    }
    const to = spec.to as TipoffState;
    const ok = await moveTipoff(tx, t.id, t.state, t.version, to, {
      now: c.now,
      dueOn: dueFor(to, today(c), c.settings),
      ...(req.disposition ? { disposition: req.disposition } : {}),
      ...(req.move === 'reply' ? { reply: note } : {}),
    });
    if (!ok) throw new UserError(STALE_MOVE);
    await appendAudit(tx, {
      actor: actor.staffId,
      action: `tipoff.${req.move}`,
      entityType: ENTITY,
      entityId: t.id,
      fromState: t.state,
      toState: to,
      reason: note,
      ...(req.disposition ? { detail: { disposition: req.disposition } } : {}),
    });
    const moved = { tipoff: (await getTipoff(tx, t.id))!, from: t.state, move: req.move };
    await followUps?.(tx, moved);
    return moved;
  });
}

/** The discipline office's members, and the head escalations go to (see README: 纪检负责人). */
export async function disciplineOffice(q: Queryable, s: TipoffSettings): Promise<{ members: Staff[]; heads: Staff[] }> {
  const members = await listActiveStaff(q, { role: 'discipline' });
  const heads = members.filter((m) => m.department === s.disciplineDepartment && m.roles.includes('dept_head'));
  // No head on the roster: every member hears of it rather than nobody.
  return { members, heads: heads.length ? heads : members };
}

export async function assignHandler(db: Db, actor: Staff, id: string, handlerId: string, s: TipoffSettings): Promise<Tipoff> {
  requireDiscipline(actor);
  return db.transaction(async (tx) => {
    const t = await getTipoff(tx, id);
    if (!t) throw new UserError(NO_SUCH_CASE);
    const who = await getStaff(tx, handlerId);
    const { members } = await disciplineOffice(tx, s);
    if (!who || !members.some((m) => m.staffId === who.staffId)) throw new UserError(`${handlerId} 不是纪检监察室的在职人员，不能承办线索。`);
    if ((await linkedStaffIds(tx, id)).has(who.staffId)) throw new UserError(`${who.name} 与 ${caseNo(id)} 有关联，应当回避，请另选承办人。`);
    if (!(await setHandler(tx, id, t.version, who.staffId))) throw new UserError(`${caseNo(id)} 已办结或已合并，或刚刚已有更新，没有改动。`);
    await appendAudit(tx, { actor: actor.staffId, action: 'tipoff.assign', entityType: ENTITY, entityId: id, fromState: t.state, toState: t.state, detail: { handler: who.staffId } });
    return (await getTipoff(tx, id))!;
  });
}

/** A duplicate is closed into the case it repeats; both histories say so. */
export async function mergeCase(db: Db, actor: Staff, id: string, intoId: string, c: Clock): Promise<Moved> {
  requireDiscipline(actor);
  if (id === intoId) throw new UserError('不能把一条线索合并到它自己。');
  return db.transaction(async (tx) => {
    const [t, into] = [await getTipoff(tx, id), await getTipoff(tx, intoId)];
    if (!t || !into) throw new UserError(NO_SUCH_CASE);
    if (t.state === 'closed' || t.state === 'merged') throw new UserError(`${caseNo(id)} 已${STATE_LABELS[t.state]}，不能再合并。`);
    if (into.state === 'merged') throw new UserError(`${caseNo(intoId)} 本身已合并到 ${caseNo(into.mergedInto ?? '')}，请合并到那一条。`);
    if (hasBotReporter(t) && !t.repliedAt) throw new UserError(`${caseNo(id)} 是实名举报，合并前请先回复举报人（说明已并入另一条线索办理）。`);
    const note = `并入 ${caseNo(intoId)}`;
    if (!(await moveTipoff(tx, id, t.state, t.version, 'merged', { now: c.now, dueOn: null, mergedInto: intoId }))) throw new UserError(STALE_MOVE);
    await appendAudit(tx, { actor: actor.staffId, action: 'tipoff.merge', entityType: ENTITY, entityId: id, fromState: t.state, toState: 'merged', reason: note });
    await appendAudit(tx, { actor: actor.staffId, action: 'tipoff.merged_in', entityType: ENTITY, entityId: intoId, fromState: into.state, toState: into.state, reason: `合并了重复线索 ${caseNo(id)}` });
    return { tipoff: (await getTipoff(tx, id))!, from: t.state, move: 'merge' as const };
  });
}

/** Links a case to a declaration (SB-12) or a person on the roster (工号). */
export async function linkCase(db: Db, actor: Staff, id: string, target: { kind: 'declaration' | 'staff'; ref: string }): Promise<string> {
  requireDiscipline(actor);
  return db.transaction(async (tx) => {
    const t = await getTipoff(tx, id);
    if (!t) throw new UserError(NO_SUCH_CASE);
    let label: string;
    if (target.kind === 'declaration') {
      if (!(await getDeclaration(tx, target.ref))) throw new UserError(`没有找到申报 SB-${target.ref}。`);
      label = `申报 SB-${target.ref}`;
    } else {
      const s = await getStaff(tx, target.ref);
      if (!s) throw new UserError(`人员名单中没有工号 ${target.ref}。`);
      if (t.handlerId === s.staffId) throw new UserError(`${s.name} 是这条线索的承办人，应当回避：请先改派承办人再关联。`);
      label = `${s.name}（${s.staffId}）`;
    }
    if (!(await addLink(tx, id, target.kind, target.ref))) return `${caseNo(id)} 已关联${label}，没有重复添加。`;
    await appendAudit(tx, { actor: actor.staffId, action: 'tipoff.link', entityType: ENTITY, entityId: id, fromState: t.state, toState: t.state, detail: { kind: target.kind, ref: target.ref } });
    return `已把 ${caseNo(id)} 关联到${label}。`;
  });
}

// ---- deadlines ----------------------------------------------------------------------------

export interface DeadlineClaim {
  tipoff: Tipoff;
  which: 'remind' | 'escalate';
}

/**
 * Cases whose state's deadline has passed: the handler is reminded once (the day after the due
 * day), and once `escalateAfterDays` working days more have gone by the head is told once. Each
 * is a guarded claim in its own transaction with its messages, so reruns send nothing twice.
 */
export async function claimDueTipoffs(db: Db, c: Clock, followUps: FollowUps<DeadlineClaim>): Promise<DeadlineClaim[]> {
  const day = today(c);
  const out: DeadlineClaim[] = [];
  for (const t of await listPastDue(db, day)) {
    if (!t.dueOn) continue;
    const escalateAfter = addWorkingDays(t.dueOn, c.settings.escalateAfterDays, calendarOf(c.settings));
    for (const which of ['remind', 'escalate'] as const) {
      const skip = which === 'remind' ? t.remindedAt !== null : t.escalatedAt !== null || escalateAfter >= day;
      if (skip) continue;
      const claimed = await db.transaction(async (tx) => {
        if (!(await claimTipoffDeadline(tx, t.id, t.version, which === 'remind' ? 'reminded_at' : 'escalated_at', c.now))) return false;
        await appendAudit(tx, { actor: 'system', action: `tipoff.${which}`, entityType: ENTITY, entityId: t.id, fromState: t.state, toState: t.state });
        await followUps(tx, { tipoff: t, which });
        return true;
      });
      if (claimed) out.push({ tipoff: t, which });
    }
  }
  return out;
}

/** The 实名 reporter to send the reply to; throws rather than let a reply go unsent unnoticed. */
export async function reporterForReply(q: Queryable, keyring: Keyring, t: Tipoff): Promise<Staff | undefined> {
  if (!hasBotReporter(t)) return undefined;
  const staffId = await openReporter(q, keyring, t, 'system');
  if (!staffId) throw new UserError('无法打开这条实名线索的举报人信息（加密密钥不可用），回复没有发出，也没有保存。请联系管理员检查 TIPOFF_KEY / TIPOFF_OLD_KEYS。');
  const s = await getStaff(q, staffId);
  return s?.active ? s : undefined;
}

/** The reporter as a viewer may see them on a case card. */
export async function reporterLabel(q: Queryable, keyring: Keyring, t: Tipoff, viewer: Staff): Promise<string> {
  if (t.source !== 'bot') return `无（${t.source === 'superior' ? '上级转办' : '其他来源'}登记）`;
  if (!t.realName) return '身份保密';
  const staffId = await openReporter(q, keyring, t, viewer);
  if (!staffId) return '实名（举报人信息无法解密，请联系管理员检查密钥）';
  const s = await getStaff(q, staffId);
  return s ? `${s.name}（${s.department}，实名）` : '实名';
}

/** A case's kept evidence for 纪检; the view is audited (how many, never what) with the read. */
export async function openEvidence(db: Db, actor: Staff, id: string): Promise<StoredFile[]> {
  requireDiscipline(actor);
  return db.transaction(async (tx) => {
    const t = await getTipoff(tx, id);
    if (!t) throw new UserError(NO_SUCH_CASE);
    const stored = await readFiles(tx, t.attachments.flatMap((a) => (a.fileId ? [a.fileId] : [])));
    await appendAudit(tx, { actor: actor.staffId, action: 'tipoff.files', entityType: ENTITY, entityId: t.id, fromState: t.state, toState: t.state, detail: { count: stored.length } });
    return stored;
  });
}

/** Who took a copy of the ledger is itself on record. */
export async function recordExport(q: Queryable, actor: Staff, count: number): Promise<void> {
  requireDiscipline(actor);
  await appendAudit(q, { actor: actor.staffId, action: 'tipoff.export', entityType: 'tipoff_export', detail: { count } });
}
