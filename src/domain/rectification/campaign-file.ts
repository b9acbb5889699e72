import { isMap, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { z } from 'zod';
import { addMonthsToDay, calendarDay } from '../calendar.js';
import { cleanDeep } from '../text.js';
import { decodeText, FileFormatError, MAX_IMPORT_BYTES, readTabular, type TabularRow } from '../tabular.js';

/**
 * 自查自纠 campaigns as administrators write them: a YAML file or an XLSX sheet naming the
 * checklist (e.g. the 整治重点 of a special-rectification plan), the departments it targets,
 * the due date and how often it repeats. Every problem is reported with its line and column,
 * and nothing is imported while any remains.
 */

export const REPEATS = { once: '一次', 'half-year': '每半年', quarter: '每季度' } as const;
export type Repeat = keyof typeof REPEATS;
const REPEAT_MONTHS: Record<Repeat, number> = { once: 0, 'half-year': 6, quarter: 3 };
const REPEAT_WORDS: Record<string, Repeat> = {
  once: 'once', 一次: 'once', 不重复: 'once',
  'half-year': 'half-year', 每半年: 'half-year', 半年: 'half-year', 每年两次: 'half-year',
  quarter: 'quarter', 每季度: 'quarter', 季度: 'quarter',
};

export interface ChecklistItem {
  id: string;
  /** The heading it falls under (整治内容 or 责任清单 项目). */
  area?: string;
  text: string;
  /** The departments the source document names as responsible, for the reader. */
  responsible?: string;
}

export interface CampaignSpec {
  id: string;
  title: string;
  source?: string;
  /** Department names, or 'all' for every department on the roster. */
  departments: 'all' | string[];
  startsOn: string;
  dueOn: string;
  repeat: Repeat;
  rounds: number;
  /** Days a department has to rectify a problem it reports (the row's deadline). */
  rectifyDays: number;
  /** The functional department whose head may confirm 销号 besides the discipline office. */
  confirmDepartment?: string;
  items: ChecklistItem[];
}

export class CampaignFileError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'CampaignFileError';
  }
}

const day = z.string().refine((s) => /^\d{4}-\d{2}-\d{2}$/.test(s) && calendarDay(Number(s.slice(0, 4)), Number(s.slice(5, 7)), Number(s.slice(8, 10))) !== undefined, '应为有效日期，格式 YYYY-MM-DD');
const text = (max: number) => z.string().trim().min(1, '不能为空').max(max, `不能超过 ${max} 个字`);

const itemSchema = z.object({
  id: z.union([z.string(), z.number()]).transform(String).pipe(z.string().regex(/^[A-Za-z0-9.-]{1,20}$/, '应为 1–20 位字母、数字、点或横线')),
  area: text(60).optional(),
  text: text(500),
  responsible: text(120).optional(),
}).strict();

const fileSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,59}$/, '应为小写字母、数字和横线，例如 baoji-2023'),
  title: text(80),
  source: text(200).optional(),
  departments: z.union([z.literal('全院'), z.literal('all'), z.array(text(60)).min(1, '至少要有一个科室')]),
  start: day,
  due: day,
  repeat: z.string().optional().transform((s, ctx) => {
    if (s === undefined) return 'once' as Repeat;
    const r = REPEAT_WORDS[s.trim()];
    if (!r) ctx.addIssue({ code: 'custom', message: `应为 ${Object.values(REPEATS).join('、')} 之一` });
    return r ?? 'once';
  }),
  rounds: z.number().int().min(1, '至少 1 轮').max(20, '不能超过 20 轮').optional(),
  rectifyDays: z.number().int().min(1, '至少 1 天').max(365, '不能超过 365 天').default(30),
  confirmDepartment: text(60).optional(),
  items: z.array(itemSchema).min(1, '至少要有一个检查项').max(40, '检查项不能超过 40 个'),
}).strict();

type RawFile = z.input<typeof fileSchema>;

/** zod's own wording is English; the schema's messages are Chinese, and these cover the rest. */
function issueText(i: z.core.$ZodIssue): string {
  if (i.code === 'invalid_type') return i.input === undefined ? '必填，不能为空' : `类型不对（应为${i.expected === 'string' ? '文字' : i.expected === 'number' ? '数字' : i.expected === 'array' ? '列表' : i.expected === 'object' ? '字段和值' : i.expected}）`;
  if (i.code === 'unrecognized_keys') return `不认识的字段：${i.keys.join('、')}`;
  if (i.code === 'invalid_union') return '应为“全院”或科室名称的列表';
  if (i.code === 'too_small' || i.code === 'too_big' || i.code === 'custom' || i.code === 'invalid_format') return /[\u4e00-\u9fff]/.test(i.message) ? i.message : `取值超出范围`;
  return /[\u4e00-\u9fff]/.test(i.message) ? i.message : '格式不对';
}

/** Where a value of the raw file is, as the person who wrote it sees it. */
type Locate = (path: (string | number)[]) => string;

export async function parseCampaignFile(fileName: string, data: Buffer, knownDepartments: string[]): Promise<CampaignSpec> {
  if (data.length > MAX_IMPORT_BYTES) throw new CampaignFileError([`${fileName}：文件过大，上限为 ${MAX_IMPORT_BYTES / 1024 / 1024} MB`]);
  const { raw, locate } = /\.xlsx$/i.test(fileName) ? await readXlsx(fileName, data) : /\.ya?ml$/i.test(fileName) ? readYaml(fileName, data) : unsupported(fileName);
  const parsed = fileSchema.safeParse(raw);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${locate(i.path as (string | number)[])}：${issueText(i)}`);
  // Checked on the raw values too, so one pass lists every problem, not the schema's first.
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const known = new Set(knownDepartments);
  const isDay = (v: unknown): v is string => typeof v === 'string' && day.safeParse(v).success;
  if (isDay(r.start) && isDay(r.due) && r.due < r.start) problems.push(`${locate(['due'])}：截止日期 ${r.due} 早于开始日期 ${r.start}`);
  if (Array.isArray(r.departments)) {
    r.departments.forEach((d, i) => {
      if (typeof d === 'string' && d.trim() && !known.has(d.trim())) problems.push(`${locate(['departments', i])}：人员名单中没有科室“${d.trim()}”`);
    });
  }
  if (typeof r.confirmDepartment === 'string' && r.confirmDepartment.trim() && !known.has(r.confirmDepartment.trim())) problems.push(`${locate(['confirmDepartment'])}：人员名单中没有科室“${r.confirmDepartment.trim()}”`);
  if (Array.isArray(r.items)) {
    const seen = new Set<string>();
    r.items.forEach((it, i) => {
      const id = typeof it === 'object' && it !== null ? (it as Record<string, unknown>).id : undefined;
      if (typeof id !== 'string' && typeof id !== 'number') return;
      if (seen.has(String(id))) problems.push(`${locate(['items', i, 'id'])}：检查项编号 ${id} 重复`);
      seen.add(String(id));
    });
  }
  if (!parsed.success || problems.length) throw new CampaignFileError(problems);
  const f = parsed.data;
  const departments = Array.isArray(f.departments) ? f.departments : 'all';
  const rounds = f.rounds ?? (f.repeat === 'once' ? 1 : f.repeat === 'half-year' ? 2 : 4);
  if (f.repeat === 'once' && rounds > 1) problems.push(`${locate(['rounds'])}：重复为“一次”时轮数只能是 1`);
  if (problems.length) throw new CampaignFileError(problems);
  return {
    id: f.id,
    title: f.title,
    ...(f.source ? { source: f.source } : {}),
    departments,
    startsOn: f.start,
    dueOn: f.due,
    repeat: f.repeat,
    rounds,
    rectifyDays: f.rectifyDays,
    ...(f.confirmDepartment ? { confirmDepartment: f.confirmDepartment } : {}),
    items: f.items.map((it) => ({ id: it.id, text: it.text, ...(it.area ? { area: it.area } : {}), ...(it.responsible ? { responsible: it.responsible } : {}) })),
  };
}

/** Round n (1-based) of a campaign: its dates shifted by the repeat interval. */
export function roundDates(spec: Pick<CampaignSpec, 'startsOn' | 'dueOn' | 'repeat'>, round: number): { startsOn: string; dueOn: string } {
  const months = REPEAT_MONTHS[spec.repeat] * (round - 1);
  return { startsOn: addMonthsToDay(spec.startsOn, months), dueOn: addMonthsToDay(spec.dueOn, months) };
}

function unsupported(fileName: string): never {
  throw new CampaignFileError([`不支持的文件类型：${fileName}（请使用 .yaml 或 .xlsx）`]);
}

// ---- YAML ---------------------------------------------------------------------------------

function readYaml(fileName: string, data: Buffer): { raw: unknown; locate: Locate } {
  let textOf: string;
  try {
    textOf = decodeText(data);
  } catch (e) {
    if (e instanceof FileFormatError) throw new CampaignFileError([`${fileName}：${e.message}`]);
    throw e;
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(textOf, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    throw new CampaignFileError(doc.errors.map((e) => {
      const at = e.linePos?.[0];
      // The parser's own wording is English and technical; where it is says enough.
      const what = e.code === 'DUPLICATE_KEY' ? '同一个字段写了两次' : '请检查这里的缩进、冒号、引号和括号';
      return `${at ? `第 ${at.line} 行第 ${at.col} 列` : fileName}：YAML 格式有误（${what}）`;
    }));
  }
  const at = (n: Node | null | undefined): string | undefined => {
    const offset = n?.range?.[0];
    if (offset === undefined) return undefined;
    const p = lineCounter.linePos(offset);
    return `第 ${p.line} 行第 ${p.col} 列`;
  };
  const locate: Locate = (path) => {
    // The value itself, else its nearest existing parent (a missing key is reported on its map).
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : (doc.getIn(path.slice(0, n), true) as Node | undefined);
      if (node && (n === path.length || isMap(node) || isSeq(node))) {
        const where = at(node) ?? fileName;
        return n === path.length ? `${where}（${label(path)}）` : `${where}（缺少 ${label(path)}）`;
      }
    }
    return `${fileName}（${label(path)}）`;
  };
  return { raw: cleanDeep(doc.toJS()), locate };
}

const FIELD_LABELS: Record<string, string> = {
  id: '编号', title: '标题', source: '依据', departments: '科室', start: '开始日期', due: '截止日期', repeat: '重复', rounds: '轮数',
  rectifyDays: '整改期限（天）', confirmDepartment: '销号确认科室', items: '检查项', area: '类别', text: '检查内容', responsible: '责任科室',
};

function label(path: (string | number)[]): string {
  return path.map((p) => (typeof p === 'number' ? `第 ${p + 1} 项` : (FIELD_LABELS[p] ?? p))).join(' ') || '（顶层）';
}

// ---- XLSX ---------------------------------------------------------------------------------

/** Header rows of the sheet: 字段 | 内容, then a table headed 编号 | 类别 | 检查内容 | 责任科室. */
const XLSX_FIELDS: Record<string, keyof RawFile> = {
  编号: 'id', 标题: 'title', 依据: 'source', 科室: 'departments', 开始日期: 'start', 截止日期: 'due', 重复: 'repeat', 轮数: 'rounds',
  '整改期限（天）': 'rectifyDays', 整改期限: 'rectifyDays', 销号确认科室: 'confirmDepartment',
};
const ITEM_COLUMNS: Record<string, 'id' | 'area' | 'text' | 'responsible'> = { 编号: 'id', 序号: 'id', 类别: 'area', 项目: 'area', 检查内容: 'text', 内容: 'text', 责任科室: 'responsible' };
const column = (i: number): string => String.fromCharCode(65 + i);

async function readXlsx(fileName: string, data: Buffer): Promise<{ raw: unknown; locate: Locate }> {
  let rows: TabularRow[];
  try {
    rows = await readTabular(fileName, data);
  } catch (e) {
    if (e instanceof FileFormatError) throw new CampaignFileError([`${fileName}：${e.message}`]);
    throw e;
  }
  const raw: Record<string, unknown> = {};
  const where = new Map<string, string>();
  const problems: string[] = [];
  let header: { line: number; cols: ('id' | 'area' | 'text' | 'responsible' | undefined)[] } | undefined;
  const items: Record<string, string>[] = [];
  for (const r of rows) {
    const first = r.cells[0]?.trim() ?? '';
    if (!header) {
      if (first === '编号' || first === '序号') {
        if (r.cells.some((c) => ITEM_COLUMNS[c.trim()] === 'text')) {
          header = { line: r.line, cols: r.cells.map((c) => ITEM_COLUMNS[c.trim()]) };
          continue;
        }
      }
      const key = XLSX_FIELDS[first];
      if (!key) {
        problems.push(`第 ${r.line} 行 A 列：不认识的字段“${first}”（可用：${Object.keys(XLSX_FIELDS).join('、')}；检查项表格以“编号 | 类别 | 检查内容 | 责任科室”表头开始）`);
        continue;
      }
      const value = (r.cells[1] ?? '').trim();
      where.set(key, `第 ${r.line} 行 B 列`);
      if (key === 'departments') {
        raw.departments = value === '全院' || value === 'all' ? value : value.split(/[、,，;；\n]+/).map((s) => s.trim()).filter(Boolean);
        value.split(/[、,，;；\n]+/).forEach((_, i) => where.set(`departments.${i}`, `第 ${r.line} 行 B 列`));
      } else if (key === 'rounds' || key === 'rectifyDays') {
        raw[key] = /^\d+$/.test(value) ? Number(value) : value;
      } else if (value !== '') raw[key] = value;
      continue;
    }
    const item: Record<string, string> = {};
    header.cols.forEach((k, i) => {
      const v = (r.cells[i] ?? '').trim();
      if (k && v !== '') item[k] = v;
      if (k) where.set(`items.${items.length}.${k}`, `第 ${r.line} 行 ${column(i)} 列`);
    });
    where.set(`items.${items.length}`, `第 ${r.line} 行`);
    items.push(item);
  }
  if (problems.length) throw new CampaignFileError(problems);
  if (!header) throw new CampaignFileError([`${fileName}：没有找到检查项表格（表头“编号 | 类别 | 检查内容 | 责任科室”）`]);
  raw.items = items;
  const locate: Locate = (path) => {
    for (let n = path.length; n >= 1; n--) {
      const w = where.get(path.slice(0, n).join('.'));
      if (w) return n === path.length ? `${w}（${label(path)}）` : `${w}（缺少 ${label(path)}）`;
    }
    return path[0] === 'items' ? `第 ${header.line} 行（${label(path)}）` : `${fileName}（缺少 ${label(path)}）`;
  };
  return { raw, locate };
}
