import { localDate, parseMonth, parseTypedDay, type Month } from '../domain/calendar.js';
import { quoteTyped } from './small-talk.js';
import { ambiguousDepartmentText, matchDepartment } from '../domain/roster.js';

/**
 * Declared command arguments. A command lists what it takes (`args: [month('month'),
 * opt(choice('done', {完成: true}))]`); the router parses the words against that list before
 * the handler runs, answers a word it cannot place with the command's usage, and hands the
 * handler typed `params`. Usage lines and 帮助 are generated from the same list, so they cannot
 * drift from what is accepted. Koishi's `command('驳回 <id:declaration> <reason:text>')` is the
 * model; the list is typed objects rather than a string so that `params` is typed too.
 */

export interface ArgEnv {
  now: Date;
  timeZone: string;
  /** The roster's departments, loaded only for commands with a department argument. */
  departments: { id: number; name: string }[];
}

/** ok:false with a message: the word was meant as this argument but is wrong; without one, it is simply not this kind. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; message?: string };

export interface ArgInput {
  /** The word at this argument's place (greedy arguments: the first of theirs, or ''). */
  word: string;
  /** Greedy arguments: every remaining word. */
  words: string[];
  /** Greedy arguments: the remaining text as typed, punctuation kept. */
  rest: string;
}

export interface Arg<N extends string = string, T = unknown, O extends boolean = boolean> {
  readonly name: N;
  /** What the usage shows for it: `月份`, `SB-编号`, `学习|考试`. */
  readonly label: string;
  readonly optional: O;
  /** Takes every remaining word: free text (a reason), or a feature's own sub-language. */
  readonly greedy?: boolean;
  /** Accepted but not advertised in the usage. */
  readonly hidden?: boolean;
  /** How the usage shows it when `[label]` would not say it (a greedy list of optional words). */
  readonly shown?: string;
  /** Reads the roster's departments (so the router loads them first). */
  readonly departments?: boolean;
  /** Takes one word or more in a row (`WT-3 WT-5 WT-9`), at least this many. */
  readonly repeat?: number;
  parse(input: ArgInput, env: ArgEnv): Parsed<T>;
}

export type ArgList = readonly Arg[];

type ValueOf<A> = A extends Arg<string, infer T, infer O> ? (O extends true ? T | undefined : T) : never;
/** What a handler receives for a declared list: each argument's value under its name. */
export type Params<A extends ArgList> = { [K in A[number] as K['name']]: ValueOf<K> };

export const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
export const no = (message?: string): Parsed<never> => (message ? { ok: false, message } : { ok: false });

export function arg<N extends string, T>(name: N, label: string, parse: (input: ArgInput, env: ArgEnv) => Parsed<T>, extra: { greedy?: boolean; hidden?: boolean; departments?: boolean; shown?: string } = {}): Arg<N, T, false> {
  return { name, label, optional: false, parse, ...extra };
}

/** The same argument, which may be left out. */
export function opt<N extends string, T>(a: Arg<N, T, boolean>): Arg<N, T, true> {
  return { ...a, optional: true };
}

/** Accepted but left out of the usage (`帮助 上缴`: extra words do no harm). */
export function hide<N extends string, T, O extends boolean>(a: Arg<N, T, O>): Arg<N, T, O> {
  return { ...a, hidden: true };
}

/** Any one word. */
export const word = <N extends string>(name: N, label: string): Arg<N, string, false> => arg(name, label, (i) => ok(i.word));

/** The rest of the message as typed (a reason, a description). */
export const text = <N extends string>(name: N, label: string): Arg<N, string, false> =>
  arg(name, label, (i) => (i.rest.trim() ? ok(i.rest.trim()) : no()), { greedy: true });

/** Every remaining word, for a feature's own sub-language (parsed by its arg type, not its handler). */
export const words = <N extends string>(name: N, label: string): Arg<N, string[], false> => arg(name, label, (i) => (i.words.length ? ok(i.words) : no()), { greedy: true });

/** One word out of a fixed set, each with its value; case does not matter. */
export function choice<N extends string, V>(name: N, options: Record<string, V>, label = Object.keys(options).join('|')): Arg<N, V, false> {
  const byWord = new Map(Object.entries(options).map(([k, v]) => [k.toLowerCase(), v]));
  return arg(name, label, (i) => {
    const key = i.word.toLowerCase();
    return byWord.has(key) ? ok(byWord.get(key) as V) : no();
  });
}

/** A fixed word (`确认`, `完成`), true when given; listed in the usage as itself. */
export const flag = <N extends string>(name: N, wordsAccepted: string[], label = wordsAccepted[0]!): Arg<N, true, false> =>
  choice(name, Object.fromEntries(wordsAccepted.map((w) => [w, true as const])), label);

/** A month: 2026-11, 11月, 上月, 本月 …, read in the bot's zone. */
export const month = <N extends string>(name: N, label = '月份'): Arg<N, Month, false> =>
  arg(name, label, (i, env) => {
    const m = parseMonth(i.word, env.now, env.timeZone);
    if (m.ok) return ok(m.month);
    // Only a word that looks like a month gets the month's reason; 口腔科 may be another argument's.
    return /[\d月]/.test(i.word) ? no(m.message) : no();
  });

/** A staff id (工号) as typed; whether it exists is the feature's question. */
export const staffId = <N extends string>(name: N, label = '工号'): Arg<N, string, false> =>
  arg(name, label, (i) => (/^[A-Za-z0-9_-]{1,32}$/.test(i.word) ? ok(i.word) : no(`工号“${i.word}”的格式不对，工号由字母、数字组成，例如 S0042。`)));

/**
 * A record number with its prefix (SB-12, WT-3, XS-7, TB-2): the number. A bare number is taken
 * too (people drop the prefix), a word with another prefix is not this kind.
 */
export function ref<N extends string>(name: N, prefix: string, label = `${prefix}-编号`, opts: { bare?: boolean } = {}): Arg<N, number, false> {
  const re = new RegExp(`^${prefix}[-－—_]?(\\d{1,9})$`, 'i');
  return arg(name, label, (i) => {
    const m = re.exec(i.word) ?? (opts.bare !== false ? /^(\d{1,9})$/.exec(i.word) : null);
    if (m) return Number(m[1]) > 0 ? ok(Number(m[1])) : no(`编号“${i.word}”不存在。`);
    return no();
  });
}

/** The same argument one word or more in a row, at least `min` of them: a list of values. */
export function many<N extends string, T>(a: Arg<N, T, boolean>, min = 1, label = `${a.label} ${a.label}`): Arg<N, T[], false> {
  return { name: a.name, label, optional: false, repeat: min, parse: (i, env) => {
    const r = a.parse(i, env);
    return r.ok ? ok([r.value]) : r;
  } };
}

/** A calendar day (2026-12-31, 12月31日, 12-31 in the coming year). */
export const day = <N extends string>(name: N, label: string): Arg<N, string, false> =>
  arg(name, label, (i, env) => {
    const today = localDate(env.now, env.timeZone);
    const d = parseTypedDay(i.word, { today });
    return d.ok ? ok(d.day) : d.reason === 'invalid' ? no(`日期“${i.word}”不存在。`) : no();
  });

/**
 * A department of the roster by name (src/domain/roster.ts matchDepartment): exact, else the one
 * whose name contains the word, with `typed` kept so the answer can say which was taken; several
 * candidates are refused with their names. `exact`: only the full name (a description may follow).
 */
export function department<N extends string>(name: N, label = '科室', opts: { exact?: boolean } = {}): Arg<N, { id: number; name: string; typed?: string }, false> {
  return arg(
    name,
    label,
    (i, env) => {
      if (/\d/.test(i.word)) return no();
      const m = matchDepartment(env.departments, i.word);
      if (m.kind === 'exact') return ok(m.department);
      if (opts.exact) return no();
      if (m.kind === 'one') return ok({ ...m.department, typed: i.word });
      return m.kind === 'many' ? no(ambiguousDepartmentText(i.word, m.candidates)) : no(`人员名单中没有科室“${i.word}”。`);
    },
    { departments: true },
  );
}

/** A positive whole number. */
export const count = <N extends string>(name: N, label: string): Arg<N, number, false> =>
  arg(name, label, (i) => (/^\d{1,9}$/.test(i.word) && Number(i.word) > 0 ? ok(Number(i.word)) : no()));

/** One of two kinds (`编号|月份`): the first that takes the word, tagged with which it was. */
export function either<N extends string, KA extends string, A, KB extends string, B>(
  name: N,
  label: string,
  a: [KA, Arg<string, A, boolean>],
  b: [KB, Arg<string, B, boolean>],
): Arg<N, { kind: KA; value: A } | { kind: KB; value: B }, false> {
  return arg(name, label, (i, env): Parsed<{ kind: KA; value: A } | { kind: KB; value: B }> => {
    const x = a[1].parse(i, env);
    if (x.ok) return ok({ kind: a[0], value: x.value });
    const y = b[1].parse(i, env);
    if (y.ok) return ok({ kind: b[0], value: y.value });
    return no(x.message ?? y.message);
  });
}

// ---- usage and matching -----------------------------------------------------------------

export function usageOf(name: string, args: ArgList = []): string {
  const shown = args.filter((a) => !a.hidden).map((a) => a.shown ?? (a.optional ? `[${a.label}]` : a.label));
  return [name, ...shown].join(' ');
}

/** `学习|考试` read aloud: 学习、考试之一. */
function spoken(label: string): string {
  return label.includes('|') ? `${label.split('|').join('、')}之一` : label;
}

export type Match = { ok: true; params: Record<string, unknown> } | { ok: false; message: string };

export interface MatchOptions {
  /** Arguments may come in any order (each word goes to the first argument that takes it). */
  anyOrder?: boolean;
  /** Said after a word that could not be placed, instead of the usage (a friendlier pointer). */
  hint?: string;
  usage: string;
  example?: string;
}

/**
 * Places the words on the declared arguments. `rawWords` are the words as typed (punctuation
 * kept), for greedy text; `words` the same words with closing marks stripped.
 */
export function matchArgs(args: ArgList, words: string[], rawWords: string[], env: ArgEnv, o: MatchOptions): Match {
  const params: Record<string, unknown> = {};
  const usageLine = `用法：${o.usage}${o.example ? `，例如“${o.example}”` : ''}。`;
  const tail = o.hint ?? usageLine;
  // A word in an argument's place that is not one: the argument's own reason, else what belongs there.
  const unclear = (w: string, message?: string, a?: Arg): Match => ({ ok: false, message: `没有看懂“${quoteTyped(w)}”${message ? `。${message}` : a ? `，请写明${spoken(a.label)}。` : '。'}${tail}` });
  const missing = (a: Arg): Match => ({ ok: false, message: `请写明${spoken(a.label)}。${tail}` });
  const greedyInput = (from: number): ArgInput => ({ word: words[from] ?? '', words: words.slice(from), rest: rawWords.slice(from).join(' ') });

  if (o.anyOrder) {
    const filled = new Set<string>();
    for (let i = 0; i < words.length; i++) {
      let message: string | undefined;
      const taker = args.find((a) => {
        if (filled.has(a.name)) return false;
        const r = a.greedy ? a.parse(greedyInput(i), env) : a.parse({ word: words[i]!, words: [words[i]!], rest: rawWords[i]! }, env);
        if (r.ok) params[a.name] = r.value;
        else message ??= r.message;
        return r.ok;
      });
      if (!taker) return unclear(words[i]!, message);
      filled.add(taker.name);
      if (taker.greedy) break;
    }
    const lacking = args.find((a) => !a.optional && !filled.has(a.name));
    return lacking ? missing(lacking) : { ok: true, params };
  }

  let i = 0;
  let skipped: string | undefined;
  for (const a of args) {
    if (a.greedy) {
      const r = i < words.length ? a.parse(greedyInput(i), env) : ({ ok: false } as Parsed<unknown>);
      if (r.ok) {
        params[a.name] = r.value;
        i = words.length;
      } else if (i < words.length) return unclear(words[i]!, r.message, a);
      else if (!a.optional) return missing(a);
      continue;
    }
    if (i >= words.length) {
      if (!a.optional) return missing(a);
      continue;
    }
    if (a.repeat) {
      const values: unknown[] = [];
      let last: Parsed<unknown> = { ok: false };
      while (i < words.length && (last = a.parse({ word: words[i]!, words: [words[i]!], rest: rawWords[i]! }, env)).ok) {
        values.push(...(last as { value: unknown[] }).value);
        i++;
      }
      if (values.length >= a.repeat) params[a.name] = values;
      else if (i < words.length) return unclear(words[i]!, last.ok ? undefined : last.message, a);
      else return missing(a);
      continue;
    }
    const r = a.parse({ word: words[i]!, words: [words[i]!], rest: rawWords[i]! }, env);
    if (r.ok) {
      params[a.name] = r.value;
      i++;
    } else if (a.optional) skipped ??= r.message;
    else return unclear(words[i]!, r.message, a);
  }
  // With a hint, a stray word gets the hint alone: an optional argument's reason would mislead.
  return i < words.length ? unclear(words[i]!, o.hint ? undefined : skipped) : { ok: true, params };
}
