import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOTICE_PUBLISH_ACTION, NOTICE_READ_ACTION } from '../cards/notice.js';
import { scheduling } from '../scheduler/index.js';
import { createApp, SAMPLE_ROSTER, type App } from '../src/app.js';
import { fileSchema, loadConfig } from '../src/config.js';
import { importRosterFile } from '../src/domain/roster.js';
import { createLogger } from '../src/logger.js';
import { composeDraft } from '../src/store/notices.js';
import { seedStaff, waitFor } from './fakes/recorder/seed.js';
import { deleteRedisKeys, freshDb, REDIS_URL, uniqueName } from './helpers/db.js';
import { RecordingPlatform } from './helpers/recording-platform.js';

/**
 * A 通报 to 2,000 staff with two replicas sharing one Redis and one PostgreSQL: the push
 * reaches everyone exactly once, 600 confirm (half by click, half by message, on either
 * replica), and when both replicas run the reminder sweep at the same moment, the 1,400 who
 * have not read get exactly one reminder each and the readers none.
 */
const N = 2000;
const AUTHOR = 'S0041';

describe('a 通报 to 2,000 staff on two replicas', () => {
  const prefix = `test:${uniqueName('notice_volume')}`;
  let db: Awaited<ReturnType<typeof freshDb>>;
  let now = new Date('2026-12-10T02:00:00Z');
  const platforms = [new RecordingPlatform('sandbox'), new RecordingPlatform('sandbox')];
  const apps: App[] = [];
  let staff: string[] = [];

  beforeAll(async () => {
    db = await freshDb('pg', 'notice_volume');
    await importRosterFile(db, SAMPLE_ROSTER, readFileSync(SAMPLE_ROSTER));
    staff = await seedStaff(db, N, '压力测试科');
    const base = loadConfig({ REDIS_URL, REDIS_PREFIX: prefix, PORT: '0', LOG_LEVEL: 'silent', CONFIG_FILE: '/nonexistent/qinglian.yaml', SANDBOX: 'off', SCHEDULED_JOBS: 'off' });
    const settings = fileSchema.parse({ outbound: { concurrency: 40 }, notice: { remindAfterHours: 12 } });
    for (const p of platforms) {
      const app = await createApp({ config: { env: base.env, settings }, db, platforms: [p], logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), now: () => now });
      await app.start();
      apps.push(app);
    }
  }, 60_000);
  afterAll(async () => {
    for (const a of apps) await a.stop();
    await deleteRedisKeys(prefix);
    await db?.dispose();
  });

  /** What every recipient got, over both replicas: texts and card titles. */
  const received = (s: string, match: (x: string) => boolean) => platforms.flatMap((p) => p.to(s)).filter(match).length;
  const sentCount = (match: (x: string) => boolean) => platforms.reduce((n, p) => n + p.sent.filter((m) => match(m.text ?? `[card] ${m.card?.title}`)).length, 0);

  it('pushes once per person, takes 600 receipts and reminds the 1,400 others exactly once', async () => {
    const id = await composeDraft(db, { kind: 'general', rule: null, title: '关于规范医药代表接待的通报', body: '请全科室人员严格执行医药代表接待登记制度。', fileId: null, audience: { departments: ['压力测试科'] }, createdBy: AUTHOR, at: now });
    const event = (i: number) => ({ platform: 'sandbox' as const, eventId: `e${i}`, receivedAt: now });
    const result = await apps[0].bot.onAction({ kind: 'action', ...event(0), platformUserId: AUTHOR, conversation: { type: 'direct', platformUserId: AUTHOR }, messageId: 'preview', actionId: NOTICE_PUBLISH_ACTION, value: { n: id } });
    expect(result.toast).toContain(`正在发送给 ${N} 人`);
    // The second replica's click on the same draft publishes nothing more.
    const again = await apps[1].bot.onAction({ kind: 'action', ...event(1), platformUserId: AUTHOR, conversation: { type: 'direct', platformUserId: AUTHOR }, messageId: 'preview', actionId: NOTICE_PUBLISH_ACTION, value: { n: id } });
    expect(again.toast).toMatch(/已(于此前)?发布/);

    const isCard = (x: string) => x === '[card] 通报：关于规范医药代表接待的通报';
    // The platform has a send before the ledger marks it: wait for the ledger.
    await waitFor('every push marked sent', async () => (await scheduling(apps[0].bot).outbound.status(`notice.${id}.push`))?.sent === N, 120_000, 100);
    expect(sentCount(isCard)).toBe(N);

    const readers = staff.filter((_, i) => i % 10 < 3);
    for (const [i, s] of readers.entries()) {
      const bot = apps[i % 2].bot;
      const conversation = { type: 'direct' as const, platformUserId: s };
      if (i % 2 === 0) {
        const r = await bot.onAction({ kind: 'action', ...event(100 + i), platformUserId: s, conversation, messageId: 'card', actionId: NOTICE_READ_ACTION, value: { n: id } });
        expect(r.toast, s).toContain('已确认阅读');
      } else {
        await bot.onMessage({ kind: 'message', ...event(100 + i), platformUserId: s, conversation, text: `已阅 ${id}`, mentioned: true });
      }
    }
    const read = await db.query<{ card: number; message: number }>(
      `SELECT count(*) FILTER (WHERE read_via = 'card')::int AS card, count(*) FILTER (WHERE read_via = 'message')::int AS message FROM notice_recipients WHERE notice_id = $1`,
      [id],
    );
    expect(read.rows[0]).toEqual({ card: 300, message: 300 });

    // Before the delay nothing is reminded; after it, both replicas sweep at the same instant.
    await Promise.all(apps.map((a) => scheduling(a.bot).scheduler.runNow('notice.sweep')));
    expect(await scheduling(apps[0].bot).outbound.status(`notice.${id}.remind`)).toBeUndefined();
    now = new Date(now.getTime() + 13 * 3600_000);
    await Promise.all(apps.map((a) => scheduling(a.bot).scheduler.runNow('notice.sweep')));
    await Promise.all(apps.map((a) => scheduling(a.bot).scheduler.runNow('notice.sweep')));
    const isReminder = (x: string) => x.startsWith('【通报提醒】您还没有确认阅读《关于规范医药代表接待的通报》');
    await waitFor('every reminder marked sent', async () => (await scheduling(apps[0].bot).outbound.status(`notice.${id}.remind`))?.sent === N - readers.length, 120_000, 100);
    // Give a duplicate every chance to show up.
    await new Promise((r) => setTimeout(r, 500));
    const readerSet = new Set(readers);
    const wrong = staff.filter((s) => received(s, isCard) !== 1 || received(s, isReminder) !== (readerSet.has(s) ? 0 : 1));
    expect(wrong).toEqual([]);
    expect(await scheduling(apps[0].bot).outbound.status(`notice.${id}.remind`)).toMatchObject({ total: N - readers.length, sent: N - readers.length });
    const marked = await db.query<{ reminded: boolean }>('SELECT reminded_at IS NOT NULL AS reminded FROM notices WHERE id = $1', [id]);
    expect(marked.rows[0].reminded).toBe(true);
  }, 240_000);
});
