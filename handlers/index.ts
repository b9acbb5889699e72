import type { Bot } from '../src/bot/bot.js';
import { registerAdmin } from './admin.js';
import { registerApprove } from './approve.js';
import { registerDeclare } from './declare.js';
import { registerDraftReminder } from './draft-reminder.js';
import { registerHelp } from './help.js';
import { registerNotice } from './notice.js';
import { registerProgress } from './progress.js';
import { registerPush } from './push.js';
import { registerQuiz } from './quiz.js';
import { registerRectification } from './rectification.js';
import { registerReport } from './report.js';
import { registerStudy } from './study.js';
import { registerTipoff } from './tipoff.js';

/** Every feature registers its commands and card actions here, in help's display order. */
export function registerHandlers(bot: Bot): void {
  registerHelp(bot);
  registerStudy(bot);
  registerReport(bot);
  const quiz = registerQuiz(bot);
  registerDeclare(bot);
  registerApprove(bot);
  registerDraftReminder(bot);
  registerTipoff(bot);
  registerNotice(bot, quiz);
  registerRectification(bot);
  registerProgress(bot);
  registerAdmin(bot);
  registerPush(bot);
}
