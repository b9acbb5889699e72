import { describe, expect, it } from 'vitest';
import { approvalCard, decidedCard, declarantMessage, decisionMessage, escalationText, pendingListCard, reminderText, staleToast, waitedText } from '../cards/approval.js';
import {
  cancelledCard,
  declarationDetailCard,
  declarationForm,
  declarationListCard,
  declarationStatsCard,
  detailElements,
  myDeclarationsCard,
  previewCard,
  submittedCard,
} from '../cards/declaration.js';
import type { ActionButton, Card, CardElement } from '../cards/model.js';
import type { Declaration } from '../src/domain/declaration/record.js';

// Issue 14 item 2: the declaration's cards are pure functions of domain values, built here
// without a bot, a database or a platform.

const TZ = 'Asia/Shanghai';
const at = (iso: string) => new Date(iso);

const base: Declaration = {
  id: '12',
  declarantId: 'S0003',
  declarantName: '张医生',
  departmentId: 2,
  department: '心血管内科',
  state: 'pending_dept',
  version: 3,
  revision: 1,
  previousId: null,
  receiptNo: null,
  lastReason: null,
  kind: 'cash',
  amount: '500.00',
  receivedOn: '2026-11-20',
  giver: 'family',
  handling: 'to_finance',
  description: '患者家属出院时塞的红包 <b>',
  createdAt: at('2026-11-20T01:00:00Z'),
  submittedAt: at('2026-11-20T02:05:00Z'),
  stepStartedAt: at('2026-11-20T02:05:00Z'),
  remindedAt: null,
  escalatedAt: null,
  registeredAt: null,
  attachments: [],
};
const decl = (over: Partial<Declaration> = {}): Declaration => ({ ...base, ...over });

const texts = (c: Card | CardElement[]): string =>
  JSON.stringify('elements' in c ? c.elements : c);
const buttons = (c: Card): ActionButton[] =>
  c.elements.flatMap((e) => (e.type === 'actions' ? e.buttons.filter((b): b is ActionButton => b.kind === 'button') : []));
const fieldsOf = (els: CardElement[]): Record<string, string> =>
  Object.fromEntries(els.flatMap((e) => (e.type === 'fields' ? e.fields.map((f) => [f.label, f.value]) : [])));

describe('issue 14: declaration cards without a bot', () => {
  it('14.2 detail elements show the content as plain text, the declarant only when asked, and a files button only for kept copies', () => {
    const els = detailElements(decl());
    expect(fieldsOf(els)).toMatchObject({ 编号: 'SB-12', 申报人: '张医生（心血管内科）', 类别: '礼金/红包', '金额（元）': '500', 收到日期: '2026-11-20', 送礼人: '患者家属', 处理方式: '上缴医院财务', 状态: '待科室负责人审核' });
    // What the declarant typed never goes into markdown, where a renderer would not escape it.
    expect(els).toContainEqual({ type: 'text', text: '情况说明：患者家属出院时塞的红包 <b>' });
    expect(els.some((e) => e.type === 'markdown')).toBe(false);
    expect(fieldsOf(detailElements(decl(), { withDeclarant: false }))).not.toHaveProperty('申报人');

    const gift = fieldsOf(detailElements(decl({ kind: 'gift', receiptNo: 'HB-2026-000007', revision: 2, previousId: '9' })));
    expect(gift).toMatchObject({ 编号: 'HB-2026-000007', 申报序号: 'SB-12', '估计价值（元）': '500', 版本: '第 2 版（修改自 SB-9）' });

    const withFiles = decl({
      attachments: [
        { name: '照片1.jpg', ref: 'sandbox:a', platform: 'sandbox', addedAt: '2026-11-20T01:00:00Z', fileId: '5' },
        { name: '旧附件.pdf', ref: 'sandbox:b', platform: 'sandbox', addedAt: '2026-11-20T01:00:00Z' },
      ],
    });
    const els2 = detailElements(withFiles);
    expect(els2).toContainEqual({ type: 'text', text: '附件（2 个）：照片1.jpg、旧附件.pdf' });
    expect(els2).toContainEqual({ type: 'actions', buttons: [{ kind: 'button', label: '查看附件（1）', actionId: 'decl.files', value: { id: '12' } }] });
  });

  it('14.2 the form carries its target and names the dialogue that asks the same fields', () => {
    const dialogue = { name: 'declare', initial: { data: { __target: '{"id":"12","v":3}' } }, notice: '请在对话中逐项修改。' };
    const f = declarationForm({ maxYuan: 50000, value: { id: '12', v: 3 }, dialogue, current: { kind: 'gift', amount: '80.00' }, title: '修改上缴申报 · SB-12' });
    expect(f.title).toBe('修改上缴申报 · SB-12');
    const formEl = f.elements.find((e) => e.type === 'form');
    expect(formEl).toMatchObject({ type: 'form', actionId: 'decl.form', value: { id: '12', v: 3 }, dialogue, submitLabel: '下一步：核对' });
    if (formEl?.type !== 'form') throw new Error('no form');
    expect(formEl.inputs.map((i) => i.name)).toEqual(['kind', 'amount', 'receivedOn', 'giver', 'handling', 'description']);
    expect(formEl.inputs.find((i) => i.name === 'kind')).toMatchObject({ initial: 'gift' });
    expect(formEl.inputs.find((i) => i.name === 'amount')).toMatchObject({ max: 50000, initial: '80.00' });
    expect(declarationForm({ maxYuan: 1, value: {}, dialogue: { name: 'declare' } }).title).toBe('红包/礼品 主动上缴申报');
  });

  it('14.2 the preview states the route it was given and offers confirm, edit, attach and cancel for this version', () => {
    const draft = decl({ state: 'draft', version: 2 });
    const withDept = previewCard(draft, { dept: true, finance: true });
    expect(withDept.title).toBe('请核对您的上缴申报 · SB-12');
    expect(texts(withDept)).toContain('提交后依次：科室负责人审核 → 纪检监察室审核 → 财务科确认收款 → 登记并发放回执编号。');
    expect(buttons(withDept).map((b) => [b.actionId, b.value])).toEqual([
      ['decl.confirm', { id: '12', v: 2 }],
      ['decl.edit', { id: '12', v: 2 }],
      ['decl.attach', { id: '12', v: 2 }],
      ['decl.cancel', { id: '12', v: 2 }],
    ]);
    expect(texts(previewCard(draft, { dept: false, finance: false }))).toContain('提交后依次：纪检监察室审核 → 登记并发放回执编号。');
    const masked = previewCard(draft, { dept: false, finance: false }, { text: '', idCards: 1, mobiles: 0, landlines: 0 });
    expect(texts(masked)).toContain('情况说明中的身份证号 1 处已做遮挡后保存');
  });

  it('14.2 submitted and cancelled cards', () => {
    expect(submittedCard(decl())).toMatchObject({ title: '上缴申报已提交 · SB-12', color: 'green' });
    expect(texts(submittedCard(decl()))).not.toContain('张医生');
    expect(cancelledCard('12')).toEqual({ title: '上缴申报已取消 · SB-12', color: 'grey', elements: [{ type: 'text', text: '这份申报已取消，没有提交。需要时可重新发送“上缴”。' }] });
  });

  it('14.2 the approval card carries id, version and step, and the typed twin of its decision', () => {
    const c = approvalCard(decl(), 'dept', '金额不符');
    expect(c).toMatchObject({ title: '上缴申报待审核 · SB-12', color: 'orange' });
    expect(buttons(c)).toEqual([{ kind: 'button', label: '同意', actionId: 'decl.approve', value: { id: '12', v: 3, step: 'dept' }, style: 'primary' }]);
    expect(c.elements.find((e) => e.type === 'form')).toMatchObject({ actionId: 'decl.reject', value: { id: '12', v: 3, step: 'dept' }, submitLabel: '驳回' });
    expect(texts(c)).toContain('上一版被驳回的理由：金额不符');
    expect(texts(c)).toContain('也可以直接回复“同意 SB-12”或“驳回 SB-12 理由”。');

    const fin = approvalCard(decl({ state: 'pending_finance' }), 'finance');
    expect(fin).toMatchObject({ title: '上缴申报待确认收款 · SB-12', color: 'purple' });
    expect(buttons(fin)[0].label).toBe('确认已收款');
    expect(texts(fin)).toContain('“确认收款 SB-12”');
    expect(texts(fin)).not.toContain('上一版被驳回');
  });

  it('14.2 the decided card names who decided and when, in the zone it is given', () => {
    const c = decidedCard(decl(), 'finance', { decision: 'approve', actorName: '钱会计', at: at('2026-11-21T01:30:00Z'), timeZone: TZ });
    expect(c).toMatchObject({ title: '上缴申报 · SB-12 · 已确认收款', color: 'green' });
    expect(c.elements[0]).toEqual({ type: 'note', text: '已由 钱会计（财务科）于 2026-11-21 09:30 确认收款。' });
    const r = decidedCard(decl(), 'dept', { decision: 'reject', actorName: '李主任', at: at('2026-11-21T01:30:00Z'), reason: '请补充说明', timeZone: 'UTC' });
    expect(r).toMatchObject({ title: '上缴申报 · SB-12 · 已驳回', color: 'red' });
    expect(r.elements[0]).toEqual({ type: 'note', text: '已由 李主任（科室负责人）于 2026-11-21 01:30 驳回。' });
    expect(r.elements[1]).toEqual({ type: 'text', text: '驳回理由：请补充说明' });
  });

  it('14.2 what the declarant is told after each move', () => {
    expect(declarantMessage({ declaration: decl(), from: 'draft', to: 'pending_dept' })).toBe('您的上缴申报 SB-12 已提交，正在等待科室负责人审核。每一步处理后都会通知您。');
    expect(declarantMessage({ declaration: decl(), from: 'draft', to: 'pending_discipline', skippedDept: true })).toContain('（您是本科室负责人，跳过科室审核）');
    expect(declarantMessage({ declaration: decl(), from: 'pending_dept', to: 'pending_discipline' })).toBe('您的上缴申报 SB-12 已由科室负责人同意，已转纪检监察室审核。');
    const done = declarantMessage({ declaration: decl({ state: 'registered', receiptNo: 'HB-2026-000001' }), from: 'pending_finance', to: 'registered' }) as Card;
    expect(done.title).toBe('上缴登记完成 · HB-2026-000001');
    expect(texts(done)).not.toContain('张医生');
    const rejected = declarantMessage({ declaration: decl({ state: 'rejected', lastReason: '金额不符' }), from: 'pending_discipline', to: 'rejected' }) as Card;
    expect(rejected.title).toBe('上缴申报被驳回 · SB-12');
    expect(texts(rejected)).toContain('被纪检监察室驳回');
    expect(texts(rejected)).toContain('驳回理由：金额不符');
    expect(buttons(rejected)).toEqual([{ kind: 'button', label: '修改后重新提交', actionId: 'decl.amend', value: { id: '12' }, style: 'primary' }]);
  });

  it('14.2 decision answers and stale toasts', () => {
    expect(decisionMessage(decl(), 'reject', 'rejected')).toBe('已驳回 SB-12，申报人会收到驳回理由。');
    expect(decisionMessage(decl({ receiptNo: 'HB-2026-000002' }), 'approve', 'registered')).toBe('已登记 SB-12，回执编号 HB-2026-000002。');
    expect(decisionMessage(decl(), 'approve', 'pending_discipline')).toBe('已同意 SB-12，已转下一环节。');
    expect(staleToast({ decision: 'approve', step: 'finance', byName: '钱会计', byClicker: true })).toBe('您已确认收款过这条申报，无需重复操作。');
    expect(staleToast({ decision: 'reject', step: 'dept', byName: '李主任', byClicker: false })).toBe('已由他人处理：李主任 已驳回，您的操作没有生效。');
  });

  it('14.2 the pending list shows how long each step has waited at the given time', () => {
    const c = pendingListCard([{ d: decl(), step: 'dept' }, { d: decl({ id: '13', stepStartedAt: null }), step: 'discipline' }], at('2026-11-21T05:05:00Z'));
    expect(c.title).toBe('待您处理的上缴申报（2 条）');
    expect(c.elements[0]).toEqual({
      type: 'table',
      columns: ['编号', '环节', '申报人', '类别', '金额（元）', '等待'],
      rows: [
        ['SB-12', '科室负责人', '张医生', '礼金/红包', '500', '1 天'],
        ['SB-13', '纪检监察室', '张医生', '礼金/红包', '500', ''],
      ],
    });
    // 16: each row has its way to the approval card.
    expect(c.elements[1]).toEqual({
      type: 'actions',
      buttons: [
        { kind: 'button', label: '处理 SB-12', actionId: 'decl.open', value: { id: '12' } },
        { kind: 'button', label: '处理 SB-13', actionId: 'decl.open', value: { id: '13' } },
      ],
    });
  });

  it('14.2 reminders and escalations carry the reference and the step, never the name or the content', () => {
    const remind = reminderText(decl(), 'finance', 49);
    expect(remind).toBe('提醒：上缴申报 SB-12 等待您（财务科）处理已超过 49 小时，请在之前收到的审批卡片上尽快处理，或直接回复“确认收款 SB-12”或“驳回 SB-12 理由”。');
    const esc = escalationText(decl(), 'dept', 97);
    expect(esc).toBe('督办：上缴申报 SB-12 在“科室负责人”环节已等待 97 小时仍未处理，请督促办理。');
    for (const t of [remind, esc]) for (const secret of ['张医生', '红包', '500']) expect(t).not.toContain(secret);
  });

  it('14.2 the detail card shows the history with names, actions and states in the given zone', () => {
    const c = declarationDetailCard(
      decl(),
      [
        { declarationId: '12', at: at('2026-11-20T01:00:00Z'), actor: 'S0003', actorName: '张医生', action: 'declaration.draft', fromState: null, toState: 'draft', reason: null },
        { declarationId: '12', at: at('2026-11-22T00:00:00Z'), actor: 'system', actorName: '系统', action: 'declaration.remind', fromState: 'pending_dept', toState: 'pending_dept', reason: null },
        { declarationId: '12', at: at('2026-11-22T00:00:00Z'), actor: 'S0009', actorName: 'S0009', action: 'declaration.unknown', fromState: 'pending_dept', toState: 'rejected', reason: '不符' },
      ],
      TZ,
    );
    expect(c.title).toBe('上缴申报 · SB-12');
    const t = c.elements.find((e) => e.type === 'table');
    expect(t).toEqual({
      type: 'table',
      columns: ['时间', '操作人', '操作', '原状态', '新状态', '理由'],
      rows: [
        ['2026-11-20 09:00', '张医生', '填写草稿', '', '草稿（未提交）', ''],
        ['2026-11-22 08:00', '系统', '超时提醒审批人', '待科室负责人审核', '待科室负责人审核', ''],
        ['2026-11-22 08:00', 'S0009', 'declaration.unknown', '待科室负责人审核', '已驳回', '不符'],
      ],
    });
  });

  it('14.2 lists and nameless totals', () => {
    expect(myDeclarationsCard([decl()]).elements[1]).toMatchObject({ rows: [['SB-12', '礼金/红包', '500', '2026-11-20', '待科室负责人审核']] });
    expect(declarationListCard([decl()], TZ).elements[0]).toMatchObject({ rows: [['SB-12', '张医生', '心血管内科', '礼金/红包', '500', '待科室负责人审核', '2026-11-20 10:05']] });
    const rows = [
      { month: '2026-11', department: '心血管内科', registered: 2, registeredAmount: '1500.50', pending: 1 },
      { month: '2026-10', department: '骨科', registered: 1, registeredAmount: '200', pending: 0 },
    ];
    const leader = declarationStatsCard(rows, { discipline: false });
    expect(leader.elements[0]).toEqual({ type: 'fields', fields: [{ label: '已登记件数', value: '3' }, { label: '已登记金额（元）', value: '1,700.50' }, { label: '审批中件数', value: '1' }] });
    expect(texts(leader)).toContain('为保护申报人，统计只含件数和金额，不含姓名和申报内容。');
    expect(texts(declarationStatsCard(rows, { discipline: true }))).toContain('明细请发送“申报列表”或“导出申报”。');
  });
});

describe('issue 16.4: 驳回 is styled as the dangerous action', () => {
  it('the approval card’s reject form has a danger submit, rendered so on Feishu and in the sandbox', async () => {
    const { renderFeishuCard } = await import('../cards/feishu.js');
    const { renderCardHtml } = await import('../cards/html.js');
    const c = approvalCard(decl({ state: 'pending_discipline' }), 'discipline');
    const reject = c.elements.find((e) => e.type === 'form' && e.actionId === 'decl.reject');
    expect(reject && reject.type === 'form' && reject.submitStyle).toBe('danger');
    const feishu = JSON.stringify(renderFeishuCard(c));
    expect(feishu).toMatch(/"type":"danger","text":\{"tag":"plain_text","content":"驳回"/);
    expect(renderCardHtml(c)).toContain('<button type="submit" class="btn danger">驳回</button>');
  });
});

describe('issue 16.4: the pending list’s wait reads at a glance', () => {
  it('says 不到 1 小时, whole hours within a day, whole days after', () => {
    const started = at('2026-11-20T00:00:00Z');
    const after = (h: number) => waitedText({ stepStartedAt: started }, new Date(started.getTime() + h * 3_600_000));
    expect(after(0.5)).toBe('不到 1 小时');
    expect(after(3.9)).toBe('3 小时');
    expect(after(23)).toBe('23 小时');
    expect(after(50)).toBe('2 天');
  });

  it('16.1 我的申报 lists drafts in a section of their own, apart from submitted declarations', () => {
    const c = myDeclarationsCard([decl({ id: '14', state: 'draft', submittedAt: null }), decl({ id: '13', state: 'draft', amount: '80.00', kind: 'gift' }), decl()]);
    const tables = c.elements.filter((e) => e.type === 'table');
    expect(c.elements[0]).toEqual({ type: 'text', text: '草稿（尚未提交）：2 份' });
    expect(tables[0]).toMatchObject({ columns: ['编号', '类别', '金额（元）', '收到日期'], rows: [['SB-14', '礼金/红包', '500', '2026-11-20'], ['SB-13', '礼品', '80', '2026-11-20']] });
    expect(tables[1]).toMatchObject({ rows: [['SB-12', '礼金/红包', '500', '2026-11-20', '待科室负责人审核']] });
    expect(texts(c)).toContain('已提交：1 份');
    expect(texts(c)).toContain('可以提交、修改或删除草稿');
    // Without drafts there is no draft section at all.
    expect(texts(myDeclarationsCard([decl()]))).not.toContain('草稿');
  });
});
