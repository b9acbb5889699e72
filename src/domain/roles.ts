/** The roles a staff member can hold, with the Chinese names users and files use. */
export const ROLES = ['staff', 'dept_head', 'report_owner', 'discipline', 'finance', 'leader', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_NAMES: Record<Role, string> = {
  staff: '员工',
  dept_head: '科室负责人',
  report_owner: '报告联络员',
  discipline: '纪检监察',
  finance: '财务',
  leader: '院领导',
  admin: '管理员',
};

const aliases = new Map<string, Role>();
for (const r of ROLES) {
  aliases.set(r, r);
  aliases.set(ROLE_NAMES[r], r);
}
// Common variants seen in hospital spreadsheets.
for (const [alias, role] of [
  ['科主任', 'dept_head'],
  ['科室主任', 'dept_head'],
  ['纪检监察室', 'discipline'],
  ['纪检', 'discipline'],
  ['财务科', 'finance'],
  ['领导', 'leader'],
  ['联络员', 'report_owner'],
] as const) {
  aliases.set(alias, role);
}

export function parseRole(s: string): Role | undefined {
  return aliases.get(s.trim().toLowerCase()) ?? aliases.get(s.trim());
}
