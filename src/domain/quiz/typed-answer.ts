import { OPTION_LETTERS, type QuestionVersion } from './question.js';

const TRUE_WORDS = new Set(['对', '正确', '是', '√', '✓']);
const FALSE_WORDS = new Set(['错', '错误', '否', '×', 'x', '✗']);

/**
 * Reads an answer typed as a message (`答 B`, `答 A C D`, `答 对`) into shown positions, or says
 * in Chinese why it cannot. Letters are the ones on the card (shown order); a true/false question
 * also takes 对/错, matched against the option texts as shown.
 */
export function parseTypedAnswer(raw: string, q: Pick<QuestionVersion, 'type' | 'options'>, optionOrder: number[]): number[] | string {
  const t = raw.replace(/[\s,，、;；.。]/g, '');
  if (!t) return q.type === 'judge' ? '请写出答案，例如“答 对”或“答 错”。' : `请写出选项字母，例如“答 B”${q.type === 'multiple' ? '或“答 ACD”' : ''}。`;
  if (q.type === 'judge' && (TRUE_WORDS.has(t) || FALSE_WORDS.has(t.toLowerCase()))) {
    const want = TRUE_WORDS.has(t) ? '正确' : '错误';
    const shown = optionOrder.findIndex((original) => q.options[original] === want);
    if (shown >= 0) return [shown];
  }
  const letters = t.toUpperCase();
  const valid = OPTION_LETTERS.slice(0, optionOrder.length);
  if (!/^[A-Z]+$/.test(letters) || [...letters].some((c) => !valid.includes(c))) {
    return q.type === 'judge' ? '这是判断题，请回复“答 对”或“答 错”。' : `这道题的选项是 ${valid.join('、')}，请回复例如“答 ${valid[1]}”。`;
  }
  const shown = [...new Set([...letters].map((c) => valid.indexOf(c)))].sort((a, b) => a - b);
  if (q.type !== 'multiple' && shown.length !== 1) return `这道${q.type === 'judge' ? '判断' : '单选'}题只能选一个答案。`;
  return shown;
}
