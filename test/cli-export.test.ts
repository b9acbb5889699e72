import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_ROSTER } from '../src/app.js';
import { importRosterFile } from '../src/domain/roster.js';
import { freshDb, PG_URL } from './helpers/db.js';

describe('npm run cli -- export', () => {
  let db: Awaited<ReturnType<typeof freshDb>>;
  beforeAll(async () => {
    db = await freshDb('pg', 'cli_export');
    await importRosterFile(db, 'roster.csv', readFileSync(SAMPLE_ROSTER));
    await db.query(`INSERT INTO study_completions (month, staff_id) VALUES ('2026-11', 'S0040'), ('2026-11', 'S0041')`);
  });
  afterAll(async () => {
    await db?.dispose();
  });

  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      env: { ...process.env, DATABASE_URL: PG_URL, DATABASE_SCHEMA: db.schema, CONFIG_FILE: '/nonexistent/qinglian.yaml', LOG_LEVEL: 'silent' },
      encoding: 'utf8',
    });

  it('writes the same workbook as the chat command', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'qinglian-export-')), 'study.xlsx');
    const r = cli('export', '学习', '2026-11', `--out=${out}`);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(`已写入 ${out}`);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(readFileSync(out) as unknown as ArrayBuffer);
    const rows = wb.getWorksheet('汇总')!.getSheetValues().slice(4).map((x) => (x as unknown[]).slice(1));
    expect(rows).toContainEqual(['纪检监察室', 3, 2, 1, 2 / 3]);
  }, 60_000);

  it('explains a bad area or month and exits 2', () => {
    const area = cli('export', '天气');
    expect(area.status).toBe(2);
    expect(area.stderr).toContain('请指定要导出的内容：学习、考试、上报、上缴 或 问题清单');
    const month = cli('export', '考试', '2026-13');
    expect(month.status).toBe(2);
    expect(month.stderr).toContain('月份“2026-13”不存在');
  }, 60_000);
});
