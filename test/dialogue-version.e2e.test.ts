import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALOGUE_CHANGED } from '../src/bot/bot.js';
import type { DialogueSpec, DialogueStep } from '../src/bot/dialogue.js';
import { ask, startTestApp, type TestApp } from './helpers/app.js';

/**
 * A deploy that changes a dialogue's steps while someone is midway: the stored step belongs to
 * the old steps, so it is never mapped onto the new ones; the user is asked to start again.
 */
describe('14 versioned dialogue specs', () => {
  let t: TestApp;
  const completed: Record<string, unknown>[] = [];
  const step = (key: string, prompt: string): DialogueStep => ({ key, prompt: () => prompt, parse: (text) => ({ ok: true, value: text }) });
  const v1: DialogueSpec = { name: 'test.survey', steps: () => [step('name', '请填写姓名'), step('room', '请填写房间号')], complete: async (_ctx, data) => { completed.push(data); return '已记录'; } };
  // Version 2 asks for the department first: a stored "step 1" now means another field.
  const v2: DialogueSpec = { ...v1, version: 2, steps: () => [step('dept', '请填写科室'), step('name', '请填写姓名'), step('room', '请填写房间号')] };

  beforeAll(async () => {
    t = await startTestApp({ label: 'dialogue_version', backend: 'pglite' });
    t.app.bot.dialogue(v1);
    t.app.bot.command({ names: ['测试问卷'], summary: '测试', group: '通用' }, async (ctx) => {
      await ctx.startDialogue('test.survey');
    });
  }, 60_000);
  afterAll(async () => {
    await t?.dispose();
  });

  it('14 a stored step of an older dialogue version is restarted politely, never mis-mapped', async () => {
    expect((await ask(t, 'S0001', '测试问卷'))[0].text).toContain('请填写姓名');
    expect((await ask(t, 'S0001', '张三'))[0].text).toContain('请填写房间号');
    t.app.bot.dialogue(v2); // the deploy
    const [reply] = await ask(t, 'S0001', '301');
    expect(reply.text).toBe(DIALOGUE_CHANGED);
    expect(completed).toEqual([]);
    expect(await t.app.bot.dialogueStore.get('S0001')).toBeUndefined();
    // Started again, the new steps are asked from the first.
    expect((await ask(t, 'S0001', '测试问卷'))[0].text).toContain('请填写科室');
    await ask(t, 'S0001', '内科');
    await ask(t, 'S0001', '张三');
    expect((await ask(t, 'S0001', '301'))[0].text).toBe('已记录');
    expect(completed).toEqual([{ dept: '内科', name: '张三', room: '301' }]);
  });

  it('14 a state stored before versions existed counts as version 1; an unreadable one is restarted', async () => {
    t.app.bot.dialogue(v1);
    completed.length = 0;
    // What the previous release wrote: no version field.
    await t.app.redis.set(`${t.prefix}:dialogue:S0002`, JSON.stringify({ name: 'test.survey', step: 1, data: { name: '李四' }, initial: {} }), 'EX', 600);
    expect((await ask(t, 'S0002', '302'))[0].text).toBe('已记录');
    expect(completed).toEqual([{ name: '李四', room: '302' }]);

    await t.app.redis.set(`${t.prefix}:dialogue:S0002`, JSON.stringify({ name: 'test.survey', step: 'room', data: {} }), 'EX', 600);
    expect((await ask(t, 'S0002', '302'))[0].text).toBe(DIALOGUE_CHANGED);
    expect(await t.app.redis.exists(`${t.prefix}:dialogue:S0002`)).toBe(0);
    expect(completed).toHaveLength(1);
  });
});
