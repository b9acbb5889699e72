import type { Attachment } from '../declaration/record.js';

/**
 * A tip-off (线索) and its case ledger: the states a case moves through, what may move it, and
 * the Chinese every card and export uses. The reporter is deliberately not part of the record:
 * they live sealed in a separate table (sealing.ts) and are opened only for 实名 cases.
 */

export const STATES = ['received', 'preliminary', 'verifying', 'disposing', 'replying', 'replied', 'closed', 'merged'] as const;
export type TipoffState = (typeof STATES)[number];
/** States a deadline runs in (办结 and 已合并 are done). */
export const OPEN_STATES = ['received', 'preliminary', 'verifying', 'disposing', 'replying', 'replied'] as const;
export type OpenState = (typeof OPEN_STATES)[number];

export const STATE_LABELS: Record<TipoffState, string> = {
  received: '待受理',
  preliminary: '初核（分析研判）',
  verifying: '核实',
  disposing: '处置',
  replying: '待回复',
  replied: '已回复，待办结',
  closed: '办结',
  merged: '已合并',
};

export const SOURCES = ['bot', 'superior', 'phone', 'letter', 'email', 'visit'] as const;
export type Source = (typeof SOURCES)[number];
export const SOURCE_LABELS: Record<Source, string> = {
  bot: '清廉助手',
  superior: '上级转办',
  phone: '电话',
  letter: '信件',
  email: '邮箱',
  visit: '来访',
};
/** What the discipline office may register a case from (the bot's own channel is filed by staff). */
export const REGISTERED_SOURCES = SOURCES.filter((s): s is Exclude<Source, 'bot'> => s !== 'bot');

export const DISPOSITIONS = ['handled', 'transferred', 'dismissed'] as const;
export type Disposition = (typeof DISPOSITIONS)[number];
export const DISPOSITION_LABELS: Record<Disposition, string> = { handled: '处理', transferred: '移交有关部门', dismissed: '了结' };

/** The moves of the ledger, each named by the word 纪检 types or clicks. */
export const MOVES = {
  accept: { label: '受理', from: ['received'], to: 'preliminary' },
  verify: { label: '转核实', from: ['preliminary'], to: 'verifying' },
  dispose: { label: '转处置', from: ['preliminary', 'verifying'], to: 'disposing' },
  decide: { label: '处置决定', from: ['disposing'], to: 'replying' },
  reply: { label: '回复', from: ['replying'], to: 'replied' },
  close: { label: '办结', from: ['replying', 'replied'], to: 'closed' },
} as const satisfies Record<string, { label: string; from: readonly OpenState[]; to: TipoffState }>;
export type Move = keyof typeof MOVES;
export const MOVE_NAMES = Object.keys(MOVES) as Move[];

export const moveByWord = (word: string): Move | undefined => MOVE_NAMES.find((m) => MOVES[m].label === word || m === word.toLowerCase());
/** The moves open from a state, in ledger order. */
export const movesFrom = (s: TipoffState): Move[] => MOVE_NAMES.filter((m) => (MOVES[m].from as readonly string[]).includes(s));

export interface Tipoff {
  id: string;
  source: Source;
  /** 实名: a reporter who may be named to the discipline office and gets the reply privately. */
  realName: boolean;
  state: TipoffState;
  version: number;
  occurred: string;
  place: string;
  department: string;
  persons: string;
  matter: string;
  sourceDetail: string | null;
  attachments: Attachment[];
  handlerId: string | null;
  handlerName: string | null;
  disposition: Disposition | null;
  reply: string | null;
  repliedAt: Date | null;
  mergedInto: string | null;
  createdAt: Date;
  stateSince: Date;
  dueOn: string | null;
  remindedAt: Date | null;
  escalatedAt: Date | null;
  feedbackDueOn: string | null;
  closedAt: Date | null;
}

export const caseNo = (id: string): string => `XS-${id}`;
/** `XS-12`, `xs12` or `12` → "12". */
export function parseCaseNo(text: string): string | undefined {
  const m = /^(?:XS-?)?(\d{1,12})$/i.exec(text.trim());
  return m ? String(Number(m[1])) : undefined;
}

export interface TrailEntry {
  at: Date;
  actorName: string;
  action: string;
  fromState: string | null;
  toState: string | null;
  reason: string | null;
}

/** Leadership's view: counts by month filed and state, nothing else (see smallCount). */
export interface MonthStateCount {
  month: string;
  state: TipoffState;
  count: number;
}

/** Field limits, shared by the form, the checks and the table's own constraints. */
export const LIMITS = { occurred: 100, place: 100, department: 100, persons: 200, matter: 2000, sourceDetail: 200, note: 500, reply: 1000 } as const;
export const MAX_TIPOFF_ATTACHMENTS = 9;
