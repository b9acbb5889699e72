import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_ROSTER } from '../src/app.js';
import { fileSchema } from '../src/config.js';
import { importRosterFile } from '../src/domain/roster.js';
import { Keyring } from '../src/domain/tipoff/sealing.js';
import { fileTipoff, moveCase, openReporter, type Clock } from '../src/domain/tipoff/workflow.js';
import { getStaff } from '../src/store/staff.js';
import { getTipoff, listTipoffs, readReporter } from '../src/store/tipoffs.js';
import { freshDb } from './helpers/db.js';

/** The ledger's SQL on embedded PGlite as well (the same migrations and statements as on PostgreSQL). */
describe('the tip-off ledger on PGlite', () => {
  let db: Awaited<ReturnType<typeof freshDb>>;
  const keyring = new Keyring(Buffer.alloc(32, 5));
  const clock = (): Clock => ({ now: new Date('2026-12-07T02:00:00Z'), timeZone: 'Asia/Shanghai', settings: fileSchema.parse({}).tipoff });
  beforeAll(async () => {
    db = await freshDb('pglite', 'tipoff_pglite');
    await importRosterFile(db, SAMPLE_ROSTER, readFileSync(SAMPLE_ROSTER));
  });
  afterAll(async () => {
    await db.dispose();
  });

  it('files with sealed reporter and evidence, moves under guard, and opens the reporter for 纪检 only', async () => {
    const reporter = (await getStaff(db, 'S0001'))!;
    const input = { occurred: '11月', place: '门诊', department: '普外科', persons: '某医师', matter: '索要红包', realName: true };
    const { tipoff } = await fileTipoff(db, keyring, reporter, input, [{ name: 'a.png', ref: 'sandbox:1', data: Buffer.from('png'), mime: 'image/png' }], clock());
    expect(tipoff).toMatchObject({ state: 'received', dueOn: '2026-12-10', feedbackDueOn: '2027-01-18', realName: true });
    expect(tipoff.attachments).toHaveLength(1);
    expect(Buffer.isBuffer((await readReporter(db, tipoff.id))!.sealed)).toBe(true);
    const office = (await getStaff(db, 'S0041'))!;
    expect(await openReporter(db, keyring, tipoff, office)).toBe('S0001');
    expect(await openReporter(db, keyring, tipoff, (await getStaff(db, 'S0005'))!)).toBeUndefined();
    const moved = await moveCase(db, office, { id: tipoff.id, version: tipoff.version, move: 'accept', note: '受理' }, clock());
    expect(moved.tipoff.state).toBe('preliminary');
    await expect(moveCase(db, office, { id: tipoff.id, version: tipoff.version, move: 'accept', note: '再次' }, clock())).rejects.toThrow('已有更新');
    await expect(moveCase(db, reporter, { id: tipoff.id, move: 'verify', note: '越权' }, clock())).rejects.toThrow('没有找到');
    expect((await getTipoff(db, tipoff.id))!.state).toBe('preliminary');
    expect(await listTipoffs(db, { overdueOn: '2027-02-01' })).toHaveLength(1);
  });
});
