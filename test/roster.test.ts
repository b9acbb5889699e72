import { readFileSync } from 'node:fs';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SAMPLE_ROSTER } from '../src/app.js';
import { ambiguousDepartmentText, importRosterFile, matchDepartment, RosterImportError, type ImportSummary } from '../src/domain/roster.js';
import type { Db } from '../src/store/db.js';
import { findStaffByPlatformId, getStaff } from '../src/store/staff.js';
import { BACKENDS, freshDb } from './helpers/db.js';

const sample = readFileSync(SAMPLE_ROSTER);
const HEADER = 'staff_id,name,department,roles,dingtalk_user_id,feishu_user_id';
const csv = (...lines: string[]) => Buffer.from([HEADER, ...lines].join('\n'));

async function snapshot(db: Db): Promise<string> {
  const r = await db.query<{ s: string }>(
    `SELECT string_agg(concat_ws('/', s.staff_id, s.name, d.name, s.active,
        (SELECT string_agg(role, '|' ORDER BY role) FROM staff_roles r WHERE r.staff_id = s.staff_id),
        (SELECT string_agg(platform || ':' || platform_user_id, '|' ORDER BY platform) FROM platform_identities p WHERE p.staff_id = s.staff_id)), ';' ORDER BY s.staff_id) AS s
     FROM staff s JOIN departments d ON d.id = s.department_id`,
  );
  return r.rows[0].s ?? '';
}

async function refused(db: Db, name: string, data: Buffer): Promise<string[]> {
  const before = await snapshot(db);
  const err = await importRosterFile(db, name, data).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RosterImportError);
  expect(await snapshot(db)).toBe(before);
  return (err as RosterImportError).message.split('\n');
}

describe.each(BACKENDS)('roster import on %s', (kind) => {
  let db: Awaited<ReturnType<typeof freshDb>>;
  beforeAll(async () => {
    db = await freshDb(kind, `roster_${kind}`);
  });
  afterAll(async () => {
    await db.dispose();
  });

  it('imports the sample hospital, and importing it again changes nothing', async () => {
    const first = await importRosterFile(db, 'roster.csv', sample);
    expect(first).toMatchObject<Partial<ImportSummary>>({ total: 42, added: 42, updated: 0, deactivated: 0, departments: 8 });
    const again = await importRosterFile(db, 'roster.csv', sample);
    expect(again).toMatchObject({ total: 42, added: 0, updated: 0, unchanged: 42, deactivated: 0 });
    const admin = await getStaff(db, 'S0002');
    expect(admin?.roles).toEqual(['admin', 'staff']);
    expect(admin?.department).toBe('医务科');
    const byDingtalk = await findStaffByPlatformId(db, 'dingtalk', admin!.dingtalkUserId!);
    expect(byDingtalk?.staffId).toBe('S0002');
  });

  it('deactivates staff missing from a new file, keeps their records, and a dry run writes nothing', async () => {
    const lines = sample.toString('utf8').trim().split('\n');
    const without = Buffer.from(lines.filter((l) => !l.startsWith('S0007,')).join('\n'));
    const before = await snapshot(db);
    const dry = await importRosterFile(db, 'roster.csv', without, { dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, deactivated: 1 });
    expect(await snapshot(db)).toBe(before);
    const real = await importRosterFile(db, 'roster.csv', without);
    expect(real.deactivated).toBe(1);
    const gone = await getStaff(db, 'S0007');
    expect(gone?.active).toBe(false);
    expect(await findStaffByPlatformId(db, 'dingtalk', gone!.dingtalkUserId!)).toBeUndefined();
    // Back in the next file: reactivated.
    const back = await importRosterFile(db, 'roster.csv', sample);
    expect(back.updated).toBe(1);
    expect((await getStaff(db, 'S0007'))?.active).toBe(true);
  });
});

describe('roster files', () => {
  let db: Awaited<ReturnType<typeof freshDb>>;
  beforeAll(async () => {
    db = await freshDb('pg', 'roster_files');
  });
  afterAll(async () => {
    await db.dispose();
  });
  beforeEach(async () => {
    await importRosterFile(db, 'roster.csv', sample);
  });

  it('reads XLSX with Chinese headers and Chinese role names', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('名单');
    ws.addRow(['工号', '姓名', '科室', '角色', '钉钉ID', '飞书ID']);
    ws.addRow(['X001', '周敏', '眼科', '科室负责人|报告联络员', 'dt900001', '']);
    ws.addRow(['X002', '吴强', '眼科', '员工', '', 'ou_abc']);
    const data = Buffer.from(await wb.xlsx.writeBuffer());
    const s = await importRosterFile(db, '名单.xlsx', data);
    expect(s).toMatchObject({ total: 2, added: 2, deactivated: 42 });
    const head = await getStaff(db, 'X001');
    expect(head).toMatchObject({ name: '周敏', department: '眼科', roles: ['dept_head', 'report_owner', 'staff'], dingtalkUserId: 'dt900001' });
    expect((await findStaffByPlatformId(db, 'feishu', 'ou_abc'))?.staffId).toBe('X002');
  });

  it('accepts quoted CSV fields and a BOM', async () => {
    const data = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), csv('Y1,"欧阳, 娜",眼科,staff,,')]);
    await importRosterFile(db, 'r.csv', data);
    expect((await getStaff(db, 'Y1'))?.name).toBe('欧阳, 娜');
  });

  it('reports a missing name with its line and column, and changes nothing', async () => {
    expect(await refused(db, 'r.csv', csv('A1,张三,眼科,staff,,', 'A2,,眼科,staff,,'))).toEqual(['第 3 行，列 name：姓名不能为空']);
  });

  it('reports an unknown role', async () => {
    const [msg] = await refused(db, 'r.csv', csv('A1,张三,眼科,staff|king,,'));
    expect(msg).toMatch(/^第 2 行，列 roles：未知角色 "king"，可用：staff, dept_head/);
  });

  it('reports a duplicate staff id, pointing at the first occurrence', async () => {
    expect(await refused(db, 'r.csv', csv('A1,张三,眼科,staff,,', 'A1,李四,眼科,staff,,'))).toEqual(['第 3 行，列 staff_id：工号 A1 重复（第 2 行已出现）']);
  });

  it('reports an unknown column', async () => {
    const [msg] = await refused(db, 'r.csv', Buffer.from('staff_id,name,department,roles,wechat\nA1,张三,眼科,staff,x'));
    expect(msg).toMatch(/^第 1 行，列 wechat：未知的列名/);
  });

  it('reports every bad row, not just the first', async () => {
    const msgs = await refused(db, 'r.csv', csv('A1,,眼科,staff,,', 'A2,李四,,staff,,', 'A3,王五,眼科,boss,,'));
    expect(msgs.map((m) => m.split('：')[0])).toEqual(['第 2 行，列 name', '第 3 行，列 department', '第 4 行，列 roles']);
  });

  it('refuses an empty file and a header-only file', async () => {
    expect(await refused(db, 'r.csv', Buffer.from(''))).toEqual(['文件是空的：没有表头，也没有人员']);
    expect(await refused(db, 'r.csv', Buffer.from(`${HEADER}\n`))).toEqual(['第 1 行：文件只有表头，没有人员']);
  });

  it('refuses a 5 MB file with a clear message', async () => {
    const row = 'B0000,测试人员,眼科,staff,,\n';
    const big = Buffer.from(HEADER + '\n' + row.repeat(Math.ceil((5 * 1024 * 1024) / Buffer.byteLength(row))));
    expect(big.length).toBeGreaterThan(5 * 1024 * 1024);
    expect(await refused(db, 'big.csv', big)).toEqual(['文件过大（5.0 MB），上限为 4 MB；请拆分后分批导入']);
  });

  it('refuses a file that is not CSV or XLSX', async () => {
    expect(await refused(db, 'r.pdf', Buffer.from('%PDF'))).toEqual(['不支持的文件类型：r.pdf（请使用 .csv 或 .xlsx）']);
    expect((await refused(db, 'r.xlsx', Buffer.from('not a zip')))[0]).toMatch(/无法读取该 XLSX 文件/);
  });
});

describe('matchDepartment', () => {
  const depts = [{ id: 1, name: '普外科' }, { id: 2, name: '心胸外科' }, { id: 3, name: '心血管内科' }, { id: 4, name: '外科' }];
  it('16 an exact name, one name containing the word, several, or none', () => {
    expect(matchDepartment(depts, '外科')).toEqual({ kind: 'exact', department: depts[3] });
    expect(matchDepartment(depts, '内科')).toEqual({ kind: 'one', department: depts[2] });
    expect(matchDepartment(depts.slice(0, 3), '外科')).toEqual({ kind: 'many', candidates: [depts[0], depts[1]] });
    expect(matchDepartment(depts, '科')).toEqual({ kind: 'none' });
    expect(matchDepartment(depts, '儿科')).toEqual({ kind: 'none' });
    expect(ambiguousDepartmentText('外科', depts.slice(0, 2))).toBe('“外科”对应多个科室：普外科、心胸外科，请写完整名称。');
  });
});
