/**
 * Numbers as people type them: full-width digits, and thousands separators (`1,500`,
 * `1，500`). A separator is only taken as one where it stands every three digits; anywhere
 * else (`1,5`, `500，00`, `1,50,0`) it is a typo or a decimal comma, and dropping it would
 * silently turn 1,5 into 15 or 500，00 into 50000, so such input is refused, naming the field.
 */

export type Parsed = { ok: true; value: string } | { ok: false; message: string };

const GROUPED = /^\d{1,3}(?:,\d{3})+(?:\.\d+)?$/;

/**
 * The number with its separators removed (`12,345.50` → `12345.50`); other characters are
 * left for the caller's own check. Refuses separators that are not every three digits.
 */
export function stripThousands(raw: string, label: string): Parsed {
  const t = raw.normalize('NFKC').trim();
  if (!t.includes(',')) return { ok: true, value: t };
  if (GROUPED.test(t)) return { ok: true, value: t.replace(/,/g, '') };
  return {
    ok: false,
    message: `${label}“${raw.trim()}”的千位分隔符位置不对：分隔符只能每三位一个（例如 1,500 或 12,345.50），也可以不写分隔符（例如 1500）。小数请用小数点，例如 1.5。`,
  };
}
