import type { DeclarationInput, State } from '../declaration.js';

/**
 * A declaration as the domain sees it: its content, where it stands in the approval workflow
 * and its evidence. The store maps rows to this type; cards and handlers read it.
 */

export interface Declaration extends DeclarationInput {
  id: string;
  declarantId: string;
  declarantName: string;
  departmentId: number;
  department: string;
  state: State;
  version: number;
  revision: number;
  previousId: string | null;
  receiptNo: string | null;
  lastReason: string | null;
  createdAt: Date;
  submittedAt: Date | null;
  stepStartedAt: Date | null;
  remindedAt: Date | null;
  escalatedAt: Date | null;
  registeredAt: Date | null;
  /** Photos/files added to the draft: platform references only, never their content. */
  attachments: Attachment[];
}

export interface Attachment {
  name: string;
  ref: string;
  platform: string;
  addedAt: string;
  /** The copy kept in stored_files (absent on attachments recorded before copies were kept). */
  fileId?: string;
  size?: number;
  sha256?: string;
}

export const MAX_ATTACHMENTS = 9;
/** Per photo or file; the platforms allow more, but evidence photos and scans are far smaller. */
export const MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024;

/** The amendment a rejected declaration was resubmitted as (or is being amended in, while a draft). */
export interface Resubmission {
  id: string;
  state: State;
}

/** 申报统计: one month received and department, counts and amounts only (no names, by construction). */
export interface MonthlyTotal {
  month: string;
  department: string;
  registered: number;
  registeredAmount: string;
  pending: number;
}

/** One line of a declaration's history (处理记录), with the actor's name as users read it. */
export interface TrailEntry {
  declarationId: string;
  at: Date;
  actor: string | null;
  /** 系统 for the scheduler, the staff name, or the bare id of someone no longer on the roster. */
  actorName: string;
  action: string;
  fromState: string | null;
  toState: string | null;
  reason: string | null;
}

export const AUDIT_ACTION_NAMES: Record<string, string> = {
  'declaration.draft': '填写草稿',
  'declaration.edit': '修改草稿',
  'declaration.attach': '添加照片或文件',
  'declaration.cancel': '取消草稿',
  'declaration.submit': '提交申报',
  'declaration.resubmit': '修改后重新提交',
  'declaration.approve': '同意',
  'declaration.reject': '驳回',
  'declaration.register': '同意并登记',
  'declaration.remind': '超时提醒审批人',
  'declaration.escalate': '超时上报纪检监察室和院领导',
  'declaration.files_viewed': '查看附件',
};
