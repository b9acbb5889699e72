import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ask, startTestApp, type TestApp } from './helpers/app.js';

/**
 * What the bot answers, compared with what it answered before issue 14 moved the cards out of
 * the handlers (recorded from commit c8bef11 with UPDATE_CARDS_GOLDEN=1): 帮助 for one person
 * of every role combination in the sample roster, and the other cards that do not depend on
 * chance (a quiz's options are shuffled), at a fixed instant.
 */
const GOLDEN = new URL('./fixtures/cards-before-after.json', import.meta.url);
const HELP_PEOPLE = ['S0001', 'S0002', 'S0003', 'S0004', 'S0005', 'S0028', 'S0036', 'S0037', 'S0040', 'S0041'];
const ASKS: [string, string][] = [
  ['S0001', '学习'],
  ['S0001', '学习 完成'],
  ['S0001', '学习'],
  ['S0001', '我的进度'],
  ['S0001', '成绩'],
  ['S0001', '错题'],
  ['S0004', '上报'],
  ['S0003', '进度'],
  ['S0003', '进度 学习'],
  ['S0005', '进度'],
  ['S0005', '进度 学习'],
  ['S0005', '进度 学习 心血管内科'],
  ['S0005', '进度 考试'],
  ['S0005', '进度 上报'],
  ['S0005', '进度 上缴'],
  ['S0005', '考试情况'],
  ['S0002', '名单'],
  ['S0002', '名单 S0001'],
];

/**
 * What differs every run: an uploaded chart's address (port, file id), and the instant of
 * 学习 完成, which the database stamps with its own clock rather than the bot's fixed now.
 */
const stable = (x: unknown): unknown =>
  JSON.parse(
    JSON.stringify(x)
      .replace(/(https?:\/\/[^"]*)?\/sandbox\/files\/[0-9a-f-]+\//g, '<upload>/')
      .replace(/\d{1,2}\/\d{1,2} \d{2}:\d{2}/g, '<completed at>')
      .replace(/已完成（\d{4}年\d{1,2}月\d{1,2}日）/g, '已完成（<completed on>）'),
  );

describe('cards before and after', () => {
  let t: TestApp;
  const golden = process.env.UPDATE_CARDS_GOLDEN === '1' ? {} : (JSON.parse(readFileSync(GOLDEN, 'utf8')) as Record<string, unknown>);
  const recorded: Record<string, unknown> = {};
  const key0 = (k: string): string => (k in recorded ? key0(`${k} 又`) : k);
  beforeAll(async () => {
    t = await startTestApp({
      label: 'cards_golden',
      now: () => new Date('2026-12-10T02:00:00Z'),
      settings: { quiz: { exams: [{ id: 'M12', title: '12月廉洁考试', opensOn: '2026-12-01', dueOn: '2026-12-20' }] } },
    });
  });
  afterAll(async () => {
    if (process.env.UPDATE_CARDS_GOLDEN === '1') writeFileSync(GOLDEN, `${JSON.stringify(recorded, null, 2)}\n`);
    await t.dispose();
  });

  it('14.2 the 帮助 card of every role combination is unchanged', async () => {
    for (const id of HELP_PEOPLE) {
      const key = `${id} 帮助`;
      recorded[key] = (await ask(t, id, '帮助'))[0].card;
      if (!process.env.UPDATE_CARDS_GOLDEN) expect(recorded[key], key).toEqual(golden[key]);
    }
  });

  it('14.2 study, report, progress, scores and roster cards are unchanged', async () => {
    for (const [id, text] of ASKS) {
      // The same question asked twice (学习 before and after 学习 完成) is recorded twice.
      const key = key0(`${id} ${text}`);
      const [reply] = await ask(t, id, text);
      recorded[key] = stable(reply.card ?? reply.text);
      if (!process.env.UPDATE_CARDS_GOLDEN) expect(recorded[key], key).toEqual(stable(golden[key]));
    }
  });
});
