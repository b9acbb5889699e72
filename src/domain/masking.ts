/**
 * Masks mainland ID-card numbers and mobile numbers in free text before it is stored, so a
 * declaration describing a patient does not itself leak the patient's identity (《九项准则》
 * 第五条：恪守保密准则，不泄露患者隐私). Digits next to other digits are never split: a long
 * number that is neither shape (an account number, a date like 20261120) is left alone.
 */

// 18-digit (last may be X) or legacy 15-digit ID numbers, optionally grouped by spaces/dashes
// as people type them (6-8-4 or 6-4-4-4).
const ID_CARD = /(?<![0-9A-Za-z])([1-9]\d{5})[ -]?((?:19|20)\d{2})[ -]?(\d{2})(\d{2})[ -]?(\d{3})([0-9Xx])(?![0-9A-Za-z])|(?<![0-9A-Za-z])([1-9]\d{5})(\d{6})(\d{3})(?![0-9A-Za-z])/g;
// Mobile numbers 1[3-9]x xxxx xxxx, optionally +86 / 86 prefixed and grouped 3-4-4.
const MOBILE = /(?<![0-9])((?:\+?86[ -]?)?)(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})(?![0-9])/g;

export interface MaskResult {
  text: string;
  idCards: number;
  mobiles: number;
}

export function maskIdCard(digits: string): string {
  const d = digits.replace(/[ -]/g, '');
  return `${d.slice(0, 3)}${'*'.repeat(d.length - 7)}${d.slice(-4)}`;
}

export function maskMobile(digits: string): string {
  const d = digits.replace(/[ -]/g, '');
  return `${d.slice(0, 3)}****${d.slice(-4)}`;
}

export function maskPersonalNumbers(input: string): MaskResult {
  let idCards = 0;
  let mobiles = 0;
  // ID cards first: an 18-digit ID contains digit runs that could look like a mobile number.
  const afterId = input.replace(ID_CARD, (m) => {
    idCards++;
    return maskIdCard(m);
  });
  const text = afterId.replace(MOBILE, (_m, prefix: string, a: string, b: string, c: string) => {
    mobiles++;
    return `${prefix}${maskMobile(`${a}${b}${c}`)}`;
  });
  return { text, idCards, mobiles };
}

/** The sentence telling the declarant what was masked and why; undefined when nothing was. */
export function maskingNotice(r: MaskResult): string | undefined {
  const what = [r.idCards ? `身份证号 ${r.idCards} 处` : '', r.mobiles ? `手机号 ${r.mobiles} 处` : ''].filter(Boolean).join('、');
  if (!what) return undefined;
  return `为保护患者隐私（《九项准则》第五条：恪守保密准则，不泄露患者隐私），情况说明中的${what}已做遮挡后保存，审批人看不到完整号码。`;
}
