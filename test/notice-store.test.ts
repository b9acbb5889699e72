import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_ROSTER } from '../src/app.js';
import { importRosterFile } from '../src/domain/roster.js';
import { claimReminder, composeDraft, confirmRead, dueReminderIds, markPushed, publishNotice, receiptOf } from '../src/store/notices.js';
import { freshDb } from './helpers/db.js';

/** The repository's guarded transitions on embedded PGlite: publish once, read one's own row, claim a reminder once. */
describe('通报 repository (PGlite)', () => {
  let db: Awaited<ReturnType<typeof freshDb>>;
  const at = new Date('2026-12-10T02:00:00Z');
  const later = (h: number) => new Date(at.getTime() + h * 3600_000);
  let id = '';

  beforeAll(async () => {
    db = await freshDb('pglite', 'notice_store');
    await importRosterFile(db, SAMPLE_ROSTER, readFileSync(SAMPLE_ROSTER));
    id = await composeDraft(db, { kind: 'warning', rule: 3, title: 't', body: 'b', fileId: null, audience: {}, createdBy: 'S0041', at });
  });
  afterAll(async () => {
    await db?.dispose();
  });

  it('publishes a draft once, and only for its author', async () => {
    const recipients = [{ staffId: 'S0001', departmentId: 1 }, { staffId: 'S0002', departmentId: 2 }];
    expect(await publishNotice(db, { id, authorId: 'S0040', at, remindAfterHours: 24, recipients })).toBe(false);
    expect(await publishNotice(db, { id, authorId: 'S0041', at, remindAfterHours: 24, recipients })).toBe(true);
    expect(await publishNotice(db, { id, authorId: 'S0041', at, remindAfterHours: 24, recipients })).toBe(false);
    const n = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM notice_recipients WHERE notice_id = $1', [id]);
    expect(n.rows[0].n).toBe(2);
  });

  it('marks only the actor’s own receipt, once', async () => {
    expect((await confirmRead(db, id, 'S0001', 'card', later(1))).kind).toBe('read');
    expect((await confirmRead(db, id, 'S0001', 'message', later(2))).kind).toBe('already');
    expect((await confirmRead(db, id, 'S0017', 'card', later(2))).kind).toBe('not_recipient');
    expect((await receiptOf(db, id, 'S0002'))?.readAt).toBeNull();
    const audit = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'notice.read' AND entity_id = $1`, [id]);
    expect(audit.rows[0].n).toBe(1);
  });

  it('offers a due reminder to one claimant, and to another only after the lease of a crashed one', async () => {
    expect(await dueReminderIds(db, later(25), 600_000)).toEqual([]); // not pushed yet
    await markPushed(db, id, at);
    expect(await dueReminderIds(db, later(23), 600_000)).toEqual([]);
    expect(await dueReminderIds(db, later(25), 600_000)).toEqual([id]);
    const claims = await Promise.all([claimReminder(db, id, later(25), 600_000), claimReminder(db, id, later(25), 600_000)]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await dueReminderIds(db, later(25.1), 600_000)).toEqual([]);
    expect(await claimReminder(db, id, later(25.1), 600_000)).toBe(false);
    // The claimant never marked it done: after the lease another sweep takes it over.
    expect(await claimReminder(db, id, later(26), 600_000)).toBe(true);
  });
});
