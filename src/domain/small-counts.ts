/**
 * Counts leadership reads: a figure of 1 or 2 could point at a person, so it is shown as "<3"
 * (0 says nothing about anyone and stays 0).
 */
export const smallCount = (n: number): string => (n > 0 && n < 3 ? '<3' : String(n));
