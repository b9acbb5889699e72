import Fastify, { type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { ChatPlatform } from './platform/types.js';
import type { Metrics } from './metrics.js';
import type { Db } from './store/db.js';

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms).unref())]);

export interface HealthDeps {
  db: Db;
  redis: Redis;
  platforms: () => ChatPlatform[];
  metrics?: Metrics;
  /** The app's warnings (sandbox in production, Redis data lost and restored, a database role that can rewrite the audit log), by topic. */
  warnings?: () => Record<string, string>;
  /** False until start-up has finished: the port is bound first, so it answers before the bot can serve. */
  ready?: () => boolean;
}

export async function checkHealth(deps: HealthDeps): Promise<{ ok: boolean; body: Record<string, unknown> }> {
  const [db, redis] = await Promise.all([
    withTimeout(deps.db.ping(), 2000).then(() => 'ok', (e: Error) => `down: ${e.message}`),
    withTimeout(deps.redis.ping(), 2000).then(() => 'ok', (e: Error) => `down: ${e.message}`),
  ]);
  const platforms: Record<string, string> = {};
  // Working, but not as well as it should (e.g. DingTalk cards going out as markdown).
  const warnings: Record<string, string> = { ...deps.warnings?.() };
  for (const p of deps.platforms()) {
    const h = p.health();
    platforms[p.name] = h.ok ? 'ok' : `down${h.detail ? `: ${h.detail}` : ''}`;
    if (h.ok && h.detail) warnings[p.name] = h.detail;
  }
  const failing = [...(db === 'ok' ? [] : ['db']), ...(redis === 'ok' ? [] : ['redis']), ...Object.entries(platforms).filter(([, v]) => v !== 'ok').map(([k]) => k)];
  const starting = deps.ready ? !deps.ready() : false;
  const ok = failing.length === 0 && !starting;
  return { ok, body: { status: ok ? 'ok' : starting && failing.length === 0 ? 'starting' : 'down', ...(ok ? {} : { failing }), db, redis, platforms, ...(Object.keys(warnings).length ? { warnings } : {}) } };
}

export function createHttp(deps: HealthDeps): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  app.get('/healthz', async (_req, reply) => {
    const h = await checkHealth(deps);
    return reply.code(h.ok ? 200 : 503).send(h.body);
  });
  app.get('/metrics', async (_req, reply) => {
    if (!deps.metrics) return reply.code(404).send();
    return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  app.get('/', async (_req, reply) => reply.redirect('/sandbox'));
  return app;
}
