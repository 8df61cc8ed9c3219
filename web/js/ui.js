// ui.js — shared pieces of the console: fields with labels, tables with
// sortable headers, pagers, modal dialogs with a note, toasts, error boxes.
import { h, clear } from './dom.js';
import { t } from '../i18n.js';

let uid = 0;
export function nextId(prefix = 'f') { return `${prefix}-${++uid}`; }

// A labelled control. control is an element; returns a wrapper.
export function field(label, control, { hint, cls } = {}) {
  if (!control.id) control.id = nextId();
  const wrap = h('div.field' + (cls ? '.' + cls : ''), h('label', { for: control.id }, label), control);
  if (hint) {
    const hid = nextId('hint');
    control.setAttribute('aria-describedby', hid);
    wrap.append(h('small.hint', { id: hid }, hint));
  }
  return wrap;
}

export function input(attrs = {}) { return h('input', { type: 'text', ...attrs }); }

// select([{value, label}], {value}) — value selected.
export function select(options, attrs = {}) {
  const { value, ...rest } = attrs;
  const s = h('select', rest);
  for (const o of options) {
    const opt = h('option', { value: String(o.value) }, o.label);
    if (String(o.value) === String(value ?? '')) opt.selected = true;
    s.append(opt);
  }
  return s;
}

export function errorBox(err) {
  let msg;
  if (err && err.status === 404 && (err.code === 'not_found' || err.code === 'http_404')) msg = t('common.unavailable');
  else if (err && err.status === 403) msg = t('common.forbidden');
  else msg = t('common.error', { msg: err && err.message ? err.message : String(err) });
  return h('div.error', { role: 'alert' }, msg);
}

export function loading() { return h('p.loading', t('common.loading')); }

let toastTimer;
export function toast(msg, kind = 'ok') {
  const el = document.getElementById('toast') || document.body.appendChild(h('div#toast.toast', { role: 'status', 'aria-live': 'polite' }));
  el.textContent = msg;
  el.className = 'toast show ' + kind;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.className = 'toast'; }, 4000);
}

// A sortable, keyboard-friendly table.
// columns: [{key, label, render(row) → node|string, sortable, cls}]
// opts: {sort: {key, dir}, onSort(key), onRow(row), caption, rowClass(row)}
export function table(columns, rows, opts = {}) {
  const thead = h('thead', h('tr', columns.map((c) => {
    const th = h('th', { scope: 'col', class: c.cls || null });
    if (c.sortable && opts.onSort) {
      const active = opts.sort && opts.sort.key === c.key;
      th.setAttribute('aria-sort', active ? (opts.sort.dir === 'asc' ? 'ascending' : 'descending') : 'none');
      th.append(h('button.sort', { type: 'button', onclick: () => opts.onSort(c.key) }, c.label,
        h('span.arrow', { 'aria-hidden': 'true' }, active ? (opts.sort.dir === 'asc' ? ' ▲' : ' ▼') : ' ↕')));
    } else th.append(c.label);
    return th;
  })));
  const tbody = h('tbody');
  rows.forEach((row, i) => {
    const tr = h('tr', { class: opts.rowClass ? opts.rowClass(row) : null, dataset: { index: String(i) } });
    for (const c of columns) {
      const v = c.render ? c.render(row) : row[c.key];
      tr.append(h('td', { class: c.cls || null, dataset: { label: typeof c.label === 'string' ? c.label : '' } }, v ?? ''));
    }
    if (opts.onRow) {
      tr.classList.add('clickable');
      tr.addEventListener('click', (e) => { if (!e.target.closest('button,a,input,select')) opts.onRow(row, i); });
    }
    tbody.append(tr);
  });
  const tbl = h('table.grid' + (opts.stack ? '.stack' : ''), opts.caption ? h('caption', opts.caption) : null, thead, tbody);
  if (!rows.length) tbody.append(h('tr', h('td.empty', { colSpan: columns.length }, t('common.none'))));
  return h('div.table-wrap', tbl);
}

// pager({page (1-based), pageSize, total (may be null), hasNext, onPage})
export function pager({ page, pageSize, total, hasNext, onPage }) {
  const pages = total != null ? Math.max(1, Math.ceil(total / pageSize)) : null;
  const next = pages != null ? page < pages : !!hasNext;
  return h('nav.pager', { 'aria-label': t('common.page', { n: page }) },
    h('button', { type: 'button', disabled: page <= 1, onclick: () => onPage(page - 1) }, '‹ ' + t('common.prev')),
    h('span', pages != null ? `${t('common.page', { n: page })} / ${pages} · ${t('common.total', { n: total })}` : t('common.page', { n: page })),
    h('button', { type: 'button', disabled: !next, onclick: () => onPage(page + 1) }, t('common.next') + ' ›'));
}

// A modal dialog. fields: [{name, label, type:'text'|'textarea'|'select'|'number'|'date'|'password',
// options, required, value}]. Resolves with {name: value} or null when cancelled.
export function dialog({ title, message, fields = [], ok = t('common.confirm'), danger = false }) {
  return new Promise((resolve) => {
    const controls = {};
    const form = h('form.dialog-form', { method: 'dialog' });
    const titleId = nextId('dlg');
    form.append(h('h2', { id: titleId }, title));
    if (message) form.append(typeof message === 'string' ? h('p', message) : message);
    for (const f of fields) {
      let c;
      if (f.type === 'textarea') c = h('textarea', { name: f.name, rows: 3, required: !!f.required, maxLength: f.maxLength || 2000 });
      else if (f.type === 'select') c = select(f.options, { name: f.name, required: !!f.required, value: f.value });
      else c = h('input', { name: f.name, type: f.type || 'text', required: !!f.required, min: f.min, max: f.max, step: f.step });
      if (f.value !== undefined && f.type !== 'select') c.value = f.value;
      controls[f.name] = c;
      form.append(field(f.label + (f.required ? ' *' : ''), c, { hint: f.hint }));
    }
    const err = h('p.error', { hidden: true, role: 'alert' });
    form.append(err);
    const dlg = h('dialog.dlg', { 'aria-labelledby': titleId }, form);
    const okBtn = h('button' + (danger ? '.danger' : '.primary'), { type: 'submit', value: 'ok' }, ok);
    const cancelBtn = h('button', { type: 'button', onclick: () => { dlg.close(); } }, t('common.cancel'));
    form.append(h('div.dialog-buttons', cancelBtn, okBtn));
    let result = null;
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      for (const f of fields) {
        const c = controls[f.name];
        if (f.required && !String(c.value).trim()) {
          err.hidden = false;
          err.textContent = `${f.label}: ${t('common.required')}`;
          c.focus();
          return;
        }
      }
      result = {};
      for (const f of fields) {
        const v = controls[f.name].value;
        result[f.name] = f.type === 'number' ? (v === '' ? undefined : Number(v)) : v;
      }
      dlg.close();
    });
    dlg.addEventListener('close', () => { dlg.remove(); resolve(result); });
    document.body.append(dlg);
    dlg.showModal();
    const first = form.querySelector('input,textarea,select');
    (first || okBtn).focus();
  });
}

export function confirm(title, message, opts = {}) {
  return dialog({ title, message, ...opts }).then((r) => r !== null);
}

// Replace the contents of el with the result of an async builder, showing
// loading and errors in place.
// build() may return KEEP: its answer is no longer wanted (a newer fill of
// the same element is on its way or done), so el is left as it is.
export const KEEP = Symbol('keep');
export async function fill(el, build) {
  clear(el).append(loading());
  try {
    const node = await build();
    if (node === KEEP) return;
    clear(el);
    if (node) el.append(node);
  } catch (e) {
    clear(el).append(errorBox(e));
    if (!(e && e.status)) console.warn(e); // a bug, not an API answer
  }
}

export function badge(text, kind = '') { return h('span.badge' + (kind ? '.' + kind : ''), text); }

// Tabs as links (hash routes). items: [{href, label, active}]
export function tabs(items, label) {
  return h('nav.tabs', { 'aria-label': label }, items.map((i) =>
    h('a', { href: i.href, 'aria-current': i.active ? 'page' : null }, i.label)));
}
