import type { Staff } from '../store/staff.js';
import { SENTENCE_MARKS } from './command-parser.js';

/**
 * Greetings, thanks and acknowledgements typed as if to a colleague. They are not commands,
 * and answering them with "没有这个命令" reads as rude; a short human answer that points to
 * what the person can do next is what they expect.
 */
const GREETINGS = ['你好', '您好', '你好呀', '您好呀', '嗨', '哈喽', 'hi', 'hello', '在吗', '在不在', '在么', '有人吗', '早', '早上好', '上午好', '中午好', '下午好', '晚上好'];
const THANKS = ['谢谢', '谢谢你', '谢谢您', '多谢', '感谢', '非常感谢', '辛苦了', '辛苦', 'thanks', 'thankyou', '谢了'];
const ACKS = ['好的', '好', '收到', '知道了', '明白', '明白了', 'ok', '嗯', '嗯嗯', '好滴', '行'];

const MARKS = new RegExp(`[\\s${SENTENCE_MARKS}]+`, 'gu');

export function smallTalkReply(text: string, staff: Pick<Staff, 'name'>): string | undefined {
  const t = text.normalize('NFKC').replace(/@\S+/g, '').replace(MARKS, '').toLowerCase();
  if (!t) return undefined;
  const next = '发送“我的进度”查看您本月还需完成的事项，或发送“帮助”查看您可以使用的全部命令。';
  if (GREETINGS.includes(t)) return `${staff.name}，您好！我是清廉助手，一直在线。${next}`;
  if (THANKS.includes(t)) return `不客气，${staff.name}！${next}`;
  if (ACKS.includes(t)) return `好的。${next}`;
  return undefined;
}

/** At most `max` characters of what someone typed, for quoting it back in an answer. */
export function quoteTyped(word: string, max = 12): string {
  const chars = [...word];
  return chars.length > max ? `${chars.slice(0, max).join('')}…` : word;
}
