import type { Redis } from 'ioredis';
import type { Logger } from './logger.js';
import type { Db } from './store/db.js';
import { readDatabaseRole } from './store/privileges.js';

/**
 * Redis holds the job queues: a Redis that forgets on restart (no AOF, no RDB) or evicts keys
 * under memory pressure silently drops scheduled pushes and in-flight sends. Warn loudly, and
 * in production refuse to start unless the operator has said they accept it.
 */
export interface RedisDurability {
  appendonly: boolean;
  rdbSaves: boolean;
  maxmemoryPolicy: string;
}

export async function readRedisDurability(redis: Redis): Promise<RedisDurability | undefined> {
  try {
    const [aof, save, policy] = await Promise.all([
      redis.config('GET', 'appendonly') as Promise<string[]>,
      redis.config('GET', 'save') as Promise<string[]>,
      redis.config('GET', 'maxmemory-policy') as Promise<string[]>,
    ]);
    return { appendonly: aof[1] === 'yes', rdbSaves: Boolean(save[1]?.trim()), maxmemoryPolicy: policy[1] ?? 'unknown' };
  } catch {
    // Managed Redis services often disable CONFIG; then we cannot tell and say so once.
    return undefined;
  }
}

export function durabilityProblems(d: RedisDurability): string[] {
  const out: string[] = [];
  if (!d.appendonly && !d.rdbSaves) out.push('Redis keeps nothing on disk (appendonly no, no save points): queued pushes are lost if Redis restarts. Set `appendonly yes`.');
  if (d.maxmemoryPolicy !== 'noeviction') out.push(`Redis maxmemory-policy is ${d.maxmemoryPolicy}: under memory pressure it may evict queue keys. Set \`maxmemory-policy noeviction\`.`);
  return out;
}

export class StartupRefused extends Error {}

export async function checkRedisDurability(redis: Redis, opts: { production: boolean; allowVolatile: boolean; logger: Logger }): Promise<void> {
  const d = await readRedisDurability(redis);
  if (!d) {
    opts.logger.warn('could not read Redis persistence settings (CONFIG GET refused); make sure it has appendonly yes and maxmemory-policy noeviction');
    return;
  }
  const problems = durabilityProblems(d);
  if (problems.length === 0) return;
  for (const p of problems) opts.logger.warn({ redis: d }, `WARNING: ${p}`);
  if (opts.production && !opts.allowVolatile) {
    throw new StartupRefused(`Refusing to start in production: ${problems.join(' ')} (set ALLOW_VOLATILE_REDIS=true to start anyway)`);
  }
}

/**
 * The append-only triggers on audit_log only bind a role that can neither disable them (the
 * table's owner) nor bypass them (a superuser). Such a connection still works, so this warns
 * (log and /healthz) instead of refusing; the hash chain then is the only protection.
 */
export async function checkDatabaseRole(db: Db, logger: Logger): Promise<string | undefined> {
  // The log line is for operators' tooling (English); the returned text is what /healthz shows.
  let problem: { log: string; text: string } | undefined;
  if (db.kind === 'pglite') {
    problem = {
      log: 'embedded PGlite always runs as superuser: audit_log triggers can be disabled, only the hash chain (npm run cli -- audit verify) shows tampering; use PostgreSQL with DATABASE_OWNER_URL in production',
      text: '内嵌的 PGlite 总以超级用户运行，审计日志的保护触发器可被停用，只有哈希链（npm run cli -- audit verify）能发现改动；生产环境请使用 PostgreSQL 并设置 DATABASE_OWNER_URL。',
    };
  } else {
    const r = await readDatabaseRole(db).catch(() => undefined);
    if (r?.superuser) {
      problem = {
        log: `database role ${r.role} is a superuser: it can disable audit_log's triggers; run the bot as a role with only INSERT and SELECT on audit_log (DATABASE_OWNER_URL, docs/operations.md)`,
        text: `机器人的数据库角色 ${r.role} 是超级用户，能停用审计日志的保护触发器；请让机器人以只能读取和追加审计日志的角色运行（设置 DATABASE_OWNER_URL，见 docs/operations.md“数据库角色”）。`,
      };
    } else if (r?.ownsAuditLog) {
      problem = {
        log: `database role ${r.role} owns audit_log: it can disable the table's triggers; run migrations as a separate owner (DATABASE_OWNER_URL, docs/operations.md)`,
        text: `机器人的数据库角色 ${r.role} 是审计日志表的所有者，能停用它的保护触发器；请用单独的所有者角色执行迁移（设置 DATABASE_OWNER_URL，见 docs/operations.md“数据库角色”）。`,
      };
    }
  }
  if (problem) logger.warn(`WARNING: ${problem.log}`);
  return problem?.text;
}

/** Retries a connection step with exponential backoff, logging each failure. */
export async function withBackoff<T>(what: string, fn: () => Promise<T>, opts: { logger: Logger; attempts?: number; baseMs?: number; maxMs?: number }): Promise<T> {
  const attempts = opts.attempts ?? 8;
  let delay = opts.baseMs ?? 500;
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (i >= attempts) throw e;
      opts.logger.warn({ attempt: i, retryInMs: delay, err: (e as Error).message }, `${what} not reachable yet; retrying`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(opts.maxMs ?? 15_000, delay * 2);
    }
  }
}

/** The URL without its password, for messages. */
export const redactUrl = (url: string): string => url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');

/** Resolves once Redis answers; otherwise fails after `timeoutMs` with a message an operator can act on. */
export function waitForRedis(redis: Redis, url: string, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new StartupRefused(`无法连接 Redis（${redactUrl(url)}），已等待 ${Math.round(timeoutMs / 1000)} 秒。请确认 Redis 已启动并可访问（见 README“快速开始”），或用 REDIS_URL 指定地址。`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}

/** Why a second instance stops: the port is taken, most likely by the bot already running. */
export function portInUse(host: string, port: number): string {
  return `端口 ${host}:${port} 已被占用，很可能已有一个清廉助手在运行。本进程已退出，没有接收任何消息或任务。如需同时运行多个副本，请为每个副本设置不同的 PORT。`;
}
