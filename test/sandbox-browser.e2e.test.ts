import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// Playwright gives each launch a fresh, empty profile. .ci/run installs Debian's chromium; the test fails loudly rather than skipping if it is missing.
describe('the sandbox page in a real browser', () => {
  let t: TestApp;
  let browser: Browser;
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`chromium not found at ${CHROMIUM}; install Debian's chromium package (.ci/run does)`);
    t = await startTestApp({ label: 'sandbox_browser' });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await t?.dispose();
  });

  it('opens the sandbox, picks a user, sends 帮助 and shows the help card', async () => {
    const page = await browser.newPage();
    await page.goto(`${t.url}/sandbox`);
    await page.waitForSelector('#who option[value="S0002"]', { state: 'attached' });
    await page.selectOption('#who', 'S0002');
    await page.fill('#text', '帮助');
    await page.click('#send button[type=submit]');
    const title = page.locator('.card .card-title').first();
    await title.waitFor({ timeout: 15_000 });
    expect(await title.textContent()).toBe('清廉助手 · 使用帮助');
    const body = await page.locator('.card .card-body').first().textContent();
    expect(body).toContain('何嘉伟');
    expect(body).toContain('名单');
    // The user's own message shows too.
    expect(await page.locator('.msg.me .bubble').first().textContent()).toBe('帮助');
  }, 60_000);
});
