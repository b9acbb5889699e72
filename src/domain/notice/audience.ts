import { inAudience } from '../quiz/exams.js';
import { parseRole, ROLE_NAMES, type Role } from '../roles.js';
import type { NoticeAudience } from '../../store/notices.js';
import type { Staff } from '../../store/staff.js';

/**
 * Who a 通报 goes to, as the discipline office types it: 全院, or department names and/or
 * role names. Matching is the exam audience's (departments and roles both narrow it), so
 * "心血管内科 科室负责人" means the head of 心血管内科.
 */

const WHOLE_HOSPITAL = new Set(['全院', '全体', '全院职工', '所有人', 'all']);

export type AudienceParse = { ok: true; audience: NoticeAudience } | { ok: false; message: string };

export function parseAudience(text: string, departments: string[]): AudienceParse {
  const words = text.split(/[\s,，、;；]+/).map((w) => w.trim()).filter(Boolean);
  if (words.length === 0) return { ok: false, message: '请写明通报范围：回复“全院”，或科室名称、角色名称（可多个，用空格或顿号隔开）。' };
  if (words.length === 1 && WHOLE_HOSPITAL.has(words[0].toLowerCase())) return { ok: true, audience: {} };
  const depts: string[] = [];
  const roles: Role[] = [];
  const unknown: string[] = [];
  for (const w of words) {
    if (WHOLE_HOSPITAL.has(w.toLowerCase())) return { ok: false, message: '“全院”不能和科室或角色同时填写：全院请只回复“全院”。' };
    const dept = departments.find((d) => d === w);
    const role = parseRole(w);
    if (dept) depts.push(dept);
    else if (role) roles.push(role);
    else unknown.push(w);
  }
  if (unknown.length) {
    return { ok: false, message: `没有找到科室或角色“${unknown.join('、')}”。可填写的科室：${departments.join('、')}；角色：${Object.values(ROLE_NAMES).join('、')}；或回复“全院”。` };
  }
  return { ok: true, audience: { ...(depts.length ? { departments: [...new Set(depts)] } : {}), ...(roles.length ? { roles: [...new Set(roles)] } : {}) } };
}

export function describeAudience(a: NoticeAudience): string {
  const parts: string[] = [];
  if (a.departments?.length) parts.push(a.departments.join('、'));
  if (a.roles?.length) parts.push(a.roles.map((r) => ROLE_NAMES[r]).join('、'));
  return parts.length ? parts.join(' 中的 ') : '全院职工';
}

export function audienceOf(a: NoticeAudience, staff: Staff[]): Staff[] {
  return staff.filter((s) => inAudience({ audience: a }, s));
}
