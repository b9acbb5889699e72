import type { Bot } from '../src/bot/bot.js';
import { registerAdmin } from './admin.js';
import { registerHelp } from './help.js';

/** Every feature registers its commands and card actions here, in help's display order. */
export function registerHandlers(bot: Bot): void {
  registerHelp(bot);
  registerAdmin(bot);
}
