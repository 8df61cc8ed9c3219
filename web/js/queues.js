// queues.js — the work-order queues: dispatch, my department, my grids,
// overdue, supervision notices, all. Each with counts, filters, sorting,
// paging, and keys for people who handle hundreds a day:
// j/k move, Enter opens, / searches, n/p pages, r refreshes.
import { h, clear, fmtTime, debounce } from './dom.js';
import { t, lang } from '../i18n.js';
import { get, post, items } from './api.js';
import { table, pager, fill, KEEP, field, input, select, tabs, badge, errorBox, dialog, toast } from './ui.js';
import { stateBadge, overdueBadge, catName, deptName, gridName, urgencyLabel, isOverdue, ensureCatalog, loadGridNames } from './orders-common.js';
import { user } from '../app.js';

const PAGE = 25;
const memory = {}; // per queue: filters, page, cursors, selection — kept while the console is open

function queuesFor(ctx) {
  const u = ctx.user;
  const q = [];
  if (ctx.can('order.dispatch') || ctx.can('order.accept')) q.push('dispatch');
  if (ctx.can('order.handle')) q.push('department');
  if (u.scope_kind === 'grid' && ctx.can('order.read')) q.push('grid');
  if (ctx.can('order.read')) q.push('overdue');
  if (ctx.can('supervision.read')) q.push('supervision');
  if (ctx.can('order.report') && ctx.can('order.mine')) q.push('mine');
  if (ctx.can('order.read')) q.push('all');
  return q;
}

let deptCache = null;
export async function departments() {
  if (deptCache) return deptCache;
  try { deptCache = items(await get('/api/v1/departments')); } catch { deptCache = []; }
  return deptCache;
}

export default async function queuesView(ctx) {
  const list = queuesFor(ctx);
  const cur = ctx.params[0] && list.includes(ctx.params[0]) ? ctx.params[0] : list[0];
  const mem = memory[cur] || (memory[cur] = { f: {}, page: 1, cursors: [null], sel: 0, sort: null });
  const tabBar = h('div');
  const body = h('section.queue-body');
  ctx.el.append(h('h1', t('q.title')), tabBar, body);

  // counts per queue
  const drawTabs = (counts) => {
    clear(tabBar).append(tabs(list.map((k) => ({
      href: '#/queues/' + k, active: k === cur,
      label: [t('q.' + k), counts && counts[k] !== undefined ? h('span.badge.count' + (k === 'overdue' && counts[k] ? '.red' : ''), String(counts[k])) : null],
    })), t('q.title')));
  };
  drawTabs(null);
  let counts = null;
  const countsP = get('/api/v1/orders/counts').then((c) => { counts = c; drawTabs(c); }, () => {});

  if (cur === 'supervision') return supervisionList(body, ctx);

  // filters
  const [cat, depts] = await Promise.all([ensureCatalog(), departments()]);
  const tops = cat.tops;
  const qIn = input({ type: 'search', name: 'q', placeholder: t('q.search.ph'), value: mem.f.q || '', id: 'q-search' });
  const catSel = select([{ value: '', label: t('common.all') }, ...tops.map((c) => ({ value: c.code, label: lang() === 'en' && c.name_en ? c.name_en : c.name }))], { name: 'category', value: mem.f.category || '' });
  const states = ['submitted', 'accepted', 'dispatched', 'signed', 'feedback', 'rework', 'closed', 'rated', 'onsite_resolved', 'rejected', 'merged'];
  const stateSel = select([{ value: '', label: t('common.all') }, ...states.map((s) => ({ value: s, label: t('state.' + s) }))], { name: 'state', value: mem.f.state || '' });
  const levelSel = select([{ value: '', label: t('common.all') }, ...['community', 'street', 'county'].map((l) => ({ value: l, label: t('level.' + l) }))], { name: 'level', value: mem.f.level || '' });
  const deptSel = select([{ value: '', label: t('common.all') }, ...depts.map((d) => ({ value: d.id, label: lang() === 'en' && d.name_en ? d.name_en : d.name }))], { name: 'dept_id', value: mem.f.dept_id || '' });
  const fromIn = h('input', { type: 'date', name: 'from', value: mem.f.from || '' });
  const toIn = h('input', { type: 'date', name: 'to', value: mem.f.to || '' });
  // On a phone the filters other than the search fold away.
  const anyFilter = ['category', 'state', 'level', 'dept_id', 'from', 'to'].some((k) => mem.f[k]);
  const more = h('details.more-filters', { open: anyFilter || window.innerWidth > 760 },
    h('summary', t('common.filter')),
    h('div.toolbar', field(t('q.category'), catSel), field(t('q.state'), stateSel), field(t('q.level'), levelSel),
      cur !== 'department' ? field(t('q.dept'), deptSel) : null, field(t('q.from'), fromIn), field(t('q.to'), toIn)));
  const form = h('form.toolbar.filters', { role: 'search' },
    field(t('q.search'), qIn), more,
    h('button.primary', { type: 'submit' }, t('common.search')));
  const apply = () => {
    mem.f = { q: qIn.value.trim(), category: catSel.value, state: stateSel.value, level: levelSel.value, dept_id: cur !== 'department' ? deptSel.value : '', from: fromIn.value, to: toIn.value };
    mem.page = 1; mem.cursors = [null]; mem.sel = 0;
    load();
  };
  // after a search the keys move through the results (j/k, Enter)
  form.addEventListener('submit', (e) => { e.preventDefault(); if (document.activeElement) document.activeElement.blur(); apply(); });
  for (const s of [catSel, stateSel, levelSel, deptSel, fromIn, toIn]) s.addEventListener('change', apply);
  qIn.addEventListener('input', debounce(() => { if (qIn.value.trim().length === 0 || qIn.value.trim().length >= 2) apply(); }, 400));
  const listBox = h('div', { id: 'queue-list' });
  body.append(form, listBox, h('p.kbd-help', t('q.keys')));

  let rows = [];
  let res = null;
  const columns = [
    { key: 'code', label: t('o.code'), sortable: true, cls: 'nowrap', render: (o) => h('a', { href: '#/orders/' + o.id }, o.code || String(o.id)) },
    { key: 'created_at', label: t('o.reported'), sortable: true, cls: 'nowrap', render: (o) => fmtTime(o.created_at) },
    { key: 'category', label: t('o.category'), sortable: true, render: (o) => catName(o) },
    { key: 'description', label: t('o.desc'), render: (o) => h('span.clip', (o.description || '').slice(0, 60)) },
    { key: 'grid', label: t('o.grid'), sortable: true, render: (o) => gridName(o) },
    { key: 'state', label: t('o.state'), sortable: true, render: (o) => [stateBadge(o), ' ', o.pending ? badge(t('pending.' + o.pending), 'amber') : null] },
    { key: 'dept', label: t('o.dept'), sortable: true, render: (o) => deptName(o) },
    { key: 'deadline', label: t('o.deadline'), sortable: true, cls: 'nowrap', render: (o) => [o.deadline ? fmtTime(o.deadline) : '—', ' ', overdueBadge(o)] },
    { key: 'urgency', label: t('o.urgency'), sortable: true, render: (o) => o.urgency && o.urgency !== 'normal' ? badge(urgencyLabel(o.urgency), 'red') : urgencyLabel(o.urgency) },
  ];
  const sortVal = (o, k) => {
    if (k === 'category') return catName(o);
    if (k === 'grid') return gridName(o);
    if (k === 'dept') return deptName(o);
    if (k === 'state') return o.state || '';
    const v = o[k];
    return v === null || v === undefined ? '' : v;
  };

  function draw() {
    const sorted = rows.slice();
    if (mem.sort) {
      const { key, dir } = mem.sort;
      sorted.sort((a, b) => {
        const x = sortVal(a, key), y = sortVal(b, key);
        const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y), 'zh-CN');
        return dir === 'asc' ? c : -c;
      });
    }
    const view = sorted;
    mem.sel = Math.min(mem.sel, Math.max(0, view.length - 1));
    clear(listBox).append(
      table(columns, view, {
        caption: `${t('q.' + cur)}${res && res.total != null ? ' · ' + t('common.total', { n: res.total }) : ''}`,
        sort: mem.sort, onSort: (k) => { mem.sort = mem.sort && mem.sort.key === k ? { key: k, dir: mem.sort.dir === 'asc' ? 'desc' : 'asc' } : { key: k, dir: 'asc' }; draw(); },
        onRow: (o) => { location.hash = '#/orders/' + o.id; },
        rowClass: (o) => isOverdue(o) ? 'overdue' : null,
        stack: true,
      }),
      pager({ page: mem.page, pageSize: PAGE, total: res && res.total != null ? res.total : null, hasNext: !!(res && res.next_cursor), onPage: go }));
    view.forEach((o, i) => { rowsEls()[i]?.setAttribute('aria-selected', i === mem.sel ? 'true' : 'false'); });
    mark();
    draw.view = view;
  }
  const rowsEls = () => [...listBox.querySelectorAll('tbody tr[data-index]')];
  function mark(scroll) {
    rowsEls().forEach((tr, i) => tr.classList.toggle('selected', i === mem.sel));
    const el = rowsEls()[mem.sel];
    if (el && scroll) el.scrollIntoView({ block: 'nearest' });
  }
  function go(p) {
    if (p > mem.page && res && res.next_cursor) mem.cursors[p - 1] = res.next_cursor;
    if (p < 1 || (p > mem.page && !mem.cursors[p - 1])) return;
    mem.page = p; mem.sel = 0;
    load();
  }

  // Loads may overlap (a search typed while the last one is on its way):
  // only the newest one's answer is shown, whatever order they come back in.
  let loadSeq = 0;
  async function load() {
    const mine = ++loadSeq;
    await fill(listBox, async () => {
      const f = mem.f;
      const query = {
        queue: cur === 'all' ? undefined : cur, q: f.q, category: f.category, state: f.state, level: f.level,
        dept: f.dept_id, from: f.from || undefined, to: f.to ? f.to + 'T23:59:59Z' : undefined,
        limit: PAGE, cursor: mem.cursors[mem.page - 1] || undefined,
      };
      let answer;
      try { answer = await get('/api/v1/orders', query); } catch (e) { if (mine === loadSeq) throw e; }
      if (mine !== loadSeq) return KEEP; // a newer load draws the list
      res = answer;
      rows = items(res);
      await countsP;
      // the queue's count is the total when no filter narrows it
      const filtered = Object.values(mem.f).some((v) => v);
      res.total = !filtered && counts && typeof counts[cur] === 'number' ? counts[cur] : null;
      return null;
    });
    if (res && mine === loadSeq) {
      draw();
      if (await loadGridNames(rows.map((o) => o.grid_code)) && mine === loadSeq) draw();
    }
  }

  // keys
  const onKey = (e) => {
    if (e.target.closest('input,textarea,select,[contenteditable]') || e.ctrlKey || e.metaKey || e.altKey) {
      if (e.key === 'Escape' && e.target === qIn) qIn.blur();
      return;
    }
    if (document.querySelector('dialog[open]')) return;
    const view = draw.view || [];
    if (e.key === 'j' || e.key === 'ArrowDown') { mem.sel = Math.min(view.length - 1, mem.sel + 1); mark(true); e.preventDefault(); }
    else if (e.key === 'k' || e.key === 'ArrowUp') { mem.sel = Math.max(0, mem.sel - 1); mark(true); e.preventDefault(); }
    else if (e.key === 'Enter' && view[mem.sel]) { location.hash = '#/orders/' + view[mem.sel].id; e.preventDefault(); }
    else if (e.key === '/') { qIn.focus(); e.preventDefault(); }
    else if (e.key === 'n') go(mem.page + 1);
    else if (e.key === 'p') go(mem.page - 1);
    else if (e.key === 'r') load();
  };
  document.addEventListener('keydown', onKey);
  ctx.onCleanup(() => document.removeEventListener('keydown', onKey));
  await load();
}

// ---- supervision notices (督办单) ----------------------------------------------

async function supervisionList(body, ctx) {
  const mem = memory.supervision;
  const stateSel = select([{ value: '', label: t('common.all') }, ...['issued', 'answered', 'closed'].map((s) => ({ value: s, label: t('sup.state.' + s) }))], { name: 'state', value: mem.f.state || '' });
  const box = h('div', { id: 'queue-list' });
  stateSel.addEventListener('change', () => { mem.f.state = stateSel.value; load(); });
  body.append(h('div.toolbar', field(t('o.state'), stateSel)), box);
  let rows = [], cursor;
  async function load(more) {
    if (!more) { rows = []; cursor = undefined; }
    await fill(box, async () => {
      const r = await get('/api/v1/supervision', { state: mem.f.state, limit: 30, cursor });
      rows = rows.concat(items(r));
      cursor = r.next_cursor;
      return h('div', supervisionTable(rows, ctx, () => load(), t('q.supervision')),
        cursor ? h('div.pager', h('button', { type: 'button', onclick: () => load(true) }, t('common.more'))) : null);
    });
  }
  await load();
}

export function supervisionTable(rows, ctx, reload, caption) {
  return table([
    { key: 'code', label: t('sup.code'), cls: 'nowrap' },
    { key: 'order', label: t('o.code'), cls: 'nowrap', render: (s) => h('a', { href: '#/orders/' + s.order_id }, s.order_code || String(s.order_id)) },
    { key: 'kind', label: t('sup.kind'), render: (s) => lang() === 'en' ? s.kind : (s.kind_zh || s.kind) },
    { key: 'reason', label: t('sup.reason'), render: (s) => s.reason || '' },
    { key: 'dept', label: t('o.dept'), render: (s) => s.dept_name || '' },
    { key: 'state', label: t('o.state'), render: (s) => [badge(lang() === 'en' ? s.state : (s.state_zh || s.state), s.state === 'issued' ? 'red' : s.state === 'answered' ? 'amber' : 'green'), s.answer_overdue ? [' ', badge(t('o.overdue'), 'red')] : null] },
    { key: 'issued_at', label: t('sup.issued'), cls: 'nowrap', render: (s) => fmtTime(s.issued_at) },
    { key: 'due_at', label: t('sup.due'), cls: 'nowrap', render: (s) => fmtTime(s.due_at) },
    { key: 'answer', label: t('sup.answer'), render: (s) => s.answer || '' },
    { key: 'a', label: t('common.actions'), render: (s) => h('span.actions',
      s.state === 'issued' && ctx.can('supervision.answer') ? h('button', { type: 'button', onclick: () => answer(s) }, t('sup.do_answer')) : null,
      s.state !== 'closed' && ctx.can('supervision.write') ? h('button', { type: 'button', onclick: () => closeIt(s) }, t('sup.do_close')) : null) },
  ], rows, { caption, rowClass: (s) => s.answer_overdue ? 'overdue' : null, stack: true });
  async function answer(s) {
    const v = await dialog({ title: `${t('sup.do_answer')} · ${s.code}`, message: s.reason, fields: [{ name: 'answer', label: t('sup.answer'), type: 'textarea', required: true }] });
    if (!v) return;
    try { await post(`/api/v1/supervision/${s.id}/answer`, { answer: v.answer.trim() }); toast(t('common.saved')); reload(); } catch (e) { toast(e.message, 'bad'); }
  }
  async function closeIt(s) {
    const v = await dialog({ title: `${t('sup.do_close')} · ${s.code}`, message: s.answer || s.reason, fields: [{ name: 'note', label: t('common.note'), type: 'textarea' }] });
    if (!v) return;
    const b = {};
    if (v.note && v.note.trim()) b.note = v.note.trim();
    try { await post(`/api/v1/supervision/${s.id}/close`, b); toast(t('common.saved')); reload(); } catch (e) { toast(e.message, 'bad'); }
  }
}

export { errorBox, user };
