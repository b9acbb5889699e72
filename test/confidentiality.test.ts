import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SENT_PRIVATELY } from '../src/bot/bot.js';
import { ROLES } from '../src/domain/roles.js';
import type { SandboxMessage } from '../src/platform/sandbox/adapter.js';
import type { CardAction, IncomingMessage } from '../src/platform/types.js';
import { getDeclaration } from '../src/store/declarations.js';
import { button } from './helpers/cards.js';
import { ask, startTestApp, type TestApp } from './helpers/app.js';

/**
 * 13.1: nothing confidential is posted in a group. Every registered command is sent, @-mentioned,
 * in a group by someone holding every role, after seeding declarations and a quiz score whose
 * distinctive details must never appear in any group.
 */

const TESTER = 'S0040';
const json = (x: unknown) => JSON.stringify(x);
const shown = (m: SandboxMessage) => m.text ?? json(m.card);

/** Commands whose answers are personal or confidential: the list must not shrink unnoticed. */
const MUST_BE_CONFIDENTIAL = ['举报', '线索列表', '线索登记', '导出线索', '上缴', '我的申报', '申报列表', '导出申报', '待审批', '同意', '驳回', '成绩', '错题', '我的进度', '考试', '答', '导出', '名单', '进度', '问题清单', '问题', '新增问题', '合并问题', '确认销号', '退回整改'];

describe('confidential content asked for in a group (real Redis + PostgreSQL)', () => {
  let t: TestApp;
  let seq = 0;
  const markers: string[] = [];
  let registeredId = '';
  let pendingId = '';
  let receiptNo = '';

  const group = (chatId: string) => t.sandbox!.inbox(`group:${chatId}`);
  const mine = () => t.sandbox!.inbox(TESTER);
  const inGroup = (chatId: string, text: string, userId = TESTER) =>
    t.app.bot.onMessage({
      kind: 'message',
      platform: 'sandbox',
      eventId: `grp-${++seq}`,
      platformUserId: userId,
      conversation: { type: 'group', chatId },
      // Adapters strip the @-mention of the bot.
      text,
      mentioned: true,
      receivedAt: new Date(),
    } satisfies IncomingMessage);
  const clickInGroup = (chatId: string, actionId: string, value: Record<string, string | number>, userId = TESTER) =>
    t.app.bot.onAction({
      kind: 'action',
      platform: 'sandbox',
      eventId: `grp-${++seq}`,
      platformUserId: userId,
      conversation: { type: 'group', chatId },
      messageId: 'group-card',
      actionId,
      value,
      receivedAt: new Date(),
    } satisfies CardAction);

  async function declare(user: string, line: string): Promise<string> {
    const [preview] = await ask(t, user, line);
    const confirm = button(preview.card!, 'decl.confirm');
    expect((await t.click(user, preview.id, 'decl.confirm', confirm.value)).body.toast).toBe('已提交。');
    return String(confirm.value!.id);
  }
  async function approve(user: string, id: string): Promise<void> {
    const all = (await t.inbox(user)).filter((m) => m.kind === 'card' && json(m.card).includes(`"SB-${id}"`) && m.card!.title.includes('待'));
    const m = all[all.length - 1];
    const b = button(m.card!, 'decl.approve');
    expect((await t.click(user, m.id, 'decl.approve', b.value)).body.toast).toMatch(/已同意|已登记/);
  }

  beforeAll(async () => {
    t = await startTestApp({ label: 'confidentiality', settings: { declaration: { maxAmountYuan: 50_000, reminderHours: 48 } } });
    // One person holding every role sees every command and every answer a role allows.
    for (const role of ROLES) await t.app.db.query('INSERT INTO staff_roles (staff_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING', [TESTER, role]);

    registeredId = await declare('S0001', '上缴 礼金 4321.5 患者家属 今天 存入住院账户 紫罗兰色信封里的感谢金');
    for (const u of ['S0003', 'S0041', 'S0037']) await approve(u, registeredId);
    const registered = (await getDeclaration(t.app.db, registeredId))!;
    expect(registered.state).toBe('registered');
    receiptNo = registered.receiptNo!;
    // A second registered one in the same month and department, so the nameless totals are not one person's amount.
    const other = await declare('S0006', '上缴 礼金 100 患者家属 今天 存入住院账户 普通说明');
    for (const u of ['S0003', 'S0041', 'S0037']) await approve(u, other);
    pendingId = await declare('S0007', '上缴 礼品 777.7 医药代表 今天 当场拒收 银杏叶书签礼盒');
    await approve('S0003', pendingId);
    expect((await getDeclaration(t.app.db, pendingId))!.state).toBe('pending_discipline');

    // The tester's own quiz score.
    await ask(t, TESTER, '考试');
    const [score] = await ask(t, TESTER, '考试 交卷 确认');
    expect(score.card!.title).toContain('分 · ');

    markers.push('林雨桐', '唐志远', '4321.5', '4,321.5', '777.7', '紫罗兰色信封', '银杏叶书签', receiptNo, '分 · ', '得分');
  });
  afterAll(async () => {
    await t?.dispose();
  });

  /** Plausible arguments for each command, from its usage; a command added later runs with none. */
  function invocations(name: string): string[][] {
    const byName: Record<string, string[][]> = {
      上缴: [[], [`SB-${registeredId}`], [receiptNo], ['礼金', '88', '患者家属', '今天', '当场拒收', '群里的一行申报']],
      同意: [[`SB-${pendingId}`]],
      驳回: [[`SB-${registeredId}`, '理由']],
      名单: [['S0001'], []],
      进度: [[], ['考试', '心血管内科'], ['上缴']],
      导出: [['上缴']],
      预览: [['学习']],
      考试情况: [[]],
      答: [['B']],
      学习: [[]],
    };
    return byName[name] ?? [[]];
  }

  it('13.1 declares the personal and confidential commands as such', () => {
    const flagged = t.app.bot.commands.filter((c) => c.spec.confidential).map((c) => c.spec.names[0]);
    expect(flagged).toEqual(expect.arrayContaining(MUST_BE_CONFIDENTIAL));
  });

  it('13.1 walks every registered command in a group: no confidential content there, confidential answers go privately', async () => {
    const flagged = new Set(t.app.bot.commands.filter((c) => c.spec.confidential).map((c) => c.spec.names[0]));
    expect(flagged.size).toBeGreaterThanOrEqual(MUST_BE_CONFIDENTIAL.length);
    let n = 0;
    for (const { spec } of t.app.bot.commands) {
      for (const args of invocations(spec.names[0])) {
        const chatId = `g${++n}`;
        const text = [spec.names[0], ...args].join(' ');
        const before = mine().length;
        await inGroup(chatId, text);
        const posted = group(chatId).map(shown);
        for (const m of markers) expect(posted.filter((p) => p.includes(m)), `“${text}” posted “${m}” in a group`).toEqual([]);
        if (flagged.has(spec.names[0])) {
          expect(posted, `“${text}” in a group`).toEqual([SENT_PRIVATELY]);
          expect(mine().length, `“${text}” answered nobody privately`).toBeGreaterThan(before);
        } else {
          expect(posted.length, `“${text}” got no answer in the group`).toBeGreaterThan(0);
        }
      }
    }
  });

  it('13.1 the declaration card and the export asked for in a group arrive in the private chat', async () => {
    const before = mine().length;
    await inGroup('lookup', `申报 SB-${registeredId}`);
    await inGroup('export', '导出申报');
    const got = mine().slice(before).map(shown);
    expect(got.some((x) => x.includes('紫罗兰色信封') && x.includes('林雨桐'))).toBe(true);
    expect(got.some((x) => x.startsWith('文件：上缴申报-'))).toBe(true);
    expect(group('lookup').map(shown)).toEqual([SENT_PRIVATELY]);
    expect(group('export').map(shown)).toEqual([SENT_PRIVATELY]);
  });

  it('13.1 a confidential card clicked in a group leaves the group card alone and answers privately', async () => {
    const before = mine().length;
    const r = await clickInGroup('click', 'decl.files', { id: registeredId });
    expect(r).toEqual({ toast: SENT_PRIVATELY });
    const wrong = await clickInGroup('click', 'quiz.wrong', { p: 0 });
    expect(wrong).toEqual({ toast: SENT_PRIVATELY });
    expect(group('click')).toEqual([]);
    expect(mine().length).toBeGreaterThan(before);
  });

  it('13.1 a typed click in a group of a confidential button posts only the note there', async () => {
    // The approval card on the sandbox carries no typed codes, so the click is typed by its action directly.
    const r = await clickInGroup('typed', 'decl.approve', { id: pendingId, v: 1, step: 'discipline' });
    expect(r.card).toBeUndefined();
    expect(r.toast).toBe(SENT_PRIVATELY);
    expect(group('typed')).toEqual([]);
  });

  it('13.1 a confidential dialogue answered in a group goes on privately', async () => {
    const [preview] = await ask(t, 'S0012', '上缴 礼品 66 患者 今天 当场拒收 一束鲜花');
    const attach = button(preview.card!, 'decl.attach');
    await t.click('S0012', preview.id, 'decl.attach', attach.value);
    const before = t.sandbox!.inbox('S0012').length;
    await inGroup('dialogue', '完成', 'S0012');
    expect(group('dialogue').map(shown)).toEqual([SENT_PRIVATELY]);
    const after = t.sandbox!.inbox('S0012').slice(before);
    expect(after.some((m) => m.kind === 'card' && json(m.card).includes('一束鲜花'))).toBe(true);
  });
});
