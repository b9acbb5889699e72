import { describe, expect, it } from 'vitest';
import {
  checkAmount,
  checkDate,
  describeErrors,
  formatReceiptNo,
  localDate,
  nextState,
  parseOneLine,
  parseRef,
  validateDeclaration,
} from '../src/domain/declaration.js';
import { maskingNotice, maskPersonalNumbers } from '../src/domain/masking.js';

const opts = { maxAmountYuan: 10_000, today: '2026-11-25' };
const good = { kind: '礼金', amount: '500', receivedOn: '2026-11-20', giver: '患者家属', handling: '存入住院账户', description: '' };

describe('declaration checks', () => {
  it('accepts the one-line example and normalises every field to its code', () => {
    const v = validateDeclaration(parseOneLine('礼金 500 患者家属 2026-11-20 存入住院账户'.split(' ')), opts);
    expect(v).toMatchObject({ ok: true, value: { kind: 'cash', amount: '500.00', receivedOn: '2026-11-20', giver: 'family', handling: 'to_patient_account', description: '' } });
  });

  it('takes the rest of a one-liner as the description', () => {
    expect(parseOneLine(['红包', '200', '患者', '今天', '拒收', '病房里', '塞的']).description).toBe('病房里 塞的');
  });

  it.each([
    ['abc', '金额“abc”不是有效的数字'],
    ['-1', '不是有效的数字'],
    ['0', '金额必须大于 0 元'],
    ['0.00', '金额必须大于 0 元'],
    ['1.234', '金额最多保留两位小数'],
    ['10000.01', '金额不能超过 10,000 元'],
    ['', '请填写金额'],
  ])('refuses the amount %j with “%s”', (amount, message) => {
    const r = checkAmount(amount, opts.maxAmountYuan, 'cash');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toContain(message);
  });

  it('accepts amounts people type and keeps exact cents', () => {
    expect(checkAmount('1,234.5元', 10_000)).toEqual({ ok: true, value: '1234.50' });
    expect(checkAmount('￥0.01', 10_000)).toEqual({ ok: true, value: '0.01' });
    expect(checkAmount('10000', 10_000)).toEqual({ ok: true, value: '10000.00' });
    expect(checkAmount('abc', 10_000, 'gift')).toMatchObject({ ok: false, message: expect.stringContaining('估计价值') });
  });

  it.each([
    ['2026-11-26', '不能晚于今天'],
    ['2026-02-29', '不是一个有效的日期'],
    ['20261120', '格式不对'],
    ['', '请填写收到日期'],
  ])('refuses the date %j with “%s”', (d, message) => {
    const r = checkDate(d, opts.today);
    expect(!r.ok && r.message).toContain(message);
  });

  it('accepts today, 昨天 and Chinese dates', () => {
    expect(checkDate('今天', opts.today)).toEqual({ ok: true, value: '2026-11-25' });
    expect(checkDate('昨天', opts.today)).toEqual({ ok: true, value: '2026-11-24' });
    expect(checkDate('2026年11月3日', opts.today)).toEqual({ ok: true, value: '2026-11-03' });
  });

  it('uses the hospital time zone for today', () => {
    // 2026-11-25 17:00 UTC is already the 26th in Shanghai.
    expect(localDate(new Date('2026-11-25T17:00:00Z'), 'Asia/Shanghai')).toBe('2026-11-26');
  });

  it('names each missing or unknown field, all at once', () => {
    const r = validateDeclaration({ kind: '钻石', amount: '', receivedOn: '', giver: '', handling: '扔了' }, opts);
    expect(r.ok).toBe(false);
    const text = describeErrors(!r.ok ? r.errors : []);
    expect(text).toContain('类别：类别“钻石”无法识别');
    expect(text).toContain('金额或估计价值：请填写');
    expect(text).toContain('收到日期：请填写收到日期');
    expect(text).toContain('送礼人：请选择送礼人');
    expect(text).toContain('处理方式：处理方式“扔了”无法识别');
  });

  it('requires a description when a choice is 其他, and at most 500 characters', () => {
    expect(validateDeclaration({ ...good, handling: '其他' }, opts)).toMatchObject({ ok: false, errors: [{ field: 'description' }] });
    expect(validateDeclaration({ ...good, description: '字'.repeat(500) }, opts).ok).toBe(true);
    expect(validateDeclaration({ ...good, description: '字'.repeat(501) }, opts)).toMatchObject({
      ok: false,
      errors: [{ field: 'description', message: expect.stringContaining('现在是 501 字') }],
    });
    // Characters, not UTF-16 units: 500 emoji are 500 characters.
    expect(validateDeclaration({ ...good, description: '😀'.repeat(500) }, opts).ok).toBe(true);
  });
});

describe('masking of personal numbers', () => {
  it('masks ID-card numbers (18 and 15 digits, with X, grouped) and mobile numbers', () => {
    const r = maskPersonalNumbers('身份证 11010119900307451X，旧证 110101900307451，手机 138 1234 5678 或 +86-13912345678，另 110101 1990 0307 4514');
    expect(r.text).toBe('身份证 110***********451X，旧证 110********7451，手机 138****5678 或 +86-139****5678，另 110***********4514');
    expect([r.idCards, r.mobiles]).toEqual([3, 2]);
    expect(maskingNotice(r)).toContain('第五条');
  });

  it('leaves amounts, dates and other long numbers alone', () => {
    const s = '金额 500 元，日期 20261120，住院号 12345678901234567890，发票 23456789012';
    expect(maskPersonalNumbers(s)).toEqual({ text: s, idCards: 0, mobiles: 0, landlines: 0 });
    expect(maskingNotice(maskPersonalNumbers(s))).toBeUndefined();
  });

  it('masks the description as part of validation', () => {
    const r = validateDeclaration({ ...good, description: '联系电话13812345678' }, opts);
    expect(r).toMatchObject({ ok: true, value: { description: '联系电话138****5678' }, masking: { mobiles: 1 } });
  });
});

describe('state machine and references', () => {
  it('routes through the head only when there is one, and finance only when money was handed in', () => {
    expect(nextState('draft', { dept: true, finance: true })).toBe('pending_dept');
    expect(nextState('draft', { dept: false, finance: true })).toBe('pending_discipline');
    expect(nextState('pending_dept', { dept: true, finance: false })).toBe('pending_discipline');
    expect(nextState('pending_discipline', { dept: true, finance: true })).toBe('pending_finance');
    expect(nextState('pending_discipline', { dept: true, finance: false })).toBe('registered');
    expect(nextState('pending_finance', { dept: true, finance: true })).toBe('registered');
    expect(() => nextState('registered', { dept: true, finance: true })).toThrow();
  });

  it('formats and parses references', () => {
    expect(formatReceiptNo(2026, 42)).toBe('HB-2026-000042');
    expect(parseRef('hb-2026-000042')).toEqual({ receiptNo: 'HB-2026-000042' });
    expect(parseRef('SB-12')).toEqual({ id: '12' });
    expect(parseRef('礼金')).toBeUndefined();
  });
});
