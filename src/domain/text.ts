/**
 * Cleaning of what people type before anything keeps it. Invisible characters do harm where
 * text is stored: PostgreSQL refuses NUL in text (error 22021, which would lose the answer),
 * other control characters corrupt exports and logs, and bidirectional overrides make a stored
 * reason or description read differently from what it contains (Trojan Source). None of them
 * carries meaning in a chat message, so they are removed rather than refused.
 */

// C0 controls except tab and line feed (carriage returns are folded into line feeds first),
// DEL, and C1 controls.
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
// Embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), the implicit marks
// (U+200E, U+200F, U+061C): they change how text reads, never what it says.
const BIDI = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g;

/** The text without control and bidirectional-formatting characters; line breaks kept as \n. */
export function cleanText(s: string): string {
  return s.replace(/\r\n?/g, '\n').replace(CONTROLS, '').replace(BIDI, '');
}

/**
 * Every string inside a parsed file (JSON or YAML), cleaned: an escaped `\u0000` in a JSON
 * file reaches the parser's output even though the file's bytes held no control character.
 */
export function cleanDeep<T>(value: T): T {
  if (typeof value === 'string') return cleanText(value) as T;
  if (Array.isArray(value)) return value.map(cleanDeep) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cleanDeep(v)])) as T;
  return value;
}
