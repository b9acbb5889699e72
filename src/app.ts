import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { registerHandlers } from '../handlers/index.js';
import { provideTipoffKeys } from '../handlers/tipoff.js';
import { attachScheduling } from '../scheduler/index.js';
import { describeRedisLoss } from '../scheduler/redis-loss.js';
import { Bot } from './bot/bot.js';
import type { Config } from './config.js';
import { describeSummary, importRosterFile } from './domain/roster.js';
import { createHttp } from './http.js';
import { createLogger, type Logger } from './logger.js';
import { platformFactories } from './platform/factories.js';
import { SandboxPlatform } from './platform/sandbox/adapter.js';
import { registerSandboxRoutes } from './platform/sandbox/routes.js';
import { SANDBOX_IN_PRODUCTION, sandboxRefusal, selectPlatforms } from './platform/select.js';
import type { ChatPlatform } from './platform/types.js';
import type { Db } from './store/db.js';
import { Metrics } from './metrics.js';
import { checkDatabaseRole, checkRedisDurability, portInUse, StartupRefused, waitForRedis, withBackoff } from './startup-checks.js';
import { chainHead } from './store/audit-chain.js';
import { openStore } from './store/open.js';
import { keyringFrom } from './domain/tipoff/sealing.js';
import { pendingApprovalsByStep, pendingSendsByPlatform } from './store/operational-counts.js';
import { countStaff } from './store/staff.js';

/** The project root (where package.json is), from src/ when run with tsx or dist/src/ when compiled. */
function findRoot(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}
export const ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));
export const SAMPLE_ROSTER = join(ROOT, 'examples', 'roster.csv');

export interface AppOptions {
  config: Config;
  logger?: Logger;
  /** Platforms to run instead of those chosen from the config (tests). */
  platforms?: ChatPlatform[];
  db?: Db;
  now?: () => Date;
  /** How often to check that Redis still holds the bot's data (default a minute; tests shorten it). */
  redisCheckMs?: number;
}

export interface App {
  config: Config;
  bot: Bot;
  db: Db;
  redis: Redis;
  http: FastifyInstance;
  logger: Logger;
  platforms: ChatPlatform[];
  sandbox?: SandboxPlatform;
  /** Binds the HTTP port, then starts the platforms and the queues; resolves with the base URL. */
  start(): Promise<string>;
  stop(): Promise<void>;
}

export async function createApp(opts: AppOptions): Promise<App> {
  const { config } = opts;
  const { env } = config;
  const logger = opts.logger ?? createLogger(env.LOG_LEVEL);
  const refusal = sandboxRefusal(env);
  if (refusal) throw new StartupRefused(refusal);
  // ioredis keeps reconnecting with its own backoff; start-up waits for it, then gives up clearly.
  // While it is away, a command fails at once (no offline queue) or after commandTimeout, so
  // a user's message is answered "temporarily unavailable" instead of hanging unanswered.
  const redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 3_000 });
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  await waitForRedis(redis, env.REDIS_URL, 45_000).catch((e: unknown) => {
    redis.disconnect();
    throw e;
  });
  await checkRedisDurability(redis, { production: env.NODE_ENV === 'production', allowVolatile: env.ALLOW_VOLATILE_REDIS === 'true', logger });
  const db = opts.db ?? (await withBackoff('database', () => openStore(env, { logger }), { logger }));
  const dbRoleWarning = await checkDatabaseRole(db, logger);
  const metrics = new Metrics({ defaults: true });
  const bot = new Bot({ db, redis, settings: config.settings, redisPrefix: env.REDIS_PREFIX, logger, metrics, timeZone: env.BOT_TIMEZONE, ...(opts.now ? { now: opts.now } : {}) });
  // Attached before handlers register, so features can declare their periodic jobs.
  const jobs = attachScheduling(bot, { redisUrl: env.REDIS_URL, timeZone: env.BOT_TIMEZONE, logger, calendarJobs: env.SCHEDULED_JOBS === 'on', ...(opts.redisCheckMs ? { sentinelIntervalMs: opts.redisCheckMs } : {}) });
  const tipoffKeys = keyringFrom(env, (m) => logger.warn(m));
  if (tipoffKeys.warning) logger.warn('TIPOFF_KEY is not set in production: tip-offs are refused until it is');
  provideTipoffKeys(bot, tipoffKeys.keyring);
  registerHandlers(bot);

  const platforms = opts.platforms ?? (await selectPlatforms(env, platformFactories(logger)));
  for (const p of platforms) bot.addPlatform(p);
  const sandbox = platforms.find((p): p is SandboxPlatform => p instanceof SandboxPlatform);
  // People try the bot in the sandbox for days: its conversation outlives a restart.
  sandbox?.persistIn(db);
  const sandboxInProduction = Boolean(sandbox) && env.NODE_ENV === 'production';
  if (sandboxInProduction) logger.warn(`WARNING: ${SANDBOX_IN_PRODUCTION}`);

  metrics.addGauge('qinglian_outbound_pending', 'Sends waiting in the outbound queue, by platform', () => pendingSendsByPlatform(db), 'platform');
  metrics.addGauge('qinglian_approvals_pending', 'Declarations waiting for a decision, by approval step', () => pendingApprovalsByStep(db), 'step');
  metrics.addAuditChain(() => chainHead(db));
  const warnings = (): Record<string, string> => {
    const lost = describeRedisLoss(jobs.redisLoss(), new Date(), env.BOT_TIMEZONE);
    return { ...(sandboxInProduction ? { sandbox: SANDBOX_IN_PRODUCTION } : {}), ...(lost ? { redis: lost } : {}), ...(dbRoleWarning ? { database: dbRoleWarning } : {}), ...(tipoffKeys.warning ? { tipoff: tipoffKeys.warning } : {}) };
  };
  let ready = false;
  const http = createHttp({ db, redis, platforms: () => platforms, metrics, warnings, ready: () => ready });
  if (sandbox) registerSandboxRoutes(http, sandbox, db);

  let listening = false;
  return {
    config,
    bot,
    db,
    redis,
    http,
    logger,
    platforms,
    sandbox,
    async start() {
      // The port first: a second instance started by mistake must fail here, before it takes
      // a single platform event or queue job from the first.
      const url = await http.listen({ port: env.PORT, host: env.HOST }).catch((e: unknown) => {
        if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new StartupRefused(portInUse(env.HOST, env.PORT));
        throw e;
      });
      listening = true;
      if (sandbox && (await countStaff(db)) === 0) {
        // A fresh sandbox gets the sample hospital so every feature can be tried at once.
        const summary = await importRosterFile(db, SAMPLE_ROSTER, readFileSync(SAMPLE_ROSTER), { actor: 'system' });
        logger.info({ summary: describeSummary(summary) }, 'sample roster loaded into the empty sandbox');
      }
      for (const p of platforms) await p.start(bot);
      await jobs.start();
      ready = true;
      logger.info({ url, platforms: platforms.map((p) => p.name) }, 'qinglian started');
      return url;
    },
    async stop() {
      // Order matters: stop taking events first, then finish what is in flight, then close.
      bot.stopAccepting();
      await jobs.stop();
      for (const p of platforms) await p.stop().catch((err: unknown) => logger.warn({ err }, 'platform stop failed'));
      if (listening) await http.close();
      await bot.drain();
      redis.disconnect();
      if (!opts.db) await db.close();
    },
  };
}
