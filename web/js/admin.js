// admin.js — administration: users, API tokens, departments, audit trail;
// catalogue, calendar, webhooks and dead letters when their APIs exist.
import { h, clear, fmtTime } from './dom.js';
import { t, lang, extend } from '../i18n.js';
import { get, post, put, del, items } from './api.js';
import { table, pager, dialog, confirm, toast, fill, badge, tabs, field, input, select, errorBox } from './ui.js';
import { adminTabs } from '../app.js';
import './orders-common.js';

const ROLES = ['admin', 'dispatcher', 'department_handler', 'leader', 'inspector', 'grid_worker',
  'community_staff', 'street_staff', 'representative', 'resident', 'device'];

extend({
  'admin.title': ['系统管理', 'Administration'],
  'cat.code': ['编码', 'Code'],
  'cat.name': ['事项', 'Matter'],
  'cat.dept': ['责任部门', 'Responsible department'],
  'cat.response': ['响应时限', 'Response limit'],
  'cat.complete': ['办结时限', 'Completion limit'],
  'cat.level': ['办理层级', 'Level'],
  'cat.onsite': ['可即时办结', 'On-site allowed'],
  'cat.workh': ['工作小时', 'working h'],
  'cat.manual': ['人工派遣', 'manual dispatch'],
  'cat.edit': ['修改', 'Edit'],
  'cat.version': ['当前版本 v{v}，{n} 个小类', 'Version {v}, {n} categories'],
  'cat.versions': ['历史版本', 'Versions'],
  'cat.versionno': ['版本', 'Version'],
  'cal.default': ['本年度尚未导入节假日安排，按周一至周五计算工作日', 'No calendar loaded for this year: Monday to Friday'],
  'cal.hours': ['工作时间', 'Working hours'],
  'cal.weekday': ['星期', 'Weekday'],
  'cal.wd0': ['星期日', 'Sunday'], 'cal.wd1': ['星期一', 'Monday'], 'cal.wd2': ['星期二', 'Tuesday'], 'cal.wd3': ['星期三', 'Wednesday'],
  'cal.wd4': ['星期四', 'Thursday'], 'cal.wd5': ['星期五', 'Friday'], 'cal.wd6': ['星期六', 'Saturday'],
  'cal.year': ['年份', 'Year'],
  'cal.date': ['日期', 'Date'],
  'cal.kind': ['类型', 'Kind'],
  'cal.holiday': ['法定节假日', 'Public holiday'],
  'cal.workday': ['调休上班', 'Make-up workday'],
  'cal.add': ['添加日期', 'Add a date'],
  'wh.url': ['推送地址', 'URL'],
  'wh.events': ['事件', 'Events'],
  'wh.active': ['启用', 'Active'],
  'wh.new': ['新建推送', 'New webhook'],
  'wh.secret': ['签名密钥', 'Signing secret'],
  'wh.attempts': ['尝试次数', 'Attempts'],
  'wh.last_error': ['最后错误', 'Last error'],
  'wh.retry': ['重新投递', 'Retry'],
  'wh.event': ['事件', 'Event'],
  'wh.pending': ['待投递', 'Pending'],
  'wh.ping': ['测试', 'Test'],
  'wh.pinged': ['已发送测试消息', 'Test event queued'],
  'wh.delete': ['删除', 'Delete'],
  'wh.description': ['说明', 'Description'],
  'wh.secret_once': ['签名密钥只显示这一次，请立即保存：', 'The signing secret is shown only once; store it now:'],
  'wh.requeued': ['已重新排队投递', 'Queued again'],
});

export default async function adminView(ctx) {
  const tabsList = adminTabs();
  const cur = ctx.params[0] && tabsList.some((x) => x.key === ctx.params[0]) ? ctx.params[0] : tabsList[0].key;
  const body = h('section.admin-body');
  ctx.el.append(h('h1', t('admin.title')),
    tabs(tabsList.map((x) => ({ href: '#/admin/' + x.key, label: x.label, active: x.key === cur })), t('admin.title')),
    body);
  const screens = { users, tokens, departments, audit, catalog, calendar, webhooks, deadletters };
  await screens[cur](body, ctx);
}

function roleLabel(r) { const k = 'role.' + r; const v = t(k); return v === k ? r : v; }

function scopeText(u, depts) {
  if (u.scope_kind === 'all') return t('scope.all');
  if (u.scope_kind === 'grid') return t('scope.grid', { v: u.scope_grid || '' });
  if (u.scope_kind === 'department') {
    const d = depts && depts.find((x) => x.id === u.scope_dept);
    return t('scope.department', { v: u.department || (d && d.name) || u.scope_dept || '' });
  }
  return t('scope.self');
}

// ---- users ---------------------------------------------------------------

async function users(el) {
  const st = { role: '', cursors: [0], page: 1 };
  let depts = [];
  try { depts = items(await get('/api/v1/departments')); } catch { /* optional */ }
  const list = h('div');
  const roleSel = select([{ value: '', label: t('common.all') }, ...ROLES.map((r) => ({ value: r, label: roleLabel(r) }))], { name: 'role' });
  roleSel.addEventListener('change', () => { st.role = roleSel.value; st.cursors = [0]; st.page = 1; load(); });
  el.append(h('div.toolbar', field(t('user.role'), roleSel), h('div.spacer'),
    h('button.primary', { type: 'button', onclick: create }, t('user.new'))), list);

  async function load() {
    await fill(list, async () => {
      const r = await get('/api/v1/users', { role: st.role, cursor: st.cursors[st.page - 1] || undefined, limit: 50 });
      const rows = items(r);
      const wrap = h('div');
      wrap.append(table([
        { key: 'id', label: t('common.id'), cls: 'num' },
        { key: 'login', label: t('user.login') },
        { key: 'name', label: t('user.name') },
        { key: 'role', label: t('user.role'), render: (u) => roleLabel(u.role) },
        { key: 'scope', label: t('user.scope'), render: (u) => scopeText(u, depts) },
        { key: 'state', label: t('user.state'), render: (u) => u.disabled ? badge(t('user.disabled'), 'red') : u.locked ? badge(t('user.locked'), 'amber') : badge(t('user.active'), 'green') },
        { key: 'created_at', label: t('common.time'), cls: 'nowrap', render: (u) => fmtTime(u.created_at) },
        { key: 'actions', label: t('common.actions'), render: (u) => h('span.actions',
          h('button', { type: 'button', onclick: () => setPw(u) }, t('user.setpw')), ' ',
          u.disabled
            ? h('button', { type: 'button', onclick: () => lock(u, false) }, t('user.unlock'))
            : h('button', { type: 'button', onclick: () => lock(u, true) }, t('user.lock'))) },
      ], rows, { caption: t('admin.users') }));
      wrap.append(pager({ page: st.page, pageSize: 50, total: null, hasNext: !!r.next_cursor,
        onPage: (p) => { if (p > st.page) st.cursors[p - 1] = r.next_cursor; st.page = p; load(); } }));
      return wrap;
    });
  }

  async function create() {
    const v = await dialog({
      title: t('user.new'),
      fields: [
        { name: 'login', label: t('user.login'), required: true },
        { name: 'name', label: t('user.name'), required: true },
        { name: 'phone', label: t('common.phone') },
        { name: 'role', label: t('user.role'), type: 'select', required: true, options: ROLES.map((r) => ({ value: r, label: roleLabel(r) })) },
        { name: 'scope_kind', label: t('user.scope_kind'), type: 'select', options: ['all', 'grid', 'department', 'self'].map((k) => ({ value: k, label: t('scope.' + k, { v: '' }).trim() })) },
        { name: 'scope_grid', label: t('user.scope_grid') },
        { name: 'scope_dept', label: t('user.scope_dept'), type: 'select', options: [{ value: '', label: '—' }, ...depts.map((d) => ({ value: d.id, label: d.name }))] },
        { name: 'password', label: t('user.password'), type: 'password', required: true },
      ],
    });
    if (!v) return;
    const body = { login: v.login.trim(), name: v.name.trim(), role: v.role, scope_kind: v.scope_kind, password: v.password };
    if (v.phone) body.phone = v.phone.trim();
    if (v.scope_grid) body.scope_grid = v.scope_grid.trim();
    if (v.scope_dept) body.scope_dept = Number(v.scope_dept);
    try {
      await post('/api/v1/users', body);
      toast(t('user.created', { v: body.login }));
      load();
    } catch (e) { toast(e.message, 'bad'); }
  }

  async function setPw(u) {
    const v = await dialog({ title: `${t('user.setpw')} · ${u.login}`, fields: [{ name: 'password', label: t('user.newpw'), type: 'password', required: true }] });
    if (!v) return;
    try { await post(`/api/v1/users/${u.id}/password`, { password: v.password }); toast(t('common.saved')); } catch (e) { toast(e.message, 'bad'); }
  }

  async function lock(u, on) {
    if (on && !(await confirm(t('user.lock'), t('user.confirm_lock', { v: u.login }), { danger: true }))) return;
    try { await post(`/api/v1/users/${u.id}/${on ? 'lock' : 'unlock'}`); toast(t('common.saved')); load(); } catch (e) { toast(e.message, 'bad'); }
  }

  await load();
}

// ---- tokens --------------------------------------------------------------

async function tokens(el) {
  const list = h('div');
  const shown = h('div');
  el.append(h('div.toolbar', h('div.spacer'), h('button.primary', { type: 'button', onclick: issue }, t('token.issue'))), shown, list);
  async function load() {
    await fill(list, async () => {
      const rows = items(await get('/api/v1/tokens'));
      return table([
        { key: 'id', label: t('common.id'), cls: 'num' },
        { key: 'prefix', label: t('token.prefix'), render: (x) => h('code', x.prefix + '…') },
        { key: 'login', label: t('token.user') },
        { key: 'label', label: t('token.label') },
        { key: 'created_at', label: t('common.time'), render: (x) => fmtTime(x.created_at) },
        { key: 'expires_at', label: t('token.expires'), render: (x) => x.expires_at ? fmtTime(x.expires_at) : '—' },
        { key: 'state', label: t('common.status'), render: (x) => x.revoked_at ? badge(t('token.revoked'), 'red') : badge(t('user.active'), 'green') },
        { key: 'a', label: t('common.actions'), render: (x) => x.revoked_at ? '' : h('button', { type: 'button', onclick: () => revoke(x) }, t('token.revoke')) },
      ], rows, { caption: t('admin.tokens') });
    });
  }
  async function issue() {
    let us = [];
    try { us = items(await get('/api/v1/users', { limit: 500 })); } catch { /* typed id */ }
    const v = await dialog({
      title: t('token.issue'),
      fields: [
        { name: 'user_id', label: t('token.user'), type: 'select', required: true, options: us.map((u) => ({ value: u.id, label: `${u.login} · ${u.name} (${roleLabel(u.role)})` })) },
        { name: 'label', label: t('token.label'), required: true },
        { name: 'days', label: t('token.days'), type: 'number', min: 1, max: 3650 },
      ],
    });
    if (!v) return;
    try {
      const body = { user_id: Number(v.user_id), label: v.label.trim() };
      if (v.days) body.expires_in_days = v.days;
      const r = await post('/api/v1/tokens', body);
      clear(shown).append(h('div.card', h('p', t('token.shown_once')), h('p.secret', { id: 'new-token' }, r.token)));
      load();
    } catch (e) { toast(e.message, 'bad'); }
  }
  async function revoke(x) {
    if (!(await confirm(t('token.revoke'), t('token.confirm_revoke', { v: x.label }), { danger: true }))) return;
    try { await del('/api/v1/tokens/' + x.id); toast(t('common.saved')); load(); } catch (e) { toast(e.message, 'bad'); }
  }
  await load();
}

// ---- departments -----------------------------------------------------------

async function departments(el) {
  const list = h('div');
  el.append(h('div.toolbar', h('div.spacer'), h('button.primary', { type: 'button', onclick: create }, t('dept.new'))), list);
  async function load() {
    await fill(list, async () => {
      const rows = items(await get('/api/v1/departments'));
      return table([
        { key: 'code', label: t('common.code') },
        { key: 'name', label: t('common.name'), render: (d) => lang() === 'en' && d.name_en ? d.name_en : d.name },
        { key: 'kind', label: t('common.kind') },
        { key: 'contact', label: t('dept.contact'), render: (d) => [d.contact, d.phone].filter(Boolean).join(' ') },
      ], rows, { caption: t('admin.departments') });
    });
  }
  async function create() {
    const v = await dialog({ title: t('dept.new'), fields: [
      { name: 'code', label: t('common.code'), required: true },
      { name: 'name', label: t('common.name'), required: true },
      { name: 'name_en', label: t('dept.name_en') },
      { name: 'contact', label: t('dept.contact') },
      { name: 'phone', label: t('common.phone') },
    ] });
    if (!v) return;
    const body = {};
    for (const [k, x] of Object.entries(v)) if (x && x.trim()) body[k] = x.trim();
    try { await post('/api/v1/departments', body); toast(t('common.saved')); load(); } catch (e) { toast(e.message, 'bad'); }
  }
  await load();
}

// ---- audit -----------------------------------------------------------------

async function audit(el) {
  const q = { object_type: '', since: '', until: '' };
  const typeIn = input({ name: 'object_type', size: 12 });
  const sinceIn = h('input', { type: 'date', name: 'since' });
  const untilIn = h('input', { type: 'date', name: 'until' });
  const list = h('div');
  const form = h('form.toolbar', field(t('audit.object'), typeIn), field(t('audit.since'), sinceIn), field(t('audit.until'), untilIn),
    h('button.primary', { type: 'submit' }, t('common.filter')));
  form.addEventListener('submit', (e) => { e.preventDefault(); q.object_type = typeIn.value.trim(); q.since = sinceIn.value; q.until = untilIn.value ? untilIn.value + 'T23:59:59Z' : ''; rows = []; cursor = undefined; load(); });
  el.append(form, list);
  let rows = [], cursor;
  async function load() {
    await fill(list, async () => {
      const r = await get('/api/v1/audit', { ...q, cursor, limit: 50 });
      rows = rows.concat(items(r));
      cursor = r.next_cursor;
      const wrap = h('div', table([
        { key: 'at', label: t('common.time'), cls: 'nowrap', render: (x) => fmtTime(x.at, true) },
        { key: 'login', label: t('audit.actor'), render: (x) => x.login ? `${x.login} (${roleLabel(x.role)})` : '—' },
        { key: 'action', label: t('audit.action'), render: (x) => h('code', x.action) },
        { key: 'object', label: t('audit.object'), render: (x) => `${x.object_type || ''} ${x.object_id ?? ''}` },
        { key: 'ip', label: t('audit.ip'), render: (x) => x.ip || '' },
        { key: 'detail', label: t('audit.detail'), render: (x) => x.detail ? h('code.small', JSON.stringify(x.detail).slice(0, 160)) : '' },
      ], rows, { caption: t('admin.audit') }));
      if (cursor) wrap.append(h('div.pager', h('button', { type: 'button', onclick: load }, t('audit.more'))));
      return wrap;
    });
  }
  await load();
}

// ---- catalogue, calendar, webhooks (ORDERS-CORE / ORDERS-OPS) --------------

function limitText(c) {
  const l = c.limits && (c.limits.normal || Object.values(c.limits)[0]);
  if (!l) return ['—', '—'];
  const unit = c.time === 'natural' ? 'h' : t('cat.workh');
  return [`${l.response_hours} ${unit}`, `${l.complete_hours} ${unit}`];
}

async function catalog(el, ctx) {
  const box = h('div');
  el.append(box);
  const canEdit = ctx.can('catalog.admin');
  async function load() {
    await fill(box, async () => {
      const [doc, depts, versions] = await Promise.all([get('/api/v1/catalog'), get('/api/v1/departments').then(items), get('/api/v1/catalog/versions').then(items).catch(() => [])]);
      const dname = new Map(depts.map((d) => [d.code, lang() === 'en' && d.name_en ? d.name_en : d.name]));
      const rows = flattenCatalog(doc.categories || []);
      const nm = (c) => (lang() === 'en' && c.name_en ? c.name_en : c.name);
      const wrap = h('div');
      wrap.append(h('p.muted', t('cat.version', { v: doc.version ?? '—', n: rows.filter((c) => c.depth).length })));
      wrap.append(table([
        { key: 'code', label: t('cat.code'), render: (c) => h('code', c.code) },
        { key: 'name', label: t('cat.name'), render: (c) => c.depth ? h('span', '　' + nm(c)) : h('strong', nm(c)) },
        { key: 'dept', label: t('cat.dept'), render: (c) => c.dept ? [dname.get(c.dept) || c.dept, ...(c.assist || []).map((a) => h('span.muted', ' + ' + (dname.get(a) || a)))] : (c.depth ? h('span.muted', t('cat.manual')) : '') },
        { key: 'resp', label: t('cat.response'), cls: 'nowrap', render: (c) => c.depth ? limitText(c)[0] : '' },
        { key: 'comp', label: t('cat.complete'), cls: 'nowrap', render: (c) => c.depth ? limitText(c)[1] : '' },
        { key: 'level', label: t('cat.level'), render: (c) => c.level ? t('level.' + c.level) : '' },
        { key: 'onsite', label: t('cat.onsite'), render: (c) => c.onsite ? t('common.yes') : '' },
        canEdit ? { key: 'a', label: t('common.actions'), render: (c) => c.depth ? h('button', { type: 'button', onclick: () => edit(c, depts) }, t('cat.edit')) : '' } : null,
      ].filter(Boolean), rows, { caption: t('admin.catalog') }));
      if (versions.length) {
        wrap.append(h('h2', t('cat.versions')), table([
          { key: 'version', label: t('cat.versionno'), cls: 'num' },
          { key: 'created_at', label: t('common.time'), cls: 'nowrap', render: (v) => fmtTime(v.created_at) },
          { key: 'note', label: t('common.note'), render: (v) => v.note || '' },
        ], versions.slice(0, 10)));
      }
      return wrap;
    });
  }
  async function edit(c, depts) {
    const l = (c.limits && c.limits.normal) || { response_hours: 4, complete_hours: 24 };
    const v = await dialog({ title: `${t('cat.edit')} · ${c.code}`, fields: [
      { name: 'name', label: t('cat.name'), required: true, value: c.name },
      { name: 'name_en', label: t('dept.name_en'), value: c.name_en || '' },
      { name: 'dept', label: t('cat.dept'), type: 'select', value: c.dept || '', options: [{ value: '', label: t('cat.manual') }, ...depts.map((d) => ({ value: d.code, label: d.name }))] },
      { name: 'response_hours', label: t('cat.response') + ' (h)', type: 'number', min: 0.5, step: 0.5, required: true, value: l.response_hours },
      { name: 'complete_hours', label: t('cat.complete') + ' (h)', type: 'number', min: 1, step: 0.5, required: true, value: l.complete_hours },
      { name: 'onsite', label: t('cat.onsite'), type: 'select', value: c.onsite ? '1' : '0', options: [{ value: '1', label: t('common.yes') }, { value: '0', label: t('common.no') }] },
    ] });
    if (!v) return;
    const { depth, children, ...orig } = c;
    const body = { ...orig, name: v.name.trim(), onsite: v.onsite === '1', limits: { ...(c.limits || {}), normal: { response_hours: v.response_hours, complete_hours: v.complete_hours } } };
    if (v.name_en.trim()) body.name_en = v.name_en.trim(); else delete body.name_en;
    if (v.dept) body.dept = v.dept; else delete body.dept;
    try { await put('/api/v1/catalog/categories/' + encodeURIComponent(c.code), body); toast(t('common.saved')); load(); } catch (e) { toast(e.message, 'bad'); }
  }
  await load();
}

export function flattenCatalog(list, depth = 0, out = []) {
  for (const c of list) {
    out.push({ ...c, depth });
    if (Array.isArray(c.children)) flattenCatalog(c.children, depth + 1, out);
  }
  return out;
}

async function calendar(el, ctx) {
  const year = new Date().getFullYear();
  const yearSel = select([year - 1, year, year + 1].map((y) => ({ value: y, label: String(y) })), { value: year, name: 'year' });
  const box = h('div');
  yearSel.addEventListener('change', load);
  el.append(h('div.toolbar', field(t('cal.year'), yearSel)), box);
  const canEdit = ctx.can('calendar.admin');
  async function load() {
    await fill(box, async () => {
      const cal = await get('/api/v1/calendar/' + yearSel.value);
      const hol = [...(cal.holidays || [])], work = [...(cal.workdays || [])];
      const wrap = h('div');
      const draw = () => {
        clear(wrap);
        if (cal.default) wrap.append(h('p.error', t('cal.default')));
        if (cal.source) wrap.append(h('p.muted', cal.source));
        if (Array.isArray(cal.hours)) wrap.append(h('p', t('cal.hours') + '：' + cal.hours.map((x) => x.join('–')).join('，')));
        const rows = [...hol.map((d) => ({ date: d, kind: 'holiday' })), ...work.map((d) => ({ date: d, kind: 'workday' }))].sort((a, b) => a.date.localeCompare(b.date));
        wrap.append(table([
          { key: 'date', label: t('cal.date'), cls: 'nowrap' },
          { key: 'wd', label: t('cal.weekday'), render: (d) => t('cal.wd' + new Date(d.date + 'T00:00:00Z').getUTCDay()) },
          { key: 'kind', label: t('cal.kind'), render: (d) => d.kind === 'workday' ? badge(t('cal.workday'), 'blue') : badge(t('cal.holiday'), 'red') },
          canEdit ? { key: 'a', label: t('common.actions'), render: (d) => h('button', { type: 'button', onclick: () => { const l = d.kind === 'holiday' ? hol : work; l.splice(l.indexOf(d.date), 1); dirty(); } }, t('wh.delete')) } : null,
        ].filter(Boolean), rows, { caption: `${t('admin.calendar')} ${yearSel.value}` }));
        if (canEdit) {
          const dIn = h('input', { type: 'date', min: `${yearSel.value}-01-01`, max: `${yearSel.value}-12-31` });
          const kSel = select([{ value: 'holiday', label: t('cal.holiday') }, { value: 'workday', label: t('cal.workday') }]);
          const addBtn = h('button', { type: 'button', onclick: () => { if (!dIn.value) return; const l = kSel.value === 'holiday' ? hol : work; if (!l.includes(dIn.value)) l.push(dIn.value); dirty(); } }, t('cal.add'));
          wrap.append(h('div.toolbar', field(t('cal.date'), dIn), field(t('cal.kind'), kSel), addBtn, h('div.spacer'), saveBtn));
        }
      };
      const saveBtn = h('button.primary', { type: 'button', disabled: true, onclick: async () => {
        const body = { year: Number(yearSel.value), hours: cal.hours, holidays: hol.sort(), workdays: work.sort() };
        if (cal.source) body.source = cal.source;
        try { await put('/api/v1/calendar/' + yearSel.value, body); toast(t('common.saved')); load(); } catch (e) { toast(e.message, 'bad'); }
      } }, t('common.save'));
      const dirty = () => { saveBtn.disabled = false; draw(); };
      draw();
      return wrap;
    });
  }
  await load();
}

async function webhooks(el) {
  const list = h('div');
  const shown = h('div');
  el.append(h('div.toolbar', h('div.spacer'), h('button.primary', { type: 'button', onclick: create }, t('wh.new'))), shown, list);
  async function load() {
    await fill(list, async () => {
      const rows = items(await get('/api/v1/webhooks'));
      return table([
        { key: 'id', label: t('common.id'), cls: 'num' },
        { key: 'url', label: t('wh.url'), render: (w) => [h('code', w.url), w.description ? h('div.muted', w.description) : null] },
        { key: 'events', label: t('wh.events'), render: (w) => Array.isArray(w.events) ? w.events.join(', ') : (w.events || '*') },
        { key: 'pending', label: t('wh.pending'), cls: 'num' },
        { key: 'dead_letters', label: t('admin.deadletters'), cls: 'num', render: (w) => w.dead_letters ? h('a', { href: '#/admin/deadletters' }, String(w.dead_letters)) : '0' },
        { key: 'secret_hint', label: t('wh.secret'), render: (w) => w.secret_hint ? h('code', w.secret_hint) : '' },
        { key: 'a', label: t('common.actions'), render: (w) => h('span.actions',
          h('button', { type: 'button', onclick: () => ping(w) }, t('wh.ping')), ' ',
          h('button', { type: 'button', onclick: () => remove(w) }, t('wh.delete'))) },
      ], rows, { caption: t('admin.webhooks') });
    });
  }
  async function create() {
    const v = await dialog({ title: t('wh.new'), fields: [
      { name: 'url', label: t('wh.url'), type: 'url', required: true },
      { name: 'events', label: t('wh.events'), hint: 'order.created, order.dispatched, … / *' },
      { name: 'description', label: t('wh.description') },
    ] });
    if (!v) return;
    const body = { url: v.url.trim() };
    if (v.events && v.events.trim()) body.events = v.events.split(/[,，\s]+/).map((s) => s.trim()).filter(Boolean);
    if (v.description && v.description.trim()) body.description = v.description.trim();
    try {
      const r = await post('/api/v1/webhooks', body);
      clear(shown);
      if (r && r.secret) shown.append(h('div.card', h('p', t('wh.secret_once')), h('p.secret', r.secret)));
      toast(t('common.saved'));
      load();
    } catch (e) { toast(e.message, 'bad'); }
  }
  async function ping(w) {
    try { await post(`/api/v1/webhooks/${w.id}/ping`); toast(t('wh.pinged')); load(); } catch (e) { toast(e.message, 'bad'); }
  }
  async function remove(w) {
    if (!(await confirm(t('wh.delete'), w.url, { danger: true }))) return;
    try { await del('/api/v1/webhooks/' + w.id); toast(t('common.saved')); load(); } catch (e) { toast(e.message, 'bad'); }
  }
  await load();
}

async function deadletters(el) {
  const list = h('div');
  el.append(list);
  let rows = [], cursor;
  async function load(more) {
    if (!more) { rows = []; cursor = undefined; }
    await fill(list, async () => {
      const r = await get('/api/v1/webhooks/dead-letters', { cursor, limit: 50 });
      rows = rows.concat(items(r));
      cursor = r.next_cursor;
      const wrap = h('div', table([
        { key: 'id', label: t('common.id'), cls: 'num' },
        { key: 'event', label: t('wh.event'), render: (x) => h('code', x.event || '') },
        { key: 'object', label: t('audit.object'), render: (x) => `${x.object_type || ''} ${x.object_id ?? ''}` },
        { key: 'url', label: t('wh.url'), render: (x) => h('code', x.url || '') },
        { key: 'attempts', label: t('wh.attempts'), cls: 'num' },
        { key: 'last_error', label: t('wh.last_error'), render: (x) => [x.last_status ? `HTTP ${x.last_status} ` : '', x.last_error || ''] },
        { key: 'at', label: t('common.time'), cls: 'nowrap', render: (x) => fmtTime(x.updated_at || x.created_at) },
        { key: 'a', label: t('common.actions'), render: (x) => h('button', { type: 'button', onclick: () => retry(x) }, t('wh.retry')) },
      ], rows, { caption: t('admin.deadletters') }));
      if (cursor) wrap.append(h('div.pager', h('button', { type: 'button', onclick: () => load(true) }, t('audit.more'))));
      return wrap;
    });
  }
  async function retry(x) {
    try { await post(`/api/v1/webhooks/dead-letters/${x.id}/retry`); toast(t('wh.requeued')); load(); } catch (e) { toast(e.message, 'bad'); }
  }
  await load();
}

export { errorBox };
