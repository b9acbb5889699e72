import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actions, button, card, form, image, text } from '../cards/builders.js';
import type { Card } from '../cards/model.js';
import { capabilitiesOf, dialogueInstead, fitCard, FORM_FILL, FORM_TWIN_LABEL, type DegradeDeps } from '../src/bot/degrade.js';
import { FormStore } from '../src/bot/state/forms.js';
import { MemoryStateStore } from '../src/bot/state/memory.js';
import { TypedButtons } from '../src/bot/typed-buttons.js';
import { createLogger } from '../src/logger.js';
import type { ChatPlatform } from '../src/platform/types.js';
import { startDingTalkApp, waitFor, type DingTalkHarness } from './fakes/dingtalk/harness.js';
import { PUBLIC_AI_TEMPLATE } from './fakes/dingtalk/cards.js';
import { RecordingPlatform } from './helpers/recording-platform.js';
import { SandboxPlatform } from '../src/platform/sandbox/adapter.js';
import { ask, startTestApp, type TestApp } from './helpers/app.js';
import { button as buttonOf } from './helpers/cards.js';
import { waitFor as until } from './fakes/recorder/seed.js';

const state = new MemoryStateStore();
const forms = new FormStore(state);
const deps: DegradeDeps = { forms, typedButtons: new TypedButtons(state), log: createLogger('silent') };

const png = Buffer.from('\x89PNG chart bytes');
const inputs = [{ kind: 'text' as const, name: 'reason', label: '驳回理由', required: true }];
const sample = (dialogue?: { name: string; notice?: string }): Card =>
  card('驳回 SB-1', [
    text('请填写理由。'),
    image('chart.png', png, '柱状图'),
    form('decl.reject', inputs, { submitLabel: '驳回', value: { id: '1', v: 2 }, ...(dialogue ? { dialogue } : {}) }),
    actions(button('同意', 'decl.approve', { id: '1' })),
  ]);

/** A platform as the stage sees it: its flags, and an upload that records what it was given. */
function platformWith(flags: { supportsForms: boolean; formDialogueTwin?: boolean; typedButtons?: boolean }, upload?: (f: { name: string; data: Buffer; mime: string }) => Promise<string>) {
  const uploads: { name: string; data: Buffer; mime: string }[] = [];
  const p = Object.assign(new RecordingPlatform('sandbox', { supportsForms: flags.supportsForms }), {
    formDialogueTwin: flags.formDialogueTwin,
    typedButtons: flags.typedButtons,
    uploadImage: async (f: { name: string; data: Buffer; mime: string }) => {
      uploads.push(f);
      return upload ? upload(f) : `key:${f.name}`;
    },
  }) as ChatPlatform;
  return { p, uploads };
}

describe('the degrade stage', () => {
  it('reads a capability record from the platform', () => {
    expect(capabilitiesOf({ supportsForms: true })).toEqual({ forms: 'card', typedButtons: false });
    expect(capabilitiesOf({ supportsForms: true, formDialogueTwin: true, typedButtons: true })).toEqual({ forms: 'card+dialogue', typedButtons: true });
    expect(capabilitiesOf({ supportsForms: false, typedButtons: true })).toEqual({ forms: 'dialogue', typedButtons: true });
  });

  it('with forms in the card: the form stays, the picture is uploaded by the adapter and only its key reaches the renderer', async () => {
    const { p, uploads } = platformWith({ supportsForms: true });
    const fitted = await fitCard(p, sample(), deps);
    expect(uploads).toEqual([{ name: 'chart.png', data: png, mime: 'image/png' }]);
    expect(fitted.elements.map((e) => e.type)).toEqual(['text', 'image', 'form', 'actions']);
    expect(fitted.elements[1]).toEqual({ type: 'image', url: 'key:chart.png', alt: '柱状图' });
    expect(JSON.stringify(fitted)).not.toContain('chart bytes');
    expect(dialogueInstead(capabilitiesOf(p), sample({ name: 'declare' }))).toBeUndefined();
  });

  it('a failed upload leaves the picture out and keeps the rest of the card', async () => {
    const { p } = platformWith({ supportsForms: true }, async () => {
      throw new Error('upload refused');
    });
    const fitted = await fitCard(p, sample(), deps);
    expect(fitted.elements.map((e) => e.type)).toEqual(['text', 'form', 'actions']);
  });

  it('without forms: the form becomes a button that asks the same inputs by dialogue, and buttons get typed twins', async () => {
    const { p } = platformWith({ supportsForms: false, typedButtons: true });
    const fitted = await fitCard(p, sample(), deps);
    expect(fitted.elements.some((e) => e.type === 'form')).toBe(false);
    expect(fitted.elements).toContainEqual({ type: 'note', text: '需要填写：驳回理由' });
    const fill = fitted.elements.flatMap((e) => (e.type === 'actions' ? e.buttons : [])).find((b) => b.kind === 'button' && b.actionId === FORM_FILL);
    expect(fill).toMatchObject({ label: '逐项填写并驳回', style: 'primary', typed: expect.stringMatching(/^点 [2-9A-Z]{4} 1$/) });
    const stored = await forms.get(String(fill?.kind === 'button' ? fill.value?.f : ''));
    expect(stored).toEqual({ actionId: 'decl.reject', value: { id: '1', v: 2 }, inputs });
    expect(fitted.elements.at(-1)).toMatchObject({ type: 'note', hint: 'typed-buttons' });
  });

  it('without forms, a form naming its own dialogue is that dialogue instead of a card', () => {
    const dialogue = { name: 'declare', notice: '请在对话中逐项修改。' };
    expect(dialogueInstead(capabilitiesOf({ supportsForms: false }), sample(dialogue))).toEqual(dialogue);
    expect(dialogueInstead(capabilitiesOf({ supportsForms: false }), sample())).toBeUndefined();
    expect(dialogueInstead(capabilitiesOf({ supportsForms: true, formDialogueTwin: true }), sample(dialogue))).toBeUndefined();
  });

  it('with forms some clients cannot show: the form stays and a by-dialogue twin is added', async () => {
    const { p } = platformWith({ supportsForms: true, formDialogueTwin: true });
    const fitted = await fitCard(p, sample(), deps);
    expect(fitted.elements.map((e) => e.type)).toEqual(['text', 'image', 'form', 'actions', 'actions']);
    expect(fitted.elements[3]).toMatchObject({ type: 'actions', buttons: [{ label: FORM_TWIN_LABEL, actionId: FORM_FILL }] });
  });
});

const U = { S0001: 'dt604924' };

describe('the degrade stage through DingTalk card tiers', () => {
  let h: DingTalkHarness;
  beforeAll(async () => {
    // The configured hospital template was never imported: the first card falls to the AI tier.
    h = await startDingTalkApp('degrade_tiers', {}, { cardTemplateId: 'never-imported.schema' });
  });
  afterAll(async () => {
    await h?.dispose();
  });

  const textsTo = (userId: string) => h.fake.oto.filter((m) => m.userIds.includes(userId) && m.msgKey === 'sampleText').map((m) => String(m.msgParam.content));

  it('a form refused with the hospital template is decided again: the declaration asks by dialogue, no card says "cannot show"', async () => {
    expect(h.adapter.supportsForms).toBe(true);
    h.fake.userSays({ staffId: U.S0001, text: '上缴' });
    const prompt = await waitFor('first dialogue step', () => textsTo(U.S0001).find((t) => t.startsWith('第 1 步')));
    expect(prompt).toContain('请选择类别');
    expect(h.adapter.supportsForms).toBe(false);
    // Nothing was delivered with the refused template, and no card went out instead of the dialogue.
    expect(h.fake.cardsTo(U.S0001)).toHaveLength(0);
    h.fake.userSays({ staffId: U.S0001, text: '取消' });
    await waitFor('cancelled', () => textsTo(U.S0001).find((t) => t.includes('已取消')));
  });

  it('on the AI tier a card with buttons goes out on the public template, fitted for it', async () => {
    h.fake.userSays({ staffId: U.S0001, text: '帮助' });
    const sent = await waitFor('help card', () => h.fake.cardsTo(U.S0001)[0]);
    expect(sent.templateId).toBe(PUBLIC_AI_TEMPLATE);
  });
});

describe('the degrade stage through the router, on a platform without forms', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ label: 'degrade_router', platforms: [Object.assign(new SandboxPlatform(), { supportsForms: false })] });
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('修改后重新提交 on a rejected declaration asks in the chat, and the click says so instead of “new card”', async () => {
    const [preview] = await ask(t, 'S0006', '上缴 礼品 200 患者 2026-11-24 事后退还 一篮水果');
    const confirm = buttonOf(preview.card!, 'decl.confirm');
    expect((await t.click('S0006', preview.id, 'decl.confirm', confirm.value)).body.toast).toBe('已提交。');
    const id = String(confirm.value!.id);
    await ask(t, 'S0003', `驳回 SB-${id} 礼品价值估计偏低`);
    const rejection = await until('rejection card', async () => [...(await t.inbox('S0006'))].reverse().find((m) => m.kind === 'card' && m.card!.title.includes('被驳回')));
    const before = (await t.inbox('S0006')).length;
    const r = await t.click('S0006', rejection.id, 'decl.amend', buttonOf(rejection.card!, 'decl.amend').value);
    expect(r.body.toast).toBe('请在对话中逐项修改。');
    const after = (await t.inbox('S0006')).slice(before);
    expect(after.filter((m) => m.kind === 'card')).toEqual([]);
    expect(after.at(-1)!.text).toContain('第 1 步');
    expect(after.at(-1)!.text).toContain('当前：礼品');
  });
});
