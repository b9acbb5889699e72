import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { DingTalkPlatform } from '../src/platform/dingtalk/adapter.js';
import { CLIENT_ID, startDingTalkApp, waitFor, type DingTalkHarness } from './fakes/dingtalk/harness.js';
import { FakeDingTalk } from './fakes/dingtalk/server.js';

/**
 * The stream connection must never go quietly deaf: a dropped socket, a SYSTEM disconnect
 * frame and a silent connection each lead to a new connection, no event is lost, and
 * /healthz says the platform is down while it is.
 */
describe('DingTalk stream connection supervision (real dingtalk-stream client against the fake)', () => {
  let h: DingTalkHarness;
  beforeAll(async () => {
    // Silence threshold 2 s here so the test is quick; the default stays 60 s.
    h = await startDingTalkApp('dingtalk_conn', {}, { silenceMs: 2000 });
  });
  afterAll(async () => {
    await h?.dispose();
  });

  const health = async () => {
    const r = await fetch(`${h.t.url}/healthz`);
    return { status: r.status, body: (await r.json()) as { platforms: Record<string, string> } };
  };
  const helpCardsTo = (userId: string) =>
    h.fake.cardsTo(userId).filter((c) => h.fake.view(c.outTrackId).title.includes('帮助'));
  const newestLive = () => h.fake.live().at(-1);

  it('loses no event when the connection is dropped, and reports DingTalk down until it is back', async () => {
    const before = newestLive()!;
    // A slow gateway keeps the bot reconnecting long enough for /healthz to be seen down.
    h.fake.slow('/v1.0/gateway/connections/open', 1500);
    h.fake.dropConnection(before);
    h.fake.userSays({ staffId: 'dt604924', text: '帮助' }); // arrives while no connection is up
    const down = await waitFor('healthz down', async () => {
      const x = await health();
      return x.status === 503 ? x : undefined;
    });
    expect(down.body.platforms.dingtalk).toMatch(/^down/);
    h.fake.slow('/v1.0/gateway/connections/open', 0);
    await waitFor('help card after reconnect', () => helpCardsTo('dt604924').length === 1);
    expect(newestLive()!.id).toBeGreaterThan(before.id);
    await waitFor('healthz ok again', async () => (await health()).status === 200);
  });

  it('is on a new connection within 5 s of a SYSTEM disconnect frame, and answers the next message', async () => {
    const old = h.fake.sendDisconnect();
    const fresh = await waitFor('new connection', () => h.fake.live().find((c) => c.id > old.id), 5000);
    expect(fresh.state).toBe('open');
    // The old socket is dropped by the bot only after the new one is up.
    await waitFor('old connection closed by the bot', () => old.state === 'closed', 5000);
    h.fake.userSays({ staffId: 'dt319380', text: '帮助' });
    await waitFor('answer on the new connection', () => helpCardsTo('dt319380').length === 1);
    await waitFor('healthz ok', async () => (await health()).status === 200);
  });

  it('replaces a connection that has gone silent', async () => {
    const silent = h.fake.goSilent();
    h.fake.userSays({ staffId: 'dt745280', text: '帮助' }); // waits for a live connection
    const fresh = await waitFor('replacement of the silent connection', () => h.fake.live().find((c) => c.id > silent.id), 90_000);
    expect(fresh.state).toBe('open');
    await waitFor('answer after the replacement', () => helpCardsTo('dt745280').length === 1);
    await waitFor('silent connection dropped', () => silent.state === 'closed');
  });

  it('stops start-up with a clear message when the credentials are wrong', async () => {
    const fake = new FakeDingTalk({ clientId: CLIENT_ID, clientSecret: 'the-right-secret' });
    const url = await fake.start();
    const wrong = new DingTalkPlatform({ clientId: CLIENT_ID, clientSecret: 'a-wrong-secret', apiBase: url, oapiBase: url, logger: createLogger('silent') });
    const sink = { onMessage: async () => {}, onAction: async () => ({}) };
    await expect(wrong.start(sink)).rejects.toThrow(/钉钉应用凭证无效.*DINGTALK_CLIENT_SECRET/);
    expect(fake.gatewayRequests).toBe(0);
    await wrong.stop();
    await fake.close();
  });
});
