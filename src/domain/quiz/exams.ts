import type { z } from 'zod';
import type { examSchema } from '../../config.js';
import type { Staff } from '../../store/staff.js';
import { localDate, zonedTime } from '../month.js';

/**
 * Monthly exams from the config: when they are open, who must take them, and the calendar
 * arithmetic in the hospital's time zone ("due 2026-12-20" means until the end of that day
 * in Asia/Shanghai, wherever the server runs).
 */
export type Exam = z.infer<typeof examSchema>;

/** The instant a calendar day (YYYY-MM-DD) starts in the zone. */
export function startOfDay(day: string, tz: string): Date {
  const [y, m, d] = day.split('-').map(Number);
  return zonedTime(y, m, d, 0, 0, tz);
}

export function addDays(day: string, n: number): string {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

/** The calendar day of an instant in the zone. */
export const dayOf = localDate;

export const opensAt = (e: Exam, tz: string): Date => startOfDay(e.opensOn, tz);
/** Exclusive: the first instant after the due day. */
export const closesAt = (e: Exam, tz: string): Date => startOfDay(addDays(e.dueOn, 1), tz);

export type ExamWindow = 'upcoming' | 'open' | 'closed';
export function examWindow(e: Exam, now: Date, tz: string): ExamWindow {
  if (now < opensAt(e, tz)) return 'upcoming';
  return now < closesAt(e, tz) ? 'open' : 'closed';
}

export function inAudience(e: Exam, s: Pick<Staff, 'department' | 'roles' | 'active'>): boolean {
  if (!s.active) return false;
  const { departments, roles } = e.audience;
  if (departments && departments.length > 0 && !departments.includes(s.department)) return false;
  if (roles && roles.length > 0 && !roles.some((r) => s.roles.includes(r))) return false;
  return true;
}

/** Days before the due day on which non-takers are reminded, as calendar days. */
export function reminderDays(e: Exam): string[] {
  return [...new Set(e.remindDaysBeforeDue)].map((n) => addDays(e.dueOn, -n)).filter((d) => d >= e.opensOn).sort();
}

/** "12月20日" in Chinese, for cards. */
export function chineseDay(day: string): string {
  const [, m, d] = day.split('-').map(Number);
  return `${m}月${d}日`;
}

/** "12月20日 14:05" in the zone. */
export function chineseTime(at: Date, tz: string): string {
  const [, m, d] = dayOf(at, tz).split('-').map(Number);
  const hm = new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(at);
  return `${m}月${d}日 ${hm}`;
}
