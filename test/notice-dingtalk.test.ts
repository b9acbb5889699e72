import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOTICE_PUBLISH_ACTION } from '../cards/notice.js';
import { scheduling } from '../scheduler/index.js';
import { composeDraft } from '../src/store/notices.js';
import { listActiveStaff } from '../src/store/staff.js';
import { settledCampaign } from './helpers/app.js';
import { startDingTalkApp, type DingTalkHarness } from './fakes/dingtalk/harness.js';

/**
 * On DingTalk (real dingtalk-stream client, fake DingTalk): the 通报 reaches each person once,
 * 已阅 by message counts, and the reminder, the same words for everyone, goes out through
 * batchSend at most 20 a call, to the non-readers only.
 */
describe('通报 on DingTalk', () => {
  let h: DingTalkHarness;
  let now = new Date('2026-12-10T02:00:00Z');
  beforeAll(async () => {
    h = await startDingTalkApp('notice_dingtalk', {}, {}, { now: () => now, settings: { outbound: { concurrency: 40 } } });
  });
  afterAll(async () => {
    await h?.dispose();
  });

  it('pushes once, counts 已阅 by message, and batches the identical reminder to the non-readers', async () => {
    const bot = h.t.app.bot;
    const everyone = await listActiveStaff(h.t.app.db);
    // Those without a DingTalk account are unreachable: counted, never sent to.
    const staff = everyone.filter((s) => s.dingtalkUserId);
    const unreachable = everyone.length - staff.length;
    expect(unreachable).toBeGreaterThan(0);
    h.fake.opts.knownUserIds.push(...staff.map((s) => s.dingtalkUserId!));
    const author = staff.find((s) => s.staffId === 'S0041')!;
    const id = await composeDraft(h.t.app.db, { kind: 'general', rule: null, title: '节日期间廉洁提醒', body: '严禁收受患者及其家属的红包礼品。', fileId: null, audience: {}, createdBy: author.staffId, at: now });
    const me = { type: 'direct' as const, platformUserId: author.dingtalkUserId! };
    const r = await bot.onAction({ kind: 'action', platform: 'dingtalk', eventId: 'pub', platformUserId: author.dingtalkUserId!, conversation: me, messageId: 'preview', actionId: NOTICE_PUBLISH_ACTION, value: { n: id }, receivedAt: now });
    expect(r.toast).toContain(`正在发送给 ${everyone.length} 人`);
    expect(await settledCampaign(h.t, `notice.${id}.push`)).toMatchObject({ total: everyone.length, sent: staff.length, unreachable });

    const readers = staff.slice(0, 5);
    for (const [i, s] of readers.entries()) {
      await bot.onMessage({ kind: 'message', platform: 'dingtalk', eventId: `read${i}`, platformUserId: s.dingtalkUserId!, conversation: { type: 'direct', platformUserId: s.dingtalkUserId! }, text: `已阅 ${id}`, mentioned: true, receivedAt: now });
    }
    const read = await h.t.app.db.query<{ staff_id: string }>('SELECT staff_id FROM notice_recipients WHERE notice_id = $1 AND read_at IS NOT NULL ORDER BY staff_id', [id]);
    expect(read.rows.map((x) => x.staff_id)).toEqual(readers.map((s) => s.staffId).sort());

    now = new Date(now.getTime() + 25 * 3600_000);
    await scheduling(bot).scheduler.runNow('notice.sweep');
    const unread = staff.length - readers.length;
    expect(await settledCampaign(h.t, `notice.${id}.remind`)).toMatchObject({ total: unread + unreachable, sent: unread, unreachable });
    const calls = h.fake.received.filter((c) => c.path === '/v1.0/robot/oToMessages/batchSend' && (c.body as { msgParam: string }).msgParam.includes('【通报提醒】'));
    for (const c of calls) expect((c.body as { userIds: string[] }).userIds.length).toBeLessThanOrEqual(20);
    // Batched: far fewer calls than people (37 people in 20s fill two calls; allow for partial ones under load).
    expect(calls.length).toBeLessThan(unread / 2);
    const delivered = h.fake.oto.filter((m) => String(m.msgParam.content ?? '').startsWith('【通报提醒】')).flatMap((m) => m.userIds);
    expect(delivered.sort()).toEqual(staff.slice(readers.length).map((s) => s.dingtalkUserId!).sort());
  }, 120_000);
});
