import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Card } from '../cards/model.js';
import { runStudyDaily, studyKeys } from '../handlers/study.js';
import { createApp, SAMPLE_ROSTER, type App } from '../src/app.js';
import { fileSchema, loadConfig } from '../src/config.js';
import { submissionHistory } from '../src/domain/report.js';
import { importRosterFile } from '../src/domain/roster.js';
import { PlatformError } from '../src/errors.js';
import { createLogger } from '../src/logger.js';
import { SandboxPlatform, type SandboxMessage } from '../src/platform/sandbox/adapter.js';
import type { SendTarget, SentMessage } from '../src/platform/types.js';
import { getDeclaration } from '../src/store/declarations.js';
import { waitFor } from './fakes/recorder/seed.js';
import { scheduling } from '../scheduler/index.js';
import { listActiveStaff } from '../src/store/staff.js';
import { button, formOf } from './helpers/cards.js';
import { deleteRedisKeys, freshDb, REDIS_URL, uniqueName } from './helpers/db.js';

/**
 * 13.7: what follows a state change is durable. The platform refuses every send (and every
 * card update, so even the click's own answer is lost) from just before the change until the
 * bot is restarted: the change commits, nothing it announces gets out, the process goes away.
 * The next process must deliver each follow-up exactly once, and a repeated click none.
 */

/** The sandbox, with an outage switch: while `down`, the platform answers every call 503. */
class FlakySandbox extends SandboxPlatform {
  down = false;
  private check(): void {
    if (this.down) throw new PlatformError('service unavailable', 'sandbox', 503, true);
  }
  override async sendText(target: SendTarget, text: string): Promise<SentMessage> {
    this.check();
    return super.sendText(target, text);
  }
  override async sendCard(target: SendTarget, card: Card): Promise<SentMessage> {
    this.check();
    return super.sendCard(target, card);
  }
  override async updateCard(messageId: string, card: Card): Promise<void> {
    this.check();
    return super.updateCard(messageId, card);
  }
}

let clock = new Date('2026-11-25T02:00:00Z');
const json = (x: unknown) => JSON.stringify(x);

describe('13.7 follow-ups survive the bot going away right after a change commits', () => {
  const prefix = `test:${uniqueName('followups')}`;
  const sandbox = new FlakySandbox();
  let db: Awaited<ReturnType<typeof freshDb>>;
  let app: App;
  let url = '';

  /** One bot process on the shared database, Redis prefix and (outside-world) platform. */
  async function boot(): Promise<void> {
    const base = loadConfig({ REDIS_URL, REDIS_PREFIX: prefix, PORT: '0', LOG_LEVEL: 'silent', CONFIG_FILE: '/nonexistent/qinglian.yaml', SANDBOX: 'on', SCHEDULED_JOBS: 'off' });
    // Attempts to spare: the outage outlasts a few retries, never all of them.
    const settings = fileSchema.parse({ outbound: { attempts: 20, backoffMs: 500 } });
    app = await createApp({ config: { env: base.env, settings }, db, platforms: [sandbox], logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), now: () => clock });
    url = await app.start();
  }
  /** The outage ends with a restart: this process stops, a fresh one starts. */
  async function restart(): Promise<void> {
    await app.stop();
    sandbox.down = false;
    await boot();
  }

  const post = (path: string, body: unknown) => fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: json(body) });
  const inbox = (u: string): SandboxMessage[] => sandbox.inbox(u);
  async function ask(user: string, text: string): Promise<SandboxMessage> {
    const before = inbox(user).length;
    expect((await post('/sandbox/api/messages', { userId: user, text })).status).toBe(202);
    return waitFor(`reply to ${user}`, async () => inbox(user)[before], 10_000, 20);
  }
  const click = (user: string, messageId: string, actionId: string, value: unknown, form?: Record<string, string>) =>
    post('/sandbox/api/actions', { userId: user, messageId, actionId, value, form });
  /** The user's messages about declaration `id` whose title or text contains `part`. */
  const about = (user: string, id: string, part: string) =>
    inbox(user).filter((m) => (m.card ? json(m.card).includes(`"SB-${id}"`) && m.card.title.includes(part) : (m.text ?? '').includes(`SB-${id}`) && (m.text ?? '').includes(part)));
  const ledger = async (prefixKey: string) =>
    (await db.query<{ key: string; status: string }>(`SELECT key, status FROM send_ledger WHERE key LIKE $1 ORDER BY key`, [`${prefixKey}%`])).rows;

  beforeAll(async () => {
    db = await freshDb('pg', 'followups');
    await importRosterFile(db, SAMPLE_ROSTER, readFileSync(SAMPLE_ROSTER));
    await boot();
  });
  afterAll(async () => {
    await app?.stop();
    await deleteRedisKeys(prefix);
    await db?.dispose();
  });

  /** A declaration by S0001 submitted with the platform up; the head's card is delivered. */
  async function submitted(line: string): Promise<string> {
    const preview = await ask('S0001', line);
    const confirm = button(preview.card!, 'decl.confirm');
    await click('S0001', preview.id, 'decl.confirm', confirm.value);
    const id = String(confirm.value!.id);
    await waitFor('the head card', async () => about('S0003', id, '待审核').length > 0, 10_000, 20);
    return id;
  }
  const discipline = ['S0040', 'S0041', 'S0042'];
  /** After the restart: every discipline member's card and the declarant's notice, then time for any second copy. */
  async function discipliningDelivered(id: string): Promise<void> {
    await waitFor('the discipline cards and the notice', async () => discipline.every((u) => about(u, id, '待审核').length > 0) && about('S0001', id, '已转纪检监察室审核').length > 0, 20_000, 50);
    await new Promise((r) => setTimeout(r, 500));
  }

  it('13.7 (b) a submission committed during the outage reaches the first approver and the declarant after the restart, once each', async () => {
    const preview = await ask('S0001', '上缴 礼金 500 患者家属 2026-11-20 上缴医院财务 出院时塞在病历夹里');
    const confirm = button(preview.card!, 'decl.confirm');
    const id = String(confirm.value!.id);
    sandbox.down = true;
    await click('S0001', preview.id, 'decl.confirm', confirm.value);
    expect((await getDeclaration(db, id))!.state).toBe('pending_dept');
    expect(about('S0003', id, '待审核')).toHaveLength(0);

    await restart();
    await waitFor('the head card and the declarant notice', async () => about('S0003', id, '待审核').length > 0 && about('S0001', id, '等待科室负责人审核').length > 0, 20_000, 50);
    await new Promise((r) => setTimeout(r, 500)); // a second copy would be on its way by now
    expect(about('S0003', id, '待审核')).toHaveLength(1);
    expect(about('S0001', id, '等待科室负责人审核')).toHaveLength(1);
    // The other department's head is not an approver of this one.
    expect(about('S0009', id, '待')).toHaveLength(0);
  }, 60_000);

  it('13.7 (a) an approval committed during the outage reaches every next approver and the declarant after the restart, once each', async () => {
    const id = await submitted('上缴 礼金 600 患者家属 2026-11-21 上缴医院财务');
    const head = about('S0003', id, '待审核')[0];
    sandbox.down = true;
    await click('S0003', head.id, 'decl.approve', button(head.card!, 'decl.approve').value);
    expect((await getDeclaration(db, id))!.state).toBe('pending_discipline');
    for (const u of discipline) expect(about(u, id, '待审核')).toHaveLength(0);

    await restart();
    await discipliningDelivered(id);
    for (const u of discipline) expect(about(u, id, '待审核')).toHaveLength(1);
    expect(about('S0001', id, '已转纪检监察室审核')).toHaveLength(1);
    // The head's own card (whose click answer was lost) shows the decision too.
    await waitFor('the decided card', async () => sandbox.message('S0003', head.id)!.card!.title.includes('已同意'), 20_000, 50);
    // Each message is one ledger row, sent: the ledger, not the platform, kept them single.
    const rows = await ledger(`decl.${id}.`);
    expect(rows.filter((r) => r.status !== 'sent')).toEqual([]);
    expect(rows.filter((r) => r.key.includes('.cards/S004'))).toHaveLength(3);

    // The cards sent by the restarted process were recorded there, so the next decision
    // updates every one of them in place.
    const card = about('S0041', id, '待审核')[0];
    await click('S0041', card.id, 'decl.approve', button(card.card!, 'decl.approve').value);
    for (const u of ['S0040', 'S0042']) {
      await waitFor(`${u}'s card updated`, async () => json(sandbox.message(u, about(u, id, '')[0].id)!.card).includes('已由 白晓琳'), 10_000, 50);
    }
  }, 60_000);

  it('13.7 (e) a decision click redelivered after the restart sends no second follow-up', async () => {
    const id = await submitted('上缴 礼金 700 患者家属 2026-11-22 上缴医院财务');
    const head = about('S0003', id, '待审核')[0];
    const click1 = {
      kind: 'action' as const,
      platform: 'sandbox' as const,
      eventId: `redelivered-${id}`,
      platformUserId: 'S0003',
      conversation: { type: 'direct' as const, platformUserId: 'S0003' },
      messageId: head.id,
      actionId: 'decl.approve',
      value: button(head.card!, 'decl.approve').value as Record<string, string>,
      receivedAt: new Date(),
    };
    sandbox.down = true;
    // The platform never hears the answer: it will deliver the very same click again.
    await app.bot.onAction(click1);
    expect((await getDeclaration(db, id))!.state).toBe('pending_discipline');

    await restart();
    // Redelivered as it was, and once more as if Redis had forgotten the event (a fresh id).
    expect(await app.bot.onAction(click1)).toEqual({});
    const again = await app.bot.onAction({ ...click1, eventId: `redelivered-${id}-2` });
    expect(again.toast).toContain('无需重复操作');
    await discipliningDelivered(id);
    await new Promise((r) => setTimeout(r, 500));
    for (const u of discipline) expect(about(u, id, '待审核')).toHaveLength(1);
    expect(about('S0001', id, '已转纪检监察室审核')).toHaveLength(1);
  }, 60_000);

  it('13.7 (c) a report confirmed during the outage shows as confirmed after the restart, and confirming again adds no version', async () => {
    clock = new Date('2026-11-10T02:00:00Z');
    const msg = await ask('S0004', '上报');
    const form = formOf(msg.card!);
    await click('S0004', msg.id, form.actionId, form.value, { summary: '本月开展专题学习两次。', f0: '1', f1: '1' });
    const confirmCard = sandbox.message('S0004', msg.id)!.card!;
    const confirm = button(confirmCard, 'report.confirm');
    sandbox.down = true;
    await click('S0004', msg.id, 'report.confirm', confirm.value);
    const dept = (await db.query<{ id: number }>(`SELECT id FROM departments WHERE name = '心血管内科'`)).rows[0].id;
    expect(await submissionHistory(db, '2026-11', dept)).toHaveLength(1);
    expect(sandbox.message('S0004', msg.id)!.card!.title).toContain('请确认');

    await restart();
    await waitFor('the confirmed card', async () => sandbox.message('S0004', msg.id)!.card!.title.startsWith('已提交'), 20_000, 50);
    expect(json(sandbox.message('S0004', msg.id)!.card)).toContain('第 1 版');
    // The reporter, not seeing the answer in time, clicks the same 确认提交 again.
    const again = await click('S0004', msg.id, 'report.confirm', confirm.value);
    expect(((await again.json()) as { toast?: string }).toast ?? '').toMatch(/已提交|已过期或已提交/);
    expect(await submissionHistory(db, '2026-11', dept)).toHaveLength(1);
  }, 60_000);

  it('13.7 (d) a study escalation made during the outage reaches each head and leader once after the restart', async () => {
    clock = new Date('2026-12-01T01:05:00Z');
    sandbox.down = true;
    await runStudyDaily(app.bot, clock);
    const key = studyKeys.overdue('2026-11');
    const rows = await ledger(`${key}/`);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.status === 'pending')).toBe(true);

    await restart();
    await waitFor('every escalation sent', async () => (await ledger(`${key}/`)).every((r) => r.status === 'sent'), 30_000, 100);
    for (const r of rows) {
      const staffId = r.key.split('/')[1];
      const got = inbox(staffId).filter((m) => m.card?.title.includes('2026年11月') && (m.card.title.includes('未完成') || m.card.title.includes('完成情况')));
      expect(got, staffId).toHaveLength(1);
    }
  }, 60_000);

  it('13.7 (d) a push that fails while writing its recipients leaves no campaign behind, so the rerun creates and sends it whole', async () => {
    const { outbound } = scheduling(app.bot);
    const recipients = (await listActiveStaff(db)).filter((s) => s.roles.includes('leader'));
    let calls = 0;
    const spec = { key: 'test.followups.atomic', kind: 'test', title: '原子写入测试', recipients, render: (s: { name: string }) => `原子写入测试：${s.name}` };
    await expect(outbound.createCampaign({ ...spec, render: (s) => (++calls === 2 ? Promise.reject(new Error('database blip')) : spec.render(s)) })).rejects.toThrow('database blip');
    expect(await outbound.status(spec.key)).toBeUndefined();
    const rerun = await outbound.createCampaign(spec);
    expect([rerun.created, rerun.added]).toEqual([true, recipients.length]);
  }, 30_000);
});
