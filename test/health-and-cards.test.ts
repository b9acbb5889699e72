import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { card, fields, markdown, text, actions, button } from '../cards/builders.js';
import { renderCardHtml } from '../cards/html.js';
import { escapeMarkdown } from '../cards/markdown.js';
import { checkHealth } from '../src/http.js';
import { SandboxPlatform } from '../src/platform/sandbox/adapter.js';
import { freshDb, REDIS_URL } from './helpers/db.js';

describe('/healthz', () => {
  const closers: (() => unknown)[] = [];
  let db: Awaited<ReturnType<typeof freshDb>>;
  beforeAll(async () => {
    db = await freshDb('pglite', 'health');
  });
  afterAll(async () => {
    for (const c of closers) await c();
  });

  it('is ok with both parts up and names the part that is down', async () => {
    const redis = new Redis(REDIS_URL);
    const deadRedis = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    deadRedis.on('error', () => {});
    closers.push(() => redis.disconnect(), () => deadRedis.disconnect());
    const platforms = () => [new SandboxPlatform()];

    const up = await checkHealth({ db, redis, platforms });
    expect(up).toEqual({ ok: true, body: { status: 'ok', db: 'ok', redis: 'ok', platforms: { sandbox: 'ok' } } });

    // The port is bound before start-up finishes (13.15): until then a balancer must not send traffic.
    const starting = await checkHealth({ db, redis, platforms, ready: () => false });
    expect(starting).toMatchObject({ ok: false, body: { status: 'starting', db: 'ok', redis: 'ok' } });

    const noRedis = await checkHealth({ db, redis: deadRedis, platforms });
    expect(noRedis.ok).toBe(false);
    expect(noRedis.body).toMatchObject({ status: 'down', failing: ['redis'], db: 'ok' });

    await db.dispose();
    const noDb = await checkHealth({ db, redis, platforms });
    expect(noDb.body).toMatchObject({ status: 'down', failing: ['db'], redis: 'ok' });
  });
});

describe('the HTML card renderer', () => {
  it('escapes user text everywhere and shows markdown typed by users as text', () => {
    const evil = '<script>alert(1)</script> **粗体** [点我](http://evil.example) & <b>';
    const html = renderCardHtml(
      card('标题 <i>', [
        text(evil),
        fields([['说明', evil]]),
        markdown(`**说明**：${escapeMarkdown(evil)}`),
        actions(button('按钮 <x>', 'a.b', { id: '"quoted"' })),
      ]),
    );
    expect(html).not.toMatch(/<script>|<b>|<i>|<x>/);
    expect(html).not.toContain('href="http://evil.example"');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; **粗体** [点我](http://evil.example) &amp; &lt;b&gt;');
    // Bot-authored markdown still renders.
    expect(html).toContain('<strong>说明</strong>');
    expect(html).toContain('data-value="{&quot;id&quot;:&quot;\\&quot;quoted\\&quot;&quot;}"');
  });

  it('renders bot-authored links to http(s) only', () => {
    expect(renderCardHtml(card('t', [markdown('[学习材料](https://example.org/a)')]))).toContain('<a href="https://example.org/a"');
    expect(renderCardHtml(card('t', [markdown('[x](javascript:alert(1))')]))).not.toContain('<a ');
  });
});
