import { describe, expect, it } from 'vitest';
import { actions, button, card, fields, form, link, markdown, note, table, text } from '../cards/builders.js';
import { escapeMarkdown } from '../cards/markdown.js';
import { FEISHU_CARD_MAX_BYTES, feishuCardContent, renderFeishuCard } from '../cards/feishu.js';
import { normaliseCardAction, normaliseMessage } from '../src/platform/feishu/events.js';
import { validateCard } from './fakes/feishu/server.js';

type Json = Record<string, unknown>;

function find(x: unknown, pred: (o: Json) => boolean): Json[] {
  const out: Json[] = [];
  const walk = (v: unknown) => {
    if (v === null || typeof v !== 'object') return;
    if (!Array.isArray(v) && pred(v as Json)) out.push(v as Json);
    for (const c of Object.values(v as Json)) walk(c);
  };
  walk(x);
  return out;
}

describe('Feishu card renderer (JSON 2.0)', () => {
  const sample = card(
    '申报登记',
    [
      markdown(`申报人：**${escapeMarkdown('张三 [管理员](http://evil) *')}**`),
      text('纯文本 **不加粗**'),
      fields({ 金额: '200 元', 说明: '<b>x</b> & y' }),
      table(['姓名', '完成率'], [['林雨桐', '100%'], ['何嘉伟', '80%']]),
      actions(button('同意', 'approve', { id: 'D-1', v: 3 }, { style: 'primary', confirm: '确定同意吗？' }), link('查看制度', 'https://example.org/rules')),
      form('declare.submit', [
        { kind: 'text', name: 'what', label: '物品', required: true, multiline: true, maxLength: 5000 },
        { kind: 'number', name: 'amount', label: '金额（元）' },
        { kind: 'select', name: 'kind', label: '类型', options: [{ label: '礼品', value: 'gift' }], initial: 'gift' },
        { kind: 'date', name: 'day', label: '日期', initial: '2026-11-20' },
      ], { submitLabel: '提交', value: { draft: 'X' } }),
      note('备注：_下划线_'),
    ],
    'orange',
  );
  const out = renderFeishuCard(sample);

  it('is a schema 2.0 card the fake platform accepts, with header and shared-card config', () => {
    expect(out).toMatchObject({ schema: '2.0', config: { update_multi: true }, header: { title: { tag: 'plain_text', content: '申报登记' }, template: 'orange' } });
    expect(validateCard(out)).toBeUndefined();
    expect(find(out, (o) => o.tag === 'action')).toHaveLength(0);
  });

  it('gives buttons callback behaviours carrying the action id and value', () => {
    const [approve] = find(out, (o) => o.tag === 'button' && (o.text as Json).content === '同意');
    expect(approve.behaviors).toEqual([{ type: 'callback', value: { action: 'approve', value: { id: 'D-1', v: 3 } } }]);
    expect(approve.type).toBe('primary');
    expect(approve.confirm).toBeDefined();
    const [rules] = find(out, (o) => o.tag === 'button' && (o.text as Json).content === '查看制度');
    expect(rules.behaviors).toEqual([{ type: 'open_url', default_url: 'https://example.org/rules' }]);
  });

  it('renders a form container with named inputs and a submit button', () => {
    const [f] = find(out, (o) => o.tag === 'form');
    const els = f.elements as Json[];
    expect(els.filter((e) => e.name).map((e) => [e.tag, e.name])).toEqual([
      ['input', 'what'],
      ['input', 'amount'],
      ['select_static', 'kind'],
      ['date_picker', 'day'],
      ['button', 'submit'],
    ]);
    const submit = els.at(-1)!;
    expect(submit).toMatchObject({ form_action_type: 'submit', behaviors: [{ type: 'callback', value: { action: 'declare.submit', value: { draft: 'X' } } }] });
    expect(els[0]).toMatchObject({ required: true, input_type: 'multiline_text', max_length: 1000 });
    expect(els.find((e) => e.name === 'kind')).toMatchObject({ initial_option: 'gift' });
    expect(els.find((e) => e.name === 'day')).toMatchObject({ initial_date: '2026-11-20' });
  });

  it('shows user text as typed: markdown characters become entities', () => {
    const s = JSON.stringify(out);
    expect(s).toContain('张三 &#91;管理员&#93;&#40;http://evil&#41; &#42;');
    expect(s).not.toContain('[管理员](http://evil)');
    expect(s).toContain('&#60;b&#62;x&#60;/b&#62; &#38; y');
    expect(s).toContain('备注：&#95;下划线&#95;');
    // Plain text stays plain_text, untouched.
    expect(find(out, (o) => o.tag === 'div')[0]).toEqual({ tag: 'div', text: { tag: 'plain_text', content: '纯文本 **不加粗**' } });
  });

  it('keeps huge cards within the 30 KB limit and says it cut them', () => {
    const big = card('大表', [
      table(['序号', '内容'], Array.from({ length: 500 }, (_, i) => [String(i), '很长的内容'.repeat(40)])),
      ...Array.from({ length: 40 }, () => markdown('段落'.repeat(3000))),
    ]);
    const content = feishuCardContent(big);
    expect(Buffer.byteLength(content)).toBeLessThanOrEqual(FEISHU_CARD_MAX_BYTES);
    expect(content).toContain('已截断');
    expect(validateCard(JSON.parse(content) as Json)).toBeUndefined();
  });
});

describe('Feishu event normalisation', () => {
  const bot = 'ou_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
  const base = (message: Json) => ({
    event_id: 'e1',
    sender: { sender_id: { open_id: 'ou_user' }, sender_type: 'user' },
    message: { message_id: 'om_1', chat_id: 'oc_1', chat_type: 'group', message_type: 'text', ...message },
  });

  it('strips the bot mention, keeps others by name, and knows whether the bot was mentioned', () => {
    const m = normaliseMessage(
      base({ content: JSON.stringify({ text: '@_user_1 审批 @_user_2' }), mentions: [{ key: '@_user_1', id: { open_id: bot }, name: '清廉助手' }, { key: '@_user_2', id: { open_id: 'ou_x' }, name: '王五' }] }),
      bot,
      new Date(),
    );
    expect(m).toMatchObject({ eventId: 'e1', text: '审批 @王五', mentioned: true, conversation: { type: 'group', chatId: 'oc_1' }, platformUserId: 'ou_user' });
    const other = normaliseMessage(base({ content: JSON.stringify({ text: '@_user_1 帮助' }), mentions: [{ key: '@_user_1', id: { open_id: 'ou_x' }, name: '王五' }] }), bot, new Date());
    expect(other).toMatchObject({ mentioned: false });
  });

  it('ignores messages from apps and non-text messages', () => {
    expect(normaliseMessage({ ...base({ content: '{"text":"x"}' }), sender: { sender_id: { open_id: 'ou_app' }, sender_type: 'app' } }, bot, new Date())).toHaveProperty('ignored');
    expect(normaliseMessage(base({ message_type: 'sticker', content: '{"file_key":"sticker_1"}' }), bot, new Date())).toHaveProperty('ignored');
    // Images and files are not ignored: they arrive as files (for declaration attachments).
    expect(normaliseMessage(base({ message_type: 'image', content: '{"image_key":"img_1"}' }), bot, new Date())).toMatchObject({ text: '', files: [{ name: '图片' }] });
  });

  it('reads a card callback: action id, value, form values (dates without the zone), message id', () => {
    const a = normaliseCardAction(
      {
        event_id: 'e2',
        operator: { open_id: 'ou_user' },
        action: { value: { action: 'declare.submit', value: { draft: 'X' } }, tag: 'button', form_value: { day: '2026-11-20 +0800', tags: ['a', 'b'], what: '茶叶' } },
        context: { open_message_id: 'om_9', open_chat_id: 'oc_9' },
      },
      new Date(),
    );
    expect(a).toMatchObject({ eventId: 'e2', actionId: 'declare.submit', value: { draft: 'X' }, messageId: 'om_9', form: { day: '2026-11-20', tags: 'a,b', what: '茶叶' } });
    expect(normaliseCardAction({ event_id: 'e3', operator: { open_id: 'ou_user' }, action: { value: { foo: 1 } } }, new Date())).toHaveProperty('ignored');
  });
});
