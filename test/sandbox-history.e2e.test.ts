import { afterEach, describe, expect, it } from 'vitest';
import { SANDBOX_HISTORY_LIMIT, type SandboxMessage } from '../src/platform/sandbox/adapter.js';
import { button } from './helpers/cards.js';
import { ask, startTestApp, type TestApp } from './helpers/app.js';
import { BACKENDS, deleteRedisKeys, freshDb, uniqueName } from './helpers/db.js';

/**
 * The sandbox conversation outlives a restart: a second app on the same database (and Redis)
 * shows the same messages, the user's own included, an approval card that still works by
 * click, a download link that still downloads, and card updates as last written.
 */

const json = (x: unknown) => JSON.stringify(x);
const direct = (platformUserId: string) => ({ conversation: { type: 'direct' as const, platformUserId } });

async function conversation(t: TestApp, user: string): Promise<SandboxMessage[]> {
  const r = await fetch(`${t.url}/sandbox/api/conversation/${user}`);
  expect(r.status).toBe(200);
  return ((await r.json()) as { messages: SandboxMessage[] }).messages;
}

async function waitForCard(t: TestApp, user: string, pred: (m: SandboxMessage) => boolean): Promise<SandboxMessage> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const hit = (await t.inbox(user)).find((m) => m.kind === 'card' && pred(m));
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error(`no such card for ${user}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.each(BACKENDS)('the sandbox conversation across a restart (%s)', (backend) => {
  const apps: TestApp[] = [];
  let dispose: (() => Promise<void>) | undefined;
  afterEach(async () => {
    for (const a of apps.splice(0)) await a.dispose().catch(() => {});
    await dispose?.();
  });

  it('keeps messages, an approval card that still works, a download link and card updates; bounded per user', async () => {
    const db = await freshDb(backend, `sandbox_history_${backend}`);
    const shared = { db, prefix: `test:${uniqueName('sandbox_history')}` };
    dispose = async () => {
      await deleteRedisKeys(shared.prefix);
      await db.dispose();
    };
    const start = async () => {
      const t = await startTestApp({ label: 'sandbox_history', backend, shared, roster: apps.length === 0 });
      apps.push(t);
      return t;
    };
    const restart = async (t: TestApp) => {
      await t.app.stop();
      apps.splice(apps.indexOf(t), 1);
      return start();
    };

    let t = await start();
    // A declaration waiting for the head of department, on an approval card.
    const [preview] = await ask(t, 'S0001', '上缴 礼金 500 患者家属 2026-11-20 存入住院账户 出院时家属塞在病历夹里');
    const confirm = button(preview.card!, 'decl.confirm');
    const id = String(confirm.value!.id);
    expect((await t.click('S0001', preview.id, 'decl.confirm', confirm.value)).body.toast).toBe('已提交。');
    const pending = await waitForCard(t, 'S0003', (m) => json(m.card).includes(`"SB-${id}"`) && m.card!.title.includes('待'));
    // An export, behind a download link.
    const exported = await ask(t, 'S0041', '导出申报', 2);
    const link = exported.find((m) => m.fileUrl)!;
    expect(link.text).toContain('.xlsx');
    // Stored free text is masked, the user's own messages too.
    await ask(t, 'S0006', '你好，我的手机是 13812345678');
    // Sends keyed for the outbound queue stay single across the restart.
    await t.sandbox!.sendText({ ...direct('S0008'), idempotencyKey: 'sandbox-history:once' }, '只发一次');
    const before = {
      S0001: await conversation(t, 'S0001'),
      S0003: await conversation(t, 'S0003'),
      S0041: await conversation(t, 'S0041'),
    };
    expect(before.S0001.map((m) => m.from).slice(0, 2)).toEqual(['user', 'bot']);
    expect(before.S0001[0].text).toBe('上缴 礼金 500 患者家属 2026-11-20 存入住院账户 出院时家属塞在病历夹里');

    t = await restart(t);
    for (const user of ['S0001', 'S0003', 'S0041'] as const) {
      const after = await conversation(t, user);
      expect(after.map((m) => [m.id, m.from, m.kind, m.text, m.fileUrl])).toEqual(before[user].map((m) => [m.id, m.from, m.kind, m.text, m.fileUrl]));
    }
    // The preview card shows as it was last written (submitted), not as first sent.
    expect((await conversation(t, 'S0001'))[1].card!.title).not.toContain('请核对');
    expect((await conversation(t, 'S0001'))[1].html).toContain('card-title');
    const masked = (await conversation(t, 'S0006'))[0].text!;
    expect(masked).not.toContain('13812345678');
    expect(masked).toContain('你好，我的手机是');
    const rows = await db.query<{ body: unknown }>(`SELECT body FROM sandbox_messages WHERE inbox = 'S0006'`);
    expect(json(rows.rows)).not.toContain('13812345678');

    const download = await fetch(`${t.url}${link.fileUrl}`);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-disposition')).toContain('attachment');
    expect(Buffer.from(await download.arrayBuffer()).subarray(0, 2).toString()).toBe('PK');

    await t.sandbox!.sendText({ ...direct('S0008'), idempotencyKey: 'sandbox-history:once' }, '只发一次');
    expect((await t.inbox('S0008')).map((m) => m.text)).toEqual(['只发一次']);

    // The approval card from before the restart, clicked after it.
    const card = (await t.inbox('S0003')).find((m) => m.id === pending.id)!;
    const approved = await t.click('S0003', card.id, 'decl.approve', button(card.card!, 'decl.approve').value);
    expect(approved.status).toBe(200);
    expect(approved.body.toast).toContain('已同意');
    const decidedTitle = (await t.inbox('S0003')).find((m) => m.id === pending.id)!.card!.title;
    expect(decidedTitle).not.toBe(pending.card!.title);

    // Bounded: the newest messages of a user stay; a link in a dropped one goes with it.
    const early = await t.sandbox!.sendFile(direct('S0007'), { name: '早期.txt', data: Buffer.from('早'), mime: 'text/plain' });
    const earlyUrl = t.sandbox!.inbox('S0007').find((m) => m.id === early.messageId)!.fileUrl!;
    for (let i = 1; i <= SANDBOX_HISTORY_LIMIT + 5; i++) await t.sandbox!.sendText(direct('S0007'), `第 ${i} 条`);

    t = await restart(t);
    expect((await t.inbox('S0003')).find((m) => m.id === pending.id)!.card!.title).toBe(decidedTitle);
    const kept = await t.inbox('S0007');
    expect(kept).toHaveLength(SANDBOX_HISTORY_LIMIT);
    expect(kept[0].text).toBe('第 6 条');
    expect(kept.at(-1)!.text).toBe(`第 ${SANDBOX_HISTORY_LIMIT + 5} 条`);
    expect((await fetch(`${t.url}${earlyUrl}`)).status).toBe(404);
    expect((await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM sandbox_messages WHERE inbox = 'S0007'`)).rows[0].n).toBe(SANDBOX_HISTORY_LIMIT);
  }, 120_000);
});
