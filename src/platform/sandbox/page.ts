import { MAX_TEXT } from './limits.js';

/** The sandbox chat page: one static HTML document that talks to the sandbox API. */
export function sandboxPage(): string {
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>清廉助手 · 本地沙盒</title>
<style>
  body { margin: 0; font: 14px/1.6 -apple-system, "PingFang SC", "Microsoft YaHei", sans-serif; background: #f2f3f5; color: #1f2329; }
  header { background: #b71c1c; color: #fff; padding: 10px 16px; display: flex; gap: 12px; align-items: center; }
  header h1 { font-size: 16px; margin: 0; }
  header select { font-size: 14px; padding: 4px; max-width: 60vw; }
  main { max-width: 760px; margin: 0 auto; padding: 12px 12px 90px; }
  .msg { margin: 10px 0; display: flex; }
  .msg.me { justify-content: flex-end; }
  .bubble { background: #fff; border-radius: 8px; padding: 8px 12px; max-width: 85%; white-space: pre-wrap; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
  .msg.me .bubble { background: #d6e8ff; }
  .card { background: #fff; border-radius: 8px; overflow: hidden; width: 100%; max-width: 620px; box-shadow: 0 1px 3px rgba(0,0,0,.12); }
  .card-title { padding: 8px 12px; color: #fff; font-weight: 600; }
  .card.blue .card-title { background: #1e6fd9; } .card.green .card-title { background: #2e9e5b; }
  .card.red .card-title { background: #c62828; } .card.orange .card-title { background: #e8780c; }
  .card.grey .card-title { background: #6b7280; } .card.purple .card-title { background: #7c3aed; }
  .card-body { padding: 8px 12px; }
  .note { color: #646a73; font-size: 12px; }
  dl.fields { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 6px 0; }
  dl.fields dt { color: #646a73; } dl.fields dd { margin: 0; white-space: pre-wrap; }
  table { border-collapse: collapse; width: 100%; margin: 6px 0; font-size: 13px; }
  th, td { border: 1px solid #e5e6eb; padding: 3px 6px; text-align: left; } th { background: #f5f6f7; }
  .actions { display: flex; flex-wrap: wrap; gap: 6px; margin: 8px 0 4px; }
  .btn { border: 1px solid #c9cdd4; background: #fff; border-radius: 4px; padding: 4px 12px; cursor: pointer; font-size: 13px; text-decoration: none; color: inherit; }
  .btn.primary { background: #1e6fd9; border-color: #1e6fd9; color: #fff; } .btn.danger { color: #c62828; border-color: #c62828; }
  .card-form .input { margin: 6px 0; } .card-form label { display: block; font-size: 12px; color: #646a73; }
  .card-form input, .card-form select, .card-form textarea { width: 100%; box-sizing: border-box; padding: 4px; font: inherit; }
  .req { color: #c62828; } img { max-width: 100%; } img.preview { max-height: 240px; border-radius: 4px; }
  .counter { display: block; text-align: right; font-size: 12px; color: #646a73; } .counter.over { color: #c62828; font-weight: 600; }
  .field-error, .form-error, #send-error { color: #c62828; font-size: 12px; margin: 2px 0 0; }
  #send-error { max-width: 760px; margin: 4px auto 0; }
  .input.invalid input, .input.invalid select, .input.invalid textarea { border: 1px solid #c62828; background: #fff5f5; }
  footer { position: fixed; bottom: 0; left: 0; right: 0; background: #fff; border-top: 1px solid #e5e6eb; padding: 10px; }
  footer form { max-width: 760px; margin: 0 auto; display: flex; gap: 8px; }
  footer input { flex: 1; font-size: 15px; padding: 8px; }
  #toast { position: fixed; top: 60px; left: 50%; transform: translateX(-50%); background: rgba(0,0,0,.75); color: #fff; padding: 6px 14px; border-radius: 4px; display: none; }
  .hint { color: #646a73; text-align: center; margin-top: 40px; }
</style>
</head>
<body>
<header><h1>清廉助手 · 本地沙盒</h1><select id="who" aria-label="选择人员"><option value="">选择人员…</option></select></header>
<main id="chat"><p class="hint">请先在左上方的“选择人员”中选择一位人员，然后发送“帮助”。</p></main>
<div id="toast"></div>
<footer><form id="send"><label class="btn" title="发送照片或文件（最多 9 个，每个不超过 5 MB）" aria-label="发送照片或文件">📎<input id="files" type="file" multiple hidden></label><input id="text" placeholder="输入消息，例如：帮助" autocomplete="off" aria-label="消息"><button class="btn primary" type="submit">发送</button></form><p id="send-error" role="alert" hidden></p></footer>
<script>
const $ = (s) => document.querySelector(s);
const MAX_TEXT = ${MAX_TEXT};
let who = localStorage.getItem('qinglian.sandbox.who') || '';
const HINT = '<p class="hint">请先在左上方的“选择人员”中选择一位人员，然后发送“帮助”。</p>';
// Elements by message id, so a poll replaces only the cards that changed: a form being filled
// in keeps what was typed while other messages arrive.
let shown = new Map();
const chars = (s) => [...s].length;
function toast(t, ms) { const el = $('#toast'); el.textContent = t; el.style.display = 'block'; clearTimeout(toast.t); toast.t = setTimeout(() => el.style.display = 'none', ms || 4000); }
function sendError(t) { const el = $('#send-error'); el.textContent = t || ''; el.hidden = !t; }
async function loadStaff() {
  const r = await fetch('/sandbox/api/staff'); const { staff } = await r.json();
  const sel = $('#who');
  for (const s of staff) { const o = document.createElement('option'); o.value = s.staffId; o.textContent = s.staffId + ' ' + s.name + '（' + s.department + '）'; sel.appendChild(o); }
  if (who && staff.some((s) => s.staffId === who)) sel.value = who; else who = '';
  reset(); poll();
}
function esc(s) { const d = document.createElement('div'); d.textContent = s; return d.innerHTML; }
function reset() { shown = new Map(); $('#chat').innerHTML = who ? '' : HINT; }
function build(m) {
  const el = document.createElement('div');
  el.className = m.from === 'user' ? 'msg me' : 'msg';
  el.dataset.id = m.id;
  el.innerHTML = m.html ? m.html : '<div class="bubble">' + esc(m.text || '') + (m.fileUrl ? ' <a href="' + m.fileUrl + '" download>下载</a>' : '') + '</div>';
  for (const f of el.querySelectorAll('[data-max]')) count(f);
  return el;
}
function render(messages, limit) {
  const chat = $('#chat');
  if (!who) { chat.innerHTML = HINT; return false; }
  let grew = false;
  const keep = new Set(messages.map((m) => m.id));
  for (const [id, s] of shown) if (!keep.has(id)) { s.el.remove(); shown.delete(id); }
  let note = chat.querySelector('.history-note');
  if (!note) { note = document.createElement('p'); note.className = 'note history-note'; chat.prepend(note); }
  note.textContent = messages.length ? '沙盒保留每人最近 ' + limit + ' 条消息，刷新页面或重启后仍在。' : '还没有消息，发送“帮助”试试。';
  let prev = note;
  for (const m of messages) {
    let s = shown.get(m.id);
    if (!s || s.updatedAt !== m.updatedAt) {
      const el = build(m);
      if (s) s.el.replaceWith(el); else grew = true;
      s = { el, updatedAt: m.updatedAt }; shown.set(m.id, s);
    }
    if (prev.nextSibling !== s.el) prev.after(s.el);
    prev = s.el;
  }
  return grew;
}
async function poll() {
  if (who) {
    try {
      const asked = who;
      const r = await fetch('/sandbox/api/conversation/' + encodeURIComponent(asked));
      if (r.ok && asked === who) {
        const { messages, limit } = await r.json();
        if (render(messages, limit)) window.scrollTo(0, document.body.scrollHeight);
      }
    } catch {}
  }
  clearTimeout(poll.t); poll.t = setTimeout(poll, 700);
}
$('#who').addEventListener('change', (e) => { who = e.target.value; localStorage.setItem('qinglian.sandbox.who', who); reset(); poll(); });
$('#text').addEventListener('input', () => { const n = chars($('#text').value); sendError(n > MAX_TEXT ? '消息太长（' + n + ' 字），一次最多 ' + MAX_TEXT + ' 字，请删减或分几次发送。' : ''); });
$('#send').addEventListener('submit', async (e) => {
  e.preventDefault(); const text = $('#text').value.trim(); if (!text) return;
  if (!who) { toast('请先选择人员'); return; }
  // Refused here and by the server alike; the text stays in the box either way.
  if (chars(text) > MAX_TEXT) { sendError('消息太长（' + chars(text) + ' 字），一次最多 ' + MAX_TEXT + ' 字，请删减或分几次发送。'); return; }
  const r = await fetch('/sandbox/api/messages', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: who, text }) }).catch(() => undefined);
  if (r && r.ok) { $('#text').value = ''; sendError(''); }
  else sendError((r && (await r.json().catch(() => ({}))).error) || '发送失败，请稍后再试。消息仍在输入框中。');
  poll();
});
// Chosen files go out at once as one message, base64 in JSON like the API expects.
$('#files').addEventListener('change', async (e) => {
  const chosen = [...e.target.files]; e.target.value = '';
  if (!chosen.length) return;
  if (!who) { toast('请先选择人员'); return; }
  if (chosen.length > 9) { toast('一次最多发送 9 个文件'); return; }
  if (chosen.some((f) => f.size > 5 * 1024 * 1024)) { toast('每个文件不能超过 5 MB'); return; }
  const files = await Promise.all(chosen.map((f) => new Promise((ok, fail) => {
    const rd = new FileReader(); rd.onerror = fail;
    rd.onload = () => ok({ name: f.name, mime: f.type || 'application/octet-stream', contentBase64: String(rd.result).split(',')[1] || '' });
    rd.readAsDataURL(f);
  })));
  const r = await fetch('/sandbox/api/messages', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: who, files }) });
  if (!r.ok) toast((await r.json().catch(() => ({}))).error || '发送失败');
  poll();
});
async function act(messageId, actionId, value, form) {
  const r = await fetch('/sandbox/api/actions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: who, messageId, actionId, value, form }) });
  const out = await r.json().catch(() => ({}));
  if (!out.fieldErrors) { if (out.toast) toast(out.toast); else if (!r.ok) toast(out.error || '操作失败'); }
  poll();
  return out;
}
// The live counter under a text input with a limit; past the limit it says so at the input.
function count(f) {
  const max = Number(f.dataset.max), n = chars(f.value);
  const c = f.parentElement.querySelector('.counter'); if (c) { c.textContent = n + ' / ' + max; c.classList.toggle('over', n > max); }
  const err = f.parentElement.querySelector('.field-error');
  if (n > max) fieldError(f.parentElement, '最多 ' + max + ' 字，现在是 ' + n + ' 字，请精简后再提交。');
  else if (err && err.dataset.local) fieldError(f.parentElement, '');
}
function fieldError(box, msg, fromServer) {
  const err = box.querySelector('.field-error'); if (!err) return;
  err.textContent = msg; err.hidden = !msg;
  if (msg && !fromServer) err.dataset.local = '1'; else delete err.dataset.local;
  for (const f of box.querySelectorAll('input, select, textarea')) f.toggleAttribute('aria-invalid', Boolean(msg));
  box.classList.toggle('invalid', Boolean(msg));
}
document.addEventListener('input', (e) => {
  const f = e.target.closest('.card-form [name]'); if (!f) return;
  const box = f.closest('.input');
  // Typing in a field the server refused takes its message away; the limit check comes back at once.
  if (box.classList.contains('invalid')) fieldError(box, '');
  if (f.dataset.max) count(f);
});
document.addEventListener('click', (e) => {
  const b = e.target.closest('button[data-action]'); if (!b) return;
  if (b.dataset.confirm && !confirm(b.dataset.confirm)) return;
  const id = b.closest('.msg').dataset.id; act(id, b.dataset.action, JSON.parse(b.dataset.value || '{}'));
});
document.addEventListener('submit', async (e) => {
  const f = e.target.closest('form.card-form'); if (!f) return; e.preventDefault();
  const summary = f.querySelector('.form-error');
  const over = [...f.querySelectorAll('[data-max]')].filter((x) => chars(x.value) > Number(x.dataset.max));
  for (const x of over) count(x);
  if (over.length) { summary.textContent = '有内容超过字数上限，请按提示精简后再提交。'; summary.hidden = false; return; }
  const form = {}; for (const [k, v] of new FormData(f).entries()) form[k] = String(v);
  for (const box of f.querySelectorAll('.input')) fieldError(box, '');
  summary.hidden = true;
  const out = await act(f.closest('.msg').dataset.id, f.dataset.action, JSON.parse(f.dataset.value || '{}'), form);
  if (!out.fieldErrors) return;
  // The card is not rewritten: everything typed stays, each problem next to its input.
  const loose = [];
  for (const [name, msg] of Object.entries(out.fieldErrors)) {
    const box = [...f.querySelectorAll('.input')].find((x) => x.dataset.input === name);
    if (box) fieldError(box, msg, true); else loose.push(msg);
  }
  summary.textContent = ['请按提示修改后再提交。', ...loose].join(' '); summary.hidden = false;
  const first = f.querySelector('.invalid [name]'); if (first) first.focus();
});
loadStaff();
</script>
</body>
</html>`;
}
