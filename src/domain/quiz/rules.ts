/**
 * The nine rules of 《医疗机构工作人员廉洁从业九项准则》 (2021): the spine of the question bank.
 * Questions with `rule: null` test a related document and are grouped by their topic instead.
 */
export const NINE_RULES: Record<number, string> = {
  1: '合法按劳取酬，不接受商业提成',
  2: '严守诚信原则，不参与欺诈骗保',
  3: '依据规范行医，不实施过度诊疗',
  4: '遵守工作规程，不违规接受捐赠',
  5: '恪守保密准则，不泄露患者隐私',
  6: '服从诊疗需要，不牟利转介患者',
  7: '维护诊疗秩序，不破坏就医公平',
  8: '共建和谐关系，不收受患方“红包”',
  9: '恪守交往底线，不收受企业回扣',
};

const CN_NUMBERS = ['', '一', '二', '三', '四', '五', '六', '七', '八', '九'];

/** "九项准则第三条（依据规范行医，不实施过度诊疗）", or the topic for related documents. */
export function ruleLabel(rule: number | null, topic: string): string {
  if (rule === null) return `专题：${topic}`;
  return `九项准则第${CN_NUMBERS[rule]}条（${NINE_RULES[rule]}）`;
}

/** The group a question is drawn from, so a quiz spreads across the rules and topics. */
export const ruleGroup = (rule: number | null, topic: string): string => (rule === null ? `topic:${topic}` : `rule:${rule}`);
