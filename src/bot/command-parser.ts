/**
 * Splits a chat message into a command word and its arguments. Tolerates full-width spaces
 * and punctuation, a leading slash, and @-mentions typed into group chats.
 */
export interface ParsedCommand {
  word: string;
  args: string[];
  /** The text after the command word, as typed (for free-text arguments). */
  rest: string;
}

export function normaliseText(text: string): string {
  return text
    .replace(/\u3000/g, ' ')
    .replace(/[\u200b-\u200d\ufeff]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Removes @-mentions (`@清廉助手`, `@_user_1`) that platforms leave in the text. */
export function stripMentions(text: string): string {
  return text.replace(/(^|\s)@[^\s@]+/g, ' ');
}

export function parseCommand(text: string): ParsedCommand | undefined {
  const clean = normaliseText(stripMentions(text)).replace(/^[/／]/, '');
  if (!clean) return undefined;
  const m = /^(\S+)(?:\s+(.*))?$/.exec(clean);
  if (!m) return undefined;
  const rest = (m[2] ?? '').trim();
  // `帮助。`, `进度 学习？`, `同意 SB-12！`: a sentence's closing mark is not part of a word.
  // `rest` keeps it, since free text (a reason, a description) is stored as typed.
  return { word: unpunctuated(m[1]).toLowerCase(), args: rest ? rest.split(' ').map(unpunctuated) : [], rest };
}

/** Marks that close a sentence or a clause, as people type them in chat. */
export const SENTENCE_MARKS = '。．.！!？?，,、；;：:~～…';
const TRAILING_MARKS = new RegExp(`[${SENTENCE_MARKS}]+$`, 'u');

function unpunctuated(word: string): string {
  return word.replace(TRAILING_MARKS, '') || word;
}

/** Levenshtein distance; commands are short, so the quadratic table is fine. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}

/** The closest known word, when it is close enough to be what the user meant. */
export function closest(word: string, candidates: string[]): string | undefined {
  let best: { c: string; score: number } | undefined;
  for (const c of candidates) {
    const d = editDistance(word, c);
    const score = d / Math.max(word.length, c.length);
    if (d <= 2 && score <= 0.5 && (!best || score < best.score)) best = { c, score };
  }
  return best?.c;
}
