import type { Queryable } from '../../../src/store/db.js';

/** Adds `n` synthetic staff (ids P00001…, DingTalk ids dtp00001…) in one department. */
export async function seedStaff(q: Queryable, n: number, department = '压力测试科'): Promise<string[]> {
  await q.query('INSERT INTO departments (name) VALUES ($1) ON CONFLICT (name) DO NOTHING', [department]);
  const dept = (await q.query<{ id: number }>('SELECT id FROM departments WHERE name = $1', [department])).rows[0].id;
  await q.query(
    `INSERT INTO staff (staff_id, name, department_id)
     SELECT 'P' || lpad(i::text, 5, '0'), '测试人员' || i, $2 FROM generate_series(1, $1::int) AS i ON CONFLICT DO NOTHING`,
    [n, dept],
  );
  await q.query(
    `INSERT INTO staff_roles (staff_id, role) SELECT 'P' || lpad(i::text, 5, '0'), 'staff' FROM generate_series(1, $1::int) AS i ON CONFLICT DO NOTHING`,
    [n],
  );
  await q.query(
    `INSERT INTO platform_identities (platform, platform_user_id, staff_id)
     SELECT 'dingtalk', 'dtp' || lpad(i::text, 5, '0'), 'P' || lpad(i::text, 5, '0') FROM generate_series(1, $1::int) AS i ON CONFLICT DO NOTHING`,
    [n],
  );
  return Array.from({ length: n }, (_, i) => `P${String(i + 1).padStart(5, '0')}`);
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 45_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
