import { NINE_RULES } from '../quiz/rules.js';
import { SMALL_COUNT_LABEL, smallCount } from '../small-counts.js';

/**
 * The rules of a 通报 that are not storage: what a kind answer means, how long the parts may
 * be, and how read figures are shown to people who may not see who read what.
 */

export const TITLE_MAX = 60;
export const BODY_MAX = 4000;
export const FILE_MAX_BYTES = 20 * 1024 * 1024;

const CN_DIGITS: Record<string, number> = { 一: 1, 二: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9 };
const GENERAL_WORDS = new Set(['普通', '一般', '普通通报', '否', '无', '不是']);

export type KindParse = { ok: true; kind: 'general'; rule: null } | { ok: true; kind: 'warning'; rule: number } | { ok: false; message: string };

/** "普通", or a warning naming its rule: "警示 3", "3", "第三条", "警示 第三条". */
export function parseKind(text: string): KindParse {
  const t = text.replace(/\s+/g, '');
  if (GENERAL_WORDS.has(t)) return { ok: true, kind: 'general', rule: null };
  const m = /^(?:警示(?:教育)?|典型案例)?(?:九项准则)?第?([1-9一二三四五六七八九])条?$/.exec(t);
  if (m) {
    const rule = CN_DIGITS[m[1]] ?? Number(m[1]);
    if (NINE_RULES[rule]) return { ok: true, kind: 'warning', rule };
  }
  return { ok: false, message: '请回复“普通”；如是典型案例警示教育通报，请回复“警示”加九项准则的条目序号，例如“警示 3”（第三条：依据规范行医，不实施过度诊疗）。' };
}

/** A notice's number as people type it: "12", "TB12", "TB-12". */
export function parseNoticeNumber(text: string | undefined): string | undefined {
  const m = /^(?:TB-?)?(\d{1,18})$/i.exec((text ?? '').trim());
  return m ? String(Number(m[1])) : undefined;
}

export const noticeNumber = (id: string): string => `TB-${id}`;

/**
 * For everyone but the discipline office, counts of one or two people are shown as "<3":
 * in a small department they would say who has not read.
 */
export function shownCount(n: number, full: boolean): string {
  return full ? String(n) : smallCount(n);
}

/** The read rate, or "—" where it would give away a count shown as "<3". */
export function shownRate(read: number, total: number, full: boolean): string {
  if (total === 0) return '—';
  const unread = total - read;
  if (!full && (smallCount(read) === SMALL_COUNT_LABEL || smallCount(unread) === SMALL_COUNT_LABEL)) return '—';
  return `${((100 * read) / total).toFixed(1)}%`;
}

/** The rate as a number for charts; null where it is hidden. */
export function rateValue(read: number, total: number, full: boolean): number | null {
  return shownRate(read, total, full) === '—' ? null : (100 * read) / total;
}
