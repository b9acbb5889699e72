/**
 * Masks mainland ID-card numbers, mobile numbers and landlines in free text before it is
 * stored, so a declaration, a reason or a report describing a patient does not itself leak the
 * patient's identity (《九项准则》第五条：恪守保密准则，不泄露患者隐私).
 *
 * Matching runs on a normalised copy (full-width digits and Ｘ folded by NFKC, dashes unified,
 * zero-width characters dropped), and each match is mapped back to the span of the original it
 * came from: only that span is replaced, so the rest of the text keeps exactly what was typed
 * (NFKC would also turn the full-width punctuation of Chinese text into ASCII).
 *
 * A number may be grouped with single spaces, dashes or dots anywhere, and may follow letters
 * (`ID110101…`, `tel13812345678`), but it starts and ends where its digits do: a digit run
 * longer than the shape (an account number, 住院号) is never cut, and ID numbers must carry a
 * plausible birth date, so dates like 20261120 and amounts are left alone.
 */

export interface MaskResult {
  text: string;
  idCards: number;
  mobiles: number;
  landlines: number;
}

const ZERO_WIDTH = new Set([0x200b, 0x200c, 0x200d, 0x2060, 0xfeff]);
// Dashes people (and input methods) put between digit groups; NFKC leaves them alone.
const DASHES = new Set(['\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2015', '\u2212', '\ufe63']);

interface Normalised {
  text: string;
  /** For each UTF-16 unit of `text`: where its source starts and ends in the original. */
  from: number[];
  to: number[];
}

function normalise(input: string): Normalised {
  let text = '';
  const from: number[] = [];
  const to: number[] = [];
  for (let i = 0; i < input.length; ) {
    const cp = input.codePointAt(i)!;
    const len = cp > 0xffff ? 2 : 1;
    if (!ZERO_WIDTH.has(cp)) {
      const ch = input.slice(i, i + len);
      const out = DASHES.has(ch) ? '-' : ch.normalize('NFKC');
      for (let k = 0; k < out.length; k++) {
        from.push(i);
        to.push(i + len);
      }
      text += out;
    }
    i += len;
  }
  return { text, from, to };
}

const SEP = '[ .\\-]?';
// Sticky patterns tried at every position; a candidate the check refuses is skipped.
const ID18 = new RegExp(`(?<!\\d)\\d(?:${SEP}\\d){16}${SEP}[\\dXx](?!\\d)`, 'y');
const ID15 = new RegExp(`(?<!\\d)\\d(?:${SEP}\\d){14}(?!\\d)`, 'y');
const MOBILE = new RegExp(`(?<!\\d)((?:\\+|00)?86${SEP})?(1${SEP}[3-9](?:${SEP}\\d){9})(?!\\d)`, 'y');
// An opening parenthesis before the area code stays outside the match: it may be the text's own.
const LANDLINE = new RegExp(`(?<!\\d)(0\\d{2,3})(\\)?)${SEP}([1-9](?:${SEP}\\d){6,7})(?!\\d)((?:\\s*(?:转|分机|ext\\.?|x|-|#)\\s*\\d{1,6})(?!\\d))?`, 'iy');

const DATE = '(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\\d|3[01])';
const ID18_SHAPE = new RegExp(`^[1-9]\\d{5}(?:18|19|20)\\d{2}${DATE}\\d{3}[\\dX]$`);
const ID15_SHAPE = new RegExp(`^[1-9]\\d{5}\\d{2}${DATE}\\d{3}$`);

const digitsOf = (s: string): string => s.replace(/[^\dXx]/g, '').toUpperCase();
const keepEnds = (d: string, head: number, tail: number): string => `${d.slice(0, head)}${'*'.repeat(d.length - head - tail)}${d.slice(-tail)}`;

interface Span {
  start: number;
  end: number;
  replacement: string;
}

type Kind = 'idCards' | 'mobiles' | 'landlines';

const RULES: { kind: Kind; pattern: RegExp; render(m: RegExpExecArray): string | undefined }[] = [
  // ID numbers first: an 18-digit ID contains runs that look like a mobile or a landline.
  { kind: 'idCards', pattern: ID18, render: (m) => (ID18_SHAPE.test(digitsOf(m[0])) ? keepEnds(digitsOf(m[0]), 3, 4) : undefined) },
  { kind: 'idCards', pattern: ID15, render: (m) => (ID15_SHAPE.test(digitsOf(m[0])) ? keepEnds(digitsOf(m[0]), 3, 4) : undefined) },
  { kind: 'mobiles', pattern: MOBILE, render: (m) => `${m[1] ?? ''}${keepEnds(digitsOf(m[2]), 3, 4)}` },
  { kind: 'landlines', pattern: LANDLINE, render: (m) => `${m[1]}${m[2] || '-'}${keepEnds(digitsOf(m[3]), 0, 4)}${m[4]?.trim() ?? ''}` },
];

export function maskPersonalNumbers(input: string): MaskResult {
  const n = normalise(input);
  const counts: Record<Kind, number> = { idCards: 0, mobiles: 0, landlines: 0 };
  const spans: Span[] = [];
  // Masked spans are blanked in this copy so a later rule cannot match inside them.
  let work = n.text;
  for (const rule of RULES) {
    for (let p = 0; p < work.length; ) {
      rule.pattern.lastIndex = p;
      const m = rule.pattern.exec(work);
      const replacement = m && m[0].length > 0 ? rule.render(m) : undefined;
      if (!m || replacement === undefined) {
        p++;
        continue;
      }
      const end = p + m[0].length;
      spans.push({ start: n.from[p], end: n.to[end - 1], replacement });
      work = `${work.slice(0, p)}${'#'.repeat(m[0].length)}${work.slice(end)}`;
      counts[rule.kind]++;
      p = end;
    }
  }
  if (spans.length === 0) return { text: input, ...counts };
  spans.sort((a, b) => a.start - b.start);
  let text = '';
  let at = 0;
  for (const s of spans) {
    text += input.slice(at, s.start) + s.replacement;
    at = s.end;
  }
  return { text: text + input.slice(at), ...counts };
}

export const NO_MASKS: Omit<MaskResult, 'text'> = { idCards: 0, mobiles: 0, landlines: 0 };

/** The counts of several masked fields together (one notice for a whole form). */
export function addMasks(a: Omit<MaskResult, 'text'>, b: Omit<MaskResult, 'text'>): Omit<MaskResult, 'text'> {
  return { idCards: a.idCards + b.idCards, mobiles: a.mobiles + b.mobiles, landlines: a.landlines + b.landlines };
}

/**
 * The sentence telling the sender what was masked and why; undefined when nothing was.
 * `where` names the field when one is known (情况说明), else it speaks of what they sent.
 */
export function maskingNotice(r: Omit<MaskResult, 'text'>, where = '您发送的内容'): string | undefined {
  const what = [r.idCards ? `身份证号 ${r.idCards} 处` : '', r.mobiles ? `手机号 ${r.mobiles} 处` : '', r.landlines ? `固定电话 ${r.landlines} 处` : '']
    .filter(Boolean)
    .join('、');
  if (!what) return undefined;
  return `为保护患者隐私（《九项准则》第五条：恪守保密准则，不泄露患者隐私），${where}中的${what}已做遮挡后保存，保存和导出的记录中都看不到完整号码。`;
}
