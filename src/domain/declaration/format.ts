import { dateTimeLabel } from '../calendar.js';

/** A time as shown on declaration cards and exports, in the bot's zone (BOT_TIMEZONE). */
export const formatTime = dateTimeLabel;
