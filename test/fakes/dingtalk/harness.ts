import { Redis } from 'ioredis';
import { createLogger } from '../../../src/logger.js';
import { DingTalkPlatform, type DingTalkOptions } from '../../../src/platform/dingtalk/adapter.js';
import { startTestApp, type TestApp, type TestAppOptions } from '../../helpers/app.js';
import { REDIS_URL, uniqueName } from '../../helpers/db.js';
import { FakeDingTalk, type FakeOptions } from './server.js';

export const CLIENT_ID = 'dingfakeclient0001';
export const CLIENT_SECRET = 'fake-client-secret-0001';

export interface DingTalkHarness {
  fake: FakeDingTalk;
  adapter: DingTalkPlatform;
  t: TestApp;
  dispose(): Promise<void>;
}

/** A whole bot on DingTalk: the real dingtalk-stream client against the fake, real Redis + PostgreSQL. */
export async function startDingTalkApp(
  label: string,
  fakeOpts: Partial<FakeOptions> = {},
  adapterOpts: Partial<DingTalkOptions> = {},
  appOpts: Pick<TestAppOptions, 'settings' | 'now'> = {},
): Promise<DingTalkHarness> {
  const fake = new FakeDingTalk({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, keepaliveMs: 500, ackTimeoutMs: 1500, ...fakeOpts });
  const url = await fake.start();
  const cardPrefix = `test:${uniqueName(`${label}_cards`)}`;
  const adapter = new DingTalkPlatform({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    apiBase: url,
    oapiBase: url,
    logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
    redisUrl: REDIS_URL,
    redisPrefix: cardPrefix,
    retryBaseMs: 20,
    reconnectBaseMs: 200,
    ...adapterOpts,
  });
  const t = await startTestApp({
    ...appOpts,
    label,
    platforms: [adapter],
    env: { DINGTALK_CLIENT_ID: CLIENT_ID, DINGTALK_CLIENT_SECRET: CLIENT_SECRET, DINGTALK_API_BASE: url, DINGTALK_OAPI_BASE: url, SANDBOX: 'off' },
  });
  return {
    fake,
    adapter,
    t,
    async dispose() {
      await t.dispose();
      await fake.close();
      const r = new Redis(REDIS_URL);
      const keys = await r.keys(`${cardPrefix}:*`);
      if (keys.length) await r.del(...keys);
      r.disconnect();
    },
  };
}

/** Cards a user (by DingTalk user id) or a group got, newest last, with what they show. */
export function cardsOf(fake: FakeDingTalk, space: string): { id: string; title: string; content: string; buttons: { id: string; label: string }[] }[] {
  return fake.cardsTo(space).map((c) => {
    const v = fake.view(c.outTrackId);
    return { id: c.outTrackId, title: v.title, content: v.content, buttons: fake.buttonsOf(c.outTrackId) };
  });
}

/** The newest card of `space` whose title contains every one of `words`. */
export function newestCard(fake: FakeDingTalk, space: string, ...words: string[]) {
  return cardsOf(fake, space).reverse().find((c) => words.every((w) => c.title.includes(w)));
}

/** The ids of the cards a space has now, so a test can wait for one that comes after. */
export const cardIds = (fake: FakeDingTalk, space: string): Set<string> => new Set(fake.cardsTo(space).map((c) => c.outTrackId));

/** The newest card of `space` not in `before` whose title contains every one of `words`. */
export function freshCard(fake: FakeDingTalk, space: string, before: Set<string>, ...words: string[]) {
  const c = newestCard(fake, space, ...words);
  return c && !before.has(c.id) ? c : undefined;
}

/** Clicks the button labelled `label` (prefix) on a card, as `userId`. */
export function clickLabel(fake: FakeDingTalk, outTrackId: string, userId: string, label: string): string {
  const b = fake.buttonsOf(outTrackId, userId).find((x) => x.label.startsWith(label));
  if (!b) throw new Error(`no button ${label} on ${fake.view(outTrackId).title}: ${fake.buttonsOf(outTrackId, userId).map((x) => x.label).join(', ')}`);
  const id = fake.click(outTrackId, userId, b.id);
  if (!id) throw new Error(`click on ${label} was not delivered: ${JSON.stringify(fake.droppedClicks.at(-1))}`);
  return id;
}

/** Polls until `fn` returns a truthy value. */
export async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
