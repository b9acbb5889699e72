import { describe, expect, it } from 'vitest';
import {
  addDays,
  addMonths,
  dateLabel,
  dateTimeLabel,
  dayOfMonth,
  daysBetween,
  endOfDay,
  isTimeZone,
  lastDayOfMonth,
  localDate,
  localTime,
  monthOf,
  monthRange,
  monthTitle,
  parseTypedDay,
  relativeDay,
  shortDateLabel,
  shortDateTimeLabel,
  slashDateTimeLabel,
  slashMonthDayTimeLabel,
  startOfDay,
  zonedTime,
} from '../src/domain/calendar.js';
import type { FormInput } from '../cards/model.js';
import { parseDateAnswer, stepsFromForm } from '../src/bot/form-dialogue.js';
import { checkDate } from '../src/domain/declaration.js';
import { examSchema } from '../src/config.js';
import { closesAt } from '../src/domain/quiz/exams.js';
import { deadlineOf } from '../src/domain/report.js';

const SH = 'Asia/Shanghai';
const NY = 'America/New_York';
const BERLIN = 'Europe/Berlin';
const at = (iso: string) => new Date(iso);
const iso = (d: Date) => d.toISOString();

describe('14.5 one calendar: zoned today', () => {
  it('14.5 "today" in Asia/Shanghai turns over at 16:00 UTC, also across a month and a year', () => {
    expect(localDate(at('2026-11-30T15:59:59Z'), SH)).toBe('2026-11-30');
    expect(localDate(at('2026-11-30T16:00:00Z'), SH)).toBe('2026-12-01');
    expect(monthOf(at('2026-11-30T16:00:00Z'), SH)).toEqual({ year: 2026, month: 12 });
    expect(localDate(at('2026-12-31T16:00:00Z'), SH)).toBe('2027-01-01');
    expect(monthOf(at('2026-12-31T15:59:59Z'), SH)).toEqual({ year: 2026, month: 12 });
  });

  it('14.5 "today" in New York follows the offset in force: -5 in winter, -4 in summer', () => {
    expect(localDate(at('2026-01-15T04:59:59Z'), NY)).toBe('2026-01-14');
    expect(localDate(at('2026-01-15T05:00:00Z'), NY)).toBe('2026-01-15');
    expect(localDate(at('2026-07-15T03:59:59Z'), NY)).toBe('2026-07-14');
    expect(localDate(at('2026-07-15T04:00:00Z'), NY)).toBe('2026-07-15');
    expect(monthOf(at('2026-08-01T03:59:59Z'), NY)).toEqual({ year: 2026, month: 7 });
  });
});

describe('14.5 one calendar: daylight saving', () => {
  it('14.5 the spring-forward day in New York is 23 hours and skips 02:00–03:00', () => {
    const start = startOfDay('2026-03-08', NY);
    expect(iso(start)).toBe('2026-03-08T05:00:00.000Z');
    expect(iso(endOfDay('2026-03-08', NY))).toBe('2026-03-09T04:00:00.000Z');
    expect((endOfDay('2026-03-08', NY).getTime() - start.getTime()) / 3_600_000).toBe(23);
    expect(localTime(at('2026-03-08T06:59:00Z'), NY)).toBe('01:59');
    expect(localTime(at('2026-03-08T07:00:00Z'), NY)).toBe('03:00');
    // A push scheduled for 02:30, a time that does not exist that day, goes out at 03:30.
    expect(iso(zonedTime(2026, 3, 8, 2, 30, NY))).toBe('2026-03-08T07:30:00.000Z');
    expect(iso(zonedTime(2026, 3, 8, 9, 0, NY))).toBe('2026-03-08T13:00:00.000Z');
  });

  it('14.5 the fall-back day in New York is 25 hours and a repeated 01:30 means the first one', () => {
    expect((endOfDay('2026-11-01', NY).getTime() - startOfDay('2026-11-01', NY).getTime()) / 3_600_000).toBe(25);
    expect(iso(zonedTime(2026, 11, 1, 1, 30, NY))).toBe('2026-11-01T05:30:00.000Z');
    expect(localTime(at('2026-11-01T05:30:00Z'), NY)).toBe('01:30');
    expect(localTime(at('2026-11-01T06:30:00Z'), NY)).toBe('01:30');
    expect(dateTimeLabel(at('2026-11-01T06:30:00Z'), NY)).toBe('2026-11-01 01:30');
    expect(iso(zonedTime(2026, 11, 1, 9, 0, NY))).toBe('2026-11-01T14:00:00.000Z');
  });

  it('14.5 Berlin: the gap at 02:00 on the last Sunday of March and the overlap in October', () => {
    expect(localTime(at('2026-03-29T00:59:00Z'), BERLIN)).toBe('01:59');
    expect(localTime(at('2026-03-29T01:00:00Z'), BERLIN)).toBe('03:00');
    expect(iso(zonedTime(2026, 3, 29, 2, 15, BERLIN))).toBe('2026-03-29T01:15:00.000Z');
    expect(iso(zonedTime(2026, 10, 25, 2, 30, BERLIN))).toBe('2026-10-25T00:30:00.000Z');
    expect(localDate(at('2026-10-24T21:59:59Z'), BERLIN)).toBe('2026-10-24');
    expect(localDate(at('2026-10-24T22:00:00Z'), BERLIN)).toBe('2026-10-25');
  });

  it('14.5 day arithmetic stays on whole calendar days across a clock change', () => {
    expect(addDays('2026-03-07', 1)).toBe('2026-03-08');
    expect(addDays('2026-03-08', 1)).toBe('2026-03-09');
    expect(daysBetween('2026-03-01', '2026-03-31')).toBe(30);
    expect(daysBetween('2026-10-20', '2026-11-05')).toBe(16);
    expect(daysBetween('2026-11-05', '2026-10-20')).toBe(-16);
  });
});

describe('14.5 one calendar: months and due dates', () => {
  it('14.5 month ranges start at local midnight, in Shanghai and across a clock change in New York', () => {
    expect(monthRange({ year: 2026, month: 12 }, SH)).toEqual({ start: at('2026-11-30T16:00:00Z'), end: at('2026-12-31T16:00:00Z') });
    expect(monthRange({ year: 2026, month: 3 }, NY)).toEqual({ start: at('2026-03-01T05:00:00Z'), end: at('2026-04-01T04:00:00Z') });
    expect(monthRange({ year: 2026, month: 11 }, NY)).toEqual({ start: at('2026-11-01T04:00:00Z'), end: at('2026-12-01T05:00:00Z') });
  });

  it('14.5 month arithmetic crosses years and knows month lengths', () => {
    expect(addMonths({ year: 2026, month: 1 }, -1)).toEqual({ year: 2025, month: 12 });
    expect(addMonths({ year: 2026, month: 12 }, 1)).toEqual({ year: 2027, month: 1 });
    expect(addMonths({ year: 2026, month: 5 }, -17)).toEqual({ year: 2024, month: 12 });
    expect([2, 4, 12].map((month) => lastDayOfMonth({ year: 2026, month }))).toEqual([28, 30, 31]);
    expect(lastDayOfMonth({ year: 2028, month: 2 })).toBe(29);
    expect(dayOfMonth({ year: 2026, month: 2 }, 28)).toBe('2026-02-28');
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
  });

  it('14.5 a due date at the end of a month closes at the next local midnight', () => {
    const exam = examSchema.parse({ id: 'jan', title: '一月考试', questions: 5, opensOn: '2026-01-01', dueOn: '2026-01-31' });
    expect(iso(closesAt(exam, SH))).toBe('2026-01-31T16:00:00.000Z');
    expect(iso(closesAt({ ...exam, dueOn: '2026-10-31' }, NY))).toBe('2026-11-01T04:00:00.000Z');
    const feb = deadlineOf({ year: 2026, month: 2 }, { deadlineDay: 28 } as Parameters<typeof deadlineOf>[1], SH);
    expect(feb).toEqual({ date: '2026-02-28', endsAt: at('2026-02-28T16:00:00Z') });
    expect(deadlineOf({ year: 2026, month: 2 }, { deadlineDay: 28 } as Parameters<typeof deadlineOf>[1], BERLIN).endsAt).toEqual(at('2026-02-28T23:00:00Z'));
  });
});

describe('14.5 one calendar: labels people read', () => {
  it('14.5 date and month labels', () => {
    expect(dateLabel('2026-01-05')).toBe('2026年1月5日');
    expect(shortDateLabel('2026-11-20')).toBe('11月20日');
    expect(monthTitle('2026-03')).toBe('2026年3月');
  });

  it('14.5 time labels are in the bot zone, not the server zone', () => {
    const t = at('2026-01-01T17:02:00Z');
    expect(dateTimeLabel(t, SH)).toBe('2026-01-02 01:02');
    expect(dateTimeLabel(null, SH)).toBe('');
    expect(slashDateTimeLabel(t, SH)).toBe('2026/1/2 01:02');
    expect(slashMonthDayTimeLabel(t, SH)).toBe('1/2 01:02');
    expect(shortDateTimeLabel(t, SH)).toBe('1月2日 01:02');
    expect(shortDateTimeLabel(t, NY)).toBe('1月1日 12:02');
    expect(localTime(at('2026-11-19T16:00:00Z'), SH)).toBe('00:00');
  });

  it('14.5 the labels match what Intl printed before the move, so no text changes', () => {
    const zones = [SH, NY, BERLIN];
    for (let i = 0; i < 200; i++) {
      const t = new Date(Date.parse('2026-01-01T00:00:00Z') + i * 1_987_654_321);
      for (const tz of zones) {
        const f = (o: Intl.DateTimeFormatOptions) => new Intl.DateTimeFormat('zh-CN', { timeZone: tz, ...o }).format(t);
        expect(dateTimeLabel(t, tz)).toBe(f({ year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false }).replace(/\//g, '-'));
        expect(slashDateTimeLabel(t, tz)).toBe(f({ dateStyle: 'short', timeStyle: 'short' }));
        expect(slashMonthDayTimeLabel(t, tz)).toBe(f({ month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit' }));
        expect(localTime(t, tz)).toBe(new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(t));
      }
    }
  });
});

describe('14.5 one calendar: typed days', () => {
  it('14.5 reads the accepted forms and refuses days that do not exist', () => {
    for (const t of ['2026-11-20', '2026/11/20', '2026.11.20', '2026年11月20日', '2026-11-20日']) expect(parseTypedDay(t)).toEqual({ ok: true, day: '2026-11-20', year: 2026 });
    expect(parseTypedDay('2028-2-29')).toEqual({ ok: true, day: '2028-02-29', year: 2028 });
    expect(parseTypedDay('2026-02-29')).toEqual({ ok: false, reason: 'invalid' });
    expect(parseTypedDay('2026-13-01')).toEqual({ ok: false, reason: 'invalid' });
    expect(parseTypedDay('11月20日')).toEqual({ ok: false, reason: 'format' });
  });

  it('16 reads a day without its year, as people write it, near today', () => {
    const today = '2026-12-02';
    for (const t of ['11月20日', '11月20号', '11月20', '11-20', '11/20', ' 11 月 20 日 ']) expect(parseTypedDay(t, { today })).toEqual({ ok: true, day: '2026-11-20', year: 2026 });
    // A received day is never in the future: 12月28日 written on 1月3日 is last year's.
    expect(parseTypedDay('12月28日', { today: '2027-01-03', past: true })).toEqual({ ok: true, day: '2026-12-28', year: 2026 });
    expect(parseTypedDay('12月28日', { today: '2027-01-03' })).toEqual({ ok: true, day: '2027-12-28', year: 2027 });
    expect(parseTypedDay('2月29日', { today: '2029-03-01', past: true })).toEqual({ ok: true, day: '2028-02-29', year: 2028 });
    expect(parseTypedDay('2月30日', { today })).toEqual({ ok: false, reason: 'invalid' });
    expect(parseTypedDay('20日', { today })).toEqual({ ok: false, reason: 'format' });
    expect(checkDate('11月20日', today)).toEqual({ ok: true, value: '2026-11-20' });
    expect(parseDateAnswer('11月20日', new Date('2026-12-02T02:00:00Z'), 'Asia/Shanghai')).toEqual({ ok: true, value: '2026-11-20' });
  });

  it('14.5 今天, 昨天 and 前天 count back whole days from the zoned today', () => {
    expect(relativeDay('今天', '2026-03-01')).toBe('2026-03-01');
    expect(relativeDay('昨天', '2026-03-01')).toBe('2026-02-28');
    expect(relativeDay('前天', '2028-03-01')).toBe('2028-02-28');
    expect(relativeDay('前天', '2026-03-01', ['今天', '昨天'])).toBeUndefined();
    expect(relativeDay('明天', '2026-03-01')).toBeUndefined();
  });

  it('14.5 accepts IANA zones and refuses made-up ones', () => {
    expect([SH, NY, BERLIN, 'UTC'].every(isTimeZone)).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
  });
});

describe('14.5 parseDateAnswer reads 今天 and 昨天 in the bot zone', () => {
  // 07:30 in Shanghai is still 23:30 of the previous day in UTC.
  const earlyMorning = new Date('2026-11-19T23:30:00Z');
  const dateInput: FormInput = { kind: 'date', name: 'receivedOn', label: '收到日期', required: true };

  it('14.5 at 07:30 Shanghai time 今天 is that Shanghai day, not the UTC date', () => {
    expect(parseDateAnswer('今天', earlyMorning, SH)).toEqual({ ok: true, value: '2026-11-20' });
    expect(parseDateAnswer('昨天', earlyMorning, SH)).toEqual({ ok: true, value: '2026-11-19' });
    expect(parseDateAnswer(' 今天 ', new Date('2026-11-20T15:59:00Z'), SH)).toEqual({ ok: true, value: '2026-11-20' });
    expect(parseDateAnswer('今天', new Date('2026-11-20T16:00:00Z'), SH)).toEqual({ ok: true, value: '2026-11-21' });
  });

  it('14.5 the form dialogue the router builds asks in the bot zone too', () => {
    // 04:30 UTC on 1 March is still 28 February in New York.
    const [step] = stepsFromForm([dateInput], () => earlyMorning, SH);
    expect(step.parse('今天', {})).toEqual({ ok: true, value: '2026-11-20' });
    expect(stepsFromForm([dateInput], () => new Date('2026-03-01T04:30:00Z'), NY)[0].parse('昨天', {})).toEqual({ ok: true, value: '2026-02-27' });
  });

  it('14.5 typed dates and their messages are unchanged', () => {
    expect(parseDateAnswer('2026年11月20日', earlyMorning, SH)).toEqual({ ok: true, value: '2026-11-20' });
    expect(parseDateAnswer('2026-02-30', earlyMorning, SH)).toEqual({ ok: false, message: '2026-02-30 不是一个有效的日期，请检查月份和日期。' });
    expect(parseDateAnswer('前天', earlyMorning, SH)).toEqual({ ok: false, message: '请按 年-月-日 的格式填写日期，例如 2026-11-20 或 11月20日（也可以回复“今天”或“昨天”）。' });
  });
});
