import { maskPersonalNumbers, type MaskResult } from './masking.js';
import { localDate, parseTypedDay, relativeDay } from './calendar.js';
import { stripThousands } from './numbers.js';
import { cleanText } from './text.js';

/**
 * 红包/回扣 主动上缴登记: the fields of a declaration, the checks on them (shared by the form
 * card, the step-by-step dialogue and the one-line command, so all three give the same record)
 * and the approval state machine. No SQL and no chat here.
 */

export const KINDS = {
  cash: '礼金/红包',
  gift: '礼品',
  card: '购物卡/消费卡',
  securities: '有价证券/股权',
  hospitality: '宴请或娱乐邀请',
  other: '其他',
} as const;
export const GIVERS = {
  patient: '患者',
  family: '患者家属',
  industry: '医药企业或代表',
  other: '其他',
} as const;
export const HANDLINGS = {
  refused: '当场拒收',
  returned: '事后退还',
  to_finance: '上缴医院财务',
  to_patient_account: '存入患者住院账户',
  other: '其他',
} as const;

export type Kind = keyof typeof KINDS;
export type Giver = keyof typeof GIVERS;
export type Handling = keyof typeof HANDLINGS;

// What people type; the canonical labels and codes are accepted too.
const KIND_ALIASES: Record<string, Kind> = {
  礼金: 'cash', 红包: 'cash', 现金: 'cash', 礼金红包: 'cash',
  礼品: 'gift', 礼物: 'gift', 实物: 'gift',
  购物卡: 'card', 消费卡: 'card', 卡券: 'card', 购物卡消费卡: 'card',
  有价证券: 'securities', 股权: 'securities', 证券: 'securities', 有价证券股权: 'securities',
  宴请: 'hospitality', 娱乐: 'hospitality', 宴请娱乐: 'hospitality', 娱乐邀请: 'hospitality', 宴请邀请: 'hospitality',
};
const GIVER_ALIASES: Record<string, Giver> = {
  家属: 'family', 病人: 'patient', 病人家属: 'family',
  医药企业: 'industry', 医药代表: 'industry', 药企: 'industry', 企业: 'industry', 医药企业代表: 'industry', 器械企业: 'industry',
};
const HANDLING_ALIASES: Record<string, Handling> = {
  拒收: 'refused', 当场拒绝: 'refused',
  退还: 'returned', 退回: 'returned', 事后退回: 'returned',
  上缴: 'to_finance', 上缴财务: 'to_finance', 交财务: 'to_finance', 上缴医院: 'to_finance',
  存入住院账户: 'to_patient_account', 住院账户: 'to_patient_account', 存入患者账户: 'to_patient_account', 存入账户: 'to_patient_account',
};

function lookup<T extends string>(labels: Record<T, string>, aliases: Record<string, T>, raw: string): T | undefined {
  const t = raw.trim().replace(/[\s/／、或]/g, '');
  if (!t) return undefined;
  for (const [code, label] of Object.entries(labels) as [T, string][]) {
    if (t === code || t === label.replace(/[\s/／、或]/g, '')) return code;
  }
  return aliases[t];
}

export const parseKind = (s: string) => lookup(KINDS, KIND_ALIASES, s);
export const parseGiver = (s: string) => lookup(GIVERS, GIVER_ALIASES, s);
export const parseHandling = (s: string) => lookup(HANDLINGS, HANDLING_ALIASES, s);

/** Money handed in or deposited: finance confirms receipt before it is registered. */
export const needsFinance = (h: Handling): boolean => h === 'to_finance' || h === 'to_patient_account';

export const amountLabel = (kind?: Kind): string => (kind === undefined || kind === 'cash' ? '金额' : '估计价值');

export const FIELD_LABELS = {
  kind: '类别',
  amount: '金额或估计价值',
  receivedOn: '收到日期',
  giver: '送礼人',
  handling: '处理方式',
  description: '情况说明',
} as const;
export type Field = keyof typeof FIELD_LABELS;

export const DESCRIPTION_MAX = 500;

/** A validated declaration's content. `amount` is a decimal string with two places: money is never a float. */
export interface DeclarationInput {
  kind: Kind;
  amount: string;
  receivedOn: string;
  giver: Giver;
  handling: Handling;
  description: string;
}

export interface FieldError {
  field: Field;
  message: string;
}

export type Validated = { ok: true; value: DeclarationInput; masking: MaskResult } | { ok: false; errors: FieldError[] };

export { localDate };

export type Check<T> = { ok: true; value: T } | { ok: false; message: string };

export function checkKind(raw: string | undefined): Check<Kind> {
  if (!raw?.trim()) return { ok: false, message: '请选择类别（礼金/红包、礼品、购物卡/消费卡、有价证券/股权、宴请或娱乐邀请、其他）。' };
  const k = parseKind(raw);
  return k ? { ok: true, value: k } : { ok: false, message: `类别“${raw.trim()}”无法识别，请选择：${Object.values(KINDS).join('、')}。` };
}

export function checkGiver(raw: string | undefined): Check<Giver> {
  if (!raw?.trim()) return { ok: false, message: `请选择送礼人（${Object.values(GIVERS).join('、')}）。` };
  const g = parseGiver(raw);
  return g ? { ok: true, value: g } : { ok: false, message: `送礼人“${raw.trim()}”无法识别，请选择：${Object.values(GIVERS).join('、')}。` };
}

export function checkHandling(raw: string | undefined): Check<Handling> {
  if (!raw?.trim()) return { ok: false, message: `请选择处理方式（${Object.values(HANDLINGS).join('、')}）。` };
  const h = parseHandling(raw);
  return h ? { ok: true, value: h } : { ok: false, message: `处理方式“${raw.trim()}”无法识别，请选择：${Object.values(HANDLINGS).join('、')}。` };
}

export function checkAmount(raw: string | undefined, maxYuan: number, kind?: Kind): Check<string> {
  const label = amountLabel(kind);
  const bare = (raw ?? '').trim().replace(/^[¥￥]/, '').replace(/元$/, '').trim();
  if (!bare) return { ok: false, message: `请填写${label}（元），例如 500。` };
  const grouped = stripThousands(bare, label);
  if (!grouped.ok) return grouped;
  const t = grouped.value;
  if (!/^\d+(\.\d+)?$/.test(t)) return { ok: false, message: `${label}“${raw!.trim()}”不是有效的数字，请填写以元为单位的正数，例如 500 或 199.50。` };
  if (!/^\d+(\.\d{1,2})?$/.test(t)) return { ok: false, message: `${label}最多保留两位小数（精确到分），例如 199.50。` };
  const [int, frac = ''] = t.split('.');
  const cents = BigInt(int) * 100n + BigInt(frac.padEnd(2, '0'));
  if (cents <= 0n) return { ok: false, message: `${label}必须大于 0 元。` };
  if (cents > BigInt(Math.round(maxYuan * 100))) return { ok: false, message: `${label}不能超过 ${formatYuan(maxYuan)} 元；金额更大时请直接联系纪检监察室。` };
  const norm = `${cents / 100n}.${String(cents % 100n).padStart(2, '0')}`;
  return { ok: true, value: norm };
}

export function checkDate(raw: string | undefined, today: string): Check<string> {
  const t0 = (raw ?? '').trim();
  if (!t0) return { ok: false, message: '请填写收到日期，格式 年-月-日，例如 2026-11-20。' };
  const typed = parseTypedDay(relativeDay(t0, today) ?? t0, { today, past: true });
  if (!typed.ok && typed.reason === 'format') return { ok: false, message: `收到日期“${t0}”格式不对，请按 年-月-日 填写，例如 2026-11-20 或 11月20日（也可以填“今天”或“昨天”）。` };
  if (!typed.ok) return { ok: false, message: `收到日期“${t0}”不是一个有效的日期，请检查月份和日期。` };
  const { day: iso, year: y } = typed;
  if (iso > today) return { ok: false, message: `收到日期不能晚于今天（${today}），请填写实际收到的日期。` };
  if (y < 2000) return { ok: false, message: '收到日期早于 2000 年，请检查年份。' };
  return { ok: true, value: iso };
}

/** The description is optional unless a choice was 其他, which it must then explain. */
export function descriptionRequired(v: { kind?: Kind; giver?: Giver; handling?: Handling }): boolean {
  return v.kind === 'other' || v.giver === 'other' || v.handling === 'other';
}

export function checkDescription(raw: string | undefined, required: boolean): Check<string> {
  const t = cleanText(raw ?? '').trim();
  if (!t && required) return { ok: false, message: '选择了“其他”时，请在情况说明中写明具体是什么。' };
  const n = [...t].length;
  if (n > DESCRIPTION_MAX) return { ok: false, message: `情况说明最多 ${DESCRIPTION_MAX} 字，现在是 ${n} 字，请精简后重新填写。` };
  return { ok: true, value: t };
}

export interface RawInput {
  kind?: string;
  amount?: string;
  receivedOn?: string;
  giver?: string;
  handling?: string;
  description?: string;
}

export interface ValidationOptions {
  maxAmountYuan: number;
  today: string;
}

/** Every check, every error at once, each naming its field; the description comes back masked. */
export function validateDeclaration(raw: RawInput, opts: ValidationOptions): Validated {
  const errors: FieldError[] = [];
  const kind = checkKind(raw.kind);
  if (!kind.ok) errors.push({ field: 'kind', message: kind.message });
  const amount = checkAmount(raw.amount, opts.maxAmountYuan, kind.ok ? kind.value : undefined);
  if (!amount.ok) errors.push({ field: 'amount', message: amount.message });
  const date = checkDate(raw.receivedOn, opts.today);
  if (!date.ok) errors.push({ field: 'receivedOn', message: date.message });
  const giver = checkGiver(raw.giver);
  if (!giver.ok) errors.push({ field: 'giver', message: giver.message });
  const handling = checkHandling(raw.handling);
  if (!handling.ok) errors.push({ field: 'handling', message: handling.message });
  const description = checkDescription(
    raw.description,
    descriptionRequired({ ...(kind.ok ? { kind: kind.value } : {}), ...(giver.ok ? { giver: giver.value } : {}), ...(handling.ok ? { handling: handling.value } : {}) }),
  );
  if (!description.ok) errors.push({ field: 'description', message: description.message });
  if (!kind.ok || !amount.ok || !date.ok || !giver.ok || !handling.ok || !description.ok) return { ok: false, errors };
  const masking = maskPersonalNumbers(description.value);
  return {
    ok: true,
    value: { kind: kind.value, amount: amount.value, receivedOn: date.value, giver: giver.value, handling: handling.value, description: masking.text },
    masking,
  };
}

export const ONE_LINE_ORDER: Field[] = ['kind', 'amount', 'giver', 'receivedOn', 'handling'];
/**
 * What follows 上缴 or 申报: a number alone (an amount after 上缴, `申报 500` looks one up), a
 * reference (SB-5, HB-2026-000001), or the one-line declaration.
 */
export type DeclarationWords = { kind: 'number'; text: string } | { kind: 'ref'; text: string } | { kind: 'line'; input: RawInput };

export function readDeclarationWords(words: string[]): DeclarationWords {
  if (words.length === 1 && /^[¥￥]?\d[\d,，]*(\.\d+)?元?$/.test(words[0]!.trim())) return { kind: 'number', text: words[0]! };
  if (words.length === 1 && parseRef(words[0]!)) return { kind: 'ref', text: words[0]! };
  return { kind: 'line', input: parseOneLine(words) };
}

export const ONE_LINE_USAGE = '上缴 类别 金额 送礼人 收到日期 处理方式 [情况说明]，例如：上缴 礼金 500 患者家属 2026-11-20 存入住院账户';

/** `上缴 礼金 500 患者家属 2026-11-20 存入住院账户 [说明…]`: positional, the rest is the description. */
export function parseOneLine(args: string[]): RawInput {
  const [kind, amount, giver, receivedOn, handling, ...rest] = args;
  return {
    ...(kind !== undefined ? { kind } : {}),
    ...(amount !== undefined ? { amount } : {}),
    ...(giver !== undefined ? { giver } : {}),
    ...(receivedOn !== undefined ? { receivedOn } : {}),
    ...(handling !== undefined ? { handling } : {}),
    description: rest.join(' '),
  };
}

/** The chat message for a failed validation: one line per field, in field order. */
export function describeErrors(errors: FieldError[]): string {
  return errors.map((e) => `· ${FIELD_LABELS[e.field]}：${e.message}`).join('\n');
}

// ---- state machine ----------------------------------------------------------------------

export const STATES = ['draft', 'pending_dept', 'pending_discipline', 'pending_finance', 'registered', 'rejected', 'cancelled'] as const;
export type State = (typeof STATES)[number];
export type Step = 'dept' | 'discipline' | 'finance';
export const STEPS: Step[] = ['dept', 'discipline', 'finance'];

export const STATE_NAMES: Record<State, string> = {
  draft: '草稿（未提交）',
  pending_dept: '待科室负责人审核',
  pending_discipline: '待纪检监察室审核',
  pending_finance: '待财务确认收款',
  registered: '已登记',
  rejected: '已驳回',
  cancelled: '已取消',
};
export const STEP_NAMES: Record<Step, string> = { dept: '科室负责人', discipline: '纪检监察室', finance: '财务科' };

export const stateOfStep = (s: Step): State => `pending_${s}` as State;
export function stepOfState(s: State): Step | undefined {
  return s === 'pending_dept' ? 'dept' : s === 'pending_discipline' ? 'discipline' : s === 'pending_finance' ? 'finance' : undefined;
}

export interface Route {
  /** False when the declarant heads their own department (or it has no other head). */
  dept: boolean;
  finance: boolean;
}

/** Where a declaration goes after `from` is approved (or, from draft, submitted). */
export function nextState(from: State, route: Route): State {
  switch (from) {
    case 'draft':
    case 'rejected':
      return route.dept ? 'pending_dept' : 'pending_discipline';
    case 'pending_dept':
      return 'pending_discipline';
    case 'pending_discipline':
      return route.finance ? 'pending_finance' : 'registered';
    case 'pending_finance':
      return 'registered';
    default:
      throw new Error(`no approval from state ${from}`);
  }
}

export function formatReceiptNo(year: number, n: number): string {
  return `HB-${year}-${String(n).padStart(6, '0')}`;
}

/** A declaration's reference as users type it: its receipt number once registered, else SB-<id>. */
export function declarationRef(d: { id: string | number; receiptNo?: string | null }): string {
  return d.receiptNo ?? `SB-${d.id}`;
}

export type RefQuery = { receiptNo: string } | { id: string };
export function parseRef(s: string): RefQuery | undefined {
  const t = s.trim().toUpperCase();
  const hb = /^HB-?(\d{4})-?(\d{1,6})$/.exec(t);
  if (hb) return { receiptNo: formatReceiptNo(Number(hb[1]), Number(hb[2])) };
  const sb = /^(?:SB-?|#)?(\d{1,12})$/.exec(t);
  if (sb) return { id: String(Number(sb[1])) };
  return undefined;
}

/**
 * The one way an amount is shown to a user, in every card, list and message: thousands
 * separated, and two decimals only when there are cents (1,600 and 1,600.50, never 1600.00).
 * Rounded to the cent first, so a sum of floats that is whole reads as whole.
 */
export function formatYuan(n: number | string): string {
  const v = Math.round((typeof n === 'number' ? n : Number(n)) * 100) / 100;
  return v.toLocaleString('zh-CN', { minimumFractionDigits: Number.isInteger(v) ? 0 : 2, maximumFractionDigits: 2 });
}
