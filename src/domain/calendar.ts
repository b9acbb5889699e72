import { Temporal } from 'temporal-polyfill';

/**
 * The one calendar of the bot: "today", months, due dates and every date or month label a
 * user reads, always in the bot's zone (BOT_TIMEZONE), never the server's. Days travel as
 * `YYYY-MM-DD` strings and months as `{ year, month }`; instants stay `Date` at the edges.
 * Built on Temporal (temporal-polyfill), which handles zone rules and daylight saving, so no
 * offset is ever computed by hand here.
 */

/** The zone used when a caller has none configured; the same default as BOT_TIMEZONE. */
export const DEFAULT_TIME_ZONE = 'Asia/Shanghai';

/** Whether the calendar can work in a zone: an IANA name such as Asia/Shanghai, or UTC. */
export function isTimeZone(timeZone: string): boolean {
  try {
    Temporal.Now.zonedDateTimeISO(timeZone);
    return true;
  } catch {
    return false;
  }
}

export interface Month {
  year: number;
  month: number; // 1..12
}

/** A month key as cards carry it: YYYY-MM with a real month; anything else is stale or forged. */
export const MONTH_KEY = /^20\d{2}-(0[1-9]|1[0-2])$/;

const pad2 = (n: number): string => String(n).padStart(2, '0');
const zoned = (at: Date, timeZone: string): Temporal.ZonedDateTime =>
  Temporal.Instant.fromEpochMilliseconds(at.getTime()).toZonedDateTimeISO(timeZone);
const plain = (day: string): Temporal.PlainDate => Temporal.PlainDate.from(day);

// ---- months ---------------------------------------------------------------------------

export const monthKey = (m: Month): string => `${m.year}-${pad2(m.month)}`;
export const monthFromKey = (key: string): Month => ({ year: Number(key.slice(0, 4)), month: Number(key.slice(5, 7)) });
/** "2026年11月". */
export const monthLabel = (m: Month): string => `${m.year}年${m.month}月`;
/** "2026年11月" from a month key. */
export const monthTitle = (key: string): string => monthLabel(monthFromKey(key));

/** The calendar month of an instant in a time zone. */
export function monthOf(at: Date, timeZone: string): Month {
  const z = zoned(at, timeZone);
  return { year: z.year, month: z.month };
}

export function addMonths(m: Month, n: number): Month {
  const r = Temporal.PlainYearMonth.from(m).add({ months: n });
  return { year: r.year, month: r.month };
}

export const lastDayOfMonth = (m: Month): number => Temporal.PlainYearMonth.from(m).daysInMonth;

/** Day `day` of a month as YYYY-MM-DD; a day past the month's end rolls into the next month. */
export const dayOfMonth = (m: Month, day: number): string => plain(`${monthKey(m)}-01`).add({ days: day - 1 }).toString();

/** [start, end) of a month in a zone, as instants. */
export function monthRange(m: Month, timeZone: string): { start: Date; end: Date } {
  return { start: startOfDay(dayOfMonth(m, 1), timeZone), end: startOfDay(dayOfMonth(addMonths(m, 1), 1), timeZone) };
}

// ---- days -----------------------------------------------------------------------------

/** The calendar date (YYYY-MM-DD) of an instant in a time zone: the zoned "today" for `now`. */
export const localDate = (at: Date, timeZone: string): string => zoned(at, timeZone).toPlainDate().toString();

/** Local wall-clock time HH:MM of an instant. */
export function localTime(at: Date, timeZone: string): string {
  const z = zoned(at, timeZone);
  return `${pad2(z.hour)}:${pad2(z.minute)}`;
}

export const addDays = (day: string, n: number): string => plain(day).add({ days: n }).toString();

/** The same day n months on (clamped to the month's last day: 08-31 + 6 months is 02-28). */
export const addMonthsToDay = (day: string, n: number): string => plain(day).add({ months: n }).toString();

/** Whole days from a to b (b - a). */
export const daysBetween = (a: string, b: string): number => plain(a).until(plain(b), { largestUnit: 'days' }).days;

/** The first instant of a calendar day in the zone (not always 00:00 where midnight is skipped). */
export const startOfDay = (day: string, timeZone: string): Date =>
  new Date(plain(day).toZonedDateTime({ timeZone }).epochMilliseconds);

/** The first instant after a calendar day ends in the zone: when something due that day is late. */
export const endOfDay = (day: string, timeZone: string): Date => startOfDay(addDays(day, 1), timeZone);

/**
 * The instant a local wall-clock time occurs in a zone. A time skipped by a spring-forward
 * gap moves forward by the gap; a time repeated by a fall-back overlap takes the first one.
 */
export function zonedTime(year: number, month: number, day: number, hour: number, minute: number, timeZone: string): Date {
  return new Date(Temporal.PlainDateTime.from({ year, month, day, hour, minute }).toZonedDateTime(timeZone).epochMilliseconds);
}

/** A real calendar day as YYYY-MM-DD, or undefined for one like 2026-02-30. */
export function calendarDay(year: number, month: number, day: number): string | undefined {
  try {
    return Temporal.PlainDate.from({ year, month, day }, { overflow: 'reject' }).toString();
  } catch {
    return undefined;
  }
}

/** The day a spreadsheet cell means: ExcelJS hands dates over as midnight UTC. */
export const utcDay = (at: Date): string => localDate(at, 'UTC');

// ---- reading days that people type -----------------------------------------------------

/** 今天, 昨天, 前天 relative to the zoned today. */
const RELATIVE_DAYS = new Map([
  ['今天', 0],
  ['昨天', -1],
  ['前天', -2],
]);

export function relativeDay(word: string, today: string, accepted: readonly string[] = [...RELATIVE_DAYS.keys()]): string | undefined {
  const offset = accepted.includes(word) ? RELATIVE_DAYS.get(word) : undefined;
  return offset === undefined ? undefined : addDays(today, offset);
}

export type TypedDay = { ok: true; day: string; year: number } | { ok: false; reason: 'format' | 'invalid' };

/**
 * "2026-11-20", "2026/11/20", "2026.11.20", "2026年11月20日", and with `today` also a day
 * without its year ("11月20日", "11-20", "11/20"), as people write it in chat: the day of
 * today's year, or with `past` the latest such day not after today (a gift received on
 * 12月28日, declared on 1月3日, was received last year).
 */
export function parseTypedDay(text: string, near?: { today: string; past?: boolean }): TypedDay {
  const t = text.trim().replace(/\s+/g, '');
  const m = /^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$/.exec(t);
  if (m) {
    const year = Number(m[1]);
    const day = calendarDay(year, Number(m[2]), Number(m[3]));
    return day ? { ok: true, day, year } : { ok: false, reason: 'invalid' };
  }
  const short = near ? /^(\d{1,2})(?:月(\d{1,2})[日号]?|[-/.](\d{1,2}))$/.exec(t) : null;
  if (!short || !near) return { ok: false, reason: 'format' };
  const month = Number(short[1]);
  const date = Number(short[2] ?? short[3]);
  let year = Number(near.today.slice(0, 4));
  let day = calendarDay(year, month, date);
  // 2月29日 outside a leap year is still a real day of the year before, when that one is meant.
  if (near.past && (!day || day > near.today)) {
    year -= 1;
    day = calendarDay(year, month, date);
  }
  return day ? { ok: true, day, year } : { ok: false, reason: 'invalid' };
}

// ---- reading months that people type --------------------------------------------------

/** `2026-11`, `2026年11月`, `11月`, `本月`, `上月`; "this month" is the month in the bot's zone. */
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

// ---- labels people read ----------------------------------------------------------------

/** "2026年11月20日". */
export const dateLabel = (day: string): string => {
  const d = plain(day);
  return `${d.year}年${d.month}月${d.day}日`;
};

/** "11月20日". */
export const shortDateLabel = (day: string): string => {
  const d = plain(day);
  return `${d.month}月${d.day}日`;
};

/** "11月20日 14:05" in the zone. */
export const shortDateTimeLabel = (at: Date, timeZone: string): string => `${shortDateLabel(localDate(at, timeZone))} ${localTime(at, timeZone)}`;

/** "2026-11-20 14:05" in the zone: declarations' cards, logs and exports. */
export function dateTimeLabel(at: Date | null | undefined, timeZone: string): string {
  if (!at) return '';
  const z = zoned(at, timeZone);
  return `${z.toPlainDate().toString()} ${pad2(z.hour)}:${pad2(z.minute)}`;
}

/** "2026/1/2 09:02" in the zone: progress tables and workbooks. */
export function slashDateTimeLabel(at: Date, timeZone: string): string {
  const z = zoned(at, timeZone);
  return `${z.year}/${z.month}/${z.day} ${pad2(z.hour)}:${pad2(z.minute)}`;
}

/**
 * The zone's wall-clock reading of an instant, as a Date whose UTC fields carry it. A
 * spreadsheet time has no zone and exceljs writes a Date's UTC fields, so this is what an
 * export cell needs to read 10:00 for 10:00 in Shanghai.
 */
export function wallClockAsUtc(at: Date, timeZone: string): Date {
  const z = zoned(at, timeZone);
  return new Date(Date.UTC(z.year, z.month - 1, z.day, z.hour, z.minute, z.second));
}

/** "1/2 09:02" in the zone: progress tables where the month is already in the title. */
export function slashMonthDayTimeLabel(at: Date, timeZone: string): string {
  const z = zoned(at, timeZone);
  return `${z.month}/${z.day} ${pad2(z.hour)}:${pad2(z.minute)}`;
}

/** Which days count as working days: Monday to Friday, less `holidays`, plus `workingWeekends` (调休). */
export interface WorkCalendar {
  holidays?: readonly string[];
  workingWeekends?: readonly string[];
}

export function isWorkingDay(day: string, cal: WorkCalendar = {}): boolean {
  if (cal.holidays?.includes(day)) return false;
  if (cal.workingWeekends?.includes(day)) return true;
  return plain(day).dayOfWeek <= 5;
}

/** The day `n` working days after `day` (counting from the next day), as deadlines "within n 工作日" mean. */
export function addWorkingDays(day: string, n: number, cal: WorkCalendar = {}): string {
  let d = day;
  for (let left = n; left > 0; ) {
    d = addDays(d, 1);
    if (isWorkingDay(d, cal)) left--;
  }
  return d;
}
