import type { Bot } from '../src/bot/bot.js';
import { registerAdmin } from './admin.js';
import { registerApprove } from './approve.js';
import { registerDeclare } from './declare.js';
import { registerHelp } from './help.js';
import { registerQuiz } from './quiz.js';

/** Every feature registers its commands and card actions here, in help's display order. */
export function registerHandlers(bot: Bot): void {
  registerHelp(bot);
  registerQuiz(bot);
  registerDeclare(bot);
  registerApprove(bot);
  registerAdmin(bot);
}
