import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { SANDBOX_IN_PRODUCTION } from '../src/platform/select.js';
import { deleteRedisKeys, freshDb, REDIS_URL, uniqueName } from './helpers/db.js';
import { exitCode, freePort } from './helpers/processes.js';

/** The environment of a deployment whose .env lost its platform credentials (a typo). */
function productionEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(DINGTALK_|FEISHU_|SANDBOX$)/.test(k)) env[k] = v;
  // The machine's Redis keeps nothing on disk; allowed here so that only the sandbox decides.
  return { ...env, NODE_ENV: 'production', ALLOW_VOLATILE_REDIS: 'true', REDIS_URL, CONFIG_FILE: '/nonexistent/qinglian.yaml', LOG_LEVEL: 'info', ...extra };
}

describe('13.2 the sandbox in production', () => {
  const prefix = `test:${uniqueName('sandbox_prod')}`;
  let app: App | undefined;
  let db: Awaited<ReturnType<typeof freshDb>> | undefined;
  afterAll(async () => {
    await app?.stop();
    await db?.dispose();
    await deleteRedisKeys(prefix);
  });

  it('13.2 refuses to start with SANDBOX=auto and no credentials, naming what is missing, and serves nothing', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: productionEnv({ PORT: String(port), REDIS_PREFIX: prefix, DATA_DIR: mkdtempSync(join(tmpdir(), 'qinglian-sbxprod-')) }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await exitCode(child, 45_000);
    expect(code, out).not.toBe(0);
    expect(out).toContain('生产环境（NODE_ENV=production）中没有找到任何平台凭据');
    for (const name of ['DINGTALK_CLIENT_ID', 'DINGTALK_CLIENT_SECRET', 'FEISHU_APP_ID', 'FEISHU_APP_SECRET', 'SANDBOX=on']) expect(out).toContain(name);
    expect(await fetch(`http://127.0.0.1:${port}/sandbox`).then(() => 'answered', () => 'refused')).toBe('refused');
  }, 60_000);

  it('13.2 starts with SANDBOX=on, logs a warning and /healthz carries warnings.sandbox', async () => {
    const lines: string[] = [];
    db = await freshDb('pglite', 'sandbox_prod');
    const { env, settings } = loadConfig(productionEnv({ PORT: '0', REDIS_PREFIX: prefix, SANDBOX: 'on', SCHEDULED_JOBS: 'off' }));
    app = await createApp({ config: { env, settings }, db, logger: createLogger('warn', { write: (l: string) => void lines.push(l) }) });
    const url = await app.start();
    expect(app.sandbox).toBeDefined();
    expect(lines.join('')).toContain(SANDBOX_IN_PRODUCTION);
    const h = (await (await fetch(`${url}/healthz`)).json()) as { status: string; warnings?: Record<string, string> };
    expect(h.status).toBe('ok');
    expect(h.warnings?.sandbox).toBe(SANDBOX_IN_PRODUCTION);
    expect((await fetch(`${url}/sandbox`)).status).toBe(200);
  }, 60_000);
});
