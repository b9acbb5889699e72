import {
  caseNo,
  moveByWord,
  parseCaseNo,
  SOURCE_LABELS,
  SOURCES,
  STATE_LABELS,
  STATES,
  type Disposition,
  type Move,
  type Source,
  type TipoffState,
} from './record.js';

/**
 * What the discipline office types after 线索 and 线索列表: the case ledger's own small language
 * (`线索 XS-12 处置决定 移交 说明`, `线索列表 超期 上级转办`). The commands declare these as their
 * arguments (handlers/tipoff.ts); the words are read here, once.
 */

export type TipoffArgs =
  | { kind: 'form'; typedContent: boolean }
  | { kind: 'query'; code: string }
  | { kind: 'show'; id: string }
  | { kind: 'move'; id: string; move: Move; note: string; disposition?: Disposition }
  | { kind: 'assign'; id: string; staffId: string }
  | { kind: 'merge'; id: string; into: string }
  | { kind: 'link'; id: string; target: { kind: 'declaration' | 'staff'; ref: string } }
  | { kind: 'usage'; message: string };

const DISPOSITION_WORDS: Record<string, Disposition> = { 处理: 'handled', 移交: 'transferred', 移交有关部门: 'transferred', 了结: 'dismissed' };
const CASE_USAGE = '用法：线索 XS-编号 [受理|转核实|转处置|回复|办结 说明]、线索 XS-编号 处置决定 处理|移交|了结 说明、线索 XS-编号 分派 工号、线索 XS-编号 合并 XS-编号、线索 XS-编号 关联 SB-编号或工号。';

/** `举报`, `举报 查询 码`, `线索 XS-12 [操作 …]`. */
export function parseTipoffArgs(args: string[]): TipoffArgs {
  if (args.length === 0) return { kind: 'form', typedContent: false };
  if (args[0] === '查询' || args[0].toLowerCase() === 'query') return { kind: 'query', code: args.slice(1).join('') };
  const id = parseCaseNo(args[0]);
  // Anything else typed after 举报 is taken for content: it is neither stored nor echoed.
  if (!id || !/^xs/i.test(args[0])) return { kind: 'form', typedContent: true };
  const [op, ...rest] = args.slice(1);
  if (!op) return { kind: 'show', id };
  if (op === '分派') return rest[0] ? { kind: 'assign', id, staffId: rest[0].toUpperCase() } : { kind: 'usage', message: '请写明承办人的工号，例如“线索 XS-12 分派 S0042”。' };
  if (op === '合并') {
    const into = rest[0] ? parseCaseNo(rest[0]) : undefined;
    return into ? { kind: 'merge', id, into } : { kind: 'usage', message: `请写明并入哪一条，例如“线索 ${caseNo(id)} 合并 XS-3”（把 ${caseNo(id)} 作为重复线索并入 XS-3）。` };
  }
  if (op === '关联') {
    const ref = rest[0] ?? '';
    const sb = /^SB-?(\d{1,18})$/i.exec(ref);
    if (sb) return { kind: 'link', id, target: { kind: 'declaration', ref: String(Number(sb[1])) } };
    if (/^[A-Za-z0-9_-]{1,32}$/.test(ref)) return { kind: 'link', id, target: { kind: 'staff', ref: ref.toUpperCase() } };
    return { kind: 'usage', message: `请写明关联的申报编号或工号，例如“线索 ${caseNo(id)} 关联 SB-5”或“线索 ${caseNo(id)} 关联 S0001”。` };
  }
  const move = moveByWord(op);
  if (!move) return { kind: 'usage', message: `没有“${op}”这个操作。${CASE_USAGE}` };
  if (move === 'decide') {
    const disposition = rest[0] ? DISPOSITION_WORDS[rest[0]] : undefined;
    if (!disposition) return { kind: 'usage', message: `请写明处置方式（处理、移交或了结）和说明，例如“线索 ${caseNo(id)} 处置决定 移交 已移交医务科处理”。` };
    return { kind: 'move', id, move, disposition, note: rest.slice(1).join(' ') };
  }
  return { kind: 'move', id, move, note: rest.join(' ') };
}

export type ListFilter = { ok: true; state?: TipoffState; overdue: boolean; source?: Source; label: string };
type ListArgs = ListFilter | { ok: false; message: string };

/** `线索列表 [状态] [超期] [来源]`. */
export function parseListArgs(args: string[]): ListArgs {
  let state: TipoffState | undefined;
  let source: Source | undefined;
  let overdue = false;
  for (const a of args) {
    const s = STATES.find((x) => STATE_LABELS[x].startsWith(a) || x === a);
    const src = SOURCES.find((x) => SOURCE_LABELS[x] === a || x === a);
    if (a === '超期' || a === 'overdue') overdue = true;
    else if (s && !state) state = s;
    else if (src && !source) source = src;
    else return { ok: false, message: `没有看懂“${a}”。可按状态（${STATES.map((x) => STATE_LABELS[x].replace(/（.*）/, '')).join('、')}）、“超期”或来源（${SOURCES.map((x) => SOURCE_LABELS[x]).join('、')}）筛选，例如“线索列表 超期”。` };
  }
  const label = [state ? STATE_LABELS[state] : '', overdue ? '超期' : '', source ? SOURCE_LABELS[source] : ''].filter(Boolean).join(' · ');
  return { ok: true, overdue, label, ...(state ? { state } : {}), ...(source ? { source } : {}) };
}

