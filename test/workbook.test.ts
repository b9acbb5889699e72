import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { buildWorkbook } from '../src/domain/workbook.js';

describe('export workbooks', () => {
  it('has a frozen Chinese header row, the rows, and widths that fit the content', async () => {
    const data = await buildWorkbook([
      { name: '汇总', preface: ['学习完成情况 2026年11月'], columns: ['科室', '应学人数', '完成率'], rows: [['心血管内科', 7, '85.7%'], ['纪检监察室', 3, '100.0%']] },
      { name: '明细', columns: ['工号', '姓名'], rows: [['S0001', '林雨桐']] },
    ]);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(data as unknown as ArrayBuffer);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['汇总', '明细']);
    const ws = wb.getWorksheet('汇总')!;
    expect(ws.getRow(2).values).toEqual([undefined, '科室', '应学人数', '完成率']);
    expect(ws.getCell('A3').value).toBe('心血管内科');
    expect(ws.getCell('B3').value).toBe(7);
    expect(ws.views[0]).toMatchObject({ state: 'frozen', ySplit: 2 });
    expect(ws.getColumn(1).width).toBe(12); // 5 CJK characters = 10 + 2
    expect(wb.getWorksheet('明细')!.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
  });
});
