import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completionOf } from '../src/domain/study.js';
import { startDingTalkApp, waitFor, type DingTalkHarness } from './fakes/dingtalk/harness.js';

// S0006 = dt703699, S0002 (admin) = dt319380 in examples/roster.csv.
const USER = 'dt703699';
const CREATE = '/v1.0/card/instances/createAndDeliver';

/**
 * An app without Card.Instance.Write (createAndDeliver answers 403 with requiredScopes): the
 * bot notices once, sends every card as a markdown message from then on, says so in /healthz
 * in Chinese, and the buttons still work: a dtmd link that sends `点 CODE N` in a one-to-one
 * chat, the code to type after @-mentioning in a group.
 */
describe('DingTalk without the card-instance permission', () => {
  let h: DingTalkHarness;
  beforeAll(async () => {
    h = await startDingTalkApp('dingtalk_nocards', { cardsForbidden: true });
  });
  afterAll(async () => {
    await h?.dispose();
  });

  const markdownTo = () => h.fake.oto.filter((m) => m.userIds.includes(USER) && m.msgKey === 'sampleMarkdown').map((m) => m.msgParam as { title: string; text: string });

  it('4 sends cards as markdown after the first refusal, with dtmd links that press the buttons in a 1:1 chat', async () => {
    h.fake.userSays({ staffId: USER, text: '帮助' });
    const help = await waitFor('help as markdown', () => markdownTo().find((m) => m.title.includes('帮助')));
    expect(help.text).toMatch(/^### /);

    h.fake.userSays({ staffId: USER, text: '学习' });
    const task = await waitFor('study task as markdown', () => markdownTo().find((m) => m.text.includes('我已学习')));
    // One refused attempt in all: later cards go straight to markdown.
    expect(h.fake.received.filter((r) => r.path === CREATE).map((r) => r.status)).toEqual([403]);

    const link = /\[我已学习\]\(dtmd:\/\/dingtalkclient\/sendMessage\?content=([^)]+)\)/.exec(task.text);
    expect(link).not.toBeNull();
    // Tapping the link sends its text as the user.
    const typed = decodeURIComponent(link![1]!);
    expect(typed).toMatch(/^点 [2-9A-Z]{4} 1$/);
    h.fake.userSays({ staffId: USER, text: typed });
    await waitFor('recorded', () => h.fake.oto.find((m) => m.userIds.includes(USER) && m.msgKey === 'sampleText' && String(m.msgParam.content).startsWith('已记录：您已完成')));
    expect(await completionOf(h.t.app.db, (await h.t.app.db.query<{ month: string }>('SELECT month FROM study_completions LIMIT 1')).rows[0].month, 'S0006')).toBeInstanceOf(Date);

    const health = (await (await fetch(`${h.t.url}/healthz`)).json()) as { platforms: Record<string, string>; warnings?: Record<string, string> };
    expect(health.platforms.dingtalk).toBe('ok');
    expect(health.warnings?.dingtalk).toContain('应用缺少权限 Card.Instance.Write');
    expect(health.warnings?.dingtalk).toContain('权限管理');
  });

  it('4 names typed codes in a group, where a stream robot hears only @-mentions', async () => {
    // 上报 is a department's card, so it is answered in the group (学习 is personal: it goes privately).
    const group = { openConversationId: 'cidNoCards0001==' };
    const OWNER = 'dt607302'; // S0004, report owner of 心血管内科
    h.fake.userSays({ staffId: OWNER, text: '上报', group });
    const form = await waitFor('report form in the group', () =>
      h.fake.group.find((m) => m.openConversationId === group.openConversationId && m.msgKey === 'sampleMarkdown' && String(m.msgParam.text).includes('逐项填写')),
    );
    const text = String(form.msgParam.text);
    expect(text).not.toContain('dtmd://');
    const code = /【逐项填写[^】]*】：@我 并回复“(点 [2-9A-Z]{4} \d)”/.exec(text);
    expect(code).not.toBeNull();
    h.fake.userSays({ staffId: OWNER, text: code![1]!, group });
    await waitFor('the form dialogue starts in the group', () =>
      h.fake.group.find((m) => m.openConversationId === group.openConversationId && /逐项填写，随时回复“取消”可结束/.test(String(m.msgParam.content ?? m.msgParam.text ?? ''))),
    );
    expect(h.fake.received.filter((r) => r.path === CREATE)).toHaveLength(1);
  });
});
