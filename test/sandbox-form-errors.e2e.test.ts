import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxMessage } from '../src/platform/sandbox/adapter.js';
import { button, formOf } from './helpers/cards.js';
import { ask, startTestApp, type TestApp } from './helpers/app.js';

/**
 * What the server says about a refused form, through the sandbox API: per-field messages
 * (input name → Chinese) for the page to show at each input, and a message that names the
 * fields for every platform that shows one; over-long text refused, never cut; an over-long
 * chat message answered in Chinese without echoing it.
 */

type Reply = { toast?: string; error?: string; fieldErrors?: Record<string, string> };

describe('refused forms and over-long text in the sandbox', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ label: 'sandbox_form_errors' });
  });
  afterAll(async () => {
    await t?.dispose();
  });

  const submit = async (user: string, m: SandboxMessage, form: Record<string, string>): Promise<Reply> => {
    const f = formOf(m.card!);
    const r = await t.click(user, m.id, f.actionId, f.value ?? {}, form);
    expect(r.status).toBe(200);
    return r.body as Reply;
  };
  const declaration = { kind: 'cash', amount: '500', receivedOn: '2026-11-20', giver: 'family', handling: 'returned', description: '出院时家属塞在病历夹里。' };

  it('names the refused declaration field, for the page and in the message', async () => {
    const [formCard] = await ask(t, 'S0001', '上缴');
    const out = await submit('S0001', formCard, { ...declaration, receivedOn: '2099-01-01' });
    expect(Object.keys(out.fieldErrors ?? {})).toEqual(['receivedOn']);
    expect(out.fieldErrors!.receivedOn).toContain('收到日期不能晚于今天');
    // Platforms without inline errors get one message, naming the field.
    expect(out.toast).toContain('收到日期');
    // Nothing was saved, and the form card is left as it was for the page to keep the values.
    expect((await t.inbox('S0001')).find((m) => m.id === formCard.id)!.card).toEqual(formCard.card);

    const long = '经过'.repeat(251);
    const tooLong = await submit('S0001', formCard, { ...declaration, description: long });
    expect(tooLong.fieldErrors?.description).toBe('情况说明最多 500 字，现在是 502 字，请精简后重新填写。');

    const ok = await submit('S0001', formCard, declaration);
    expect(ok.fieldErrors).toBeUndefined();
    expect((await t.inbox('S0001')).find((m) => m.id === formCard.id)!.card!.title).toContain('请核对');
  });

  it('names the refused report inputs, and refuses an over-long summary instead of cutting it', async () => {
    const [formCard] = await ask(t, 'S0004', '上报');
    const out = await submit('S0004', formCard, { summary: '本月开展自查。'.padEnd(2001, '查'), f0: '3', f1: '两个' });
    expect(out.fieldErrors?.summary).toBe('工作进展最多 2000 字，现在是 2001 字，请精简后重新提交');
    expect(out.fieldErrors?.f1).toContain('已完成整改数');
    expect(Object.keys(out.fieldErrors!).sort()).toEqual(['f1', 'summary']);
    expect(out.toast).toContain('报告没有提交');
    expect(out.toast).toContain('已完成整改数');
  });

  it('puts a refused rejection reason at its input', async () => {
    const [preview] = await ask(t, 'S0006', '上缴 礼金 300 患者 2026-11-21 事后退还');
    expect((await t.click('S0006', preview.id, 'decl.confirm', button(preview.card!, 'decl.confirm').value)).body.toast).toBe('已提交。');
    const id = String(button(preview.card!, 'decl.confirm').value!.id);
    let pending: SandboxMessage | undefined;
    for (let i = 0; i < 400 && !pending; i++) {
      pending = (await t.inbox('S0003')).find((m) => m.kind === 'card' && JSON.stringify(m.card).includes(`"SB-${id}"`));
      if (!pending) await new Promise((r) => setTimeout(r, 50));
    }
    const reject = pending!.card!.elements.find((e) => e.type === 'form' && e.actionId === 'decl.reject');
    expect(reject).toBeDefined();
    const r = await t.click('S0003', pending!.id, 'decl.reject', reject!.type === 'form' ? reject!.value : {}, { reason: '理由'.repeat(101) });
    expect((r.body as Reply).fieldErrors?.reason).toBe('驳回理由最多 200 字，现在是 202 字，请精简后重新提交。');
  });

  it('answers an over-long message in Chinese, without echoing it, and keeps it out of the history', async () => {
    const text = `机密内容${'很长'.repeat(2000)}`;
    const r = await t.say('S0007', text);
    expect(r.status).toBe(400);
    const { error } = (await r.json()) as Reply;
    expect(error).toBe('这条消息太长了（4004 字），沙盒一次最多收 4000 字。消息没有发出，请删减或分几次发送。');
    expect(error).not.toContain('机密');
    expect(error).not.toContain('userId');
    const history = await fetch(`${t.url}/sandbox/api/conversation/S0007`);
    expect(((await history.json()) as { messages: unknown[] }).messages).toEqual([]);
    // Exactly the limit is taken.
    expect((await t.say('S0007', '长'.repeat(4000))).status).toBe(202);
  });
});
