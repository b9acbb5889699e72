import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDate } from '../src/domain/calendar.js';
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

  it('keeps every typed value when the server refuses a form, shows the error at its field, and the chat after a reload', async () => {
    const page = await browser.newPage();
    await page.goto(`${t.url}/sandbox`);
    await page.waitForSelector('#who option[value="S0001"]', { state: 'attached' });
    await page.selectOption('#who', 'S0001');
    await page.fill('#text', '上缴');
    await page.click('#send button[type=submit]');
    const form = page.locator('form.card-form').last();
    await form.waitFor({ timeout: 15_000 });
    const typed = { amount: '500', receivedOn: '2099-01-01', description: '患者家属把红包夹在锦旗里，发现后当场退还。' };
    await form.locator('select[name=kind]').selectOption('cash');
    await form.locator('input[name=amount]').fill(typed.amount);
    // A date the browser accepts and the server does not: it lies in the future.
    await form.locator('input[name=receivedOn]').fill(typed.receivedOn);
    await form.locator('select[name=giver]').selectOption('family');
    await form.locator('select[name=handling]').selectOption('returned');
    await form.locator('textarea[name=description]').fill(typed.description);
    await form.locator('button[type=submit]').click();

    const dateError = form.locator('.input[data-input=receivedOn] .field-error');
    await dateError.waitFor({ state: 'visible', timeout: 15_000 });
    expect(await dateError.textContent()).toContain('收到日期不能晚于今天');
    expect(await form.locator('.field-error:visible').count()).toBe(1);
    // Polls come and go (every 0.7 s): the card is not redrawn, so nothing typed is lost.
    await page.waitForTimeout(2000);
    expect(await form.locator('select[name=kind]').inputValue()).toBe('cash');
    expect(await form.locator('input[name=amount]').inputValue()).toBe(typed.amount);
    expect(await form.locator('input[name=receivedOn]').inputValue()).toBe(typed.receivedOn);
    expect(await form.locator('select[name=giver]').inputValue()).toBe('family');
    expect(await form.locator('select[name=handling]').inputValue()).toBe('returned');
    expect(await form.locator('textarea[name=description]').inputValue()).toBe(typed.description);
    expect(await form.locator('.input[data-input=receivedOn] input').getAttribute('aria-invalid')).not.toBeNull();

    // Text areas count as you type, and a long paste is refused with a message, not cut off.
    const long = '说明'.repeat(260);
    await form.locator('textarea[name=description]').fill(long);
    const counter = form.locator('.counter[data-counter-for=description]');
    expect(await counter.textContent()).toBe('520 / 500');
    expect(await form.locator('textarea[name=description]').inputValue()).toBe(long);
    expect(await form.locator('.input[data-input=description] .field-error').textContent()).toContain('最多 500 字，现在是 520 字');
    await form.locator('button[type=submit]').click();
    expect(await form.locator('.form-error').textContent()).toContain('超过字数上限');
    await form.locator('textarea[name=description]').fill(typed.description);
    expect(await counter.textContent()).toBe(`${[...typed.description].length} / 500`);
    expect(await form.locator('.input[data-input=description] .field-error').isVisible()).toBe(false);

    // Corrected, it goes through: the card becomes the preview.
    await form.locator('input[name=receivedOn]').fill(localDate(new Date(), 'Asia/Shanghai'));
    await form.locator('button[type=submit]').click();
    await page.locator('.card-title', { hasText: '请核对您的上缴申报' }).waitFor({ timeout: 15_000 });

    // A reload shows the whole conversation again, the user's own message included.
    await page.reload();
    await page.locator('.card-title', { hasText: '请核对您的上缴申报' }).waitFor({ timeout: 15_000 });
    expect(await page.locator('.msg.me .bubble').allTextContents()).toEqual(['上缴']);
  }, 90_000);

  it('refuses an over-long message in Chinese and keeps it in the input', async () => {
    const page = await browser.newPage();
    await page.goto(`${t.url}/sandbox`);
    await page.waitForSelector('#who option[value="S0006"]', { state: 'attached' });
    await page.selectOption('#who', 'S0006');
    const long = '长'.repeat(4001);
    await page.fill('#text', long);
    await page.click('#send button[type=submit]');
    expect(await page.locator('#send-error').textContent()).toContain('最多 4000 字');
    expect(await page.inputValue('#text')).toBe(long);
    expect(await page.locator('.msg').count()).toBe(0);
  }, 60_000);
});

