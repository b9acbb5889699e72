import type ExcelJS from 'exceljs';
import { cleanText } from './text.js';
import { utcDay } from './calendar.js';
import iconv from 'iconv-lite';

/**
 * Reading CSV and XLSX files into rows of strings, with the 1-based line number of each row
 * as the user sees it in their spreadsheet program. Shared by every importer.
 */
export interface TabularRow {
  line: number;
  cells: string[];
}

export const MAX_IMPORT_BYTES = 4 * 1024 * 1024;

export class FileFormatError extends Error {}

const REPLACEMENT = '\ufffd';
const lineAt = (text: string, at: number): number => text.slice(0, at).split('\n').length;
const refusal = (line: number): string => `第 ${line} 行无法识别编码，请用 Excel“另存为 CSV UTF-8”后重新导入`;

/**
 * The text of an imported file, whatever Excel or Notepad saved it as: UTF-8 with or without a
 * BOM, UTF-16 with a BOM, or GBK/GB18030 (Excel's "CSV" on Chinese Windows). GB18030 is only
 * accepted when every byte decodes, since reading a UTF-8 file as GBK "succeeds" as mojibake.
 * Anything else is refused, naming the first line that does not decode.
 */
export function decodeText(data: Buffer): string {
  if (data[0] === 0xff && data[1] === 0xfe) return strict(iconv.decode(data.subarray(2), 'utf16le'));
  if (data[0] === 0xfe && data[1] === 0xff) return strict(iconv.decode(data.subarray(2), 'utf16be'));
  const bom = data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf;
  const body = bom ? data.subarray(3) : data;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    // A UTF-8 BOM says what the file meant to be: point at the line that breaks it.
    if (bom) return strict(new TextDecoder('utf-8').decode(body));
  }
  const gb = iconv.decode(body, 'gb18030');
  if (!gb.includes(REPLACEMENT)) return gb;
  throw new FileFormatError(refusal(undecodableLine(body) ?? lineAt(gb, gb.indexOf(REPLACEMENT))));
}

/** The first line that is neither UTF-8 nor GB18030 on its own: where the file really breaks. */
function undecodableLine(body: Buffer): number | undefined {
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let start = 0;
  for (let line = 1; start <= body.length; line++) {
    const end = body.indexOf(0x0a, start);
    const bytes = body.subarray(start, end < 0 ? body.length : end);
    try {
      utf8.decode(bytes);
    } catch {
      if (iconv.decode(bytes, 'gb18030').includes(REPLACEMENT)) return line;
    }
    if (end < 0) return undefined;
    start = end + 1;
  }
  return undefined;
}

function strict(text: string): string {
  const at = text.indexOf(REPLACEMENT);
  if (at >= 0) throw new FileFormatError(refusal(lineAt(text, at)));
  return text;
}

/** RFC 4180 CSV: quoted fields, doubled quotes, CRLF or LF, an optional UTF-8 BOM. */
export function parseCsv(text: string): TabularRow[] {
  const rows: TabularRow[] = [];
  let line = 1;
  let rowLine = 1;
  let field = '';
  let cells: string[] = [];
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const endRow = () => {
    cells.push(field);
    if (!(cells.length === 1 && cells[0].trim() === '')) rows.push({ line: rowLine, cells });
    cells = [];
    field = '';
  };
  for (; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      cells.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRow();
      line++;
      rowLine = line;
    } else field += c;
  }
  if (quoted) throw new FileFormatError(`第 ${rowLine} 行的引号没有闭合`);
  if (field !== '' || cells.length > 0) endRow();
  return rows;
}

export async function parseXlsx(data: Buffer): Promise<TabularRow[]> {
  const { default: Excel } = await import('exceljs');
  const wb = new Excel.Workbook();
  try {
    await wb.xlsx.load(data as unknown as ArrayBuffer);
  } catch {
    throw new FileFormatError('无法读取该 XLSX 文件，请确认它是 Excel 工作簿（.xlsx）');
  }
  const ws = wb.worksheets[0];
  if (!ws) return [];
  const rows: TabularRow[] = [];
  ws.eachRow({ includeEmpty: false }, (row, rowNumber) => {
    const cells: string[] = [];
    for (let c = 1; c <= row.cellCount; c++) cells.push(cellText(row.getCell(c).value));
    if (cells.some((x) => x.trim() !== '')) rows.push({ line: rowNumber, cells });
  });
  return rows;
}

function cellText(v: ExcelJS.CellValue): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return utcDay(v);
  if (typeof v === 'object') {
    if ('richText' in v) return v.richText.map((t) => t.text).join('');
    if ('text' in v) return String(v.text);
    if ('result' in v) return v.result === undefined ? '' : String(v.result);
    return '';
  }
  return String(v);
}

export async function readTabular(name: string, data: Buffer): Promise<TabularRow[]> {
  if (data.length > MAX_IMPORT_BYTES) {
    throw new FileFormatError(`文件过大（${(data.length / 1024 / 1024).toFixed(1)} MB），上限为 ${MAX_IMPORT_BYTES / 1024 / 1024} MB；请拆分后分批导入`);
  }
  // Imported cells are stored as typed; control characters would fail the insert (22021).
  const clean = (rows: TabularRow[]) => rows.map((r) => ({ ...r, cells: r.cells.map(cleanText) }));
  if (/\.xlsx$/i.test(name)) return clean(await parseXlsx(data));
  if (/\.csv$/i.test(name)) return clean(parseCsv(decodeText(data)));
  throw new FileFormatError(`不支持的文件类型：${name}（请使用 .csv 或 .xlsx）`);
}
