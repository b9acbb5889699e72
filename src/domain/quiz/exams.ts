import type { z } from 'zod';
import type { examSchema } from '../../config.js';
import type { Staff } from '../../store/staff.js';
import { addDays, endOfDay, localDate, shortDateLabel, shortDateTimeLabel, startOfDay } from '../calendar.js';

/**
 * Monthly exams from the config: when they are open, who must take them, and the calendar
 * arithmetic in the hospital's time zone ("due 2026-12-20" means until the end of that day
 * in Asia/Shanghai, wherever the server runs).
 */
export type Exam = z.infer<typeof examSchema>;

export { startOfDay };

/** The calendar day of an instant in the zone. */
export const dayOf = localDate;

export const opensAt = (e: Exam, tz: string): Date => startOfDay(e.opensOn, tz);
/** Exclusive: the first instant after the due day. */
export const closesAt = (e: Exam, tz: string): Date => endOfDay(e.dueOn, tz);

export type ExamWindow = 'upcoming' | 'open' | 'closed';
export function examWindow(e: Exam, now: Date, tz: string): ExamWindow {
  if (now < opensAt(e, tz)) return 'upcoming';
  return now < closesAt(e, tz) ? 'open' : 'closed';
}

/** Shared with 通报 (src/domain/notice/audience.ts): departments and roles both narrow the audience. */
export function inAudience(e: Pick<Exam, 'audience'>, s: Pick<Staff, 'department' | 'roles' | 'active'>): boolean {
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
export const chineseDay = shortDateLabel;

/** "12月20日 14:05" in the zone. */
export const chineseTime = shortDateTimeLabel;
