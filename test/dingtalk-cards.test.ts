import { describe, expect, it } from 'vitest';
import { actions, button, card, divider, fields, form, image, link, markdown, note, table, text } from '../cards/builders.js';
import { renderDingTalkCard } from '../cards/dingtalk.js';
import { renderDingTalkMarkdown } from '../cards/dingtalk-markdown.js';

describe('DingTalk StandardCard renderer', () => {
  const rendered = renderDingTalkCard(
    card(
      '申报审批',
      [
        text('请审批以下申报。'),
        markdown('**金额**：500 元'),
        fields({ '申报人': '林雨桐', '科室': '心血管*内科' }),
        table(['科室', '完成率'], [['心内科', '100%']]),
        actions(button('同意', 'approve', { id: 'D-1', v: 2 }, { style: 'primary' }), button('退回', 'reject', { id: 'D-1' }, { style: 'danger' }), link('查看制度', 'https://example.org/rules')),
        image('@lAfakeMedia', '图'),
        image('https://example.org/x.png', '外链图'),
        note('仅纪检监察室可见'),
        divider(),
        form('declare.submit', [{ kind: 'text', name: 'reason', label: '事由' }]),
      ],
      'green',
    ),
  );

  it('produces the StandardCard structure with unique component ids', () => {
    const c = rendered.card;
    expect(c.header.title).toMatchObject({ type: 'text', text: '申报审批', color: 'common_green1_color' });
    const ids = c.contents.flatMap((e) => [e.id, ...(e.type === 'action' ? e.actions.map((a) => a.id) : [])]);
    expect(new Set(ids).size).toBe(ids.length);
    expect(c.contents.map((e) => e.type)).toEqual(['text', 'markdown', 'markdown', 'markdown', 'action', 'image', 'markdown', 'markdown', 'divider', 'text']);
  });

  it('maps request buttons to their action and value, and links to openLink', () => {
    const action = rendered.card.contents.find((e) => e.type === 'action');
    if (action?.type !== 'action') throw new Error('no action row');
    const [approve, reject, open] = action.actions;
    expect(approve).toMatchObject({ actionType: 'request', status: 'primary', label: { text: '同意' } });
    expect(reject).toMatchObject({ actionType: 'request', status: 'warning' });
    expect(open).toMatchObject({ actionType: 'openLink', url: { all: 'https://example.org/rules' } });
    expect(rendered.buttons[approve!.id]).toEqual({ actionId: 'approve', value: { id: 'D-1', v: 2 } });
    expect(rendered.buttons[reject!.id]).toEqual({ actionId: 'reject', value: { id: 'D-1' } });
    expect(Object.keys(rendered.buttons)).toHaveLength(2);
  });

  it('escapes user text in fields and never drops a form silently', () => {
    const md = JSON.stringify(rendered.card.contents);
    expect(md).toContain('心血管\\\\*内科');
    expect(md).toContain('需要填写：事由');
  });
});

describe('the DingTalk markdown fallback (cards refused)', () => {
  it('keeps every element, lists buttons by label, and shows typed markup as text', () => {
    const c = card('上缴申报 · SB-7', [
      text('情况说明：**加粗** [点我](http://evil.example) # 标题'),
      fields([['金额（元）', '500']]),
      table(['科室', '人数'], [['心血管内科', '7']]),
      actions(button('同意', 'decl.approve', { id: '7' }), link('打开材料', 'https://example.org/a')),
      note('仅限审批人查看'),
    ]);
    const md = renderDingTalkMarkdown(c);
    expect(md.title).toBe('上缴申报 · SB-7');
    expect(md.text).toContain('\\*\\*加粗\\*\\* \\[点我\\]\\(http://evil\\.example\\) \\# 标题');
    expect(md.text).toContain('**金额（元）**：500');
    expect(md.text).toContain('心血管内科 ｜ 7');
    expect(md.text).toContain('- 【同意】');
    expect(md.text).toContain('- [打开材料](https://example.org/a)');
    expect(md.text).toContain('> 仅限审批人查看');
  });
});
