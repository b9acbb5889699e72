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
  .req { color: #c62828; } img { max-width: 100%; }
  footer { position: fixed; bottom: 0; left: 0; right: 0; background: #fff; border-top: 1px solid #e5e6eb; padding: 10px; }
  footer form { max-width: 760px; margin: 0 auto; display: flex; gap: 8px; }
  footer input { flex: 1; font-size: 15px; padding: 8px; }
  #toast { position: fixed; top: 60px; left: 50%; transform: translateX(-50%); background: rgba(0,0,0,.75); color: #fff; padding: 6px 14px; border-radius: 4px; display: none; }
  .hint { color: #646a73; text-align: center; margin-top: 40px; }
</style>
</head>
<body>
<header><h1>清廉助手 · 本地沙盒</h1><select id="who" aria-label="选择人员"><option value="">选择人员…</option></select></header>
<main id="chat"><p class="hint">请先在右上角选择一位人员，然后发送“帮助”。</p></main>
<div id="toast"></div>
<footer><form id="send"><label class="btn" title="发送照片或文件（最多 9 个，每个不超过 5 MB）" aria-label="发送照片或文件">📎<input id="files" type="file" multiple hidden></label><input id="text" placeholder="输入消息，例如：帮助" autocomplete="off" aria-label="消息"><button class="btn primary" type="submit">发送</button></form></footer>
<script>
const $ = (s) => document.querySelector(s);
let who = localStorage.getItem('qinglian.sandbox.who') || '';
let mine = [];
let lastKey = '';
function toast(t) { const el = $('#toast'); el.textContent = t; el.style.display = 'block'; clearTimeout(toast.t); toast.t = setTimeout(() => el.style.display = 'none', 2500); }
async function loadStaff() {
  const r = await fetch('/sandbox/api/staff'); const { staff } = await r.json();
  const sel = $('#who');
  for (const s of staff) { const o = document.createElement('option'); o.value = s.staffId; o.textContent = s.staffId + ' ' + s.name + '（' + s.department + '）'; sel.appendChild(o); }
  if (who && staff.some((s) => s.staffId === who)) sel.value = who; else who = '';
  render([]); poll();
}
function esc(s) { const d = document.createElement('div'); d.textContent = s; return d.innerHTML; }
function render(messages) {
  const chat = $('#chat');
  if (!who) { chat.innerHTML = '<p class="hint">请先在右上角选择一位人员，然后发送“帮助”。</p>'; return; }
  chat.innerHTML = '';
  let i = 0;
  for (const m of messages) {
    while (i < mine.length && mine[i].who === who && mine[i].afterSeq < m.seq) { chat.insertAdjacentHTML('beforeend', '<div class="msg me"><div class="bubble">' + esc(mine[i].text) + '</div></div>'); i++; }
    while (i < mine.length && mine[i].who !== who) i++;
    const body = m.kind === 'card' ? m.html : '<div class="bubble">' + esc(m.text || '') + (m.fileUrl ? ' <a href="' + m.fileUrl + '">下载</a>' : '') + '</div>';
    chat.insertAdjacentHTML('beforeend', '<div class="msg" data-id="' + m.id + '">' + body + '</div>');
  }
  for (; i < mine.length; i++) if (mine[i].who === who) chat.insertAdjacentHTML('beforeend', '<div class="msg me"><div class="bubble">' + esc(mine[i].text) + '</div></div>');
}
let latest = [];
async function poll() {
  if (who) {
    try {
      const r = await fetch('/sandbox/api/inbox/' + encodeURIComponent(who));
      if (r.ok) {
        const { messages } = await r.json();
        const key = JSON.stringify(messages.map((m) => [m.id, m.updatedAt])) + mine.length;
        if (key !== lastKey) { lastKey = key; latest = messages; render(messages); window.scrollTo(0, document.body.scrollHeight); }
      }
    } catch {}
  }
  clearTimeout(poll.t); poll.t = setTimeout(poll, 700);
}
$('#who').addEventListener('change', (e) => { who = e.target.value; localStorage.setItem('qinglian.sandbox.who', who); lastKey = ''; poll(); });
$('#send').addEventListener('submit', async (e) => {
  e.preventDefault(); const text = $('#text').value.trim(); if (!text) return;
  if (!who) { toast('请先选择人员'); return; }
  mine.push({ who, text, afterSeq: latest.length ? latest[latest.length - 1].seq : 0 });
  $('#text').value = '';
  const r = await fetch('/sandbox/api/messages', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: who, text }) });
  if (!r.ok) toast((await r.json()).error || '发送失败');
  lastKey = ''; poll();
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
  mine.push({ who, text: '📎 ' + chosen.map((f) => f.name).join('、'), afterSeq: latest.length ? latest[latest.length - 1].seq : 0 });
  const r = await fetch('/sandbox/api/messages', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: who, files }) });
  if (!r.ok) toast((await r.json().catch(() => ({}))).error || '发送失败');
  lastKey = ''; poll();
});
async function act(messageId, actionId, value, form) {
  const r = await fetch('/sandbox/api/actions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: who, messageId, actionId, value, form }) });
  const out = await r.json().catch(() => ({}));
  if (out.toast) toast(out.toast); else if (!r.ok) toast(out.error || '操作失败');
  lastKey = ''; poll();
}
document.addEventListener('click', (e) => {
  const b = e.target.closest('button[data-action]'); if (!b) return;
  if (b.dataset.confirm && !confirm(b.dataset.confirm)) return;
  const id = b.closest('.msg').dataset.id; act(id, b.dataset.action, JSON.parse(b.dataset.value || '{}'));
});
document.addEventListener('submit', (e) => {
  const f = e.target.closest('form.card-form'); if (!f) return; e.preventDefault();
  const form = {}; for (const [k, v] of new FormData(f).entries()) form[k] = String(v);
  act(f.closest('.msg').dataset.id, f.dataset.action, JSON.parse(f.dataset.value || '{}'), form);
});
loadStaff();
</script>
</body>
</html>`;
}
