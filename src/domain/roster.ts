import type { Db } from '../store/db.js';
import { appendAudit } from '../store/audit.js';
import { parseRole, type Role } from './roles.js';
import { FileFormatError, readTabular, type TabularRow } from './tabular.js';

/**
 * The roster: who works where, in which roles, and who they are on each platform.
 * Imported from a spreadsheet; an import is all-or-nothing, and people missing from a new
 * file are deactivated (their records stay for the audit trail), never deleted.
 */

export const ROSTER_COLUMNS = ['staff_id', 'name', 'department', 'roles', 'dingtalk_user_id', 'feishu_user_id'] as const;
type Column = (typeof ROSTER_COLUMNS)[number];

const HEADER_ALIASES: Record<string, Column> = {
  staff_id: 'staff_id',
  工号: 'staff_id',
  name: 'name',
  姓名: 'name',
  department: 'department',
  科室: 'department',
  roles: 'roles',
  角色: 'roles',
  dingtalk_user_id: 'dingtalk_user_id',
  钉钉id: 'dingtalk_user_id',
  feishu_user_id: 'feishu_user_id',
  飞书id: 'feishu_user_id',
};
const REQUIRED: Column[] = ['staff_id', 'name', 'department'];

export interface RosterEntry {
  staffId: string;
  name: string;
  department: string;
  roles: Role[];
  dingtalkUserId?: string;
  feishuUserId?: string;
}

export interface RowProblem {
  line: number;
  column: string;
  reason: string;
}

export class RosterImportError extends Error {
  constructor(readonly problems: RowProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'RosterImportError';
  }
}

export const formatProblem = (p: RowProblem): string =>
  `${p.line > 0 ? `第 ${p.line} 行` : ''}${p.line > 0 && p.column ? '，' : ''}${p.column ? `列 ${p.column}` : ''}${p.line > 0 || p.column ? '：' : ''}${p.reason}`;

/** Validates parsed rows; returns entries or every problem found (never just the first). */
export function validateRoster(rows: TabularRow[]): { entries: RosterEntry[]; problems: RowProblem[] } {
  const problems: RowProblem[] = [];
  if (rows.length === 0) return { entries: [], problems: [{ line: 0, column: '', reason: '文件是空的：没有表头，也没有人员' }] };
  const [header, ...body] = rows;
  const columns: (Column | undefined)[] = header.cells.map((h, i) => {
    const key = h.trim().toLowerCase().replace(/\s+/g, '');
    const col = HEADER_ALIASES[key] ?? HEADER_ALIASES[h.trim()];
    if (!col) problems.push({ line: header.line, column: h.trim() || `第 ${i + 1} 列`, reason: `未知的列名，可用的列为 ${ROSTER_COLUMNS.join(', ')}（或 工号, 姓名, 科室, 角色, 钉钉ID, 飞书ID）` });
    return col;
  });
  const seenCols = new Set<Column>();
  columns.forEach((c) => {
    if (!c) return;
    if (seenCols.has(c)) problems.push({ line: header.line, column: c, reason: '列名重复' });
    seenCols.add(c);
  });
  for (const c of REQUIRED) if (!seenCols.has(c)) problems.push({ line: header.line, column: c, reason: '缺少必需的列' });
  if (problems.length > 0) return { entries: [], problems };
  if (body.length === 0) return { entries: [], problems: [{ line: header.line, column: '', reason: '文件只有表头，没有人员' }] };

  const entries: RosterEntry[] = [];
  const firstLine = { staff: new Map<string, number>(), dingtalk: new Map<string, number>(), feishu: new Map<string, number>() };
  for (const row of body) {
    const get = (c: Column) => {
      const i = columns.indexOf(c);
      return i < 0 ? '' : (row.cells[i] ?? '').trim();
    };
    if (row.cells.length > columns.length && row.cells.slice(columns.length).some((x) => x.trim() !== '')) {
      problems.push({ line: row.line, column: '', reason: `这一行有 ${row.cells.length} 个值，多于表头的 ${columns.length} 列` });
      continue;
    }
    const before = problems.length;
    const staffId = get('staff_id');
    const name = get('name');
    const department = get('department');
    if (!staffId) problems.push({ line: row.line, column: 'staff_id', reason: '工号不能为空' });
    else if (!/^[A-Za-z0-9_-]{1,32}$/.test(staffId)) problems.push({ line: row.line, column: 'staff_id', reason: `工号 "${staffId}" 只能包含字母、数字、下划线和短横线，最长 32 位` });
    else if (firstLine.staff.has(staffId)) problems.push({ line: row.line, column: 'staff_id', reason: `工号 ${staffId} 重复（第 ${firstLine.staff.get(staffId)} 行已出现）` });
    if (!name) problems.push({ line: row.line, column: 'name', reason: '姓名不能为空' });
    else if (name.length > 50) problems.push({ line: row.line, column: 'name', reason: '姓名过长（最多 50 个字符）' });
    if (!department) problems.push({ line: row.line, column: 'department', reason: '科室不能为空' });
    else if (department.length > 50) problems.push({ line: row.line, column: 'department', reason: '科室名称过长（最多 50 个字符）' });
    const roles = new Set<Role>(['staff']);
    for (const raw of get('roles').split(/[|｜,，、]/).map((s) => s.trim()).filter(Boolean)) {
      const role = parseRole(raw);
      if (!role) problems.push({ line: row.line, column: 'roles', reason: `未知角色 "${raw}"，可用：staff, dept_head, report_owner, discipline, finance, leader, admin（或 员工、科室负责人、报告联络员、纪检监察、财务、院领导、管理员），多个角色用 | 分隔` });
      else roles.add(role);
    }
    const ids: { dingtalkUserId?: string; feishuUserId?: string } = {};
    for (const [col, key, seen] of [
      ['dingtalk_user_id', 'dingtalkUserId', firstLine.dingtalk],
      ['feishu_user_id', 'feishuUserId', firstLine.feishu],
    ] as const) {
      const v = get(col);
      if (!v) continue;
      if (v.length > 64 || /\s/.test(v)) problems.push({ line: row.line, column: col, reason: '平台账号 ID 不能含空格，最长 64 位' });
      else if (seen.has(v)) problems.push({ line: row.line, column: col, reason: `${v} 已被第 ${seen.get(v)} 行使用` });
      else {
        seen.set(v, row.line);
        ids[key] = v;
      }
    }
    if (staffId && !firstLine.staff.has(staffId)) firstLine.staff.set(staffId, row.line);
    if (problems.length === before) entries.push({ staffId, name, department, roles: [...roles], ...ids });
  }
  return { entries, problems };
}

export interface ImportSummary {
  total: number;
  added: number;
  updated: number;
  unchanged: number;
  deactivated: number;
  departments: number;
  dryRun: boolean;
}

class DryRunRollback extends Error {
  constructor(readonly summary: ImportSummary) {
    super('dry run');
  }
}

/** Reads, validates and applies a roster file in one transaction. */
export async function importRosterFile(db: Db, fileName: string, data: Buffer, opts: { dryRun?: boolean; actor?: string } = {}): Promise<ImportSummary> {
  let rows: TabularRow[];
  try {
    rows = await readTabular(fileName, data);
  } catch (e) {
    if (e instanceof FileFormatError) throw new RosterImportError([{ line: 0, column: '', reason: e.message }]);
    throw e;
  }
  const { entries, problems } = validateRoster(rows);
  if (problems.length > 0) throw new RosterImportError(problems);
  return importRoster(db, entries, opts);
}

export async function importRoster(db: Db, entries: RosterEntry[], opts: { dryRun?: boolean; actor?: string } = {}): Promise<ImportSummary> {
  try {
    return await db.transaction(async (tx) => {
      const deptNames = [...new Set(entries.map((e) => e.department))];
      await tx.query(
        `INSERT INTO departments (name) SELECT unnest($1::text[])
         ON CONFLICT (name) DO UPDATE SET active = true`,
        [deptNames],
      );
      await tx.query(`UPDATE departments SET active = false WHERE NOT (name = ANY($1::text[])) AND active`, [deptNames]);
      const before = await tx.query<{ staff_id: string; sig: string }>(
        `SELECT s.staff_id, concat_ws('/', s.name, d.name, s.active,
                  (SELECT string_agg(role, '|' ORDER BY role) FROM staff_roles r WHERE r.staff_id = s.staff_id),
                  (SELECT string_agg(platform || ':' || platform_user_id, '|' ORDER BY platform) FROM platform_identities p WHERE p.staff_id = s.staff_id)) AS sig
         FROM staff s JOIN departments d ON d.id = s.department_id`,
      );
      const oldSig = new Map(before.rows.map((r) => [r.staff_id, r.sig]));
      const ids = entries.map((e) => e.staffId);
      await tx.query(
        `INSERT INTO staff (staff_id, name, department_id, active)
         SELECT x.staff_id, x.name, d.id, true
         FROM unnest($1::text[], $2::text[], $3::text[]) AS x(staff_id, name, department)
         JOIN departments d ON d.name = x.department
         ON CONFLICT (staff_id) DO UPDATE SET name = EXCLUDED.name, department_id = EXCLUDED.department_id, active = true,
           updated_at = CASE WHEN staff.name IS DISTINCT FROM EXCLUDED.name OR staff.department_id IS DISTINCT FROM EXCLUDED.department_id OR NOT staff.active THEN now() ELSE staff.updated_at END`,
        [ids, entries.map((e) => e.name), entries.map((e) => e.department)],
      );
      const deactivated = await tx.query(
        `UPDATE staff SET active = false, updated_at = now() WHERE active AND NOT (staff_id = ANY($1::text[]))`,
        [ids],
      );
      await tx.query(`DELETE FROM staff_roles WHERE staff_id = ANY($1::text[])`, [ids]);
      const roleRows = entries.flatMap((e) => e.roles.map((r) => [e.staffId, r] as const));
      await tx.query(`INSERT INTO staff_roles (staff_id, role) SELECT * FROM unnest($1::text[], $2::text[])`, [
        roleRows.map((r) => r[0]),
        roleRows.map((r) => r[1]),
      ]);
      const idRows = entries.flatMap((e) => [
        ...(e.dingtalkUserId ? [['dingtalk', e.dingtalkUserId, e.staffId]] : []),
        ...(e.feishuUserId ? [['feishu', e.feishuUserId, e.staffId]] : []),
      ]);
      // A platform account may move between people between two files; the file is the truth.
      await tx.query(
        `DELETE FROM platform_identities WHERE staff_id = ANY($1::text[])
           OR (platform, platform_user_id) IN (SELECT * FROM unnest($2::text[], $3::text[]))`,
        [ids, idRows.map((r) => r[0]), idRows.map((r) => r[1])],
      );
      await tx.query(`INSERT INTO platform_identities (platform, platform_user_id, staff_id) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])`, [
        idRows.map((r) => r[0]),
        idRows.map((r) => r[1]),
        idRows.map((r) => r[2]),
      ]);
      const after = await tx.query<{ staff_id: string; sig: string }>(
        `SELECT s.staff_id, concat_ws('/', s.name, d.name, s.active,
                  (SELECT string_agg(role, '|' ORDER BY role) FROM staff_roles r WHERE r.staff_id = s.staff_id),
                  (SELECT string_agg(platform || ':' || platform_user_id, '|' ORDER BY platform) FROM platform_identities p WHERE p.staff_id = s.staff_id)) AS sig
         FROM staff s JOIN departments d ON d.id = s.department_id WHERE s.staff_id = ANY($1::text[])`,
        [ids],
      );
      let added = 0;
      let updated = 0;
      for (const r of after.rows) {
        const old = oldSig.get(r.staff_id);
        if (old === undefined) added++;
        else if (old !== r.sig) updated++;
      }
      const summary: ImportSummary = {
        total: entries.length,
        added,
        updated,
        unchanged: entries.length - added - updated,
        deactivated: deactivated.rowCount,
        departments: deptNames.length,
        dryRun: Boolean(opts.dryRun),
      };
      if (opts.dryRun) throw new DryRunRollback(summary);
      await appendAudit(tx, { actor: opts.actor ?? null, action: 'roster.import', entityType: 'roster', detail: { ...summary } });
      return summary;
    });
  } catch (e) {
    if (e instanceof DryRunRollback) return e.summary;
    throw e;
  }
}

export function describeSummary(s: ImportSummary): string {
  return `${s.dryRun ? '（试运行，未写入）' : ''}共 ${s.total} 人，${s.departments} 个科室：新增 ${s.added}，更新 ${s.updated}，未变 ${s.unchanged}，停用 ${s.deactivated}`;
}

/** How a typed word names a department: exactly, as part of exactly one name, of several, or of none. */
export type DepartmentMatch<D> = { kind: 'exact'; department: D } | { kind: 'one'; department: D } | { kind: 'many'; candidates: D[] } | { kind: 'none' };

/**
 * The one rule for a department typed in a command (`进度 学习 外科`): its exact name, else
 * the departments whose name contains the word. A single character matches only exactly: 科
 * is in nearly every name. The caller says which department a partial word was taken for,
 * and asks for the full name when several fit, instead of silently picking the first.
 */
export function matchDepartment<D extends { name: string }>(depts: readonly D[], word: string): DepartmentMatch<D> {
  const w = word.trim();
  const exact = depts.find((d) => d.name === w);
  if (exact) return { kind: 'exact', department: exact };
  if ([...w].length < 2) return { kind: 'none' };
  const candidates = depts.filter((d) => d.name.includes(w));
  if (candidates.length === 1) return { kind: 'one', department: candidates[0] };
  return candidates.length ? { kind: 'many', candidates } : { kind: 'none' };
}

/** The answer when a word fits several departments: the candidates, and a request for the full name. */
export function ambiguousDepartmentText(word: string, candidates: readonly { name: string }[]): string {
  const shown = candidates.slice(0, 10).map((d) => d.name).join('、');
  return `“${word}”对应多个科室：${shown}${candidates.length > 10 ? ` 等 ${candidates.length} 个` : ''}，请写完整名称。`;
}
