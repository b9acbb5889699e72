import { createHash, randomInt } from 'node:crypto';

/**
 * The 查询码 an identity-protected reporter keeps: 12 characters from an alphabet without
 * look-alikes (no 0/O, 1/I/L), about 60 bits, so guessing is hopeless even before the rate limit.
 * Only its hash is stored; typed codes are normalised (case, spaces, dashes) before hashing.
 */
const ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
export const CODE_LENGTH = 12;

export function newQueryCode(): string {
  let s = '';
  for (let i = 0; i < CODE_LENGTH; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return `${s.slice(0, 4)}-${s.slice(4, 8)}-${s.slice(8)}`;
}

export const normaliseCode = (typed: string): string => typed.toUpperCase().replace(/[\s\-－—_]/g, '');

export const hashQueryCode = (typed: string): string => createHash('sha256').update(`tipoff-query:${normaliseCode(typed)}`).digest('hex');
