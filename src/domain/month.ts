/**
 * Months as users name them, in the bot's time zone: `2026-11`, `2026年11月`, `11月`,
 * `本月`, `上月`. "This month" always means the month in BOT_TIMEZONE, not the server's.
 */
export interface Month {
  year: number;
  month: number; // 1..12
}

/** A month key as cards carry it: YYYY-MM with a real month; anything else is stale or forged. */
export const MONTH_KEY = /^20\d{2}-(0[1-9]|1[0-2])$/;

export const monthKey = (m: Month): string => `${m.year}-${String(m.month).padStart(2, '0')}`;
export const monthLabel = (m: Month): string => `${m.year}年${m.month}月`;

/** The calendar date (YYYY-MM-DD) of an instant in a time zone. */
export function localDate(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

/** The calendar month of an instant in a time zone. */
export function monthOf(at: Date, timeZone: string): Month {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit' }).formatToParts(at);
  return { year: Number(parts.find((p) => p.type === 'year')!.value), month: Number(parts.find((p) => p.type === 'month')!.value) };
}

export function addMonths(m: Month, n: number): Month {
  const i = m.year * 12 + (m.month - 1) + n;
  return { year: Math.floor(i / 12), month: (i % 12) + 1 };
}

/** Offset of a zone from UTC at an instant, in minutes. */
function zoneOffsetMinutes(at: Date, timeZone: string): number {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
      .formatToParts(at)
      .map((x) => [x.type, x.value]),
  );
  const asUtc = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
  return Math.round((asUtc - at.getTime()) / 60_000);
}

/** The instant a local wall-clock time occurs in a zone. */
export function zonedTime(year: number, month: number, day: number, hour: number, minute: number, timeZone: string): Date {
  const guess = new Date(Date.UTC(year, month - 1, day, hour, minute));
  const first = new Date(guess.getTime() - zoneOffsetMinutes(guess, timeZone) * 60_000);
  // Second pass settles the rare case where the offset differs at the corrected instant.
  return new Date(guess.getTime() - zoneOffsetMinutes(first, timeZone) * 60_000);
}

/** [start, end) of a month in a zone, as instants. */
export function monthRange(m: Month, timeZone: string): { start: Date; end: Date } {
  const next = addMonths(m, 1);
  return { start: zonedTime(m.year, m.month, 1, 0, 0, timeZone), end: zonedTime(next.year, next.month, 1, 0, 0, timeZone) };
}

export type MonthParse = { ok: true; month: Month } | { ok: false; message: string };

const HINT = '月份可以写成 2026-11、2026年11月、11月、本月 或 上月。';

export function parseMonth(text: string, now: Date, timeZone: string): MonthParse {
  const t = text.trim().replace(/\s+/g, '').replace(/份$/, '');
  const current = monthOf(now, timeZone);
  if (t === '' || t === '本月' || t === '这个月' || t === '当月' || /^this(month)?$/i.test(t)) return { ok: true, month: current };
  if (t === '上月' || t === '上个月' || /^last(month)?$/i.test(t)) return { ok: true, month: addMonths(current, -1) };
  let m = /^(\d{4})(?:[-/.年])(\d{1,2})月?$/.exec(t);
  if (m) return check({ year: Number(m[1]), month: Number(m[2]) }, text);
  m = /^(\d{4})(\d{2})$/.exec(t);
  if (m) return check({ year: Number(m[1]), month: Number(m[2]) }, text);
  m = /^(\d{1,2})月$/.exec(t);
  if (m) {
    const month = Number(m[1]);
    // "11月" means the most recent November: this year's, or last year's if it is still ahead.
    const year = month > current.month ? current.year - 1 : current.year;
    return check({ year, month }, text);
  }
  return { ok: false, message: `无法识别月份“${text.trim()}”。${HINT}` };
}

function check(m: Month, original: string): MonthParse {
  if (m.month < 1 || m.month > 12) return { ok: false, message: `月份“${original.trim()}”不存在：月份应在 1 到 12 之间。` };
  if (m.year < 2000 || m.year > 2100) return { ok: false, message: `年份“${m.year}”超出范围。${HINT}` };
  return { ok: true, month: m };
}
