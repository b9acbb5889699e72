import { describe, expect, it } from 'vitest';
import { parseAnswer } from '../src/bot/form-dialogue.js';
import { checkAmount, checkDescription } from '../src/domain/declaration.js';
import { stripThousands } from '../src/domain/numbers.js';
import { draftFromForm } from '../src/domain/report.js';
import { cleanText } from '../src/domain/text.js';

/** 13.11: numbers with thousands separators, and control/bidi characters, as pure functions. */

describe('13.11 numbers people type', () => {
  it('13.11 accepts separators only every three digits, in ASCII or full width', () => {
    for (const [raw, value] of [['1,500', '1500'], ['1，500', '1500'], ['12,345.50', '12345.50'], ['1,234,567', '1234567'], ['１，５００', '1500'], ['1500', '1500']]) {
      expect(stripThousands(raw, '金额'), raw).toEqual({ ok: true, value });
    }
    for (const raw of ['1,5', '500，00', '1,50,0', ',500', '1500,', '1,5000', '12,345,67.5']) {
      expect(stripThousands(raw, '金额'), raw).toMatchObject({ ok: false, message: expect.stringContaining(`金额“${raw}”的千位分隔符位置不对`) });
    }
  });

  it('13.11 a declaration amount: 1,5 is not 15.00 and 500，00 is not 50,000.00', () => {
    expect(checkAmount('1,500', 50_000)).toEqual({ ok: true, value: '1500.00' });
    expect(checkAmount('￥12,345.50元', 50_000)).toEqual({ ok: true, value: '12345.50' });
    expect(checkAmount('1,5', 50_000)).toMatchObject({ ok: false, message: expect.stringContaining('金额“1,5”的千位分隔符位置不对') });
    expect(checkAmount('500，00', 50_000)).toMatchObject({ ok: false, message: expect.stringContaining('金额“500，00”') });
    expect(checkAmount('1,50,0', 50_000, 'gift')).toMatchObject({ ok: false, message: expect.stringContaining('估计价值“1,50,0”') });
  });

  it('13.11 report figures by form and by dialogue name the figure they refuse', () => {
    const names = ['本月自查发现问题数', '已完成整改数'];
    expect(draftFromForm({ summary: '进展', f0: '1,500', f1: '2' }, names, '2026-11', 1).figures).toEqual({ 本月自查发现问题数: 1500, 已完成整改数: 2 });
    expect(() => draftFromForm({ summary: '进展', f0: '2', f1: '1,5' }, names, '2026-11', 1)).toThrow('已完成整改数“1,5”的千位分隔符位置不对');
    const input = { kind: 'number' as const, name: 'f0', label: '本月自查发现问题数', min: 0 };
    expect(parseAnswer(input, '1,5', new Date())).toMatchObject({ ok: false, message: expect.stringContaining('本月自查发现问题数“1,5”') });
    expect(parseAnswer(input, '1，500', new Date())).toEqual({ ok: true, value: '1500' });
  });
});

describe('13.11 control and bidirectional characters', () => {
  it('13.11 strips NUL, C0/C1 controls and bidi overrides, keeping line breaks and tabs', () => {
    expect(cleanText('a\u0000b\u0001c\u001bd\u007fe\u0085f\u009fg')).toBe('abcdefg');
    expect(cleanText('退\u202e还\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069\u200e\u200f\u061c')).toBe('退还');
    expect(cleanText('一\r\n二\r三\n四\t五')).toBe('一\n二\n三\n四\t五');
    // Emoji sequences keep their joiners: only invisible formatting that changes reading goes.
    expect(cleanText('👨‍👩‍👧')).toBe('👨‍👩‍👧');
  });

  it('13.11 the description check cleans before counting and storing', () => {
    expect(checkDescription('\u0000说明\u202e', false)).toEqual({ ok: true, value: '说明' });
  });
});
