/**
 * Counts shown to people who must not be able to single anyone out (leadership views of
 * tip-offs): 1 and 2 are shown as "<3", since a count of one in a small department or month
 * can point at a person. 0 says nothing about anyone and stays 0.
 */
export const SMALL_COUNT_LIMIT = 3;
export const SMALL_COUNT_LABEL = `<${SMALL_COUNT_LIMIT}`;

export function smallCount(n: number): string {
  return n > 0 && n < SMALL_COUNT_LIMIT ? SMALL_COUNT_LABEL : String(n);
}

/** A share in percent, or the suppressed label when the base is too small to be anonymous. */
export function smallShare(part: number, whole: number): string {
  if (whole === 0) return '—';
  if (whole < SMALL_COUNT_LIMIT) return `${SMALL_COUNT_LABEL} 件`;
  return `${Math.round((part / whole) * 100)}%`;
}
