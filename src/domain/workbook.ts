import { wallClockAsUtc } from './calendar.js';

/**
 * Spreadsheets handed to inspections: a summary sheet and a detail sheet, Chinese headers,
 * frozen header rows, and column widths that fit the content (CJK characters count double).
 */

/** A number or time written with an Excel format, so a reader can sort, sum and chart it. */
export interface FormattedCell {
  value: number | Date;
  numFmt: string;
}
export type CellValue = string | number | null | FormattedCell;

const isFormatted = (v: CellValue): v is FormattedCell => typeof v === 'object' && v !== null;

/** A rate as a fraction under `0.0%` (Excel shows 0.286 as 28.6%); '—' when nobody counts. */
export const percentCell = (done: number, total: number): CellValue => (total === 0 ? '—' : { value: done / total, numFmt: '0.0%' });
/** An instant as the zone's date and time under `yyyy-mm-dd hh:mm`; '' when there is none. */
export const dateTimeCell = (at: Date | null | undefined, timeZone: string): CellValue => (at ? { value: wallClockAsUtc(at, timeZone), numFmt: 'yyyy-mm-dd hh:mm' } : '');
/** An amount in yuan under `#,##0.00`. */
export const yuanCell = (n: number): CellValue => ({ value: n, numFmt: '#,##0.00' });

export interface Sheet {
  name: string;
  columns: string[];
  rows: CellValue[][];
  /** Lines written above the table (title, month, generated at). */
  preface?: string[];
  /** A chart placed beside the table: the same PNG the chat card shows. */
  chart?: SheetChart;
}

export interface SheetChart {
  png: Buffer;
  /** The size it is shown at, in pixels (a 2× chart at half its pixel size stays sharp). */
  width: number;
  height: number;
}

/** A chart drawn at `scale` pixels per logical pixel, shown at its logical size (read from the PNG's IHDR). */
export function sheetChart(png: Buffer, scale: number): SheetChart {
  return { png, width: png.readUInt32BE(16) / scale, height: png.readUInt32BE(20) / scale };
}

const displayWidth = (v: CellValue | undefined): number => (v !== null && typeof v === 'object' ? (v.value instanceof Date ? v.numFmt.length : v.numFmt.length + 4) : textWidth(v));
const textWidth = (v: unknown): number => [...String(v ?? '')].reduce((w, ch) => w + (ch.charCodeAt(0) > 0x2e80 ? 2 : 1), 0);

type ExcelWorkbook = import('exceljs').Workbook;
type ExcelSheet = import('exceljs').Worksheet;
type ExcelImageBuffer = NonNullable<Parameters<ExcelWorkbook['addImage']>[0]['buffer']>;

/** The chart floats right of the table (one empty column between), its top level with the preface. */
function addChart(wb: ExcelWorkbook, ws: ExcelSheet, chart: SheetChart, afterColumn: number): void {
  // exceljs declares its own Buffer type, which Node's Buffer<ArrayBufferLike> does not match.
  const id = wb.addImage({ buffer: chart.png as unknown as ExcelImageBuffer, extension: 'png' });
  ws.addImage(id, { tl: { col: afterColumn, row: 0 }, ext: { width: chart.width, height: chart.height }, editAs: 'oneCell' });
}

export async function buildWorkbook(sheets: Sheet[], meta: { creator?: string } = {}): Promise<Buffer> {
  // Loaded on first export: exceljs is large and most processes never write a spreadsheet.
  const { default: ExcelJS } = await import('exceljs');
  const wb = new ExcelJS.Workbook();
  wb.creator = meta.creator ?? '清廉助手';
  wb.created = new Date();
  for (const s of sheets) {
    const preface = s.preface ?? [];
    const headerRow = preface.length + 1;
    const ws = wb.addWorksheet(s.name, { views: [{ state: 'frozen', ySplit: headerRow }] });
    for (const line of preface) ws.addRow([line]).font = { bold: true };
    const header = ws.addRow(s.columns);
    header.font = { bold: true };
    header.eachCell((c) => {
      c.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFEFF1F5' } };
      c.border = { bottom: { style: 'thin' } };
    });
    for (const r of s.rows) {
      const row = ws.addRow(r.map((v) => (v === null ? '' : isFormatted(v) ? v.value : v)));
      r.forEach((v, i) => {
        if (isFormatted(v)) row.getCell(i + 1).numFmt = v.numFmt;
      });
    }
    s.columns.forEach((col, i) => {
      const widest = Math.max(textWidth(col), ...s.rows.map((r) => displayWidth(r[i])));
      ws.getColumn(i + 1).width = Math.min(60, Math.max(8, widest + 2));
    });
    if (s.chart) addChart(wb, ws, s.chart, s.columns.length + 1);
  }
  return Buffer.from(await wb.xlsx.writeBuffer());
}
