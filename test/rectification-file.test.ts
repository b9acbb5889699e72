import { readFileSync } from 'node:fs';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { campaignCard, ledgerProgressCard, ledgerOverviewLine, problemCard } from '../cards/rectification.js';
import { CampaignFileError, parseCampaignFile, roundDates } from '../src/domain/rectification/campaign-file.js';
import { mayConfirm, type Problem } from '../src/domain/rectification/ledger.js';
import type { Staff } from '../src/store/staff.js';
import { buttonsOf, formOf } from './helpers/cards.js';

/** Campaign files (YAML and XLSX) and the ledger's cards, without a bot. */

const DEPTS = ['心血管内科', '普外科', '儿科', '医务科', '药剂科', '医保办', '财务科', '纪检监察室'];
const yaml = (s: string) => Buffer.from(s.trim() + '\n');

async function problems(name: string, data: Buffer): Promise<string[]> {
  try {
    await parseCampaignFile(name, data, DEPTS);
  } catch (e) {
    if (e instanceof CampaignFileError) return e.problems;
    throw e;
  }
  throw new Error('the file was accepted');
}

const GOOD = `
id: test-2026
title: 测试自查
departments: [心血管内科, 普外科]
start: 2026-03-01
due: 2026-03-31
repeat: 每半年
items:
  - id: 1
    text: 检查一
  - id: 2
    area: 类别
    text: 检查二
`;

describe('campaign files', () => {
  it('ships two examples built from the baoji and shaoxing documents, both importable', async () => {
    const baoji = await parseCampaignFile('baoji.yaml', readFileSync('examples/rectification/baoji-2023-special-rectification.yaml'), DEPTS);
    expect(baoji).toMatchObject({ id: 'baoji-2023', departments: 'all', repeat: 'half-year', rounds: 2 });
    expect(baoji.items.map((i) => i.area)).toContain('过度医疗');
    const shaoxing = await parseCampaignFile('shaoxing.yaml', readFileSync('examples/rectification/shaoxing-2019-responsibility-list.yaml'), DEPTS);
    expect(shaoxing).toMatchObject({ id: 'shaoxing-2019', repeat: 'quarter', rounds: 4, confirmDepartment: '医务科' });
    expect(roundDates(shaoxing, 4)).toEqual({ startsOn: '2027-01-01', dueOn: '2027-01-30' });
  });

  it('reads a YAML campaign and its rounds', async () => {
    const spec = await parseCampaignFile('c.yaml', yaml(GOOD), DEPTS);
    expect(spec).toMatchObject({ departments: ['心血管内科', '普外科'], rounds: 2, rectifyDays: 30, items: [{ id: '1', text: '检查一' }, { id: '2', area: '类别', text: '检查二' }] });
    expect(roundDates(spec, 2)).toEqual({ startsOn: '2026-09-01', dueOn: '2026-09-30' });
  });

  it('refuses bad YAML with the line and column of each problem', async () => {
    expect(await problems('c.yaml', yaml(GOOD.replace('due: 2026-03-31', 'due: 2026-02-30')))).toEqual(['第 5 行第 6 列（截止日期）：应为有效日期，格式 YYYY-MM-DD']);
    expect(await problems('c.yaml', yaml(GOOD.replace('普外科]', '外科]')))).toEqual(['第 3 行第 22 列（科室 第 2 项）：人员名单中没有科室“外科”']);
    const missing = await problems('c.yaml', yaml(GOOD.replace('    text: 检查二\n', '').replace('repeat: 每半年', 'repeat: 每月')));
    expect(missing).toEqual(['第 6 行第 9 列（重复）：应为 一次、每半年、每季度 之一', '第 10 行第 5 列（缺少 检查项 第 2 项 检查内容）：必填，不能为空']);
    expect(await problems('c.yaml', yaml(GOOD.replace('  - id: 2', '  - id: 1')))).toEqual(['第 10 行第 9 列（检查项 第 2 项 编号）：检查项编号 1 重复']);
    const syntax = await problems('c.yaml', yaml(GOOD.replace('title: 测试自查', 'title: [测试自查')));
    expect(syntax[0]).toMatch(/^第 \d+ 行第 \d+ 列：YAML 格式有误/);
    expect(await problems('c.txt', yaml(GOOD))).toEqual(['不支持的文件类型：c.txt（请使用 .yaml 或 .xlsx）']);
    expect(await problems('c.yaml', Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0x0a]))).toHaveLength(1);
  });

  it('reads an XLSX campaign and names the cell of each problem', async () => {
    const build = async (rows: (string | number)[][]) => {
      const wb = new ExcelJS.Workbook();
      const ws = wb.addWorksheet('活动');
      for (const r of rows) ws.addRow(r);
      return Buffer.from(await wb.xlsx.writeBuffer());
    };
    const head: (string | number)[][] = [['编号', 'x-2026'], ['标题', '表格自查'], ['科室', '心血管内科、儿科'], ['开始日期', '2026-05-01'], ['截止日期', '2026-05-31'], ['重复', '一次']];
    const spec = await parseCampaignFile('c.xlsx', await build([...head, ['编号', '类别', '检查内容', '责任科室'], [1, '回扣', '是否收受回扣', '药剂科'], [2, '', '是否过度检查', '']]), DEPTS);
    expect(spec).toMatchObject({ id: 'x-2026', departments: ['心血管内科', '儿科'], rounds: 1, items: [{ id: '1', area: '回扣', text: '是否收受回扣', responsible: '药剂科' }, { id: '2', text: '是否过度检查' }] });
    const bad = await problems('c.xlsx', await build([...head.slice(0, 4), ['截止日期', '2026-04-31'], ['重复', '一次'], ['编号', '类别', '检查内容'], [1, '回扣', ''], [2, '', '是否过度检查']]));
    expect(bad).toEqual(['第 5 行 B 列（截止日期）：应为有效日期，格式 YYYY-MM-DD', '第 8 行 C 列（检查项 第 1 项 检查内容）：必填，不能为空']);
    expect(await problems('c.xlsx', await build([['名称', 'x'], ...head]))).toEqual([expect.stringMatching(/^第 1 行 A 列：不认识的字段“名称”/)]);
  });
});

const staff = (id: string, roles: Staff['roles'], departmentId = 1): Staff => ({ staffId: id, name: id, departmentId, department: 'd', roles, active: true });
const row = (over: Partial<Problem> = {}): Problem => ({
  id: '7', departmentId: 1, department: '心血管内科', campaignId: 'c', round: 1, itemId: '1', source: 'self', description: '登记不全', ownerId: 'S1', ownerName: '甲',
  confirmDepartmentId: 2, confirmDepartment: '医务科', measure: null, deadline: '2026-04-01', evidence: null, evidenceFiles: [], state: 'applied', mergedInto: null, version: 3,
  lastReason: null, createdAt: new Date(), appliedAt: null, closedAt: null, remindedAt: null, escalatedAt: null, ...over,
});

describe('ledger rules and cards', () => {
  it('lets the discipline office or the named functional department confirm, never the owner or applicant', () => {
    expect(mayConfirm(row(), staff('S9', ['discipline']), 'S1')).toBe(true);
    expect(mayConfirm(row(), staff('S8', ['dept_head'], 2), 'S1')).toBe(true);
    expect(mayConfirm(row(), staff('S7', ['dept_head'], 3), 'S1')).toBe(false);
    expect(mayConfirm(row({ ownerId: 'S9' }), staff('S9', ['discipline']), 'S9')).toBe(false);
    expect(mayConfirm(row(), staff('S2', ['discipline']), 'S2')).toBe(false);
  });

  it('gives each target department a form with an answer per item and a one-click clean answer', async () => {
    const spec = await parseCampaignFile('c.yaml', yaml(GOOD), DEPTS);
    const c = campaignCard(spec, { round: 1, dueOn: '2026-03-31' });
    expect(formOf(c).inputs.map((i) => i.name)).toEqual(['a_1', 'd_1', 'a_2', 'd_2']);
    expect(formOf(c).value).toEqual({ c: 'test-2026', r: 1 });
    expect(buttonsOf(c).map((b) => b.actionId)).toEqual(['rect.report.clean']);
  });

  it('shows approvers the decision and everyone else none', () => {
    expect(buttonsOf(problemCard(row(), { rectify: false, confirm: true }, 'Asia/Shanghai')).map((b) => b.actionId)).toEqual(['rect.accept']);
    expect(problemCard(row(), { rectify: true, confirm: false }, 'Asia/Shanghai').elements.some((e) => e.type === 'form' || e.type === 'actions')).toBe(false);
  });

  it('shows leaders counts of 1 and 2 as "<3"', () => {
    const lines = [{ department: '儿科', found: 2, closed: 1, applied: 0, overdue: 0, selfFound: 2, inspected: 0 }, { department: '普外科', found: 5, closed: 3, applied: 1, overdue: 1, selfFound: 4, inspected: 1 }];
    const leader = JSON.stringify(ledgerProgressCard('t', lines, { leaderView: true }));
    expect(leader).toContain('"<3"');
    const table = ledgerProgressCard('t', lines, { leaderView: true }).elements.find((e) => e.type === 'table');
    expect(table && table.type === 'table' && table.rows.flatMap((r) => r.slice(2))).not.toContain('2');
    expect(table && table.type === 'table' && table.rows.flatMap((r) => r.slice(2))).not.toContain('1');
    expect(JSON.stringify(ledgerProgressCard('t', lines, { leaderView: false }))).toContain('"2"');
    expect(ledgerOverviewLine(lines, true)).toEqual(['问题清单', '发现 7，已销号 4，逾期 <3']);
  });
});
