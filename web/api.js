// api.js — renders the OpenAPI document (GET /api/v1/openapi.json) as a
// readable reference: endpoints grouped by tag, each with its permission,
// parameters, request body fields, an example request (curl) and example
// responses, and the error codes. Text from the document only ever enters
// the page through textContent (the page runs under a strict CSP).

let doc = null;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') e.textContent = v;
    else if (k === 'class') e.className = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function resolve(x) {
  let guard = 0;
  while (x && x.$ref && guard++ < 20) {
    let node = doc;
    for (const part of x.$ref.slice(2).split('/')) node = node?.[part];
    x = node;
  }
  return x || {};
}

function refName(x) {
  return x && x.$ref ? x.$ref.split('/').pop() : null;
}

// ---- a very small Markdown subset: paragraphs, tables, **b**, `code` ----

function inline(text) {
  const out = [];
  const re = /(\*\*[^*]+\*\*|`[^`]+`)/g;
  let last = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    const t = m[0];
    out.push(t.startsWith('**') ? el('strong', { text: t.slice(2, -2) }) : el('code', { text: t.slice(1, -1) }));
    last = m.index + t.length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

function markdown(text) {
  const box = el('div');
  const blocks = String(text || '').split(/\n\s*\n/);
  for (const b of blocks) {
    const lines = b.trim().split('\n');
    if (lines.length >= 2 && lines.every((l) => l.trim().startsWith('|'))) {
      const cells = (l) => l.trim().replace(/^\||\|$/g, '').split('|').map((c) => c.trim());
      const table = el('table');
      table.append(el('thead', null, el('tr', null, cells(lines[0]).map((c) => el('th', null, inline(c))))));
      const body = el('tbody');
      for (const l of lines.slice(2)) body.append(el('tr', null, cells(l).map((c) => el('td', null, inline(c)))));
      table.append(body);
      box.append(table);
    } else if (b.trim()) {
      box.append(el('p', null, inline(b.trim())));
    }
  }
  return box;
}

// ---- schemas as field tables -------------------------------------------

function typeText(s) {
  const name = refName(s);
  s = resolve(s);
  let t = Array.isArray(s.type) ? s.type.join(' | ') : s.type || (s.oneOf ? 'one of' : 'any');
  if (t === 'array' && s.items) t = `array of ${refName(s.items) || typeText(s.items)}`;
  if (name) t = `${name} (${t})`;
  const extra = [];
  if (s.enum) extra.push(s.enum.map((v) => JSON.stringify(v)).join(', '));
  if (s.minimum !== undefined || s.maximum !== undefined) extra.push(`${s.minimum ?? '…'}–${s.maximum ?? '…'}`);
  if (s.minLength !== undefined || s.maxLength !== undefined) extra.push(`${s.minLength ?? 0}–${s.maxLength ?? '…'} chars`);
  if (s.pattern) extra.push(s.pattern);
  if (s.format) extra.push(s.format);
  return extra.length ? `${t}: ${extra.join('; ')}` : t;
}

function fieldsTable(schema) {
  const s = resolve(schema);
  const props = s.properties || {};
  if (!Object.keys(props).length) return el('p', { class: 'hint', text: typeText(schema) });
  const req = new Set(s.required || []);
  const t = el('table', { class: 'params' },
    el('thead', null, el('tr', null, el('th', { text: 'field' }), el('th', { text: 'type' }), el('th', { text: 'required' }), el('th', { text: 'description' }))));
  const body = el('tbody');
  for (const [k, v] of Object.entries(props)) {
    const r = resolve(v);
    body.append(el('tr', null, el('td', null, el('code', { text: k })), el('td', { text: typeText(v) }),
      el('td', { text: req.has(k) ? 'yes' : '' }), el('td', { text: r.description || '' })));
  }
  t.append(body);
  return t;
}

function paramsTable(params) {
  const t = el('table', { class: 'params' },
    el('thead', null, el('tr', null, el('th', { text: 'name' }), el('th', { text: 'in' }), el('th', { text: 'type' }),
      el('th', { text: 'required' }), el('th', { text: 'description' }), el('th', { text: 'example' }))));
  const body = el('tbody');
  for (const p0 of params) {
    const p = resolve(p0);
    body.append(el('tr', null, el('td', null, el('code', { text: p.name })), el('td', { text: p.in }),
      el('td', { text: typeText(p.schema || {}) }), el('td', { text: p.required ? 'yes' : '' }),
      el('td', { text: p.description || '' }), el('td', null, p.example !== undefined ? el('code', { text: String(p.example) }) : '')));
  }
  t.append(body);
  return t;
}

// ---- one operation -------------------------------------------------------

function examplesOf(media) {
  if (!media) return [];
  if (media.example !== undefined) return [media.example];
  return Object.values(media.examples || {}).map((e) => e.value);
}

function pretty(v) {
  return typeof v === 'string' ? v : JSON.stringify(v, null, 2);
}

function shellQuote(s) {
  return `'${String(s).replace(/'/g, `'\\''`)}'`;
}

function curlFor(path, method, op) {
  const params = (op.parameters || []).map(resolve);
  let url = path;
  for (const p of params.filter((x) => x.in === 'path')) url = url.replace(`{${p.name}}`, encodeURIComponent(String(p.example ?? p.name)));
  const q = params.filter((x) => x.in === 'query' && (x.required || x.example !== undefined))
    .map((x) => `${encodeURIComponent(x.name)}=${encodeURIComponent(String(x.example ?? ''))}`);
  if (q.length) url += '?' + q.join('&');
  const parts = ['curl'];
  if (method !== 'GET') parts.push('-X', method);
  parts.push(shellQuote(`${location.origin}${url}`));
  // double quotes so that the shell expands $TOKEN
  if (!(Array.isArray(op.security) && op.security.length === 0)) parts.push('-H', '"Authorization: Bearer $TOKEN"');
  const content = op.requestBody?.content || {};
  if (content['application/json']) {
    parts.push('-H', shellQuote('Content-Type: application/json'));
    const ex = examplesOf(content['application/json'])[0];
    if (ex !== undefined) parts.push('-d', shellQuote(JSON.stringify(ex)));
  } else if (content['application/x-www-form-urlencoded']) {
    const ex = examplesOf(content['application/x-www-form-urlencoded'])[0] || {};
    for (const [k, v] of Object.entries(ex)) parts.push('--data-urlencode', shellQuote(`${k}=${v}`));
  }
  return parts.join(' ');
}

function anchorId(method, path) {
  return `op-${method}-${path}`.replace(/[^A-Za-z0-9_-]+/g, '-');
}

function renderOp(path, method, op) {
  const art = el('article', { class: 'op', id: anchorId(method, path) });
  const perm = op['x-permission'] || '';
  art.append(el('h3', null, el('span', { class: `method ${method.toLowerCase()}`, text: method }), el('span', { text: path }),
    el('span', { class: 'perm', title: 'permission needed', text: perm === 'public' ? 'public · no login' : perm === 'login' ? 'any logged-in account' : `permission: ${perm}` })));
  art.append(el('p', { class: 'summary', text: op.summary || '' }));
  if (op.description) art.append(markdown(op.description));
  const params = op.parameters || [];
  if (params.length) art.append(el('h4', { text: 'Parameters' }), paramsTable(params));
  const rb = op.requestBody;
  if (rb) {
    const [type, media] = Object.entries(rb.content || {})[0] || [];
    art.append(el('h4', { text: `Request body (${type})` }));
    if (rb.description) art.append(el('p', { text: rb.description }));
    if (media?.schema) art.append(fieldsTable(media.schema));
  }
  art.append(el('h4', { text: 'Example request' }), el('pre', null, el('code', { text: curlFor(path, method, op) })));
  art.append(el('h4', { text: 'Responses' }));
  for (const [code, r0] of Object.entries(op.responses || {})) {
    const r = resolve(r0);
    const ok = /^[23]/.test(code);
    const det = el('details', ok ? { open: true } : null);
    const head = el('summary', null, el('span', { class: `status ${ok ? 'ok' : 'err'}`, text: code }), ' ', r.description || '');
    det.append(head);
    for (const [type, media] of Object.entries(r.content || {})) {
      for (const ex of examplesOf(media)) det.append(el('pre', null, el('code', { text: `${type}\n${pretty(ex)}` })));
      if (ok && media.schema && type.includes('json')) det.append(fieldsTable(media.schema));
    }
    art.append(det);
  }
  return art;
}

function render() {
  const main = document.getElementById('main');
  const toc = document.getElementById('toc');
  main.textContent = '';
  document.title = `${doc.info.title} ${doc.info.version} · API reference`;
  const intro = el('section', { class: 'intro' }, el('h1', { text: `${doc.info.title} ${doc.info.version}` }));
  if (doc.info.summary) intro.append(el('p', { class: 'summary', text: doc.info.summary }));
  intro.append(markdown(doc.info.description));
  intro.append(el('p', null, 'Machine-readable: ', el('a', { href: '/api/v1/openapi.json', text: '/api/v1/openapi.json' }), ' (OpenAPI 3.1) · route table: ',
    el('a', { href: '/api/v1/routes', text: '/api/v1/routes' })));
  main.append(intro);

  const groups = new Map((doc.tags || []).map((t) => [t.name, { tag: t, ops: [] }]));
  for (const [path, item] of Object.entries(doc.paths || {})) {
    for (const [m, op] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(m)) continue;
      const tag = op.tags?.[0] || 'other';
      if (!groups.has(tag)) groups.set(tag, { tag: { name: tag }, ops: [] });
      groups.get(tag).ops.push({ path, method: m.toUpperCase(), op });
    }
  }
  for (const { tag, ops } of groups.values()) {
    if (!ops.length) continue;
    const sec = el('section', { class: 'tag', id: `tag-${tag.name}`.replace(/[^A-Za-z0-9_-]+/g, '-') }, el('h2', { text: tag.name }));
    if (tag.description) sec.append(el('p', { text: tag.description }));
    const list = el('ul');
    for (const o of ops) {
      sec.append(renderOp(o.path, o.method, o.op));
      list.append(el('li', null, el('a', { href: `#${anchorId(o.method, o.path)}`, text: `${o.method} ${o.path}` })));
    }
    main.append(sec);
    toc.append(el('h2', null, el('a', { href: `#${sec.id}`, text: tag.name })), list);
  }
  if (location.hash) document.getElementById(location.hash.slice(1))?.scrollIntoView();
}

async function main() {
  try {
    const r = await fetch('/api/v1/openapi.json', { credentials: 'same-origin' });
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    doc = await r.json();
    render();
  } catch (e) {
    const s = document.getElementById('status');
    s.className = 'error';
    s.textContent = `Cannot load the API document: ${e.message}`;
  }
}

main();
