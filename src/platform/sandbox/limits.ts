/** The longest message the sandbox takes, shared by its page (which refuses first) and its API. */
export const MAX_TEXT = 4000;

/** Said to a person, who typed or pasted it: how long it is, never the text itself. */
export function tooLongMessage(length: number): string {
  return `这条消息太长了（${length} 字），沙盒一次最多收 ${MAX_TEXT} 字。消息没有发出，请删减或分几次发送。`;
}
