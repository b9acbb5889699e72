import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ask, startTestApp, type TestApp } from './helpers/app.js';

const commandsIn = (card: unknown) => JSON.stringify(card);

describe('sandbox API end to end (real Redis + PostgreSQL server)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ label: 'sandbox_help' });
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('answers 帮助 with a help card naming the user', async () => {
    const [reply] = await ask(t, 'S0001', '帮助');
    expect(reply.kind).toBe('card');
    expect(reply.card!.title).toContain('帮助');
    expect(commandsIn(reply.card)).toContain('林雨桐');
  });

  it('shows an administrator more commands than a staff member', async () => {
    const [staff] = await ask(t, 'S0001', 'help');
    const [admin] = await ask(t, 'S0002', '帮助');
    const adminText = commandsIn(admin.card);
    const staffText = commandsIn(staff.card);
    expect(adminText).toContain('管理员');
    expect(adminText.length).toBeGreaterThan(staffText.length);
  });

  it('gives 404 for an unknown staff id and 400 for a malformed body', async () => {
    expect((await t.say('NOBODY', '帮助')).status).toBe(404);
    const bad = await fetch(`${t.url}/sandbox/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"user":1}' });
    expect(bad.status).toBe(400);
    expect((await fetch(`${t.url}/sandbox/api/inbox/NOBODY`)).status).toBe(404);
  });

  it('suggests the closest command for a near miss', async () => {
    const [r] = await ask(t, 'S0001', 'hlep');
    expect(r.text).toContain('help');
  });

  it('reports health of the database and Redis', async () => {
    const r = await fetch(`${t.url}/healthz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ status: 'ok', db: 'ok', redis: 'ok', platforms: { sandbox: 'ok' } });
  });
});
