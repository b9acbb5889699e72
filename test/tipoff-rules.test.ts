import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { caseDetailCard, reminderText, escalationText, tipoffStatsCard, tipoffProgressLine, queryAnswerCard } from '../cards/tipoff.js';
import { parseListArgs, parseTipoffArgs } from '../src/domain/tipoff/requests.js';
import { addWorkingDays } from '../src/domain/calendar.js';
import { smallCount, smallShare } from '../src/domain/small-counts.js';
import { hashQueryCode, newQueryCode } from '../src/domain/tipoff/query-code.js';
import { movesFrom, type Tipoff } from '../src/domain/tipoff/record.js';
import { DEV_KEY_FILE, Keyring, keyringFrom } from '../src/domain/tipoff/sealing.js';
import { checkRegistered, checkTipoff } from '../src/domain/tipoff/validation.js';

/** The rules of 线索反映 that need no bot: cards, sealing and rotation, codes, deadlines, parsing. */

const base: Tipoff = {
  id: '12', source: 'bot', realName: false, state: 'preliminary', version: 3, occurred: '11月中旬', place: '门诊三楼', department: '普外科', persons: '某医师', matter: '索要红包两千元',
  sourceDetail: null, attachments: [], handlerId: null, handlerName: null, disposition: null, reply: null, repliedAt: null, mergedInto: null,
  createdAt: new Date('2026-12-07T02:00:00Z'), stateSince: new Date('2026-12-07T02:00:00Z'), dueOn: '2026-12-28', remindedAt: null, escalatedAt: null, feedbackDueOn: null, closedAt: null,
};
const json = (x: unknown) => JSON.stringify(x);

describe('tip-off cards', () => {
  it('reminders and escalations carry the case number and the step, never the content', () => {
    for (const s of [reminderText(base), escalationText(base)]) {
      expect(s).toContain('线索 XS-12 待初核');
      for (const v of [base.matter, base.department, base.persons, base.place]) expect(s).not.toContain(v);
    }
  });

  it('leadership counts show 1 and 2 as "<3", and nothing but month, state and count', () => {
    const c = tipoffStatsCard([
      { month: '2026-12', state: 'received', count: 1 },
      { month: '2026-12', state: 'closed', count: 7 },
      { month: '2026-11', state: 'closed', count: 2 },
    ]);
    const rows = (c.elements[0] as { rows: string[][] }).rows;
    expect(rows[0][0]).toBe('2026-12');
    expect(rows[0]).toContain('<3');
    expect(rows[0]).toContain('7');
    expect(rows[0].at(-1)).toBe('8');
    expect(rows[1].at(-1)).toBe('<3');
    expect([smallCount(0), smallCount(1), smallCount(2), smallCount(3)]).toEqual(['0', '<3', '<3', '3']);
    expect(smallShare(1, 2)).toBe('<3 件');
    expect(smallShare(3, 4)).toBe('75%');
    expect(tipoffProgressLine({ received: 2, inTime: 2, realName: 1, realNameReplied: 1 })).toBe('线索反映（本月）：收到 <3 件，按期办理 <3 件，实名反馈率 <3 件。');
  });

  it('the case card shows the reporter only as the caller was allowed to open them, and offers the moves of its state', () => {
    const c = caseDetailCard(base, [], { reporter: '身份保密', links: [], today: '2026-12-29' }, 'Asia/Shanghai');
    expect(json(c)).toContain('身份保密');
    expect(json(c)).toContain('（已超期）');
    const moves = c.elements.flatMap((e) => (e.type === 'actions' ? e.buttons.map((b) => (b.kind === 'button' ? b.value?.m : '')) : []));
    expect(moves).toEqual(movesFrom('preliminary'));
    expect(moves).toEqual(['verify', 'dispose']);
    // What a 查询码 shows: the state and the reply only.
    const q = json(queryAnswerCard({ ...base, reply: '已处理' }, 'replied', '已处理'));
    expect(q).toContain('已处理');
    expect(q).not.toContain(base.matter);
    expect(q).not.toContain(base.persons);
  });
});

describe('sealing the reporter', () => {
  it('a rotated key still opens what it sealed; new values use the new key; a wrong key or case opens nothing', () => {
    const oldKey = Buffer.alloc(32, 1);
    const newKey = Buffer.alloc(32, 2);
    const before = new Keyring(oldKey).seal('{"staffId":"S0001"}', 'tipoff:5');
    const rotated = new Keyring(newKey, [oldKey]);
    expect(rotated.open(before, 'tipoff:5')).toBe('{"staffId":"S0001"}');
    const after = rotated.seal('{"staffId":"S0002"}', 'tipoff:6');
    expect(after.keyId).not.toBe(before.keyId);
    expect(new Keyring(newKey).open(before, 'tipoff:5')).toBeUndefined();
    expect(rotated.open(before, 'tipoff:6')).toBeUndefined();
    expect(rotated.open({ ...before, sealed: Buffer.from(before.sealed.map((b) => b ^ 1)) }, 'tipoff:5')).toBeUndefined();
  });

  it('production without TIPOFF_KEY cannot seal and says so; development generates a private key file once', () => {
    const warnings: string[] = [];
    const prod = keyringFrom({ NODE_ENV: 'production', DATA_DIR: '/nonexistent' }, (m) => warnings.push(m));
    expect(prod.keyring().canSeal).toBe(false);
    expect(prod.warning).toContain('TIPOFF_KEY');
    const dir = mkdtempSync(join(tmpdir(), 'tipoff-key-'));
    const dev = keyringFrom({ NODE_ENV: 'development', DATA_DIR: dir }, (m) => warnings.push(m));
    expect(dev.warning).toBeUndefined();
    const sealed = dev.keyring().seal('x', 'tipoff:1');
    expect(statSync(join(dir, DEV_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(warnings.some((w) => w.includes('generated a development key'))).toBe(true);
    // A restart reads the same key back.
    const again = keyringFrom({ NODE_ENV: 'development', DATA_DIR: dir }, () => {});
    expect(again.keyring().open(sealed, 'tipoff:1')).toBe('x');
    expect(readFileSync(join(dir, DEV_KEY_FILE), 'utf8').trim()).toHaveLength(44);
  });
});

describe('查询码, deadlines and parsing', () => {
  it('codes are random, typed loosely, and stored only as a hash', () => {
    const a = newQueryCode();
    expect(a).toMatch(/^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$/);
    expect(newQueryCode()).not.toBe(a);
    expect(hashQueryCode(a.toLowerCase().replace(/-/g, ' '))).toBe(hashQueryCode(a));
    expect(hashQueryCode(a)).not.toContain(a.replace(/-/g, ''));
  });

  it('working days skip weekends and holidays and count 调休 weekends', () => {
    expect(addWorkingDays('2026-12-07', 3)).toBe('2026-12-10');
    expect(addWorkingDays('2026-12-10', 2)).toBe('2026-12-14');
    expect(addWorkingDays('2026-12-31', 1, { holidays: ['2027-01-01'] })).toBe('2027-01-04');
    expect(addWorkingDays('2026-12-31', 1, { holidays: ['2027-01-01'], workingWeekends: ['2027-01-02'] })).toBe('2027-01-02');
  });

  it('parses every form of the commands, and never takes typed content for anything but content', () => {
    expect(parseTipoffArgs([])).toEqual({ kind: 'form', typedContent: false });
    expect(parseTipoffArgs(['张三', '收红包'])).toEqual({ kind: 'form', typedContent: true });
    expect(parseTipoffArgs(['12'])).toEqual({ kind: 'form', typedContent: true });
    expect(parseTipoffArgs(['查询', 'ABCD', 'EFGH'])).toEqual({ kind: 'query', code: 'ABCDEFGH' });
    expect(parseTipoffArgs(['XS-12'])).toEqual({ kind: 'show', id: '12' });
    expect(parseTipoffArgs(['xs12', '受理', '材料', '齐全'])).toEqual({ kind: 'move', id: '12', move: 'accept', note: '材料 齐全' });
    expect(parseTipoffArgs(['XS-12', '处置决定', '移交', '移交医务科'])).toEqual({ kind: 'move', id: '12', move: 'decide', disposition: 'transferred', note: '移交医务科' });
    expect(parseTipoffArgs(['XS-12', '处置决定'])).toMatchObject({ kind: 'usage' });
    expect(parseTipoffArgs(['XS-12', '分派', 's0042'])).toEqual({ kind: 'assign', id: '12', staffId: 'S0042' });
    expect(parseTipoffArgs(['XS-12', '合并', 'XS-3'])).toEqual({ kind: 'merge', id: '12', into: '3' });
    expect(parseTipoffArgs(['XS-12', '关联', 'SB-5'])).toEqual({ kind: 'link', id: '12', target: { kind: 'declaration', ref: '5' } });
    expect(parseTipoffArgs(['XS-12', '飞走'])).toMatchObject({ kind: 'usage' });
    expect(parseListArgs(['超期', '上级转办'])).toMatchObject({ ok: true, overdue: true, source: 'superior' });
    expect(parseListArgs(['待受理'])).toMatchObject({ ok: true, state: 'received' });
    expect(parseListArgs(['乱写'])).toMatchObject({ ok: false });
  });

  it('a tip-off needs the five things, an identity choice and the pledge, reported all at once', () => {
    const r = checkTipoff({ occurred: '', place: '门诊', department: '', persons: 'x', matter: 'y', identity: 'anonymous' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors).toEqual(['请填写“时间”。', '请填写“科室”。', '请选择“实名”或“身份保密”。', expect.stringContaining('请确认承诺')]);
    expect(checkTipoff({ occurred: 'a', place: 'b', department: 'c', persons: 'd', matter: 'e', identity: 'protected', pledge: 'yes' })).toMatchObject({ ok: true, value: { realName: false } });
    expect(checkRegistered({ occurred: 'a', place: 'b', department: 'c', persons: 'd', matter: 'e', source: 'bot', sourceDetail: 'x' })).toMatchObject({ ok: false });
  });
});
