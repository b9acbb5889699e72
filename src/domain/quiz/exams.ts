import type { z } from 'zod';
import type { examSchema } from '../../config.js';
import type { Staff } from '../../store/staff.js';

/**
 * Monthly exams from the config: when they are open, who must take them, and the calendar
 * arithmetic in the hospital's time zone ("due 2026-12-20" means until the end of that day
 * in Asia/Shanghai, wherever the server runs).
 */
export type Exam = z.infer<typeof examSchema>;

// BOT_TIMEZONE was validated by loadConfig at startup; handlers are not handed the env.
export const timeZone = (): string => process.env.BOT_TIMEZONE || 'Asia/Shanghai';

/** Milliseconds the zone is ahead of UTC at an instant. */
function zoneOffsetMs(at: Date, tz: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(at);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) - (at.getTime() - at.getMilliseconds());
}

/** The instant a calendar day (YYYY-MM-DD) starts in the zone. */
export function startOfDay(day: string, tz = timeZone()): Date {
  const [y, m, d] = day.split('-').map(Number);
  const utcMidnight = Date.UTC(y, m - 1, d);
  const first = utcMidnight - zoneOffsetMs(new Date(utcMidnight), tz);
  // Once more at the found instant, in case an offset change falls between the two.
  return new Date(utcMidnight - zoneOffsetMs(new Date(first), tz));
}

export function addDays(day: string, n: number): string {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

/** The calendar day of an instant in the zone. */
export function dayOf(at: Date, tz = timeZone()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

export const opensAt = (e: Exam): Date => startOfDay(e.opensOn);
/** Exclusive: the first instant after the due day. */
export const closesAt = (e: Exam): Date => startOfDay(addDays(e.dueOn, 1));

export type ExamWindow = 'upcoming' | 'open' | 'closed';
export function examWindow(e: Exam, now: Date): ExamWindow {
  if (now < opensAt(e)) return 'upcoming';
  return now < closesAt(e) ? 'open' : 'closed';
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
export function chineseTime(at: Date, tz = timeZone()): string {
  const [, m, d] = dayOf(at, tz).split('-').map(Number);
  const hm = new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(at);
  return `${m}月${d}日 ${hm}`;
}
