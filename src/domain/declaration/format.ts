/** A time as shown on declaration cards and exports, in the bot's zone (BOT_TIMEZONE). */
export function formatTime(d: Date | null | undefined, timeZone: string): string {
  if (!d) return '';
  return new Intl.DateTimeFormat('zh-CN', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false })
    .format(d)
    .replace(/\//g, '-');
}
