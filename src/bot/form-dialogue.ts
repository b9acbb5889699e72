import type { FormInput } from '../../cards/model.js';
import { DEFAULT_TIME_ZONE, localDate, parseTypedDay, relativeDay } from '../domain/calendar.js';
import { stripThousands } from '../domain/numbers.js';
import type { DialogueStep, StepResult } from './dialogue.js';

/**
 * Turns a card form's inputs into dialogue steps, so a platform without form inputs asks the
 * same questions one at a time and hands the handler the same `form` values.
 */
export const SKIP_WORDS = new Set(['跳过', '无', 'skip']);

/** A typed date; 今天 and 昨天 are days in the bot's zone, not the server's or UTC. */
export function parseDateAnswer(text: string, now: Date, timeZone: string = DEFAULT_TIME_ZONE): StepResult<string> {
  const t = text.trim();
  const today = localDate(now, timeZone);
  const relative = relativeDay(t, today, ['今天', '昨天']);
  if (relative) return { ok: true, value: relative };
  const typed = parseTypedDay(t, { today });
  if (typed.ok) return { ok: true, value: typed.day };
  if (typed.reason === 'format') return { ok: false, message: '请按 年-月-日 的格式填写日期，例如 2026-11-20 或 11月20日（也可以回复“今天”或“昨天”）。' };
  return { ok: false, message: `${t} 不是一个有效的日期，请检查月份和日期。` };
}

export function promptFor(input: FormInput): string {
  const optional = input.required ? '' : '（选填，回复“跳过”略过）';
  switch (input.kind) {
    case 'select':
      return `请选择${input.label}${optional}，回复序号或名称：\n${input.options.map((o, i) => `${i + 1}. ${o.label}`).join('\n')}`;
    case 'date':
      return `请填写${input.label}${optional}，格式 年-月-日，例如 2026-11-20：`;
    case 'number':
      return `请填写${input.label}${optional}${input.placeholder ? `（${input.placeholder}）` : ''}：`;
    default:
      return `请填写${input.label}${optional}${input.maxLength ? `，不超过 ${input.maxLength} 字` : ''}：`;
  }
}

export function parseAnswer(input: FormInput, text: string, now: Date, timeZone: string = DEFAULT_TIME_ZONE): StepResult<string> {
  const t = text.trim();
  if (!input.required && SKIP_WORDS.has(t)) return { ok: true, value: '' };
  if (!t) return { ok: false, message: `${input.label}不能为空，请重新填写（回复“取消”可结束）。` };
  switch (input.kind) {
    case 'select': {
      const byIndex = /^\d+$/.test(t) ? input.options[Number(t) - 1] : undefined;
      const hit = byIndex ?? input.options.find((o) => o.label === t || o.value === t);
      return hit ? { ok: true, value: hit.value } : { ok: false, message: `请回复 1 到 ${input.options.length} 之间的序号，或选项名称。` };
    }
    case 'date':
      return parseDateAnswer(t, now, timeZone);
    case 'number': {
      const grouped = stripThousands(t.replace(/元$/, ''), input.label);
      if (!grouped.ok) return grouped;
      const n = grouped.value === '' ? NaN : Number(grouped.value);
      if (!Number.isFinite(n)) return { ok: false, message: `${input.label}需要是一个数字，例如 500。` };
      if (input.min !== undefined && n < input.min) return { ok: false, message: `${input.label}不能小于 ${input.min}。` };
      if (input.max !== undefined && n > input.max) return { ok: false, message: `${input.label}不能大于 ${input.max}。` };
      return { ok: true, value: grouped.value };
    }
    default:
      if (input.maxLength && t.length > input.maxLength) {
        return { ok: false, message: `${input.label}最多 ${input.maxLength} 字，现在是 ${t.length} 字，请精简后重新发送。` };
      }
      return { ok: true, value: t };
  }
}

export function stepsFromForm(inputs: FormInput[], now: () => Date, timeZone: string): DialogueStep[] {
  return inputs.map((input) => ({
    key: input.name,
    prompt: () => promptFor(input),
    parse: (text: string) => parseAnswer(input, text, now(), timeZone),
  }));
}
