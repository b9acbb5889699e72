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
