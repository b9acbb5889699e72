import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import ExcelJS from 'exceljs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { openPg } from '../src/store/pg.js';
import { dropSchema, PG_URL, uniqueName } from './helpers/db.js';

/** How an administrator gives a campaign file: `npm run cli -- rectification import`, as for the roster and the question bank. */

const run = promisify(execFile);
const schema = uniqueName('rect_cli');
const dir = mkdtempSync(join(tmpdir(), 'rect-cli-'));
const env = { ...process.env, DATABASE_URL: PG_URL, DATABASE_SCHEMA: schema, CONFIG_FILE: '/nonexistent/qinglian.yaml', LOG_LEVEL: 'silent' };

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run('npx', ['tsx', 'src/cli.ts', ...args], { env, timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

describe('npm run cli -- rectification import', () => {
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await dropSchema(schema);
  });

  it('imports a shipped example, refuses a bad file with line and column and changes nothing', async () => {
    expect((await cli('roster', 'import', 'examples/roster.csv')).code).toBe(0);
    const dry = await cli('rectification', 'import', 'examples/rectification/shaoxing-2019-responsibility-list.yaml', '--dry-run');
    expect(dry.stdout).toContain('检查通过：“医疗服务行为整治提升工程责任清单自查自纠”（编号 shaoxing-2019，6 个检查项，全院各科室，每季度，共 4 轮');
    const ok = await cli('rectification', 'import', 'examples/rectification/baoji-2023-special-rectification.yaml');
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toContain('已导入自查自纠活动“医药领域腐败问题和不正之风专项整治自查自纠”（编号 baoji-2023，11 个检查项');

    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'id: bad-1\ntitle: 坏文件\ndepartments: [心血管内科, 眼科]\nstart: 2026-03-01\ndue: 2026-02-01\nitems: []\n');
    const refused = await cli('rectification', 'import', bad);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('导入失败，没有任何改动。共 3 处问题');
    expect(refused.stderr).toContain('第 6 行第 8 列（检查项）：至少要有一个检查项');
    expect(refused.stderr).toContain('第 5 行第 6 列（截止日期）：截止日期 2026-02-01 早于开始日期 2026-03-01');
    expect(refused.stderr).toContain('第 3 行第 22 列（科室 第 2 项）：人员名单中没有科室“眼科”');

    const out = join(dir, 'ledger.xlsx');
    const exported = await cli('export', '问题清单', `--out=${out}`);
    expect(exported.stdout).toContain(`已写入 ${out}`);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(readFileSync(out) as unknown as ArrayBuffer);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['汇总', '明细']);
    expect(wb.getWorksheet('汇总')!.getRow(3).values).toEqual([undefined, '科室', '发现问题', '已销号', '申请销号中', '未销号', '逾期未整改', '自查发现', '检查发现', '销号率']);

    const db = await openPg(PG_URL, schema, 1);
    try {
      const r = await db.query<{ id: string; rounds: number }>('SELECT c.id, (SELECT count(*)::int FROM rectification_rounds r WHERE r.campaign_id = c.id) AS rounds FROM rectification_campaigns c');
      expect(r.rows).toEqual([{ id: 'baoji-2023', rounds: 2 }]);
    } finally {
      await db.close();
    }
  }, 180_000);
});
