import { describe, expect, it } from 'vitest';
import { actions, button, card, divider, fields, form, link, markdown, note, table, text } from '../cards/builders.js';
import { renderDingTalkCard } from '../cards/dingtalk.js';
import { renderDingTalkMarkdown, sendMessageLink } from '../cards/dingtalk-markdown.js';
import type { Card } from '../cards/model.js';

const sample = card(
  '申报审批',
  [
    text('请审批以下申报。'),
    markdown('**金额**：500 元'),
    fields({ '申报人': '林雨桐', '科室': '心血管*内科' }),
    table(['科室', '完成率'], [['心内科', '100%']]),
    actions(button('同意', 'approve', { id: 'D-1', v: 2 }, { style: 'primary' }), button('退回', 'reject', { id: 'D-1' }, { style: 'danger' }), link('查看制度', 'https://example.org/rules')),
    // What the degrade stage hands a renderer: the picture already uploaded.
    { type: 'image', url: '@lAfakeMedia', alt: '图' },
    note('仅纪检监察室可见'),
    divider(),
    form('decl.reject', [
      { kind: 'text', name: 'reason', label: '驳回理由', required: true, multiline: true, maxLength: 200 },
      { kind: 'select', name: 'giver', label: '送礼人', options: [{ label: '患者', value: 'patient' }] },
      { kind: 'number', name: 'amount', label: '金额', min: 1 },
      { kind: 'date', name: 'on', label: '日期', initial: '2026-11-20' },
    ], { submitLabel: '驳回', value: { id: 'D-1' } }),
  ],
  'green',
);

describe('DingTalk card-instance renderer', () => {
  it('2 fills the public AI-card template: title, markdown body, request buttons whose id is a token', () => {
    const r = renderDingTalkCard(sample, 'ai');
    expect(Object.values(r.params).every((v) => typeof v === 'string')).toBe(true);
    expect(r.params.msgTitle).toBe('申报审批');
    expect(r.params.flowStatus).toBe('3');
    expect(r.params.msgContent).toContain('心血管\\*内科');
    expect(r.params.msgContent).toContain('[查看制度](https://example.org/rules)');
    const sys = JSON.parse(r.params.sys_full_json_obj!) as { msgButtons: { text: string; color: string; id: string; request: boolean }[] };
    expect(sys.msgButtons).toEqual([
      { text: '同意', color: 'blue', id: 'b1', request: true },
      { text: '退回', color: 'red', id: 'b2', request: true },
    ]);
    // What a token means stays with the bot: no action value goes into the card.
    expect(r.buttons).toEqual({ b1: { actionId: 'approve', value: { id: 'D-1', v: 2 } }, b2: { actionId: 'reject', value: { id: 'D-1' } } });
    expect(JSON.stringify(r.params)).not.toContain('approve');
    // The renderer decides nothing about forms: the degrade stage never sends one to this
    // template (test/degrade.test.ts, through DingTalk's card tiers).
    expect(r.params.msgContent).not.toContain('需要填写');
  });

  it('2 fills the hospital template with the form as the 表单 component', () => {
    const r = renderDingTalkCard(sample, 'hospital');
    expect(r.params).toMatchObject({ title: '申报审批', hasForm: 'true', pending: 'false', color: 'green' });
    const f = JSON.parse(r.params.form!) as { fields: Record<string, unknown>[] };
    expect(r.params.form_btn_text).toBe('驳回');
    expect(f.fields.map((x) => x.type)).toEqual(['TEXT_AREA', 'SELECT', 'NUMBER', 'DATE']);
    expect(f.fields[1]).toMatchObject({ name: 'giver', options: [{ value: 'patient', text: '患者' }] });
    expect(f.fields[3]).toMatchObject({ defaultValue: '2026-11-20' });
    expect(r.form).toEqual({ actionId: 'decl.reject', value: { id: 'D-1' } });
    expect(JSON.parse(r.params.buttons!)).toHaveLength(2);
    expect(r.params.content).not.toContain('驳回理由');
    // Older clients cannot show the form component; the card says what to do.
    expect(r.params.content).toContain('电脑版 7.6.0、手机版 7.6.6');
    expect(r.params.content).toContain('在对话中填写');
  });
});

describe('the DingTalk markdown fallback', () => {
  const typedCard: Card = {
    title: '上缴申报 · SB-7',
    elements: [
      text('情况说明：**加粗** [点我](http://evil.example) # 标题'),
      fields([['金额（元）', '500']]),
      table(['科室', '人数'], [['心血管内科', '7']]),
      { type: 'actions', buttons: [{ kind: 'button', label: '同意', actionId: 'decl.approve', value: { id: '7' }, typed: '点 K7Q2 1' }, { kind: 'link', label: '打开材料', url: 'https://example.org/a' }] },
      note('仅限审批人查看'),
      { type: 'note', text: '如点击按钮没有反应，可直接回复：点 K7Q2 1（同意）。', hint: 'typed-buttons' },
    ],
  };

  it('4 keeps every element and makes each button a dtmd sendMessage link in a one-to-one chat', () => {
    const md = renderDingTalkMarkdown(typedCard, 'dtmd');
    expect(md.title).toBe('上缴申报 · SB-7');
    expect(md.text).toContain('\\*\\*加粗\\*\\* \\[点我\\]\\(http://evil\\.example\\) \\# 标题');
    expect(md.text).toContain('**金额（元）**：500');
    expect(md.text).toContain('心血管内科 ｜ 7');
    expect(md.text).toContain(`- [同意](dtmd://dingtalkclient/sendMessage?content=${encodeURIComponent('点 K7Q2 1')})`);
    expect(sendMessageLink('点 K7Q2 1')).toBe('dtmd://dingtalkclient/sendMessage?content=%E7%82%B9%20K7Q2%201');
    expect(md.text).toContain('- [打开材料](https://example.org/a)');
    expect(md.text).toContain('> 仅限审批人查看');
    expect(md.text).not.toContain('如点击按钮没有反应');
  });

  it('4 names the typed code to send after @-mentioning in a group', () => {
    const md = renderDingTalkMarkdown(typedCard, 'typed');
    expect(md.text).toContain('- 【同意】：@我 并回复“点 K7Q2 1”');
    expect(md.text).not.toContain('dtmd://');
  });
});
