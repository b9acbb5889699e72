import type { Role } from '../domain/roles.js';
import type { Queryable } from './db.js';

export interface Staff {
  staffId: string;
  name: string;
  departmentId: number;
  department: string;
  roles: Role[];
  active: boolean;
  dingtalkUserId?: string;
  feishuUserId?: string;
}

const SELECT = `
  SELECT s.staff_id, s.name, s.department_id, d.name AS department, s.active,
         COALESCE((SELECT array_agg(role ORDER BY role) FROM staff_roles r WHERE r.staff_id = s.staff_id), '{}') AS roles,
         (SELECT platform_user_id FROM platform_identities p WHERE p.staff_id = s.staff_id AND p.platform = 'dingtalk') AS dingtalk_user_id,
         (SELECT platform_user_id FROM platform_identities p WHERE p.staff_id = s.staff_id AND p.platform = 'feishu') AS feishu_user_id
  FROM staff s JOIN departments d ON d.id = s.department_id`;

interface Row {
  staff_id: string;
  name: string;
  department_id: number;
  department: string;
  active: boolean;
  roles: Role[];
  dingtalk_user_id: string | null;
  feishu_user_id: string | null;
}

const toStaff = (r: Row): Staff => ({
  staffId: r.staff_id,
  name: r.name,
  departmentId: r.department_id,
  department: r.department,
  roles: r.roles,
  active: r.active,
  ...(r.dingtalk_user_id ? { dingtalkUserId: r.dingtalk_user_id } : {}),
  ...(r.feishu_user_id ? { feishuUserId: r.feishu_user_id } : {}),
});

export async function getStaff(q: Queryable, staffId: string): Promise<Staff | undefined> {
  const r = await q.query<Row>(`${SELECT} WHERE s.staff_id = $1`, [staffId]);
  return r.rows[0] ? toStaff(r.rows[0]) : undefined;
}

export async function findStaffByPlatformId(q: Queryable, platform: 'dingtalk' | 'feishu', platformUserId: string): Promise<Staff | undefined> {
  const r = await q.query<Row>(
    `${SELECT} WHERE s.active AND s.staff_id = (SELECT staff_id FROM platform_identities WHERE platform = $1 AND platform_user_id = $2)`,
    [platform, platformUserId],
  );
  return r.rows[0] ? toStaff(r.rows[0]) : undefined;
}

export async function listActiveStaff(q: Queryable, filter: { role?: Role; departmentId?: number } = {}): Promise<Staff[]> {
  const r = await q.query<Row>(
    `${SELECT} WHERE s.active
       AND ($1::text IS NULL OR EXISTS (SELECT 1 FROM staff_roles x WHERE x.staff_id = s.staff_id AND x.role = $1))
       AND ($2::int IS NULL OR s.department_id = $2)
     ORDER BY s.staff_id`,
    [filter.role ?? null, filter.departmentId ?? null],
  );
  return r.rows.map(toStaff);
}

export async function countStaff(q: Queryable): Promise<number> {
  const r = await q.query<{ n: number }>('SELECT count(*)::int AS n FROM staff WHERE active');
  return r.rows[0].n;
}

export async function listDepartments(q: Queryable): Promise<{ id: number; name: string }[]> {
  const r = await q.query<{ id: number; name: string }>('SELECT id, name FROM departments WHERE active ORDER BY id');
  return r.rows;
}
