/**
 * Escapes a user-supplied string for interpolation into bot-authored markdown, so that
 * `**`, links, headings and HTML typed by a user show as the characters they typed.
 * Works for the CommonMark-ish dialects of DingTalk, Feishu and the sandbox renderer.
 */
export function escapeMarkdown(s: string): string {
  return s
    .replace(/[\\`*_{}\[\]()#+\-.!|>~<]/g, (c) => `\\${c}`)
    .replace(/&/g, '&amp;');
}

/** Trims a text to at most `max` characters, marking the cut. */
export function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, Math.max(0, max - 1))}…`;
}
