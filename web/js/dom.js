// dom.js — tiny helpers to build DOM without innerHTML (every piece of text
// from the server goes in through textContent, so nothing it says can run).

// h('div.card#x', {onclick, 'aria-label': ..., dataset: {...}}, child, ...)
export function h(tag, attrs, ...children) {
  const m = /^([a-z0-9-]+)((?:[.#][\w-]+)*)$/i.exec(tag);
  const el = document.createElement(m ? m[1] : tag);
  if (m && m[2]) {
    for (const part of m[2].match(/[.#][\w-]+/g)) {
      if (part[0] === '.') el.classList.add(part.slice(1));
      else el.id = part.slice(1);
    }
  }
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k in el && typeof v !== 'string' && k !== 'list') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function $(sel, root = document) { return root.querySelector(sel); }
export function $$(sel, root = document) { return [...root.querySelectorAll(sel)]; }

// Times from the API are RFC 3339 UTC strings or epoch seconds; show them
// in the browser's local time, short.
export function fmtTime(v, withSeconds = false) {
  if (v === null || v === undefined || v === '') return '';
  const d = typeof v === 'number' ? new Date(v * 1000) : new Date(v);
  if (isNaN(d)) return String(v);
  const p = (n) => String(n).padStart(2, '0');
  let s = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
  if (withSeconds) s += ':' + p(d.getSeconds());
  return s;
}

export function fmtDate(v) {
  return fmtTime(v).slice(0, 10);
}

// Pick the localised name from an object with name / name_en.
export function pickName(o, lang) {
  if (!o) return '';
  if (lang === 'en' && o.name_en) return o.name_en;
  return o.name || o.name_zh || o.code || '';
}

export function fmtPct(x) {
  if (x === null || x === undefined || isNaN(x)) return '—';
  const v = x <= 1 ? x * 100 : x;
  return v.toFixed(1) + '%';
}

export function debounce(fn, ms) {
  let t;
  return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };
}
