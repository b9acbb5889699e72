import { Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTipoffDeadlines } from '../handlers/tipoff.js';
import { SENT_PRIVATELY } from '../src/bot/bot.js';
import { Keyring } from '../src/domain/tipoff/sealing.js';
import { createLogger } from '../src/logger.js';
import type { SandboxMessage } from '../src/platform/sandbox/adapter.js';
import type { IncomingMessage } from '../src/platform/types.js';
import { getTipoff, readReporter } from '../src/store/tipoffs.js';
import { button, formOf } from './helpers/cards.js';
import { ask, startTestApp, type TestApp } from './helpers/app.js';

/**
 * 线索反映 end to end through the sandbox, on real Redis and PostgreSQL: a 实名 report from
 * filing to 办结 with its reply, an identity-protected report nobody can trace, 查询码 guessing,
 * a case from 上级转办, deadlines, leadership counts, a group, forged moves, and the sealed column.
 */

const KEY = Buffer.alloc(32, 7).toString('base64');
const json = (x: unknown) => JSON.stringify(x);
const shown = (m: SandboxMessage) => m.text ?? json(m.card);
// Monday 2026-12-07, 10:00 in Shanghai.
let now = new Date('2026-12-07T02:00:00Z');
const days = (n: number) => {
  now = new Date(now.getTime() + n * 86_400_000);
};

const CONTENT = { occurred: '2026年11月中旬', place: '门诊三楼诊室', department: '普外科', persons: '某主治医师', matter: '向患者家属索要红包两千元，家属当场拒绝' };

describe('线索反映 through the sandbox (real Redis + PostgreSQL)', () => {
  let t: TestApp;
  const logs: string[] = [];
  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _enc, done) {
        logs.push(String(chunk));
        done();
      },
    });
    t = await startTestApp({
      label: 'tipoff_e2e',
      env: { TIPOFF_KEY: KEY },
      settings: { tipoff: { queriesPerHour: 4, escalateAfterDays: 2 } },
      now: () => now,
      logger: createLogger('info', sink),
    });
  });
  afterAll(async () => {
    await t.dispose();
  });

  const latest = async (user: string, title: string) => {
    const m = [...(await t.inbox(user))].reverse().find((x) => x.kind === 'card' && x.card!.title.includes(title));
    if (!m) throw new Error(`${user} has no card titled ${title}`);
    return m;
  };

  /** 举报 → form → review → 确认提交; returns the case id and the receipt card. */
  async function file(user: string, identity: 'real' | 'protected', content = CONTENT): Promise<{ id: string; receipt: SandboxMessage; code?: string }> {
    const [formMsg] = await ask(t, user, '举报');
    expect(formOf(formMsg.card!).actionId).toBe('tipoff.form');
    const r = await t.click(user, formMsg.id, 'tipoff.form', {}, { ...content, identity, pledge: 'yes' });
    expect(r.status).toBe(200);
    const review = (await t.inbox(user)).find((m) => m.id === formMsg.id)!;
    expect(review.card!.title).toContain('请核对');
    const confirm = button(review.card!, 'tipoff.confirm');
    const done = await t.click(user, review.id, 'tipoff.confirm', confirm.value);
    expect(done.body.toast).toMatch(/^已提交，编号 XS-\d+。$/);
    const receipt = (await t.inbox(user)).find((m) => m.id === formMsg.id)!;
    const id = /XS-(\d+)/.exec(done.body.toast!)![1];
    const code = /查询码：([A-Z0-9-]{14})/.exec(json(receipt.card))?.[1];
    return { id, receipt, ...(code ? { code } : {}) };
  }
  const say = async (user: string, text: string) => shown((await ask(t, user, text))[0]);
  /** A typed move answers twice: what happened, then the case card. */
  const act = async (user: string, text: string) => (await ask(t, user, text, 2)).map(shown).join('\n');
  const state = async (id: string) => (await getTipoff(t.app.db, id))!.state;

  it('a 实名 report goes from filing to 办结, and the reporter gets the reply privately', async () => {
    const { id, code } = await file('S0001', 'real');
    expect(code).toBeUndefined();
    expect(await state(id)).toBe('received');
    // 纪检 sees who filed it: 实名, and they hold the discipline role.
    expect(await say('S0041', `线索 XS-${id}`)).toContain('林雨桐（心血管内科，实名）');
    expect(await say('S0041', `线索 XS-${id} 分派 S0042`)).toContain('熊文杰');
    expect(await act('S0042', `线索 XS-${id} 受理 材料齐全，予以受理`)).toContain('初核');
    expect(await state(id)).toBe('preliminary');
    // A move without its note is refused and changes nothing.
    expect(await say('S0042', `线索 XS-${id} 转核实`)).toContain('说明');
    expect(await state(id)).toBe('preliminary');
    // By card: the step's form asks for the note, the submission moves the case.
    const detail = await latest('S0042', `线索 XS-${id}`);
    const step = button(detail.card!, 'tipoff.step');
    expect(step.value).toMatchObject({ m: 'verify' });
    await t.click('S0042', detail.id, 'tipoff.step', step.value);
    const form = (await t.inbox('S0042')).find((m) => m.id === detail.id)!;
    const f = formOf(form.card!);
    const moved = await t.click('S0042', form.id, 'tipoff.move', f.value, { note: '经初步分析，需调取监控核实' });
    expect(moved.body.toast).toContain('核实');
    expect(await state(id)).toBe('verifying');
    // The same card clicked again is stale: nothing moves twice.
    const again = await t.click('S0042', form.id, 'tipoff.move', f.value, { note: '重复点击' });
    expect(again.body.toast).toContain('已有更新');
    expect(await state(id)).toBe('verifying');
    await act('S0042', `线索 XS-${id} 转处置 已核实属实`);
    expect(await act('S0042', `线索 XS-${id} 处置决定 处理 给予诫勉谈话并退还款项`)).toContain('待回复');
    // 100% 反馈: a 实名 case is not closed before its reporter has had the reply.
    expect(await say('S0042', `线索 XS-${id} 办结 处理完毕`)).toContain('须先回复举报人');
    expect(await state(id)).toBe('replying');
    const before = (await t.inbox('S0001')).length;
    expect(await act('S0042', `线索 XS-${id} 回复 经核实情况属实，已对当事人作出处理，感谢您的监督`)).toContain('私聊发送给实名举报人');
    const [reply] = await t.waitForReplies('S0001', before);
    expect(reply.text).toContain(`线索 XS-${id} 有了处理意见`);
    expect(reply.text).toContain('已对当事人作出处理');
    expect(await act('S0042', `线索 XS-${id} 办结 处理完毕，归档`)).toContain('办结');
    expect(await state(id)).toBe('closed');
    // The reply went through the send ledger exactly once.
    const sends = await t.app.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM send_ledger WHERE key LIKE $1`, [`tipoff.${id}.reply/%`]);
    expect(sends.rows[0].n).toBe(1);
    const history = await say('S0041', `线索 XS-${id}`);
    for (const step of ['提交', '分派承办人', '受理', '转核实', '转处置', '处置决定', '回复', '办结']) expect(history).toContain(step);
    // The filing is the reporter's: the audit log has no actor for it.
    const audit = await t.app.db.query<{ actor: string | null; action: string }>(`SELECT actor, action FROM audit_log WHERE entity_type = 'tipoff' AND entity_id = $1 ORDER BY seq`, [id]);
    expect(audit.rows[0]).toEqual({ actor: null, action: 'tipoff.file' });
    expect(audit.rows.map((r) => r.actor)).not.toContain('S0001');
  });

  it('an identity-protected report never shows who filed it, and its reporter follows it by 查询码', async () => {
    // S0006 谢婉清 files with an evidence photo.
    const [formMsg] = await ask(t, 'S0006', '举报');
    await t.click('S0006', formMsg.id, 'tipoff.form', {}, { ...CONTENT, matter: '收受医药代表购物卡', identity: 'protected', pledge: 'yes' });
    const review = (await t.inbox('S0006')).find((m) => m.id === formMsg.id)!;
    await t.click('S0006', review.id, 'tipoff.attach', button(review.card!, 'tipoff.attach').value);
    const r = await fetch(`${t.url}/sandbox/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'S0006', text: '', files: [{ name: '聊天截图.png', mime: 'image/png', contentBase64: Buffer.from('png-bytes').toString('base64') }] }),
    });
    expect(r.status).toBe(202);
    // The file is taken in asynchronously: wait for its acknowledgement before saying 完成,
    // or that acknowledgement could be read as the answer to 完成.
    for (let i = 0; i < 200 && !(await t.inbox('S0006')).some((m) => m.text?.startsWith('已添加 1 个')); i++) await new Promise((res) => setTimeout(res, 50));
    const [again] = await ask(t, 'S0006', '完成');
    expect(again.card!.title).toContain('请核对');
    expect(json(again.card)).toContain('聊天截图.png');
    const done = await t.click('S0006', again.id, 'tipoff.confirm', button(again.card!, 'tipoff.confirm').value);
    const id = /XS-(\d+)/.exec(done.body.toast!)![1];
    const receipt = (await t.inbox('S0006')).find((m) => m.id === again.id)!;
    const code = /查询码：([A-Z0-9-]{14})/.exec(json(receipt.card))![1];

    // The reporter follows it by code.
    expect(await say('S0006', `举报 查询 ${code}`)).toContain('待受理');

    // The office works it, every view it has: detail, list, moves, reply, export.
    const views: string[] = [];
    views.push(await say('S0041', `线索 XS-${id}`));
    expect(views[0]).toContain('身份保密');
    views.push(await say('S0041', '线索列表'));
    views.push(await act('S0041', `线索 XS-${id} 受理 予以受理`));
    views.push(await act('S0041', `线索 XS-${id} 转处置 初核即可认定`));
    views.push(await act('S0041', `线索 XS-${id} 处置决定 移交 移交医务科处理`));
    views.push(await act('S0041', `线索 XS-${id} 回复 已移交有关部门处理`));
    const detail = await latest('S0041', `线索 XS-${id}`);
    const filesClick = await t.click('S0041', detail.id, 'tipoff.files', button(detail.card!, 'tipoff.files').value);
    expect(filesClick.body.toast).toContain('1 个证据文件');
    const exported = await ask(t, 'S0041', '导出线索', 2);
    const file = exported.find((m) => m.fileUrl)!;
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(await (await fetch(file.fileUrl!.startsWith('http') ? file.fileUrl! : `${t.url}${file.fileUrl}`)).arrayBuffer()) as never);
    const cells: string[] = [];
    wb.eachSheet((ws) => ws.eachRow((row) => row.eachCell((c) => cells.push(String(c.value)))));
    expect(cells.join('|')).toContain('收受医药代表购物卡');
    const exports = await t.app.db.query<{ actor: string }>(`SELECT actor FROM audit_log WHERE action = 'tipoff.export'`);
    expect(exports.rows.map((r) => r.actor)).toEqual(['S0041']);

    // The reporter sees the reply by code; the handler never learned who they are.
    expect(await say('S0006', `举报 查询 ${code.toLowerCase().replace(/-/g, ' ')}`)).toContain('已移交有关部门处理');
    const discipline = ['S0040', 'S0041', 'S0042'];
    const everything = [
      ...views,
      cells.join('|'),
      ...(await Promise.all(discipline.map(async (u) => json(await (await fetch(`${t.url}/sandbox/api/inbox/${u}`)).json())))),
      logs.join(''),
      json((await t.app.db.query(`SELECT * FROM tipoffs WHERE id = $1`, [id])).rows),
      json((await t.app.db.query(`SELECT * FROM audit_log WHERE entity_type = 'tipoff' AND entity_id = $1`, [id])).rows),
      json((await t.app.db.query(`SELECT name, uploaded_by FROM stored_files WHERE id IN (SELECT (a->>'fileId')::bigint FROM tipoffs, jsonb_array_elements(attachments) a WHERE tipoffs.id = $1)`, [id])).rows),
      json((await t.app.db.query(`SELECT * FROM send_ledger WHERE key LIKE $1`, [`tipoff.${id}.%`])).rows),
    ].join('\n');
    expect(everything).toContain('收受医药代表购物卡');
    // The logs were captured, and speak of the case by number only.
    expect(logs.join('')).toContain(`"tipoffId":"${id}"`);
    expect(everything).not.toContain('谢婉清');
    expect(everything).not.toContain('S0006');
    expect(everything).not.toContain('ou_6a33b3a1af1f0383de06d74320445350');
  });

  it('a wrong or guessed 查询码 learns nothing, and guessing is rate-limited', async () => {
    const unknown = await say('S0010', '举报 查询 ABCD-EFGH-JKMN');
    expect(unknown).toContain('没有找到');
    expect(await say('S0010', '举报 查询 12')).toBe(unknown);
    expect(await say('S0010', '举报 查询 ZZZZ-ZZZZ-ZZZZ')).toBe(unknown);
    await say('S0010', '举报 查询 YYYY-YYYY-YYYY');
    // The fifth try this hour is refused before any lookup, right code or not.
    expect(await say('S0010', '举报 查询 WWWW-WWWW-WWWW')).toContain('查询次数过多');
  });

  it('纪检 registers a case from 上级转办, with its source recorded', async () => {
    const [formMsg] = await ask(t, 'S0041', '线索登记');
    const r = await t.click('S0041', formMsg.id, 'tipoff.register', {}, { source: 'superior', sourceDetail: '市卫健委纪检组转办 卫纪转〔2026〕12号', ...CONTENT });
    expect(r.body.toast).toMatch(/已登记，编号 XS-\d+/);
    const id = /XS-(\d+)/.exec(r.body.toast!)![1];
    const t0 = (await getTipoff(t.app.db, id))!;
    expect(t0).toMatchObject({ source: 'superior', sourceDetail: '市卫健委纪检组转办 卫纪转〔2026〕12号', realName: false, state: 'received' });
    expect(await say('S0041', '线索列表 上级转办')).toContain(`XS-${id}`);
    const audit = await t.app.db.query<{ actor: string }>(`SELECT actor FROM audit_log WHERE entity_type = 'tipoff' AND entity_id = $1`, [id]);
    expect(audit.rows[0].actor).toBe('S0041');
    // Nobody outside the office may register one.
    expect(await say('S0001', '线索登记')).toContain('仅限纪检监察');
  });

  it('a deadline passing reminds the handler, then escalates to the head, each once; people linked to the case hear nothing', async () => {
    const { id } = await file('S0004', 'real');
    expect(await say('S0041', `线索 XS-${id} 关联 S0041`)).toContain('已把');
    const count = async (u: string) => (await t.inbox(u)).filter((m) => (m.text ?? '').includes(`XS-${id} 待受理`)).length;
    expect(await runTipoffDeadlines(t.app.bot, now)).toEqual([]);
    // Due within 3 working days (Thu 12-10); Friday it is late.
    days(4);
    const first = await runTipoffDeadlines(t.app.bot, now);
    expect(first.filter((c) => c.tipoff.id === id).map((c) => c.which)).toEqual(['remind']);
    expect(await runTipoffDeadlines(t.app.bot, now)).toEqual([]);
    await t.waitForReplies('S0042', (await t.inbox('S0042')).length - 1);
    expect(await count('S0042')).toBe(1);
    expect(await count('S0041')).toBe(0);
    // Reminders carry the number and the step only.
    const reminder = (await t.inbox('S0042')).find((m) => (m.text ?? '').includes(`XS-${id} 待受理`))!.text!;
    expect(reminder).not.toContain(CONTENT.matter);
    expect(reminder).not.toContain(CONTENT.department);
    // Two working days later (Tue 12-15 after the weekend) the head is told, once.
    days(4);
    const second = await runTipoffDeadlines(t.app.bot, now);
    expect(second.filter((c) => c.tipoff.id === id).map((c) => c.which)).toEqual(['escalate']);
    expect(await runTipoffDeadlines(t.app.bot, now)).toEqual([]);
    await new Promise((r) => setTimeout(r, 300));
    expect((await t.inbox('S0040')).filter((m) => (m.text ?? '').includes(`督办：线索 XS-${id}`)).length).toBe(1);
    expect(await count('S0041')).toBe(0);
    expect(await say('S0041', '线索列表 超期')).toContain(`XS-${id}`);
  });

  it("a leader's view shows counts by month and state, with counts below 3 shown as \"<3\"", async () => {
    const stats = await say('S0005', '线索统计');
    expect(stats).toContain('<3');
    expect(stats).not.toContain('普外科');
    expect(stats).not.toContain(CONTENT.matter);
    const progress = await say('S0005', '进度');
    expect(progress).toContain('线索反映（本月）');
    expect(progress).not.toContain(CONTENT.matter);
    expect(await say('S0001', '线索统计')).toContain('仅限');
  });

  it('someone naming themselves in a group gets a private prompt, and the group gets nothing of it', async () => {
    const groupMsg: IncomingMessage = {
      kind: 'message',
      platform: 'sandbox',
      eventId: 'tipoff-group-1',
      platformUserId: 'S0001',
      conversation: { type: 'group', chatId: 'ward-3' },
      text: '举报 我是林雨桐，我看到有人收红包',
      mentioned: true,
      receivedAt: new Date(),
    };
    const before = (await t.inbox('S0001')).length;
    await t.app.bot.onMessage(groupMsg);
    const group = t.sandbox!.inbox('group:ward-3');
    expect(group.map(shown)).toEqual([SENT_PRIVATELY]);
    const mine = (await t.inbox('S0001')).slice(before);
    expect(mine.map(shown).join('')).toContain('不要在消息里直接写');
    expect(mine.some((m) => m.card && formOf(m.card).actionId === 'tipoff.form')).toBe(true);
    expect(mine.map(shown).join('')).not.toContain('收红包');
  });

  it('a duplicate is merged into the case it repeats, and its 查询码 follows the surviving case', async () => {
    const first = await file('S0027', 'protected');
    const dup = await file('S0027', 'protected');
    expect(await say('S0041', `线索 XS-${dup.id} 合并 XS-${dup.id}`)).toContain('不能把一条线索合并到它自己');
    expect(await say('S0041', `线索 XS-${dup.id} 合并 XS-${first.id}`)).toContain(`已把 XS-${dup.id} 作为重复线索并入 XS-${first.id}`);
    expect(await getTipoff(t.app.db, dup.id)).toMatchObject({ state: 'merged', mergedInto: first.id });
    await act('S0041', `线索 XS-${first.id} 受理 合并后一并受理`);
    expect(await say('S0027', `举报 查询 ${dup.code}`)).toContain('初核');
    expect(await say('S0041', `线索 XS-${first.id}`)).toContain(`合并了重复线索 XS-${dup.id}`);
    expect(await say('S0041', `线索 XS-${dup.id} 受理 再受理一次`)).toContain('不能受理');
  });

  it('a forged transition by someone outside the office is refused and changes nothing', async () => {
    const { id } = await file('S0009', 'protected');
    const t0 = (await getTipoff(t.app.db, id))!;
    const own = (await t.inbox('S0001')).at(-1)!;
    const forged = await t.click('S0001', own.id, 'tipoff.move', { id, v: t0.version, m: 'accept' }, { note: '我来受理' });
    expect(forged.body.toast).toContain('没有权限');
    expect(await say('S0005', `线索 XS-${id} 受理 领导批示受理`)).toContain('没有找到这条线索');
    expect(await say('S0001', `线索 XS-${id}`)).toContain('没有找到这条线索');
    expect(await getTipoff(t.app.db, id)).toMatchObject({ state: 'received', version: t0.version });
  });

  it('the reporter column cannot be read without the key', async () => {
    const { id } = await file('S0011', 'real');
    const raw = await t.app.db.query<{ sealed: Uint8Array; key_id: string }>('SELECT sealed, key_id FROM tipoff_reporters WHERE tipoff_id = $1', [id]);
    expect(Buffer.from(raw.rows[0].sealed).toString('latin1')).not.toContain('S0011');
    const sealed = (await readReporter(t.app.db, id))!;
    expect(new Keyring(Buffer.alloc(32, 9)).open(sealed, `tipoff:${id}`)).toBeUndefined();
    expect(new Keyring(Buffer.from(KEY, 'base64')).open(sealed, `tipoff:${id}`)).toBe(JSON.stringify({ staffId: 'S0011' }));
    // Moved onto another case, it does not open either.
    expect(new Keyring(Buffer.from(KEY, 'base64')).open(sealed, 'tipoff:1')).toBeUndefined();
  });
});

describe('线索反映 in production without TIPOFF_KEY', () => {
  it('refuses to file, keeps nothing, and /healthz says why', async () => {
    const p = await startTestApp({ label: 'tipoff_nokey', env: { NODE_ENV: 'production', ALLOW_VOLATILE_REDIS: 'true' } });
    try {
      const health = (await (await fetch(`${p.url}/healthz`)).json()) as { warnings?: Record<string, string> };
      expect(health.warnings?.tipoff).toContain('TIPOFF_KEY');
      const [formMsg] = await ask(p, 'S0001', '举报');
      await p.click('S0001', formMsg.id, 'tipoff.form', {}, { ...CONTENT, identity: 'protected', pledge: 'yes' });
      const review = (await p.inbox('S0001')).find((m) => m.id === formMsg.id)!;
      const r = await p.click('S0001', review.id, 'tipoff.confirm', button(review.card!, 'tipoff.confirm').value);
      expect(r.body.toast).toContain('尚未配置举报人信息的加密密钥');
      expect((await p.app.db.query('SELECT count(*)::int AS n FROM tipoffs')).rows[0]).toEqual({ n: 0 });
    } finally {
      await p.dispose();
    }
  });
});
