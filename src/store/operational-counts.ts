import type { Queryable } from './db.js';

/** Counts an operator watches: sends still waiting, by platform; approvals waiting, by step. */
export async function pendingSendsByPlatform(q: Queryable): Promise<Record<string, number>> {
  const r = await q.query<{ platform: string; n: number }>(`SELECT platform, count(*)::int AS n FROM send_ledger WHERE status = 'pending' AND platform IS NOT NULL GROUP BY platform`);
  return Object.fromEntries(r.rows.map((x) => [x.platform, x.n]));
}

export async function pendingApprovalsByStep(q: Queryable): Promise<Record<string, number>> {
  const r = await q.query<{ step: string; n: number }>(
    `SELECT substr(state, 9) AS step, count(*)::int AS n FROM declarations WHERE state IN ('pending_dept', 'pending_discipline', 'pending_finance') GROUP BY state`,
  );
  // Steps with nothing waiting report 0 rather than vanishing from the graph.
  return { dept: 0, discipline: 0, finance: 0, ...Object.fromEntries(r.rows.map((x) => [x.step, x.n])) };
}
