import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { FeishuPlatform } from '../src/platform/feishu/adapter.js';
import { getTipoff } from '../src/store/tipoffs.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { FakeFeishu, type StoredMessage } from './fakes/feishu/server.js';

/**
 * 线索反映 on Feishu: the real SDK against the fake Feishu, the whole bot on real Redis and
 * PostgreSQL. A 实名 report filed with the card form, worked to 办结 by 纪检 in chat, its reply
 * delivered to the reporter on Feishu; an identity-protected one followed by 查询码.
 */

const APP_ID = 'cli_a1b2c3d4e5f60719';
const APP_SECRET = 'fake-secret-for-tests-0017';
// examples/roster.csv: S0001 林雨桐 (staff), S0006 谢婉清 (staff), S0041 白晓琳 (discipline).
const S0001 = 'ou_9617f0dc71bd20fc4c91750d723fd04e';
const S0006 = 'ou_6a33b3a1af1f0383de06d74320445350';
const S0041 = 'ou_ec324818e8e377f5ea1d74573149aa81';

async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
const last = (m: StoredMessage) => m.history[m.history.length - 1];

describe('线索反映 on Feishu through the real SDK against the fake Feishu', () => {
  let fake: FakeFeishu;
  let t: TestApp;

  async function converse(from: string, text: string, count = 1): Promise<StoredMessage[]> {
    const before = fake.sentTo(from).length;
    const { answer } = fake.deliverMessage({ senderOpenId: from, text });
    expect((await answer).code).toBe(200);
    return waitFor(`${count} replies to ${from}`, () => {
      const all = fake.sentTo(from);
      return all.length >= before + count && all.slice(before);
    });
  }
  const said = async (from: string, text: string, count = 1) => (await converse(from, text, count)).map(last).join('\n');

  /** 举报 → the form submitted on the card → 确认提交 on the updated card; returns the receipt. */
  async function file(from: string, identity: 'real' | 'protected'): Promise<{ id: string; receipt: string }> {
    const [formMsg] = await converse(from, '举报');
    const submit = await fake.deliverCardAction({
      operatorOpenId: from,
      messageId: formMsg.message_id,
      value: fake.callbackValue(formMsg.message_id, '下一步：核对'),
      name: 'submit',
      formValue: { occurred: '2026年12月初', place: '住院部五楼', department: '骨科', persons: '某护士长', matter: '要求实习生购买购物卡', identity, pledge: 'yes' },
    }).answer;
    expect(submit.code).toBe(200);
    expect(last(fake.messages.get(formMsg.message_id)!)).toContain('请核对');
    const confirm = await fake.deliverCardAction({ operatorOpenId: from, messageId: formMsg.message_id, value: fake.callbackValue(formMsg.message_id, '确认提交') }).answer;
    const toast = (confirm.data as { toast?: { content?: string } }).toast?.content ?? '';
    expect(toast).toMatch(/已提交，编号 XS-\d+/);
    return { id: /XS-(\d+)/.exec(toast)![1], receipt: last(fake.messages.get(formMsg.message_id)!) };
  }

  beforeAll(async () => {
    fake = new FakeFeishu({ appId: APP_ID, appSecret: APP_SECRET, pingInterval: 2, reconnectInterval: 1, reconnectNonce: 0 });
    await fake.start();
    const feishu = new FeishuPlatform({ appId: APP_ID, appSecret: APP_SECRET, domain: fake.base, logger: createLogger('silent') });
    t = await startTestApp({
      label: 'tipoff_feishu',
      platforms: [feishu],
      env: { FEISHU_APP_ID: APP_ID, FEISHU_APP_SECRET: APP_SECRET, FEISHU_DOMAIN: fake.base, SANDBOX: 'off', TIPOFF_KEY: Buffer.alloc(32, 3).toString('base64') },
    });
  });
  afterAll(async () => {
    await t?.dispose();
    await fake?.stop();
  });

  it('a 实名 report filed on the card form goes to 办结, with the reply sent to the reporter on Feishu', async () => {
    const { id, receipt } = await file(S0001, 'real');
    expect(receipt).not.toContain('查询码');
    expect(await said(S0041, `线索 XS-${id}`)).toContain('林雨桐（心血管内科，实名）');
    await said(S0041, `线索 XS-${id} 受理 予以受理`, 2);
    await said(S0041, `线索 XS-${id} 转处置 初核属实`, 2);
    await said(S0041, `线索 XS-${id} 处置决定 处理 已批评教育并责令退还`, 2);
    const before = fake.sentTo(S0001).length;
    expect(await said(S0041, `线索 XS-${id} 回复 经核实，已对相关人员批评教育`, 2)).toContain('私聊发送给实名举报人');
    const reply = await waitFor('the reply to the reporter', () => fake.sentTo(S0001).slice(before).find((m) => last(m).includes('有了处理意见')));
    expect(last(reply)).toContain('已对相关人员批评教育');
    await said(S0041, `线索 XS-${id} 办结 归档`, 2);
    expect((await getTipoff(t.app.db, id))!.state).toBe('closed');
  });

  it('an identity-protected report is followed by its 查询码, and the office never sees who filed it', async () => {
    const { id, receipt } = await file(S0006, 'protected');
    const code = /查询码：([A-Z0-9-]{14})/.exec(receipt)![1];
    const detail = await said(S0041, `线索 XS-${id}`);
    expect(detail).toContain('身份保密');
    await said(S0041, `线索 XS-${id} 受理 予以受理`, 2);
    expect(await said(S0006, `举报 查询 ${code}`)).toContain('初核');
    const office = fake.sentTo(S0041).map(last).join('\n');
    expect(office).not.toContain('谢婉清');
    expect(office).not.toContain('S0006');
    expect(office).not.toContain(S0006);
  });
});
