import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MemoryStateStore } from '../src/bot/state/memory.js';
import { RedisStateStore } from '../src/bot/state/redis.js';
import type { StateStore } from '../src/bot/state/store.js';
import { LockUnavailable, UserLock } from '../src/bot/state/user-lock.js';
import { FormStore } from '../src/bot/state/forms.js';
import { TypedButtons } from '../src/bot/typed-buttons.js';
import { deleteRedisKeys, REDIS_URL, uniqueName } from './helpers/db.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const redis = new Redis(REDIS_URL);
const prefixes: string[] = [];
afterAll(async () => {
  for (const p of prefixes) await deleteRedisKeys(p);
  redis.disconnect();
});

const stores: [string, () => StateStore][] = [
  [
    'redis',
    () => {
      const prefix = `test:${uniqueName('state_store')}`;
      prefixes.push(prefix);
      return new RedisStateStore(redis, prefix);
    },
  ],
  ['memory', () => new MemoryStateStore()],
];

describe.each(stores)('14 state store (%s)', (_name, make) => {
  const shape = z.object({ step: z.number() });

  it('14 reads are checked against a schema: absent, valid and no-longer-fitting values are told apart', async () => {
    const s = make();
    expect(await s.get('a', shape)).toBeUndefined();
    await s.set('a', { step: 2 }, 60_000);
    expect(await s.get('a', shape)).toEqual({ value: { step: 2 } });
    await s.set('b', { step: 'two' }, 60_000);
    expect(await s.get('b', shape)).toEqual({ invalid: true });
    expect(await s.ttlMs('a')).toBeGreaterThan(50_000);
    await s.delete('a', 'b');
    expect(await s.get('a', shape)).toBeUndefined();
  });

  it('14 setIfAbsent and claimAll write only what is new; claimAll is false when any key was seen', async () => {
    const s = make();
    expect(await s.setIfAbsent('x', 1, 60_000)).toBe(true);
    expect(await s.setIfAbsent('x', 2, 60_000)).toBe(false);
    expect(await s.claimAll(['e1', 'm1'], 60_000)).toBe(true);
    expect(await s.claimAll(['e1', 'm1'], 60_000)).toBe(false);
    // A redelivery under a new event id but the same message id is still a duplicate.
    expect(await s.claimAll(['e2', 'm1'], 60_000)).toBe(false);
  });

  it('14 the lock goes to tickets in order and only the holder\u2019s token releases it', async () => {
    const s = make();
    const t1 = await s.takeTicket('lock:u');
    const t2 = await s.takeTicket('lock:u');
    expect(t2).toBe(t1 + 1);
    expect('busy' in (await s.tryLock('lock:u', t2, 60_000, false))).toBe(true);
    const first = await s.tryLock('lock:u', t1, 60_000, false);
    if (!('lock' in first)) throw new Error('ticket 1 should hold the lock');
    expect('busy' in (await s.tryLock('lock:u', t2, 60_000, false))).toBe(true);
    await s.releaseLock(first.lock);
    const second = await s.tryLock('lock:u', t2, 60_000, false);
    if (!('lock' in second)) throw new Error('ticket 2 should hold the lock after ticket 1');
    // A stale holder (its lock lapsed and was taken) releasing late frees nothing.
    await s.releaseLock({ ...first.lock });
    const t3 = await s.takeTicket('lock:u');
    expect('busy' in (await s.tryLock('lock:u', t3, 60_000, false))).toBe(true);
    expect(await s.extendLock(second.lock, 60_000)).toBe(true);
    expect(await s.extendLock({ ...second.lock, token: 'someone else' }, 60_000)).toBe(false);
    await s.releaseLock(second.lock);
    expect('lock' in (await s.tryLock('lock:u', t3, 60_000, false))).toBe(true);
  });

  it('14 two lock users on one store run one user\u2019s tasks in arrival order, wherever they arrived', async () => {
    const s = make();
    const replicas = [new UserLock(s, { pollMs: 2 }), new UserLock(s, { pollMs: 2 })];
    const order: number[] = [];
    const runs: Promise<void>[] = [];
    for (let i = 0; i < 8; i++) {
      const lock = replicas[i % 2];
      const ticket = await lock.enter('sandbox:u');
      // Later tasks are quicker, so without the lock they would overtake earlier ones.
      runs.push(lock.run('sandbox:u', ticket, async () => {
        await sleep(40 - i * 5);
        order.push(i);
      }));
    }
    await Promise.all(runs);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('14 a long task keeps its lock alive past the lock\u2019s lifetime', async () => {
    const s = make();
    const a = new UserLock(s, { ttlMs: 60, pollMs: 2 });
    const ticket = await a.enter('sandbox:long');
    let heldMidway: number | undefined;
    await a.run('sandbox:long', ticket, async () => {
      await sleep(200);
      heldMidway = await s.ttlMs('lock:sandbox:long');
    });
    expect(heldMidway).toBeGreaterThan(0);
    expect(await s.ttlMs('lock:sandbox:long')).toBeUndefined();
  });

  it('14 a ticket whose replica died is skipped after a while, and waiting is bounded', async () => {
    const s = make();
    const lock = new UserLock(s, { pollMs: 2, skipDeadAfterMs: 100, maxWaitMs: 2_000 });
    await lock.enter('sandbox:dead'); // taken by a replica that then died
    const ticket = await lock.enter('sandbox:dead');
    const t0 = Date.now();
    expect(await lock.run('sandbox:dead', ticket, async () => 'ran')).toBe('ran');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(100);

    const holder = await s.tryLock('lock:sandbox:busy', await s.takeTicket('lock:sandbox:busy'), 60_000, false);
    expect('lock' in holder).toBe(true);
    const impatient = new UserLock(s, { pollMs: 2, maxWaitMs: 100 });
    const waiting = await impatient.enter('sandbox:busy');
    let ran = false;
    await expect(impatient.run('sandbox:busy', waiting, async () => (ran = true))).rejects.toBeInstanceOf(LockUnavailable);
    expect(ran).toBe(false);
  });
});

describe('14 typed buttons and form specs read back through the store', () => {
  it('14 a stored button list or form of another shape counts as expired, never as buttons or inputs', async () => {
    const s = new MemoryStateStore();
    const buttons = new TypedButtons(s);
    const card = await buttons.annotate({ title: '卡片', elements: [{ type: 'actions', buttons: [{ kind: 'button', label: '确认', actionId: 'x.ok', value: { id: 7 } }] }] });
    const code = /点 (\w{4}) 1/.exec(JSON.stringify(card))![1];
    expect(await buttons.resolve(code, 1)).toEqual({ label: '确认', actionId: 'x.ok', value: { id: 7 } });
    await s.set(`btn:${code}`, [{ title: '确认', action: 'x.ok' }], 60_000);
    expect(await buttons.resolve(code, 1)).toContain('可能已过期');

    const forms = new FormStore(s);
    const id = await forms.put({ actionId: 'x.reject', value: { id: 7 }, inputs: [{ kind: 'text', name: 'reason', label: '驳回理由' }] });
    expect((await forms.get(id))?.inputs[0].label).toBe('驳回理由');
    await s.set(`form:${id}`, { actionId: 'x.reject', inputs: [{ kind: 'slider', name: 'reason' }] }, 60_000);
    expect(await forms.get(id)).toBeUndefined();
  });
});
