import { buildWorkbook } from '../workbook.js';
import { formatProblem, type RowProblem } from '../roster.js';
import { cleanDeep } from '../text.js';
import { decodeText, FileFormatError, MAX_IMPORT_BYTES, readTabular, type TabularRow } from '../tabular.js';
import { bankProblems, JUDGE_OPTIONS, MAX_OPTIONS, normaliseQuestion, OPTION_LETTERS, type Question, type QuestionType } from './question.js';

/**
 * Reading and writing question files: JSON (the default bank's own format), CSV and XLSX
 * (one question per row, options in columns A–F, the answer as letters). Reading reports
 * every problem with its line, column and reason; a file with any problem yields no questions.
 */

export class QuestionImportError extends Error {
  constructor(readonly problems: RowProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'QuestionImportError';
  }
}

export interface ParsedQuestion {
  line: number;
  question: Question;
}

export const TABLE_COLUMNS = ['id', 'type', 'rule', 'topic', 'stem', 'A', 'B', 'C', 'D', 'E', 'F', 'answer', 'explanation', 'source'] as const;
type Column = (typeof TABLE_COLUMNS)[number];

const HEADER_ALIASES: Record<string, Column> = {
  id: 'id', 题号: 'id', 编号: 'id',
  type: 'type', 题型: 'type',
  rule: 'rule', 准则: 'rule', 条目: 'rule',
  topic: 'topic', 主题: 'topic',
  stem: 'stem', 题干: 'stem', 题目: 'stem',
  answer: 'answer', 答案: 'answer',
  explanation: 'explanation', 解析: 'explanation',
  source: 'source', 出处: 'source', 依据: 'source',
};
for (const l of OPTION_LETTERS) {
  HEADER_ALIASES[l.toLowerCase()] = l as Column;
  HEADER_ALIASES[`选项${l.toLowerCase()}`] = l as Column;
  HEADER_ALIASES[`option${l.toLowerCase()}`] = l as Column;
  HEADER_ALIASES[`option_${l.toLowerCase()}`] = l as Column;
}
const REQUIRED: Column[] = ['id', 'type', 'topic', 'stem', 'answer', 'explanation', 'source'];

const TYPE_ALIASES: Record<string, QuestionType> = {
  single: 'single', 单选: 'single', 单选题: 'single',
  multiple: 'multiple', 多选: 'multiple', 多选题: 'multiple',
  judge: 'judge', 判断: 'judge', 判断题: 'judge', 'true/false': 'judge',
};
const CN_DIGITS: Record<string, number> = { 一: 1, 二: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9 };
const JUDGE_ANSWERS: Record<string, number> = { 正确: 0, 对: 0, '√': 0, '✓': 0, true: 0, t: 0, 错误: 1, 错: 1, '×': 1, '✗': 1, false: 1, f: 1 };

/** Reads any supported file by its extension. */
export async function parseQuestionFile(name: string, data: Buffer): Promise<ParsedQuestion[]> {
  if (/\.json$/i.test(name)) {
    if (data.length > MAX_IMPORT_BYTES) throw new QuestionImportError([{ line: 0, column: '', reason: `文件过大，上限为 ${MAX_IMPORT_BYTES / 1024 / 1024} MB` }]);
    let text: string;
    try {
      text = decodeText(data);
    } catch (e) {
      if (e instanceof FileFormatError) throw new QuestionImportError([{ line: 0, column: '', reason: e.message }]);
      throw e;
    }
    return parseQuestionJson(text);
  }
  let rows: TabularRow[];
  try {
    rows = await readTabular(name, data);
    // Only our CSV export adds the quote; in XLSX a cell's text is what it says.
    if (/\.csv$/i.test(name)) rows = rows.map((r) => ({ ...r, cells: r.cells.map(restoreCsvCell) }));
  } catch (e) {
    if (e instanceof FileFormatError) throw new QuestionImportError([{ line: 0, column: '', reason: /不支持的文件类型/.test(e.message) ? `不支持的文件类型：${name}（请使用 .json、.csv 或 .xlsx）` : e.message }]);
    throw e;
  }
  return parseQuestionRows(rows);
}

/** The line each top-level array element starts on, found by a scan that respects strings. */
function elementLines(text: string): number[] {
  const lines: number[] = [];
  let line = 1;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') line++;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      if (depth === 1) lines.push(line);
    } else if (c === '{' || c === '[') {
      if (depth === 1) lines.push(line);
      depth++;
    } else if (c === '}' || c === ']') depth--;
    else if (depth === 1 && /[0-9tfn-]/.test(c) && !/[0-9a-z.eE+-]/i.test(text[i - 1] ?? '')) lines.push(line);
  }
  return lines;
}

export function parseQuestionJson(text: string): ParsedQuestion[] {
  let raw: unknown;
  try {
    raw = cleanDeep(JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text));
  } catch (e) {
    const m = /position (\d+)/.exec((e as Error).message);
    const line = m ? text.slice(0, Number(m[1])).split('\n').length : 0;
    throw new QuestionImportError([{ line, column: '', reason: `不是有效的 JSON：${(e as Error).message}` }]);
  }
  if (!Array.isArray(raw)) throw new QuestionImportError([{ line: 1, column: '', reason: 'JSON 文件应是一个题目数组：[ { "id": "Q0001", … }, … ]' }]);
  if (raw.length === 0) throw new QuestionImportError([{ line: 1, column: '', reason: '文件中没有题目' }]);
  const lines = elementLines(text);
  const problems: RowProblem[] = [];
  const normalised = raw.map((q) => (typeof q === 'object' && q !== null && !Array.isArray(q) && (q as { rule?: unknown }).rule === undefined ? { ...q, rule: null } : q));
  for (const bad of bankProblems(normalised)) {
    for (const p of bad.problems) problems.push({ line: lines[bad.index] ?? 0, column: p.field || `第 ${bad.index + 1} 题`, reason: p.reason });
  }
  if (problems.length > 0) throw new QuestionImportError(problems);
  return (normalised as Question[]).map((q, i) => ({ line: lines[i] ?? 0, question: normaliseQuestion(pick(q)) }));
}

const pick = (q: Question): Question => ({
  id: q.id, type: q.type, rule: q.rule, topic: q.topic, stem: q.stem, options: q.options, answer: q.answer, explanation: q.explanation, source: q.source,
});

export function parseQuestionRows(rows: TabularRow[]): ParsedQuestion[] {
  if (rows.length === 0) throw new QuestionImportError([{ line: 0, column: '', reason: '文件是空的：没有表头，也没有题目' }]);
  const [header, ...body] = rows;
  const problems: RowProblem[] = [];
  const columns = header.cells.map((h, i) => {
    const key = h.trim().toLowerCase().replace(/\s+/g, '');
    const col = HEADER_ALIASES[key];
    if (!col && key !== '') problems.push({ line: header.line, column: h.trim() || `第 ${i + 1} 列`, reason: `未知的列名，可用的列为 ${TABLE_COLUMNS.join(', ')}（或 题号, 题型, 准则, 主题, 题干, 选项A…选项F, 答案, 解析, 出处）` });
    return col;
  });
  const seen = new Set<Column>();
  for (const c of columns) {
    if (!c) continue;
    if (seen.has(c)) problems.push({ line: header.line, column: c, reason: '列名重复' });
    seen.add(c);
  }
  for (const c of REQUIRED) if (!seen.has(c)) problems.push({ line: header.line, column: c, reason: '缺少必需的列' });
  if (problems.length > 0) throw new QuestionImportError(problems);
  if (body.length === 0) throw new QuestionImportError([{ line: header.line, column: '', reason: '文件只有表头，没有题目' }]);

  const out: ParsedQuestion[] = [];
  const candidates: unknown[] = [];
  for (const row of body) {
    const get = (c: Column) => {
      const i = columns.indexOf(c);
      return i < 0 ? '' : (row.cells[i] ?? '').trim();
    };
    const before = problems.length;
    const rawType = get('type');
    const type = TYPE_ALIASES[rawType.toLowerCase()];
    if (!type) problems.push({ line: row.line, column: 'type', reason: `题型 "${rawType}" 无效：应为 single/单选、multiple/多选 或 judge/判断` });
    const rawRule = get('rule').replace(/^第|条$/g, '');
    const rule = rawRule === '' ? null : /^[1-9]$/.test(rawRule) ? Number(rawRule) : (CN_DIGITS[rawRule] ?? NaN);
    if (Number.isNaN(rule)) problems.push({ line: row.line, column: 'rule', reason: `准则条目 "${get('rule')}" 无效：应为 1 到 9，与九项准则无直接对应时留空` });
    let options = OPTION_LETTERS.slice(0, MAX_OPTIONS).map((l) => get(l as Column));
    while (options.length > 0 && options[options.length - 1] === '') options.pop();
    if (type === 'judge' && options.length === 0) options = [...JUDGE_OPTIONS];
    const gap = options.findIndex((o) => o === '');
    if (gap >= 0) problems.push({ line: row.line, column: OPTION_LETTERS[gap], reason: `选项 ${OPTION_LETTERS[gap]} 为空，但后面还有选项：请把选项依次填在 A、B、C… 列` });
    const rawAnswer = get('answer');
    const answer = parseAnswer(rawAnswer, type);
    if (!answer) problems.push({ line: row.line, column: 'answer', reason: `答案 "${rawAnswer}" 无效：请填写正确选项的字母，如 B 或 ACD${type === 'judge' ? '；判断题也可填 正确/错误' : ''}` });
    if (problems.length > before) continue;
    const q = { id: get('id'), type, rule, topic: get('topic'), stem: get('stem'), options, answer, explanation: get('explanation'), source: get('source') };
    candidates.push(q);
    out.push({ line: row.line, question: q as Question });
  }
  // Field rules and duplicate ids are checked once, by the bank's own validation.
  for (const bad of bankProblems(candidates)) {
    for (const p of bad.problems) problems.push({ line: out[bad.index].line, column: columnOf(p.field), reason: p.reason });
  }
  if (problems.length > 0) throw new QuestionImportError(problems.sort((a, b) => a.line - b.line));
  return out.map((p) => ({ ...p, question: normaliseQuestion(p.question) }));
}

const columnOf = (field: string): string => (field === 'options' ? 'A-F' : field);

function parseAnswer(raw: string, type: QuestionType | undefined): number[] | undefined {
  const s = raw.trim();
  if (s === '') return undefined;
  if (type === 'judge' && JUDGE_ANSWERS[s.toLowerCase()] !== undefined) return [JUDGE_ANSWERS[s.toLowerCase()]];
  const compact = s.toUpperCase().replace(/[\s,，、|｜;；]/g, '');
  if (!/^[A-F]+$/.test(compact)) return undefined;
  return [...compact].map((c) => OPTION_LETTERS.indexOf(c)).sort((a, b) => a - b);
}

// ---- export -------------------------------------------------------------------------------

function toRow(q: Question): string[] {
  const opts = OPTION_LETTERS.map((_, i) => q.options[i] ?? '');
  return [q.id, q.type, q.rule === null ? '' : String(q.rule), q.topic, q.stem, ...opts, q.answer.map((a) => OPTION_LETTERS[a]).join(''), q.explanation, q.source];
}

// A spreadsheet opening the CSV runs a cell starting with = + - @ tab or CR as a formula
// (OWASP "CSV injection"): such a cell gets a leading quote, which Excel and LibreOffice show
// as text. Cells already starting with quotes before such a character get one more, so the
// importer can take exactly one off and every text survives export → import unchanged.
const FORMULA_START = /^'*[=+\-@\t\r]/;
export const neutraliseCsvCell = (v: string): string => (FORMULA_START.test(v) ? `'${v}` : v);
/** The importer's half: undoes neutraliseCsvCell, and only that. */
export const restoreCsvCell = (v: string): string => (/^'+[=+\-@\t\r]/.test(v) ? v.slice(1) : v);

const csvCell = (raw: string): string => {
  const v = neutraliseCsvCell(raw);
  return /[",\r\n\t]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
};

/** Writes questions in the format the file name asks for; the output re-imports unchanged. */
export async function writeQuestionFile(name: string, questions: Question[]): Promise<Buffer> {
  const plain = questions.map(pick);
  if (/\.json$/i.test(name)) return Buffer.from(`${JSON.stringify(plain, null, 2)}\n`, 'utf8');
  if (/\.csv$/i.test(name)) {
    const lines = [[...TABLE_COLUMNS].join(','), ...plain.map((q) => toRow(q).map(csvCell).join(','))];
    // The BOM makes Excel open the file as UTF-8 instead of mangling the Chinese.
    return Buffer.from(`\ufeff${lines.join('\r\n')}\r\n`, 'utf8');
  }
  if (/\.xlsx$/i.test(name)) {
    return buildWorkbook([{ name: '题库', columns: [...TABLE_COLUMNS], rows: plain.map(toRow) }]);
  }
  throw new QuestionImportError([{ line: 0, column: '', reason: `不支持的文件类型：${name}（请使用 .json、.csv 或 .xlsx）` }]);
}
