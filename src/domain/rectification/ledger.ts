import type { Staff } from '../../store/staff.js';

/**
 * The 问题清单 row and its state machine: 待整改 → 整改中 → 申请销号 → 已销号, a refused 销号
 * going back to 整改中 with a reason; a row merged into an institutional item stops there.
 * Who may make each move is decided here, from the row and the person, never from a card.
 */

export const PROBLEM_STATES = ['pending', 'in_progress', 'applied', 'closed', 'merged'] as const;
export type ProblemState = (typeof PROBLEM_STATES)[number];
export const STATE_NAMES: Record<ProblemState, string> = { pending: '待整改', in_progress: '整改中', applied: '申请销号', closed: '已销号', merged: '已合并' };

export type ProblemSource = 'self' | 'inspection' | 'merged';
export const SOURCE_NAMES: Record<ProblemSource, string> = { self: '自查发现', inspection: '检查发现', merged: '合并为院级问题' };

export interface EvidenceFile {
  fileId: string;
  name: string;
}

export interface Problem {
  id: string;
  departmentId: number | null;
  department: string | null;
  campaignId: string | null;
  round: number | null;
  itemId: string | null;
  source: ProblemSource;
  description: string;
  ownerId: string;
  ownerName: string;
  confirmDepartmentId: number | null;
  confirmDepartment: string | null;
  measure: string | null;
  deadline: string;
  evidence: string | null;
  evidenceFiles: EvidenceFile[];
  state: ProblemState;
  mergedInto: string | null;
  version: number;
  lastReason: string | null;
  createdAt: Date;
  appliedAt: Date | null;
  closedAt: Date | null;
  remindedAt: Date | null;
  escalatedAt: Date | null;
}

export interface LedgerFigures {
  found: number;
  closed: number;
  applied: number;
  overdue: number;
  selfFound: number;
  inspected: number;
}

export type Move = 'start' | 'apply' | 'accept' | 'refuse';
export const MOVES: Record<Move, { from: ProblemState; to: ProblemState; action: string }> = {
  start: { from: 'pending', to: 'in_progress', action: 'rectification.start' },
  apply: { from: 'in_progress', to: 'applied', action: 'rectification.apply' },
  accept: { from: 'applied', to: 'closed', action: 'rectification.accept' },
  refuse: { from: 'applied', to: 'in_progress', action: 'rectification.refuse' },
};

/** Problem references as users type and read them: WT-12 (整改). */
export const problemRef = (id: string): string => `WT-${id}`;
export function parseProblemRef(s: string | undefined): string | undefined {
  const m = /^(?:WT-?)?(\d{1,18})$/i.exec((s ?? '').trim());
  return m?.[1];
}

/** The owner moves the row forward; so may the head of its department (the owner may be away). */
export function mayRectify(p: Problem, s: Staff): boolean {
  if (p.ownerId === s.staffId) return true;
  return p.departmentId !== null && p.departmentId === s.departmentId && s.roles.includes('dept_head');
}

/**
 * 销号 is confirmed by the discipline office or the named functional department's head, and
 * never by whoever applied for it or owns the row: nobody closes their own problem.
 */
export function mayConfirm(p: Problem, s: Staff, appliedBy: string | undefined): boolean {
  if (s.staffId === p.ownerId || s.staffId === appliedBy) return false;
  if (s.roles.includes('discipline')) return true;
  return p.confirmDepartmentId !== null && p.confirmDepartmentId === s.departmentId && s.roles.includes('dept_head');
}

/** Who sees a row: the discipline office, administrators, its owner and its department's head and report owner. */
export function mayView(p: Problem, s: Staff): boolean {
  if (s.roles.includes('discipline') || s.roles.includes('admin') || p.ownerId === s.staffId) return true;
  if (p.confirmDepartmentId !== null && p.confirmDepartmentId === s.departmentId && s.roles.includes('dept_head')) return true;
  return p.departmentId !== null && p.departmentId === s.departmentId && (s.roles.includes('dept_head') || s.roles.includes('report_owner'));
}

export const isOpen = (p: Problem): boolean => p.state === 'pending' || p.state === 'in_progress';
