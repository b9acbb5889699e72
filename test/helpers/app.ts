import { readFileSync } from 'node:fs';
import { createApp, SAMPLE_ROSTER, type App } from '../../src/app.js';
import { fileSchema, loadConfig, type Config, type Settings } from '../../src/config.js';
import { importRosterFile } from '../../src/domain/roster.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { SandboxPlatform, type SandboxMessage } from '../../src/platform/sandbox/adapter.js';
import type { ChatPlatform } from '../../src/platform/types.js';
import { scheduling } from '../../scheduler/index.js';
import type { CampaignCounts } from '../../src/store/campaigns.js';
import type { Db } from '../../src/store/db.js';
import { waitFor } from '../fakes/recorder/seed.js';
import { deleteRedisKeys, freshDb, REDIS_URL, uniqueName, type Backend } from './db.js';

export interface TestApp {
  app: App;
  url: string;
  prefix: string;
  sandbox?: SandboxPlatform;
  /** POST a message through the sandbox API. */
  say(userId: string, text: string): Promise<Response>;
  inbox(userId: string): Promise<SandboxMessage[]>;
  /** Waits until the user's inbox has more than `after` messages; returns the new ones. */
  waitForReplies(userId: string, after: number, count?: number, timeoutMs?: number): Promise<SandboxMessage[]>;
  click(userId: string, messageId: string, actionId: string, value?: unknown, form?: Record<string, string>): Promise<{ status: number; body: { toast?: string; error?: string; fieldErrors?: Record<string, string> } }>;
  dispose(): Promise<void>;
}

export interface TestAppOptions {
  label: string;
  backend?: Backend;
  platforms?: ChatPlatform[];
  env?: Record<string, string>;
  settings?: Partial<Record<keyof Settings, unknown>>;
  /** Load the sample hospital (default true). */
  roster?: boolean;
  now?: () => Date;
  /** Where the bot logs (default: silent, or TEST_LOG_LEVEL). */
  logger?: Logger;
  /**
   * A database and Redis prefix the caller owns, so a second app can start on them after the
   * first has stopped (a restart). Dispose then stops the app and leaves both alone.
   */
  shared?: { db: Db & { dispose(): Promise<void> }; prefix: string };
}

/** A whole bot on real Redis and a real database, isolated by key prefix and schema. */
export async function startTestApp(opts: TestAppOptions): Promise<TestApp> {
  const prefix = opts.shared?.prefix ?? `test:${uniqueName(opts.label)}`;
  const db = opts.shared?.db ?? (await freshDb(opts.backend ?? 'pg', opts.label));
  const base = loadConfig({ REDIS_URL, REDIS_PREFIX: prefix, PORT: '0', LOG_LEVEL: 'silent', CONFIG_FILE: '/nonexistent/qinglian.yaml', SANDBOX: 'on', SCHEDULED_JOBS: 'off', ...opts.env });
  const config: Config = { env: base.env, settings: fileSchema.parse(opts.settings ?? {}) };
  if (opts.roster !== false) await importRosterFile(db, SAMPLE_ROSTER, readFileSync(SAMPLE_ROSTER));
  const platforms = opts.platforms ?? [new SandboxPlatform()];
  const app = await createApp({ config, db, platforms, logger: opts.logger ?? createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), ...(opts.now ? { now: opts.now } : {}) });
  const url = await app.start();
  const json = { 'content-type': 'application/json' };
  const t: TestApp = {
    app,
    url,
    prefix,
    sandbox: app.sandbox,
    say: (userId, text) => fetch(`${url}/sandbox/api/messages`, { method: 'POST', headers: json, body: JSON.stringify({ userId, text }) }),
    async inbox(userId) {
      const r = await fetch(`${url}/sandbox/api/inbox/${encodeURIComponent(userId)}`);
      if (!r.ok) throw new Error(`inbox ${userId}: ${r.status}`);
      return ((await r.json()) as { messages: SandboxMessage[] }).messages;
    },
    async waitForReplies(userId, after, count = 1, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const all = await t.inbox(userId);
        if (all.length >= after + count) return all.slice(after);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} replies to ${userId} (have ${all.length - after})`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async click(userId, messageId, actionId, value, form) {
      const r = await fetch(`${url}/sandbox/api/actions`, { method: 'POST', headers: json, body: JSON.stringify({ userId, messageId, actionId, value, form }) });
      return { status: r.status, body: (await r.json()) as { toast?: string; error?: string; fieldErrors?: Record<string, string> } };
    },
    async dispose() {
      await app.stop();
      if (opts.shared) return;
      await deleteRedisKeys(prefix);
      await db.dispose();
    },
  };
  return t;
}

/** Sends a message and waits for the bot's answers. */
export async function ask(t: TestApp, userId: string, text: string, count = 1): Promise<SandboxMessage[]> {
  const before = (await t.inbox(userId)).length;
  const r = await t.say(userId, text);
  if (r.status !== 202) throw new Error(`say ${userId} ${text}: ${r.status}`);
  return t.waitForReplies(userId, before, count);
}

/**
 * Waits until a campaign has recipients and none of them is pending. The campaign row is
 * written before its recipients, so "nothing pending" alone can be read too early.
 */
export async function settledCampaign(t: TestApp, key: string): Promise<CampaignCounts> {
  return waitFor(`campaign ${key} to settle`, async () => {
    const s = await scheduling(t.app.bot).outbound.status(key);
    return s && s.total > 0 && s.pending === 0 ? s : undefined;
  });
}
