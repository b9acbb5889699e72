import type { Card, CardElement, FormInput } from './model.js';

/**
 * Renders the neutral card as HTML for the sandbox page. Every string is escaped; bot-authored
 * markdown gets a small safe subset (bold, line breaks, lists, links to http(s) only).
 */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * A file the bot sent, as the sandbox page shows it: the name once with one download link, and
 * a picture previewed above it (a click opens it full size), as a chat client would show a photo.
 */
export function renderFileHtml(f: { name: string; url: string; image: boolean }): string {
  const url = escapeHtml(f.url);
  const name = escapeHtml(f.name);
  const preview = f.image ? `<a href="${url}" target="_blank" rel="noopener noreferrer"><img class="preview" src="${url}" alt="${name}"></a><br>` : '';
  return `<div class="bubble">${preview}${f.image ? '图片' : '文件'}：${name} <a href="${url}" download>下载</a></div>`;
}

/** Undoes escapeMarkdown's backslashes after HTML-escaping, so escaped characters show as typed. */
function markdownToHtml(md: string): string {
  const placeholders: string[] = [];
  let html = escapeHtml(md).replace(/\\([\\`*_{}\[\]()#+\-.!|>~<]|&amp;|&lt;|&gt;)/g, (_m, c: string) => {
    placeholders.push(c);
    return `\u0000${placeholders.length - 1}\u0000`;
  });
  html = html
    .replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>')
    .replace(/\[([^\]]+)\]\((https?:\/\/[^\s)]+)\)/g, '<a href="$2" target="_blank" rel="noopener noreferrer">$1</a>')
    .replace(/^[-*] (.*)$/gm, '• $1')
    .replace(/\n/g, '<br>');
  // `&amp;amp;` came from escapeMarkdown's `&` → `&amp;`; show the user's single `&`.
  return html.replace(/\u0000(\d+)\u0000/g, (_m, i: string) => placeholders[Number(i)]).replace(/&amp;amp;/g, '&amp;');
}

function input(i: FormInput): string {
  const common = `name="${escapeHtml(i.name)}"${i.required ? ' required' : ''}${i.placeholder ? ` placeholder="${escapeHtml(i.placeholder)}"` : ''}`;
  const label = `<label>${escapeHtml(i.label)}${i.required ? ' <span class="req">*</span>' : ''}</label>`;
  const init = i.initial ? escapeHtml(i.initial) : '';
  switch (i.kind) {
    case 'select':
      return `${label}<select ${common}><option value="">请选择</option>${i.options
        .map((o) => `<option value="${escapeHtml(o.value)}"${o.value === i.initial ? ' selected' : ''}>${escapeHtml(o.label)}</option>`)
        .join('')}</select>`;
    case 'date':
      return `${label}<input type="date" ${common} value="${init}">`;
    case 'number':
      return `${label}<input type="number" step="any" ${common}${i.min !== undefined ? ` min="${i.min}"` : ''}${i.max !== undefined ? ` max="${i.max}"` : ''} value="${init}">`;
    default: {
      // No maxlength: it cuts a long paste off without a word. The page counts and refuses instead.
      const max = i.maxLength ? ` data-max="${i.maxLength}"` : '';
      const counter = i.maxLength ? `<span class="counter" data-counter-for="${escapeHtml(i.name)}">${[...(i.initial ?? '')].length} / ${i.maxLength}</span>` : '';
      return i.multiline
        ? `${label}<textarea ${common}${max}>${init}</textarea>${counter}`
        : `${label}<input type="text" ${common}${max} value="${init}">${counter}`;
    }
  }
}

function element(e: CardElement): string {
  switch (e.type) {
    case 'text':
      return `<p class="text">${escapeHtml(e.text).replace(/\n/g, '<br>')}</p>`;
    case 'markdown':
      return `<div class="md">${markdownToHtml(e.markdown)}</div>`;
    case 'note':
      return `<p class="note">${escapeHtml(e.text).replace(/\n/g, '<br>')}</p>`;
    case 'divider':
      return '<hr>';
    case 'image':
      // Bytes never reach a renderer: the degrade stage uploads them or leaves the picture out.
      if (!('url' in e)) return '';
      return `<img src="${escapeHtml(e.url)}" alt="${escapeHtml(e.alt)}">`;
    case 'fields':
      return `<dl class="fields">${e.fields.map((f) => `<dt>${escapeHtml(f.label)}</dt><dd>${escapeHtml(f.value)}</dd>`).join('')}</dl>`;
    case 'table':
      return `<table><thead><tr>${e.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead><tbody>${e.rows
        .map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`)
        .join('')}</tbody></table>`;
    case 'actions':
      return `<div class="actions">${e.buttons
        .map((b) =>
          b.kind === 'link'
            ? `<a class="btn" href="${escapeHtml(b.url)}" target="_blank" rel="noopener noreferrer">${escapeHtml(b.label)}</a>`
            : `<button class="btn ${b.style ?? 'default'}" data-action="${escapeHtml(b.actionId)}" data-value="${escapeHtml(JSON.stringify(b.value ?? {}))}"${b.confirm ? ` data-confirm="${escapeHtml(b.confirm)}"` : ''}>${escapeHtml(b.label)}</button>`,
        )
        .join('')}</div>`;
    case 'form':
      return `<form class="card-form" data-action="${escapeHtml(e.actionId)}" data-value="${escapeHtml(JSON.stringify(e.value ?? {}))}">${e.inputs
        .map((i) => `<div class="input" data-input="${escapeHtml(i.name)}">${input(i)}<p class="field-error" role="alert" hidden></p></div>`)
        .join('')}<p class="form-error" role="alert" hidden></p><button type="submit" class="btn ${e.submitStyle === 'danger' ? 'danger' : 'primary'}">${escapeHtml(e.submitLabel)}</button></form>`;
  }
}

export function renderCardHtml(card: Card): string {
  return `<div class="card ${card.color ?? 'blue'}"><div class="card-title">${escapeHtml(card.title)}</div><div class="card-body">${card.elements
    .map(element)
    .join('')}</div></div>`;
}
