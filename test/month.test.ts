import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addMonths, monthKey, monthOf, monthRange, parseMonth } from '../src/domain/calendar.js';

const TZ = 'Asia/Shanghai';
// 2026-11-30 17:00 UTC is already 1 December in Shanghai.
const lateNovUtc = new Date('2026-11-30T17:00:00Z');
const jan = new Date('2027-01-10T04:00:00Z');

const key = (text: string, now: Date) => {
  const r = parseMonth(text, now, TZ);
  return r.ok ? monthKey(r.month) : r.message;
};

describe('month names', () => {
  it('reads every accepted form', () => {
    const now = new Date('2026-11-25T04:00:00Z');
    expect(['2026-11', '2026/11', '2026.11', '2026年11月', '2026年11月份', '202611', '11月', '本月', ''].map((t) => key(t, now))).toEqual(Array(9).fill('2026-11'));
    expect(key('上月', now)).toBe('2026-10');
    expect(key('2026-3', now)).toBe('2026-03');
  });

  it('uses the bot time zone, not the server clock, for this month and last month', () => {
    expect(key('本月', lateNovUtc)).toBe('2026-12');
    expect(key('上月', lateNovUtc)).toBe('2026-11');
    expect(key('上月', jan)).toBe('2026-12');
  });

  it('reads "11月" in January as last November', () => {
    expect(key('11月', jan)).toBe('2026-11');
    expect(key('1月', jan)).toBe('2027-01');
  });

  it('explains what it cannot read', () => {
    expect(key('13月', jan)).toBe('月份“13月”不存在：月份应在 1 到 12 之间。');
    expect(key('下周', jan)).toBe('无法识别月份“下周”。月份可以写成 2026-11、2026年11月、11月、本月 或 上月。');
  });

  it('gives month ranges that start at local midnight', () => {
    const r = monthRange({ year: 2026, month: 2 }, TZ);
    expect(r.start.toISOString()).toBe('2026-01-31T16:00:00.000Z');
    expect(r.end.toISOString()).toBe('2026-02-28T16:00:00.000Z');
  });

  it('never crashes and always answers within 1..12 (fuzzed)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), fc.date({ min: new Date('2001-01-01'), max: new Date('2099-01-01'), noInvalidDate: true }), (s, now) => {
        const r = parseMonth(s, now, TZ);
        if (r.ok) expect(r.month.month).toBeGreaterThanOrEqual(1);
        else expect(r.message.length).toBeGreaterThan(0);
      }),
      { numRuns: 2000 },
    );
    fc.assert(fc.property(fc.integer({ min: 2000, max: 2090 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: -40, max: 40 }), (y, m, n) => {
      const r = addMonths(addMonths({ year: y, month: m }, n), -n);
      expect(r).toEqual({ year: y, month: m });
    }));
    expect(monthOf(new Date('2026-12-31T16:00:00Z'), TZ)).toEqual({ year: 2027, month: 1 });
  });
});
