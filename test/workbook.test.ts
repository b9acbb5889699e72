import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { renderBarChart } from '../cards/chart-png.js';
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

  it('places a sheet’s chart once, right of its table, at the size asked for', async () => {
    const png = renderBarChart({ labels: ['心血管内科', '纪检监察室'], values: [85.7, 100], target: 100 });
    const data = await buildWorkbook([
      { name: '汇总', columns: ['科室', '完成率'], rows: [['心血管内科', '85.7%']], chart: { png, width: 360, height: 150 } },
      { name: '明细', columns: ['工号'], rows: [['S0001']] },
    ]);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(data as unknown as ArrayBuffer);
    const images = wb.getWorksheet('汇总')!.getImages();
    expect(images).toHaveLength(1);
    expect(images[0].range.tl.nativeCol).toBe(3);
    expect(images[0].range.tl.nativeRow).toBe(0);
    const stored = wb.getImage(Number(images[0].imageId));
    expect(stored.extension).toBe('png');
    expect(Buffer.from(stored.buffer as unknown as Uint8Array).equals(png)).toBe(true);
    expect(wb.getWorksheet('明细')!.getImages()).toHaveLength(0);
  });
});
