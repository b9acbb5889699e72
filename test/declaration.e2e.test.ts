import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runApprovalDeadlines } from '../handlers/approve.js';
import { runDraftReminders } from '../handlers/draft-reminder.js';
import { addDays, localDate, startOfDay } from '../src/domain/calendar.js';
import type { SandboxMessage } from '../src/platform/sandbox/adapter.js';
import { getDeclaration } from '../src/store/declarations.js';
import { auditTrail } from '../src/store/audit.js';
import { button, buttonsOf, formOf } from './helpers/cards.js';
import { ask, startTestApp, type TestApp } from './helpers/app.js';

/**
 * 上缴申报 end to end through the sandbox API, on real Redis and PostgreSQL: every route,
 * concurrent decisions, authority, resubmission, confidentiality, the audit trail.
 */

const json = (x: unknown) => JSON.stringify(x);

describe('上缴申报 through the sandbox (real Redis + PostgreSQL)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ label: 'declaration_e2e', settings: { declaration: { maxAmountYuan: 50_000, reminderHours: 48 } } });
  });
  afterAll(async () => {
    await t.dispose();
  });

  const inbox = (u: string) => t.inbox(u);
  /** The newest card in a user's inbox whose title contains `title`. */
  async function latestCard(user: string, title: string): Promise<SandboxMessage> {
    const all = await inbox(user);
    const m = [...all].reverse().find((x) => x.kind === 'card' && x.card!.title.includes(title));
    if (!m) throw new Error(`${user} has no card titled ${title}: ${all.map((x) => x.card?.title ?? x.text).join(' | ')}`);
    return m;
  }
  /** The user's newest card about declaration `id` (its 编号 or 申报序号 field is exactly SB-id). */
  const fresh = async (user: string, id: string, title: string) => {
    const all = (await inbox(user)).filter((m) => m.kind === 'card' && m.card!.title.includes(title) && json(m.card).includes(`"SB-${id}"`));
    if (!all.length) throw new Error(`${user} has no ${title} card about SB-${id}`);
    return all[all.length - 1];
  };
  const about = async (user: string, id: string) => fresh(user, id, '上缴申报');
  const pendingCard = (user: string, id: string) => fresh(user, id, '待');

  /** One-line declaration, then 确认提交 on the preview card; returns the declaration id. */
  async function declare(user: string, line: string): Promise<string> {
    const [preview] = await ask(t, user, line);
    expect(preview.kind, preview.text).toBe('card');
    const confirm = button(preview.card!, 'decl.confirm');
    const r = await t.click(user, preview.id, 'decl.confirm', confirm.value);
    expect(r.body.toast).toBe('已提交。');
    return String(confirm.value!.id);
  }
  async function approve(user: string, id: string): Promise<string | undefined> {
    const m = await pendingCard(user, id);
    const b = button(m.card!, 'decl.approve');
    return (await t.click(user, m.id, 'decl.approve', b.value)).body.toast;
  }
  const state = async (id: string) => (await getDeclaration(t.app.db, id))!;

  it('runs the full route: department head, discipline office, finance, registered with a receipt number', async () => {
    const id = await declare('S0001', '上缴 礼金 500 患者家属 2026-11-20 存入住院账户 出院时家属塞在病历夹里');
    expect((await state(id)).state).toBe('pending_dept');
    // Only the head of 心血管内科 gets a card at this step.
    expect((await inbox('S0009')).some((m) => json(m.card).includes(`SB-${id}`))).toBe(false);
    expect(await approve('S0003', id)).toContain('已同意');
    expect((await state(id)).state).toBe('pending_discipline');
    expect(await approve('S0041', id)).toContain('已同意');
    expect((await state(id)).state).toBe('pending_finance');
    const toast = await approve('S0037', id);
    const d = await state(id);
    expect(d.state).toBe('registered');
    expect(d.receiptNo).toMatch(/^HB-\d{4}-\d{6}$/);
    expect(toast).toContain(d.receiptNo!);

    // The declarant heard about every step, ending with the receipt number.
    const told = (await inbox('S0001')).map((m) => m.text ?? json(m.card));
    expect(told.some((x) => x.includes('等待科室负责人审核'))).toBe(true);
    expect(told.some((x) => x.includes('已转纪检监察室审核'))).toBe(true);
    expect(told.some((x) => x.includes('财务确认收款'))).toBe(true);
    expect(told.some((x) => x.includes('上缴登记完成') && x.includes(d.receiptNo!))).toBe(true);

    // Every discipline member's card now shows who decided; the finance cards too.
    for (const u of ['S0040', 'S0042']) {
      const c = await about(u, id);
      expect(c.card!.title).toContain('已同意');
      expect(json(c.card)).toContain('白晓琳');
      expect(buttonsOf(c.card!)).toHaveLength(0);
    }
    const other = await about('S0036', id);
    expect(other.card!.title).toContain('已确认收款');

    // The audit trail is complete, in order, with actors.
    const trail = await auditTrail(t.app.db, 'declaration', id);
    expect(trail.map((r) => [r.actor, r.action, r.from_state, r.to_state])).toEqual([
      ['S0001', 'declaration.draft', null, 'draft'],
      ['S0001', 'declaration.submit', 'draft', 'pending_dept'],
      ['S0003', 'declaration.approve', 'pending_dept', 'pending_discipline'],
      ['S0041', 'declaration.approve', 'pending_discipline', 'pending_finance'],
      ['S0037', 'declaration.register', 'pending_finance', 'registered'],
    ]);

    // `申报 HB-…` shows it with its trail to the declarant.
    const [shown] = await ask(t, 'S0001', `申报 ${d.receiptNo}`);
    expect(json(shown.card)).toContain('同意并登记');
  });

  it('skips the department step when the declarant is its head, and finance when nothing was handed in', async () => {
    const id = await declare('S0003', '上缴 礼品 300 患者 2026-11-21 当场拒收 一盒茶叶');
    expect((await state(id)).state).toBe('pending_discipline');
    const told = (await inbox('S0003')).map((m) => m.text ?? '');
    expect(told.some((x) => x.includes(`SB-${id}`) && x.includes('跳过科室审核'))).toBe(true);
    expect(await approve('S0042', id)).toContain('已登记');
    const d = await state(id);
    expect(d.state).toBe('registered');
    expect((await auditTrail(t.app.db, 'declaration', id)).map((r) => r.to_state)).toEqual(['draft', 'pending_discipline', 'registered']);
  });

  it('takes the department step without finance (事后退还), and skips the head but keeps finance for a head who hands money in', async () => {
    const a = await declare('S0006', '上缴 购物卡 1000 医药代表 2026-11-19 事后退还 已退回');
    expect(await approve('S0003', a)).toContain('已同意');
    expect(await approve('S0040', a)).toContain('已登记');
    expect((await state(a)).state).toBe('registered');

    const b = await declare('S0009', '上缴 红包 2000 家属 2026-11-18 上缴医院财务');
    expect((await state(b)).state).toBe('pending_discipline');
    expect(await approve('S0040', b)).toContain('已同意');
    expect((await state(b)).state).toBe('pending_finance');
    expect(await approve('S0036', b)).toContain('已登记');
    const [ra, rb] = [(await state(a)).receiptNo!, (await state(b)).receiptNo!];
    expect(Number(rb.slice(-6))).toBe(Number(ra.slice(-6)) + 1);
  });

  it('lets only one of two discipline members decide when both click at the same instant', async () => {
    const id = await declare('S0003', '上缴 礼金 800 患者 2026-11-22 当场拒收');
    const [m1, m2] = [await pendingCard('S0041', id), await pendingCard('S0042', id)];
    const [r1, r2] = await Promise.all([
      t.click('S0041', m1.id, 'decl.approve', button(m1.card!, 'decl.approve').value),
      t.click('S0042', m2.id, 'decl.approve', button(m2.card!, 'decl.approve').value),
    ]);
    const toasts = [r1.body.toast ?? '', r2.body.toast ?? ''];
    expect(toasts.filter((x) => x.startsWith('已登记'))).toHaveLength(1);
    expect(toasts.filter((x) => x.includes('已由他人处理'))).toHaveLength(1);
    const trail = await auditTrail(t.app.db, 'declaration', id);
    expect(trail.filter((r) => r.from_state === 'pending_discipline')).toHaveLength(1);
    const winner = trail.at(-1)!.actor === 'S0041' ? '白晓琳' : '熊文杰';
    for (const u of ['S0040', 'S0041', 'S0042']) {
      const c = await about(u, id);
      expect(json(c.card)).toContain(`已由 ${winner}`);
    }
  });

  it("refuses someone else's approval action and changes nothing", async () => {
    const id = await declare('S0001', '上缴 礼金 600 患者 2026-11-23 上缴医院财务');
    const before = await state(id);
    const trailBefore = await auditTrail(t.app.db, 'declaration', id);
    const value = { id, v: before.version, step: 'dept' };
    // A plain staff member replays the head's action on a message of their own.
    const [help] = await ask(t, 'S0006', '帮助');
    const r = await t.click('S0006', help.id, 'decl.approve', value);
    expect(r.body.toast).toBe('没有找到这条申报，或您无权查看。');
    // The head of another department, and the declarant on their own declaration.
    const [h2] = await ask(t, 'S0009', '帮助');
    expect((await t.click('S0009', h2.id, 'decl.approve', value)).body.toast).toBe('没有找到这条申报，或您无权查看。');
    const own = await latestCard('S0001', '已提交');
    expect((await t.click('S0001', own.id, 'decl.approve', value)).body.toast).toContain('不能审批自己的申报');
    // The right approver with a forged later step, and a rejection without a reason.
    const card = await pendingCard('S0003', id);
    expect((await t.click('S0003', card.id, 'decl.approve', { ...value, step: 'discipline' })).body.toast).toBe('没有找到这条申报，或您无权查看。');
    expect((await t.click('S0003', card.id, 'decl.reject', value, { reason: '  ' })).body.toast).toContain('驳回理由');
    const after = await state(id);
    expect([after.state, after.version]).toEqual([before.state, before.version]);
    expect(await auditTrail(t.app.db, 'declaration', id)).toHaveLength(trailBefore.length);
    // A stale version changes nothing either, after the real decision.
    expect(await approve('S0003', id)).toContain('已同意');
    expect((await t.click('S0003', card.id, 'decl.reject', value, { reason: '重复点击' })).body.toast).toContain('无需重复操作');
    expect((await state(id)).state).toBe('pending_discipline');
    // A second head of the department would be told who decided; a discipline member acting
    // on the now-current step with the old version is stale too.
    const d = await pendingCard('S0040', id);
    expect((await t.click('S0040', d.id, 'decl.approve', { id, v: before.version, step: 'discipline' })).body.toast).toContain('已有更新');
    expect((await state(id)).state).toBe('pending_discipline');
  });

  it('keeps a rejected declaration and registers its amended resubmission', async () => {
    const id = await declare('S0006', '上缴 礼品 200 患者 2026-11-24 事后退还 一篮水果');
    const m = await pendingCard('S0003', id);
    const f = formOf(m.card!);
    const r = await t.click('S0003', m.id, 'decl.reject', f.value, { reason: '礼品价值估计偏低，请核实后重报' });
    expect(r.body.toast).toContain('已驳回');
    expect((await state(id)).state).toBe('rejected');

    const rejection = await latestCard('S0006', '被驳回');
    expect(json(rejection.card)).toContain('礼品价值估计偏低');
    expect((await t.click('S0006', rejection.id, 'decl.amend', button(rejection.card!, 'decl.amend').value)).body.toast).toContain('修改');
    const amendForm = await latestCard('S0006', '修改后重新提交');
    const form = formOf(amendForm.card!);
    expect(form.inputs.find((i) => i.name === 'amount')!.initial).toBe('200.00');
    await t.click('S0006', amendForm.id, 'decl.form', form.value, {
      kind: 'gift', amount: '380', receivedOn: '2026-11-24', giver: 'patient', handling: 'returned', description: '一篮水果和一盒点心，已退还',
    });
    const preview = await latestCard('S0006', '请核对');
    const confirm = button(preview.card!, 'decl.confirm');
    const newId = String(confirm.value!.id);
    expect(newId).not.toBe(id);
    await t.click('S0006', preview.id, 'decl.confirm', confirm.value);
    const nd = await state(newId);
    expect([nd.state, nd.revision, nd.previousId, nd.amount]).toEqual(['pending_dept', 2, id, '380.00']);
    // The head sees the previous rejection's reason on the new card.
    expect(json((await pendingCard('S0003', newId)).card)).toContain('上一版被驳回的理由');
    expect(await approve('S0003', newId)).toContain('已同意');
    expect(await approve('S0041', newId)).toContain('已登记');
    expect((await state(id)).state).toBe('rejected');
    // A second amendment of the same rejected declaration is refused.
    expect((await t.click('S0006', rejection.id, 'decl.amend', { id })).body.toast).toContain('新版本');
    const [mine] = await ask(t, 'S0006', '我的申报');
    expect(json(mine.card)).toContain('已驳回');
    expect(json(mine.card)).toContain(nd.receiptNo ?? (await state(newId)).receiptNo!);
  });

  it('shows markdown and link syntax in the description as text, and masks ID-card and mobile numbers', async () => {
    const desc = '**紧急** [点此领取](http://evil.example/x) <b>粗</b> 患者身份证110101199003074514 电话13812345678';
    const [preview] = await ask(t, 'S0001', `上缴 礼金 100 患者 2026-11-20 当场拒收 ${desc}`);
    const notice = json(preview.card);
    expect(notice).toContain('第五条');
    expect(notice).toContain('身份证号 1 处');
    const id = String(button(preview.card!, 'decl.confirm').value!.id);
    const stored = (await state(id)).description;
    expect(stored).not.toContain('110101199003074514');
    expect(stored).not.toContain('13812345678');
    expect(stored).toContain('138****5678');
    await t.click('S0001', preview.id, 'decl.confirm', button(preview.card!, 'decl.confirm').value);
    const head = await pendingCard('S0003', id);
    expect(head.html).not.toMatch(/<a [^>]*evil/);
    expect(head.html).not.toContain('<strong>');
    expect(head.html).not.toContain('<b>');
    expect(head.html).toContain('**紧急** [点此领取](http://evil.example/x) &lt;b&gt;粗&lt;/b&gt;');
    expect(head.html).not.toContain('13812345678');
    // User text never reaches a markdown element.
    expect(head.card!.elements.filter((e) => e.type === 'markdown' && e.markdown.includes('evil'))).toHaveLength(0);
  });

  it('answers every bad input with a message naming the field, and stores nothing', async () => {
    const count = async () => Number((await t.app.db.query<{ n: number }>('SELECT count(*)::int AS n FROM declarations')).rows[0].n);
    const before = await count();
    const cases: [string, string][] = [
      ['上缴 礼金 abc 患者 2026-11-20 当场拒收', '金额“abc”不是有效的数字'],
      ['上缴 礼金 -5 患者 2026-11-20 当场拒收', '金额“-5”不是有效的数字'],
      ['上缴 礼金 0 患者 2026-11-20 当场拒收', '金额必须大于 0 元'],
      ['上缴 礼金 10.555 患者 2026-11-20 当场拒收', '最多保留两位小数'],
      ['上缴 礼金 50001 患者 2026-11-20 当场拒收', '不能超过 50,000 元'],
      ['上缴 礼品 100 患者 2099-01-01 当场拒收', '收到日期不能晚于今天'],
      ['上缴 礼品 100 患者 2026-02-30 当场拒收', '不是一个有效的日期'],
      ['上缴 礼品 100 患者', '请填写收到日期'],
      ['上缴 礼品 100 患者', '请选择处理方式'],
      ['上缴 钻石 100 患者 2026-11-20 当场拒收', '类别“钻石”无法识别'],
      ['上缴 礼品 100 路人 2026-11-20 当场拒收', '送礼人“路人”无法识别'],
      ['上缴 其他 100 患者 2026-11-20 当场拒收', '请在情况说明中写明'],
      [`上缴 礼品 100 患者 2026-11-20 当场拒收 ${'长'.repeat(501)}`, '情况说明最多 500 字，现在是 501 字'],
    ];
    for (const [line, msg] of cases) {
      const [r] = await ask(t, 'S0012', line);
      expect(r.text, line).toContain(msg);
    }
    // The form gives the same checks, as a toast naming the field; the card stays for fixing.
    const [formCard] = await ask(t, 'S0012', '上缴');
    const f = formOf(formCard.card!);
    const r = await t.click('S0012', formCard.id, 'decl.form', f.value, { kind: 'cash', amount: '12.345', receivedOn: '2099-12-31', giver: 'patient', handling: '' });
    expect(r.body.toast).toContain('金额或估计价值：金额最多保留两位小数');
    expect(r.body.toast).toContain('收到日期：收到日期不能晚于今天');
    expect(r.body.toast).toContain('处理方式：请选择处理方式');
    expect(await count()).toBe(before);
  });

  it('lets a draft be edited or cancelled before submission', async () => {
    const [preview] = await ask(t, 'S0012', '上缴 礼金 100 患者 2026-11-20 当场拒收');
    const edit = button(preview.card!, 'decl.edit');
    await t.click('S0012', preview.id, 'decl.edit', edit.value);
    const editing = (await inbox('S0012')).find((m) => m.id === preview.id)!;
    const f = formOf(editing.card!);
    expect(f.inputs.find((i) => i.name === 'kind')!.initial).toBe('cash');
    await t.click('S0012', preview.id, 'decl.form', f.value, { kind: 'cash', amount: '150', receivedOn: '2026-11-20', giver: 'patient', handling: 'refused', description: '' });
    const again = (await inbox('S0012')).find((m) => m.id === preview.id)!;
    expect(json(again.card)).toContain('150');
    // The old preview's version is stale now.
    expect((await t.click('S0012', preview.id, 'decl.confirm', edit.value)).body.toast).toContain('已有更新');
    const cancel = button(again.card!, 'decl.cancel');
    expect((await t.click('S0012', preview.id, 'decl.cancel', cancel.value)).body.toast).toBe('已取消。');
    expect((await state(String(cancel.value!.id))).state).toBe('cancelled');
  });

  it('keeps declarations confidential: leadership sees totals without names, others see nothing', async () => {
    const [stats] = await ask(t, 'S0005', '申报统计');
    const s = json(stats.card);
    expect(s).toContain('心血管内科');
    for (const name of ['林雨桐', '郑国栋', '谢婉清', '张立军', '白晓琳', 'S0001', 'S0006']) expect(s).not.toContain(name);
    const [list] = await ask(t, 'S0005', '申报列表');
    expect(list.text).toContain('仅限纪检监察');
    const [peek] = await ask(t, 'S0005', '申报 HB-2026-000001');
    expect(peek.text).toContain('无权查看');
    const [peek2] = await ask(t, 'S0012', '申报 SB-1');
    expect(peek2.text).toContain('无权查看');
    // The head who approved it may see it; the discipline office sees everything.
    const [head] = await ask(t, 'S0003', '申报 SB-1');
    expect(head.kind).toBe('card');
    const [draft] = await ask(t, 'S0012', '上缴 礼金 100 患者 2026-11-20 当场拒收');
    const draftId = String(button(draft.card!, 'decl.confirm').value!.id);
    expect((await ask(t, 'S0042', `申报 SB-${draftId}`))[0].text).toContain('无权查看');
    expect((await ask(t, 'S0012', `申报 SB-${draftId}`))[0].kind).toBe('card');
    const [all] = await ask(t, 'S0042', '申报列表');
    expect(json(all.card)).toContain('林雨桐');
  });

  it('exports every declaration with its audit trail as XLSX for the discipline office', async () => {
    const [reply] = await ask(t, 'S0040', '导出申报', 2);
    const file = [reply].concat(await inbox('S0040')).find((m) => m.fileUrl)!;
    const res = await fetch(`${t.url}${file.fileUrl}`);
    expect(res.status).toBe(200);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(await res.arrayBuffer()) as never);
    const decl = wb.getWorksheet('上缴申报')!;
    const audit = wb.getWorksheet('处理记录')!;
    const submitted = Number((await t.app.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM declarations WHERE state NOT IN ('draft','cancelled')`)).rows[0].n);
    expect(decl.rowCount - 1).toBe(submitted);
    expect(audit.rowCount - 1).toBeGreaterThan(submitted * 2);
    expect(JSON.stringify(decl.getSheetValues())).toContain('HB-');
    const exports = await t.app.db.query(`SELECT actor FROM audit_log WHERE action = 'declaration.export'`);
    expect(exports.rows).toEqual([{ actor: 'S0040' }]);
  });

  it('reminds the approver after the configured hours and escalates after twice that, once each', async () => {
    const id = await declare('S0001', '上缴 礼金 700 患者 2026-11-24 当场拒收');
    const started = (await state(id)).stepStartedAt!;
    const at = (h: number) => new Date(started.getTime() + h * 3_600_000);
    expect((await runApprovalDeadlines(t.app.bot, at(47))).reminded).not.toContain(id);
    const before = (await inbox('S0003')).length;
    expect((await runApprovalDeadlines(t.app.bot, at(49))).reminded).toContain(id);
    const r = await t.waitForReplies('S0003', before);
    expect(r.some((m) => m.text?.includes(`SB-${id}`) && m.text.includes('超过'))).toBe(true);
    expect((await runApprovalDeadlines(t.app.bot, at(50))).reminded).not.toContain(id);
    const esc = await runApprovalDeadlines(t.app.bot, at(97));
    expect(esc.escalated).toContain(id);
    const leader = (await inbox('S0011')).filter((m) => m.text?.includes(`SB-${id}`));
    expect(leader).toHaveLength(1);
    expect(leader[0].text).not.toContain('林雨桐');
    expect((await inbox('S0041')).some((m) => m.text?.includes('督办') && m.text.includes(`SB-${id}`))).toBe(true);
    expect((await runApprovalDeadlines(t.app.bot, at(98))).escalated).not.toContain(id);
  });

  it('16: an unsubmitted draft reminds its author once, the next day; a submitted one does not', async () => {
    const [preview] = await ask(t, 'S0007', '上缴 礼品 300 患者家属 2026-11-25 当场拒收 一篮进口水果');
    const draftId = String(button(preview.card!, 'decl.confirm').value!.id);
    const submitted = await declare('S0007', '上缴 礼金 200 患者 2026-11-25 当场拒收');
    const tz = t.app.bot.timeZone;
    const nextDay = startOfDay(addDays(localDate((await state(draftId)).createdAt, tz), 1), tz);
    const at = (ms: number) => new Date(nextDay.getTime() + ms);

    expect(await runDraftReminders(t.app.bot, at(-60_000))).not.toContain(draftId);
    const before = (await inbox('S0007')).length;
    const run = await runDraftReminders(t.app.bot, at(9 * 3_600_000));
    expect(run).toContain(draftId);
    expect(run).not.toContain(submitted);
    const [told] = await t.waitForReplies('S0007', before);
    expect(told.text).toBe(`您有一份上缴申报草稿 SB-${draftId} 尚未提交，草稿不会进入审批，提交后才算完成申报。发送“申报 SB-${draftId}”查看并提交，或删除。`);
    // Once only, on later days too.
    expect(await runDraftReminders(t.app.bot, at(10 * 3_600_000))).not.toContain(draftId);
    expect(await runDraftReminders(t.app.bot, at(33 * 3_600_000))).not.toContain(draftId);
    expect((await inbox('S0007')).filter((m) => m.text?.includes(`草稿 SB-${draftId}`))).toHaveLength(1);
  });

  it('keeps the audit log append-only', async () => {
    await expect(t.app.db.query(`UPDATE audit_log SET reason = 'x' WHERE entity_type = 'declaration'`)).rejects.toThrow(/append-only/);
    await expect(t.app.db.query(`DELETE FROM audit_log WHERE entity_type = 'declaration'`)).rejects.toThrow(/append-only/);
  });
});
