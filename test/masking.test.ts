import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maskingNotice, maskPersonalNumbers } from '../src/domain/masking.js';

/**
 * 13.4: personal numbers in every form people type them. The property generates ID numbers,
 * mobiles and landlines, renders each as typed (full-width, grouped, zero-width characters
 * inside, +86/0086, letters right before it, Chinese around it) and checks that the masked text
 * no longer holds the number and still holds everything around it.
 */

const FULL = (c: string) => (/[0-9]/.test(c) ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c === 'X' ? 'Ｘ' : c);
const ZERO_WIDTH = ['\u200b', '\u200c', '\u200d', '\u2060', '\ufeff'];
const SEPARATORS = [' ', '-', '.', '\u3000', '－', '—'];
const digits = (n: number) => fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }).map((a) => a.join(''));
const pad = (n: number, w: number) => String(n).padStart(w, '0');

const birthDate = fc.date({ min: new Date('1930-01-01T00:00:00Z'), max: new Date('2025-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10).replace(/-/g, ''));
// Any check character: a mistyped ID number still identifies a patient.
const id18 = fc.tuple(fc.integer({ min: 100000, max: 999999 }), birthDate, digits(3), fc.constantFrom('0', '5', '9', 'X', 'x')).map(([a, b, s, c]) => `${a}${b}${s}${c}`);
const id15 = fc.tuple(fc.integer({ min: 100000, max: 999999 }), birthDate, digits(3)).map(([a, b, s]) => `${a}${b.slice(2)}${s}`);
const mobile = fc.tuple(fc.integer({ min: 3, max: 9 }), digits(9)).map(([b, rest]) => `1${b}${rest}`);
const areaCode = fc.oneof(fc.integer({ min: 10, max: 99 }).map((n) => `0${pad(n, 2)}`), fc.integer({ min: 100, max: 999 }).map((n) => `0${n}`));
const localNumber = fc.tuple(fc.integer({ min: 1, max: 9 }), fc.oneof(digits(6), digits(7))).map(([a, b]) => `${a}${b}`);

const groups = (s: string, sizes: number[] | null, sep: string) => {
  if (!sizes) return s;
  const out: string[] = [];
  let at = 0;
  for (const n of sizes) {
    out.push(s.slice(at, at + n));
    at += n;
  }
  if (at < s.length) out.push(s.slice(at));
  return out.filter(Boolean).join(sep);
};

interface Form {
  number: string;
  rendered: string;
}
/** A number as typed: grouped, maybe full-width, maybe with zero-width characters inside. */
const typed = (number: fc.Arbitrary<string>, groupings: (number[] | null)[], prefixes: string[] = [''], suffixes: string[] = ['']) =>
  fc
    .record({
      number,
      grouping: fc.constantFrom(...groupings),
      sep: fc.constantFrom(...SEPARATORS),
      fullWidth: fc.array(fc.boolean(), { minLength: 24, maxLength: 24 }),
      zw: fc.array(fc.tuple(fc.nat(30), fc.constantFrom(...ZERO_WIDTH)), { maxLength: 3 }),
      prefix: fc.constantFrom(...prefixes),
      suffix: fc.constantFrom(...suffixes),
    })
    .map(({ number, grouping, sep, fullWidth, zw, prefix, suffix }): Form => {
      const chars = [...groups(number, grouping, sep)].map((c, i) => (fullWidth[i % 24] ? FULL(c.toUpperCase() === 'X' ? 'X' : c) : c));
      // Zero-width characters only between two characters of the number, never at its ends.
      for (const [at, z] of zw) if (chars.length > 1) chars.splice(1 + (at % (chars.length - 1)), 0, z);
      return { number, rendered: `${prefix}${chars.join('')}${suffix}` };
    });

const ids = typed(id18, [null, [6, 8, 4], [6, 4, 4, 4], [4, 4, 4, 4, 2]]);
const oldIds = typed(id15, [null, [6, 6, 3]]);
const mobiles = typed(mobile, [null, [3, 4, 4], [4, 3, 4]], ['', '+86', '+86 ', '+86-', '0086', '0086 ', '86']);
const landlines = fc
  .tuple(areaCode, localNumber, fc.constantFrom('', ' ', '-', '－'), fc.constantFrom<number[] | null>(null, [4, 4], [3, 4]), fc.constantFrom('', '转123', '-8021', ' ext 12'), fc.constantFrom('', '\u200b'))
  .map(([a, l, sep, g, ext, zw]): Form => ({ number: `${a}${l}`, rendered: `${a}${sep}${zw}${groups(l, g, ' ')}${ext}` }));

const words = fc.array(fc.constantFrom('患者', '家属', '联系', '情况说明', '，', '。', '的', '号码是', '（', '）', '：', ' ', 'abc'), { maxLength: 5 }).map((a) => a.join(''));
const letterPrefix = fc.constantFrom('', 'ID', 'id:', 'tel', 'TEL', '身份证号', '电话：', 'No.');

const digitsIn = (s: string) => s.normalize('NFKC').replace(/[^0-9Xx]/g, '').toUpperCase();

describe('13.4 masking of personal numbers in every typed form', () => {
  it('13.4 property: no generated ID, mobile or landline survives, and the text around it is kept', () => {
    fc.assert(
      fc.property(words, letterPrefix, fc.oneof(ids, oldIds, mobiles, landlines), words, (before, letters, form, after) => {
        const input = `${before}${letters}${form.rendered}${after}`;
        const out = maskPersonalNumbers(input);
        expect(digitsIn(out.text)).not.toContain(form.number.toUpperCase());
        expect(out.text.startsWith(`${before}${letters}`)).toBe(true);
        expect(out.text.endsWith(after)).toBe(true);
        expect(out.idCards + out.mobiles + out.landlines).toBe(1);
        expect(maskingNotice(out)).toContain('已做遮挡');
      }),
      { numRuns: 600 },
    );
  });

  it('13.4 property: dates, amounts and digit runs of no personal shape are left alone', () => {
    const runLength = fc.constantFrom(12, 13, 14, 16, 17, 19, 20, 24);
    // 86 followed by a mobile number is that mobile with its country code: a personal shape.
    const run = runLength.chain((n) => fc.tuple(fc.integer({ min: 2, max: 9 }), digits(n - 1)).map(([a, b]) => `${a}${b}`)).filter((r) => !/^861[3-9]\d{9}$/.test(r));
    const date = birthDate.chain((d) => fc.constantFrom(d, `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6)}`, `${d.slice(0, 4)}.${d.slice(4, 6)}.${d.slice(6)}`));
    const amount = fc.integer({ min: 1, max: 9_999_999 }).map((n) => `${n.toLocaleString('en-US')}.50元`);
    fc.assert(
      fc.property(words, fc.oneof(run, date, amount), words, (before, n, after) => {
        const input = `${before}${n}${after}`;
        expect(maskPersonalNumbers(input)).toEqual({ text: input, idCards: 0, mobiles: 0, landlines: 0 });
      }),
      { numRuns: 400 },
    );
  });

  it('13.4 masks the forms named in the issue, keeping everything else as typed', () => {
    const cases: [string, string][] = [
      ['身份证号：１１０１０１１９９００３０７４５１Ｘ，', '身份证号：110***********451X，'],
      ['ID110101199003074514', 'ID110***********4514'],
      ['证件 1101 0119 9003 0745 14 号', '证件 110***********4514 号'],
      ['证件 110101.19900307.4514', '证件 110***********4514'],
      ['号码 110101\u200b19900307\u200d4514', '号码 110***********4514'],
      ['tel13812345678', 'tel138****5678'],
      ['手机 1381-234-5678', '手机 138****5678'],
      ['手机 +8613812345678', '手机 +86138****5678'],
      ['手机 0086 138 1234 5678。', '手机 0086 138****5678。'],
      ['手机 １３８－１２３４－５６７８', '手机 138****5678'],
      ['座机 010-12345678', '座机 010-****5678'],
      ['座机 0571 8888 8888，', '座机 0571-****8888，'],
      ['座机 (0571)88888888 转 8021', '座机 (0571)****8888转 8021'],
    ];
    for (const [input, masked] of cases) expect(maskPersonalNumbers(input).text, input).toBe(masked);
  });

  it('13.4 names every kind masked in one notice, and the field when it is known', () => {
    const r = maskPersonalNumbers('患者 110101199003074514，手机 13812345678，座机 010-12345678');
    expect([r.idCards, r.mobiles, r.landlines]).toEqual([1, 1, 1]);
    expect(maskingNotice(r)).toContain('您发送的内容中的身份证号 1 处、手机号 1 处、固定电话 1 处已做遮挡后保存');
    expect(maskingNotice(r, '情况说明')).toContain('情况说明中的');
  });
});
