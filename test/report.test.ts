import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Card } from '../cards/model.js';
import { reportKeys, runReportDaily } from '../handlers/report.js';
import { submissionHistory } from '../src/domain/report.js';
import type { SandboxMessage } from '../src/platform/sandbox/adapter.js';
import { ask, settledCampaign, startTestApp, type TestApp } from './helpers/app.js';

/** The 20th-of-month report end to end in the sandbox, on a clock the test moves. */
let clock = new Date('2026-11-10T02:00:00Z');
const at = (iso: string) => {
  clock = new Date(iso);
};
const cards = (msgs: SandboxMessage[], titlePart: string) => msgs.filter((m) => m.card?.title.includes(titlePart));
const formOf = (card: Card) => card.elements.find((e) => e.type === 'form') as Extract<Card['elements'][number], { type: 'form' }> | undefined;
const buttonOf = (card: Card, actionId: string) =>
  card.elements.flatMap((e) => (e.type === 'actions' ? e.buttons : [])).find((b) => b.kind === 'button' && b.actionId === actionId) as
    | { actionId: string; value: Record<string, string> }
    | undefined;

describe('the monthly report', () => {
  let t: TestApp;
  const settled = (key: string) => settledCampaign(t, key);

  /** Opens 上报, fills the form, confirms; returns the toast of the confirmation. */
  async function submit(staffId: string, summary: string, figures: Record<string, string> = {}): Promise<string | undefined> {
    const [msg] = await ask(t, staffId, '上报');
    const form = formOf(msg.card!);
    if (!form) return msg.text ?? JSON.stringify(msg.card);
    const r1 = await t.click(staffId, msg.id, form.actionId, form.value as Record<string, string>, { summary, ...figures });
    if (r1.body.toast) return r1.body.toast;
    const updated = (await t.inbox(staffId)).find((m) => m.id === msg.id)!;
    const confirm = buttonOf(updated.card!, 'report.confirm')!;
    const r2 = await t.click(staffId, msg.id, 'report.confirm', confirm.value);
    return r2.body.toast;
  }

  beforeAll(async () => {
    t = await startTestApp({ label: 'report', now: () => clock });
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('refuses 上报 to staff who do not report for a department', async () => {
    const [r] = await ask(t, 'S0001', '上报');
    expect(r.text).toContain('报告联络员');
  });

  it('takes a summary and the figures, confirms, and stores it on time', async () => {
    const toast = await submit('S0004', '本月开展专题学习两次，完成科室自查。', { f0: '3', f1: '2' });
    expect(toast).toContain('已提交');
    const dept = (await t.app.db.query<{ id: number }>(`SELECT id FROM departments WHERE name = '心血管内科'`)).rows[0].id;
    const [v1] = await submissionHistory(t.app.db, '2026-11', dept);
    expect(v1).toMatchObject({ version: 1, late: false, submittedBy: 'S0004', figures: { 本月自查发现问题数: 3, 已完成整改数: 2 } });
    // 16: the card written over the confirmation keeps the form's order (jsonb gives the shorter name first) and the text.
    const [done] = cards(await t.inbox('S0004'), '已提交：');
    const f = done.card!.elements.flatMap((e) => (e.type === 'fields' ? e.fields.map((x) => x.label) : []));
    expect(f.slice(2)).toEqual(t.app.bot.deps.settings.report.figures);
    expect(JSON.stringify(done.card)).toContain('本月开展专题学习两次，完成科室自查。');
  });

  it('16 修改 on the confirmation re-opens the filled form; 取消 drops the draft and stores nothing', async () => {
    const [msg] = await ask(t, 'S0004', '上报');
    const form = formOf(msg.card!)!;
    await t.click('S0004', msg.id, form.actionId, form.value as Record<string, string>, { summary: '草稿：补充两项。', f0: '5', f1: '1', attachment: '统计表.xlsx' });
    const current = async () => (await t.inbox('S0004')).find((m) => m.id === msg.id)!.card!;
    const edit = buttonOf(await current(), 'report.edit')!;
    expect(edit.value).toEqual(buttonOf(await current(), 'report.confirm')!.value);
    await t.click('S0004', msg.id, 'report.edit', edit.value);
    const again = formOf(await current())!;
    expect(again.inputs.map((i) => i.initial)).toEqual(['草稿：补充两项。', '5', '1', undefined, undefined, '统计表.xlsx']);
    await t.click('S0004', msg.id, again.actionId, again.value as Record<string, string>, { summary: '草稿：补充三项。', f0: '5', f1: '3' });
    const cancel = buttonOf(await current(), 'report.cancel')!;
    const r = await t.click('S0004', msg.id, 'report.cancel', cancel.value);
    expect(r.body.toast).toBe('已取消，未提交。');
    expect((await current()).title).toContain('已取消');
    // The cancelled draft cannot be confirmed afterwards (a second tab, a redelivered click).
    expect((await t.click('S0004', msg.id, 'report.confirm', cancel.value)).body.toast).toBe('这份待确认的报告已过期或已提交，请发送“上报”查看。');
    const dept = (await t.app.db.query<{ id: number }>(`SELECT id FROM departments WHERE name = '心血管内科'`)).rows[0].id;
    expect((await submissionHistory(t.app.db, '2026-11', dept)).map((h) => h.version)).toEqual([1]);
  });

  it('14 a waiting draft of another shape (an older deploy) counts as expired: nothing is stored', async () => {
    const [msg] = await ask(t, 'S0024', '上报');
    const form = formOf(msg.card!)!;
    await t.click('S0024', msg.id, form.actionId, form.value as Record<string, string>, { summary: '本月已完成自查。', f0: '1', f1: '1' });
    const confirm = buttonOf((await t.inbox('S0024')).find((m) => m.id === msg.id)!.card!, 'report.confirm')!;
    await t.app.bot.state.set(`report-draft:${confirm.value.id}`, { month: '2026-11', departmentId: 'not a number', text: 'old shape' }, 60_000);
    const r = await t.click('S0024', msg.id, 'report.confirm', confirm.value);
    expect(r.body.toast).toBe('这份待确认的报告已过期或已提交，请发送“上报”查看。');
    const dept = (await t.app.db.query<{ id: number }>(`SELECT id FROM departments WHERE name = '医务科'`)).rows[0].id;
    expect(await submissionHistory(t.app.db, '2026-11', dept)).toEqual([]);
  });

  it('refuses a summary over 2,000 characters', async () => {
    const toast = await submit('S0010', '很'.repeat(2001));
    expect(toast).toContain('2000');
  });

  it('16 refuses figures that contradict each other, naming both figures next to the one too big', async () => {
    const [msg] = await ask(t, 'S0010', '上报');
    const form = formOf(msg.card!)!;
    const r = await t.click('S0010', msg.id, form.actionId, form.value as Record<string, string>, { summary: '本月已自查。', f0: '2', f1: '5' });
    expect(r.body.fieldErrors).toEqual({ f1: '已完成整改数（5）不能大于本月自查发现问题数（2）' });
    expect(r.body.toast).toBe('报告没有提交：已完成整改数（5）不能大于本月自查发现问题数（2），请核对后重新提交。');
    // Equal is consistent: everything found has been rectified.
    const ok = await t.click('S0010', msg.id, form.actionId, form.value as Record<string, string>, { summary: '本月已自查。', f0: '2', f1: '2' });
    expect(ok.body.fieldErrors).toBeUndefined();
  });

  it('reminds only departments that have not reported, naming days left and the date', async () => {
    at('2026-11-15T01:05:00Z'); // 5 days before the 20th
    await runReportDaily(t.app.bot, clock);
    await settled(reportKeys.remind('2026-11', 5));
    const r = cards(await t.inbox('S0010'), '报告提醒');
    expect(r).toHaveLength(1);
    expect(JSON.stringify(r[0].card)).toContain('还剩 5 天');
    expect(JSON.stringify(r[0].card)).toContain('2026年11月20日');
    expect(cards(await t.inbox('S0004'), '报告提醒')).toHaveLength(0);
    // The reminder's button opens the form.
    const open = buttonOf(r[0].card!, 'report.open')!;
    const before = (await t.inbox('S0010')).length;
    await t.click('S0010', r[0].id, 'report.open', open.value);
    const [formCard] = await t.waitForReplies('S0010', before);
    expect(formOf(formCard.card!)).toBeDefined();
  });

  it('replaces a report resubmitted before the deadline and keeps the earlier version', async () => {
    at('2026-11-20T15:30:00Z'); // 23:30 on the 20th in Shanghai: still on time
    expect(await submit('S0004', '更正：本月开展专题学习三次。', { f0: '4' })).toContain('已更新');
    const dept = (await t.app.db.query<{ id: number }>(`SELECT id FROM departments WHERE name = '心血管内科'`)).rows[0].id;
    const history = await submissionHistory(t.app.db, '2026-11', dept);
    expect(history.map((h) => [h.version, h.late, h.summary.slice(0, 2)])).toEqual([
      [1, false, '本月'],
      [2, false, '更正'],
    ]);
  });

  it('lets administrators push a reminder round now, and preview it first', async () => {
    const [p] = await ask(t, 'S0002', '预览 报告提醒');
    expect(JSON.stringify(p.card)).toContain('普外科');
    expect(JSON.stringify(p.card)).not.toContain('心血管内科');
    const [r] = await ask(t, 'S0002', '推送 报告提醒');
    expect(r.card!.title).toContain('已推送');
    await settled(reportKeys.manual('2026-11', '2026-11-20'));
    const got = cards(await t.inbox('S0024'), '报告提醒');
    expect(got.length).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(got[got.length - 1].card)).toContain('管理员提醒');
  });

  it('16 a second 推送 报告提醒 the same day says when the first went out; 再次 reminds those still missing again', async () => {
    const [p] = await ask(t, 'S0002', '预览 报告提醒');
    const missing = p.card!.elements.flatMap((e) => (e.type === 'fields' ? e.fields : [])).find((f) => f.label === '未报送科室')!.value.split('、').length;
    const before = cards(await t.inbox('S0024'), '报告提醒').length;
    const [r] = await ask(t, 'S0002', '推送 报告提醒');
    const said = JSON.stringify(r.card);
    // 15:30Z is 23:30 in Shanghai, when the first round went out (the test before this one).
    expect(said).toContain(`今天已于 23:30 提醒过 ${missing} 个科室，未再发送。`);
    expect(said).toContain('推送 报告提醒 再次');
    const [again] = await ask(t, 'S0002', '推送 报告提醒 再次');
    expect(again.card!.title).toBe('已再次推送本月报告提醒（今天第 2 次）');
    await settled(`${reportKeys.manual('2026-11', '2026-11-20')}-2`);
    expect(cards(await t.inbox('S0024'), '报告提醒')).toHaveLength(before + 1);
    // Not to a department that has reported.
    expect(cards(await t.inbox('S0004'), '报告提醒')).toHaveLength(0);
    const [third] = await ask(t, 'S0002', '推送 报告提醒');
    expect(JSON.stringify(third.card)).toContain('未再发送');
  });

  it('the day after the deadline tells leadership and the discipline office who is missing', async () => {
    at('2026-11-21T01:05:00Z');
    await runReportDaily(t.app.bot, clock);
    await settled(reportKeys.overdue('2026-11'));
    for (const id of ['S0005', 'S0022', 'S0040', 'S0041']) {
      const [c] = cards(await t.inbox(id), '未按期报送');
      const s = JSON.stringify(c.card);
      expect(s, id).toContain('普外科');
      expect(s, id).toContain('医保办');
      expect(s, id).not.toContain('心血管内科');
    }
    expect(cards(await t.inbox('S0001'), '未按期报送')).toHaveLength(0);
  });

  it('marks a report after the deadline late, and refuses to change one already in', async () => {
    expect(await submit('S0010', '本月进展：已完成自查。')).toContain('逾期');
    expect(await submit('S0004', '再次更正')).toContain('不能再修改');
  });
});
