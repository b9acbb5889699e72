import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completionOf } from '../src/domain/study.js';
import { startDingTalkApp, waitFor, type DingTalkHarness } from './fakes/dingtalk/harness.js';

// S0006 = dt703699 in examples/roster.csv.
const USER = 'dt703699';

/**
 * An app without DingTalk's robot interactive-card permission (the card APIs answer 403): the
 * bot notices once, sends every card as a markdown message from then on, says so in /healthz,
 * and the buttons still work by message (点 CODE N).
 */
describe('DingTalk without the interactive-card permission', () => {
  let h: DingTalkHarness;
  beforeAll(async () => {
    h = await startDingTalkApp('dingtalk_nocards', { cardsForbidden: true });
  });
  afterAll(async () => {
    await h?.dispose();
  });

  const markdownTo = () => h.fake.oto.filter((m) => m.userIds.includes(USER) && m.msgKey === 'sampleMarkdown').map((m) => m.msgParam as { title: string; text: string });

  it('sends cards as markdown after the first refusal, and 点 CODE N still presses their buttons', async () => {
    h.fake.userSays({ staffId: USER, text: '帮助' });
    const help = await waitFor('help as markdown', () => markdownTo().find((m) => m.title.includes('帮助')));
    expect(help.text).toMatch(/^### /);

    h.fake.userSays({ staffId: USER, text: '学习' });
    const task = await waitFor('study task as markdown', () => markdownTo().find((m) => m.text.includes('我已学习')));
    // One refused attempt in all: later cards go straight to markdown.
    expect(h.fake.received.filter((r) => r.path === '/v1.0/im/v1.0/robot/interactiveCards/send')).toHaveLength(1);
    expect(h.fake.received.find((r) => r.path === '/v1.0/im/v1.0/robot/interactiveCards/send')?.status).toBe(403);

    const code = /点 ([2-9A-Z]{4}) 1（我已学习）/.exec(task.text)![1];
    h.fake.userSays({ staffId: USER, text: `点 ${code} 1` });
    await waitFor('recorded', () => h.fake.oto.find((m) => m.userIds.includes(USER) && m.msgKey === 'sampleText' && String(m.msgParam.content).startsWith('已记录：您已完成')));
    expect(await completionOf(h.t.app.db, (await h.t.app.db.query<{ month: string }>('SELECT month FROM study_completions LIMIT 1')).rows[0].month, 'S0006')).toBeInstanceOf(Date);

    const health = (await (await fetch(`${h.t.url}/healthz`)).json()) as { platforms: Record<string, string>; warnings?: Record<string, string> };
    expect(health.platforms.dingtalk).toBe('ok');
    expect(health.warnings?.dingtalk).toBe('cards sent as markdown: no interactive-card permission');
  });
});
