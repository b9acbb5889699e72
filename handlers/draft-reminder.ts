import { draftReminderText } from '../cards/declaration.js';
import { hasScheduling, scheduling } from '../scheduler/index.js';
import type { Staged } from '../scheduler/outbound.js';
import type { Bot } from '../src/bot/bot.js';
import { addDays, localDate, startOfDay } from '../src/domain/calendar.js';
import { getStaff } from '../src/store/staff.js';

/**
 * The draft reminder of 上缴申报: a draft left unsubmitted is easy to forget (it never reaches
 * an approver), so its author is told once, on the day after it was begun.
 */

/**
 * Older drafts are left alone: a reminder weeks late (after an outage, or on the first run of
 * this feature) would only puzzle; a week still covers a long holiday of missed runs.
 */
const LOOK_BACK_DAYS = 7;

export const draftReminderKey = (id: string): string => `decl.${id}.draft-remind`;

/** Reminds the authors of drafts begun before today; each draft's reminder is its own campaign, so a rerun sends nothing twice. */
export async function runDraftReminders(bot: Bot, now: Date = bot.now()): Promise<string[]> {
  const today = localDate(now, bot.timeZone);
  const { outbound } = scheduling(bot);
  const staged: Staged = [];
  const reminded: string[] = [];
  const from = startOfDay(addDays(today, -LOOK_BACK_DAYS), bot.timeZone);
  await bot.repos.declarations.remindDrafts(from, startOfDay(today, bot.timeZone), async (tx, d) => {
    const author = await getStaff(tx, d.declarantId);
    if (!author?.active) return;
    // With the check that it is still a draft: a crash after the commit still sends it, a rerun finds the campaign.
    const rows = await outbound.stage(tx, { key: draftReminderKey(d.id), kind: 'decl.draft-remind', title: '上缴申报草稿提醒', to: [{ staff: author, content: draftReminderText(d) }] });
    if (rows.length) reminded.push(d.id);
    staged.push(...rows);
  });
  await outbound.deliver(staged);
  return reminded;
}

export function registerDraftReminder(bot: Bot): void {
  if (!hasScheduling(bot)) return;
  // Mid-morning: at work, and after the previous day's drafts have had the evening to be finished.
  scheduling(bot).scheduler.every('declaration.drafts', '20 9 * * *', async ({ now }) => {
    const reminded = await runDraftReminders(bot, now);
    // Ids only: a draft's content is its author's alone.
    if (reminded.length) bot.log.info({ reminded }, 'declaration draft reminders run');
  });
}
