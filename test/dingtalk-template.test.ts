import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actions, button, card, form, text } from '../cards/builders.js';
import { renderDingTalkCard } from '../cards/dingtalk.js';
import { getDeclaration } from '../src/store/declarations.js';
import { auditTrail } from '../src/store/audit.js';
import { PUBLIC_AI_TEMPLATE } from './fakes/dingtalk/cards.js';
import type { FakeDingTalk } from './fakes/dingtalk/server.js';
import { cardIds, clickLabel, freshCard, newestCard, startDingTalkApp, waitFor, type DingTalkHarness } from './fakes/dingtalk/harness.js';

const HOSPITAL_TEMPLATE = 'a1b2c3d4-qinglian-hospital.schema';
const U = { S0001: 'dt604924', S0003: 'dt745280', S0037: 'dt326712', S0041: 'dt916272', S0042: 'dt682650' };
const CREATE = '/v1.0/card/instances/createAndDeliver';
const textsTo = (fake: FakeDingTalk, userId: string) => fake.oto.filter((m) => m.userIds.includes(userId) && m.msgKey === 'sampleText').map((m) => String(m.msgParam.content));
const health = async (h: DingTalkHarness) => (await (await fetch(`${h.t.url}/healthz`)).json()) as { platforms: Record<string, string>; warnings?: Record<string, string> };

describe('2 the shipped hospital card template', () => {
  const file = JSON.parse(readFileSync(new URL('../config/dingtalk/qinglian-card-template.json', import.meta.url), 'utf8')) as Record<string, unknown>;

  it('2 is in the card designer’s export format and declares every variable the renderer fills', () => {
    expect(Object.keys(file).sort()).toEqual(['editorData', 'mode', 'type', 'widgetInfo']);
    expect(file).toMatchObject({ type: 'im', mode: 'card' });
    const editor = JSON.parse(String(file.editorData)) as { varList: { id: string }[]; schema: { componentsTree: unknown[] } };
    const declared = new Set(editor.varList.map((v) => v.id));
    const rendered = renderDingTalkCard(card('t', [text('x'), actions(button('同意', 'a')), form('f', [{ kind: 'text', name: 'r', label: '理由' }], { submitLabel: '驳回' })]), 'hospital');
    for (const k of Object.keys(rendered.params)) expect(declared, `template lacks variable ${k}`).toContain(k);
    // The form component is bound to `form` and submits as action id "form".
    const tree = JSON.stringify(editor.schema.componentsTree);
    expect(tree).toContain('"componentName":"Form"');
    expect(tree).toContain('"id":"form"');
    expect(tree).toContain('"variable":"form"');
  });
});

describe('DingTalk on the hospital template (forms in the card)', () => {
  let h: DingTalkHarness;
  beforeAll(async () => {
    h = await startDingTalkApp('dingtalk_tpl', {}, { cardTemplateId: HOSPITAL_TEMPLATE });
    h.fake.importTemplate(HOSPITAL_TEMPLATE, 'designer');
  });
  afterAll(async () => {
    await h?.dispose();
  });

  it('2 fills a declaration in the card form, and it goes through head, two discipline members at once and finance to a receipt', async () => {
    expect(h.adapter.supportsForms).toBe(true);
    h.fake.userSays({ staffId: U.S0001, text: '上缴' });
    const formCard = await waitFor('declaration form card', () => newestCard(h.fake, U.S0001, '上缴申报'));
    expect(h.fake.instances.get(formCard.id)!.templateId).toBe(HOSPITAL_TEMPLATE);
    const f = h.fake.view(formCard.id, U.S0001).form!;
    expect(f.fields.map((x) => x.type)).toEqual(['SELECT', 'NUMBER', 'DATE', 'SELECT', 'SELECT', 'TEXT_AREA']);
    expect(f.submitText).toBe('下一步：核对');
    h.fake.submitForm(formCard.id, U.S0001, { kind: 'cash', amount: '500', receivedOn: '2026-11-20', giver: 'patient', handling: 'to_finance', description: '出院时家属塞在病历夹里' });
    const preview = await waitFor('preview', () => newestCard(h.fake, U.S0001, '请核对'));
    const id = /SB-(\d+)/.exec(preview.title)![1]!;
    clickLabel(h.fake, preview.id, U.S0001, '确认提交');

    const head = await waitFor('head card', () => newestCard(h.fake, U.S0003, `SB-${id}`, '待审核'));
    // The reject form is in the head's card, next to 同意.
    expect(h.fake.view(head.id, U.S0003).form?.fields.map((x) => x.name)).toEqual(['reason']);
    clickLabel(h.fake, head.id, U.S0003, '同意');
    const [c41, c42] = await Promise.all([
      waitFor('S0041 card', () => newestCard(h.fake, U.S0041, `SB-${id}`, '待审核')),
      waitFor('S0042 card', () => newestCard(h.fake, U.S0042, `SB-${id}`, '待审核')),
    ]);
    clickLabel(h.fake, c41.id, U.S0041, '同意');
    clickLabel(h.fake, c42.id, U.S0042, '同意');
    await waitFor('finance step', async () => (await getDeclaration(h.t.app.db, id))!.state === 'pending_finance');
    expect((await auditTrail(h.t.app.db, 'declaration', id)).filter((r) => r.from_state === 'pending_discipline')).toHaveLength(1);
    const fin = await waitFor('finance card', () => newestCard(h.fake, U.S0037, `SB-${id}`, '待确认收款'));
    clickLabel(h.fake, fin.id, U.S0037, '确认已收款');
    const d = await waitFor('registered', async () => {
      const x = (await getDeclaration(h.t.app.db, id))!;
      return x.state === 'registered' ? x : undefined;
    });
    expect(d).toMatchObject({ kind: 'cash', giver: 'patient', handling: 'to_finance' });
    expect(d.receiptNo).toMatch(/^HB-\d{4}-\d{6}$/);
  });

  it('2 rejects with the reason typed in the card’s form', async () => {
    const before = cardIds(h.fake, U.S0001);
    h.fake.userSays({ staffId: U.S0001, text: '上缴 礼品 200 患者 2026-11-24 事后退还 一篮水果' });
    const preview = await waitFor('new preview', () => freshCard(h.fake, U.S0001, before, '请核对'));
    const id = /SB-(\d+)/.exec(preview.title)![1]!;
    clickLabel(h.fake, preview.id, U.S0001, '确认提交');
    const head = await waitFor('head card', () => newestCard(h.fake, U.S0003, `SB-${id}`, '待审核'));
    h.fake.submitForm(head.id, U.S0003, { reason: '礼品价值估计偏低，请核实后重报' });
    await waitFor('rejected', async () => (await getDeclaration(h.t.app.db, id))!.state === 'rejected');
    await waitFor('head card shows the decision', () => h.fake.view(head.id).title.includes('已驳回'));
    expect(h.fake.view(head.id).content).toContain('礼品价值估计偏低');
    expect(h.fake.view(head.id, U.S0003).form).toBeUndefined();
  });
});

describe('2 older DingTalk clients on the hospital template', () => {
  let h: DingTalkHarness;
  beforeAll(async () => {
    h = await startDingTalkApp('dingtalk_tpl_old', {}, { cardTemplateId: HOSPITAL_TEMPLATE });
    h.fake.importTemplate(HOSPITAL_TEMPLATE, 'designer');
  });
  afterAll(async () => {
    await h?.dispose();
  });

  it('2 keep the dialogue path: the form card also offers to fill it in by dialogue', async () => {
    h.fake.userSays({ staffId: U.S0001, text: '上缴 礼品 300 患者 2026-11-24 事后退还 一盒茶叶' });
    const preview = await waitFor('preview', () => newestCard(h.fake, U.S0001, '请核对'));
    const id = /SB-(\d+)/.exec(preview.title)![1]!;
    clickLabel(h.fake, preview.id, U.S0001, '确认提交');
    const head = await waitFor('head card', () => newestCard(h.fake, U.S0003, `SB-${id}`, '待审核'));
    expect(h.fake.view(head.id, U.S0003).form).toBeDefined();
    clickLabel(h.fake, head.id, U.S0003, '看不到表单？在对话中填写');
    await waitFor('reason asked', () => textsTo(h.fake, U.S0003).find((t) => t.includes('驳回理由')));
    h.fake.userSays({ staffId: U.S0003, text: '请写明退还方式' });
    await waitFor('rejected', async () => (await getDeclaration(h.t.app.db, id))!.state === 'rejected');
  });
});

describe('4 card templates that cannot be used', () => {
  let h: DingTalkHarness;
  beforeAll(async () => {
    // The configured template was never imported (or not published).
    h = await startDingTalkApp('dingtalk_tpl_missing', {}, { cardTemplateId: 'never-imported.schema' });
  });
  afterAll(async () => {
    await h?.dispose();
  });

  it('4 falls back to the public template once, with forms by dialogue and a Chinese warning', async () => {
    h.fake.userSays({ staffId: U.S0001, text: '帮助' });
    const sent = await waitFor('help card', () => h.fake.cardsTo(U.S0001)[0]);
    expect(sent.templateId).toBe(PUBLIC_AI_TEMPLATE);
    expect(h.fake.received.filter((r) => r.path === CREATE).map((r) => [r.status, (r.body as { cardTemplateId: string }).cardTemplateId])).toEqual([
      [400, 'never-imported.schema'],
      [200, PUBLIC_AI_TEMPLATE],
    ]);
    expect(h.adapter.supportsForms).toBe(false);
    h.fake.userSays({ staffId: U.S0001, text: '帮助' });
    await waitFor('second help card', () => h.fake.cardsTo(U.S0001).length === 2);
    expect(h.fake.received.filter((r) => r.path === CREATE && r.status === 400)).toHaveLength(1);
    expect((await health(h)).warnings?.dingtalk).toContain('卡片模板 never-imported.schema 不存在或未发布');
  });

  it('4 sends markdown when the public template is not reachable either', async () => {
    h.fake.templates.delete(PUBLIC_AI_TEMPLATE);
    h.fake.userSays({ staffId: U.S0003, text: '学习' });
    const md = await waitFor('markdown study card', () => h.fake.oto.find((m) => m.userIds.includes(U.S0003) && m.msgKey === 'sampleMarkdown'));
    expect(String(md.msgParam.text)).toContain('dtmd://dingtalkclient/sendMessage?content=');
    expect((await health(h)).warnings?.dingtalk).toContain('钉钉公共卡片模板不可用');
  });
});
