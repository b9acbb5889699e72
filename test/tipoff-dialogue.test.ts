import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Card } from '../cards/model.js';
import { getTipoff } from '../src/store/tipoffs.js';
import { button } from './helpers/cards.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { RecordingPlatform } from './helpers/recording-platform.js';

/**
 * On a platform without card forms (DingTalk's public template), the tip-off form becomes a
 * dialogue asking the same questions, with the same checks, ending on the same review card.
 */
describe('线索反映 as a dialogue where the platform has no forms', () => {
  let t: TestApp;
  const p = new RecordingPlatform('sandbox', { supportsForms: false });
  let seq = 0;
  const say = async (text: string) => {
    const before = p.sent.length;
    await t.app.bot.onMessage({ kind: 'message', platform: 'sandbox', eventId: `dlg-${++seq}`, platformUserId: 'S0001', conversation: { type: 'direct', platformUserId: 'S0001' }, text, mentioned: false, receivedAt: new Date() });
    return p.sent.slice(before);
  };
  const click = (actionId: string, value: Record<string, string | number | boolean>) =>
    t.app.bot.onAction({ kind: 'action', platform: 'sandbox', eventId: `dlg-${++seq}`, platformUserId: 'S0001', conversation: { type: 'direct', platformUserId: 'S0001' }, messageId: 'm', actionId, value, receivedAt: new Date() });

  beforeAll(async () => {
    t = await startTestApp({ label: 'tipoff_dialogue', platforms: [p], env: { TIPOFF_KEY: Buffer.alloc(32, 4).toString('base64') } });
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('asks the five things, the identity and the pledge one by one, then shows the review card', async () => {
    const [formCard] = await say('举报');
    const fill = button(formCard.card!, 'form.fill');
    expect(fill.label).toContain('逐项填写');
    await click('form.fill', fill.value!);
    const answers = ['上周三上午', '门诊二楼', '眼科', '某医生', '收受患者家属购物卡一张', '9', '2', '1'];
    let last: { text?: string; card?: Card }[] = [];
    for (const a of answers) last = await say(a);
    // "9" is not an identity choice: asked again, nothing lost.
    expect(p.sent.some((s) => (s.text ?? '').includes('请回复 1 到 2 之间的序号'))).toBe(true);
    const review = last.find((s) => s.card)?.card;
    expect(review?.title).toContain('请核对');
    expect(JSON.stringify(review)).toContain('收受患者家属购物卡一张');
    expect(JSON.stringify(review)).toContain('身份保密');
    const result = await click('tipoff.confirm', button(review!, 'tipoff.confirm').value!);
    const id = /XS-(\d+)/.exec(result.toast ?? '')![1];
    expect(await getTipoff(t.app.db, id)).toMatchObject({ department: '眼科', realName: false, state: 'received' });
    expect(JSON.stringify(result.card)).toMatch(/查询码：[A-Z0-9-]{14}/);
  });
});
