// app.js — the staff console: one login, then the screens the caller's role
// and scope allow (from /api/v1/auth/me). Hash routes (#/queues/dispatch,
// #/orders/12, #/map, ...) so that every screen has an address, works with
// the browser's back button and can be bookmarked.
import { h, clear, $ } from './js/dom.js';
import { t, applyI18n, toggleLang, onLang, lang } from './i18n.js';
import { api, post, setCsrf, onUnauthorized, hasSession } from './js/api.js';
import './js/words.js';
import { can } from './js/perm.js';
import { field, input, errorBox, toast } from './js/ui.js';

const state = { user: null, route: null, cleanup: null, seq: 0 };

// Screens: path pattern → {module, perm, nav}. Modules load on first use.
const SCREENS = [
  { name: 'queues', re: /^\/queues(?:\/([\w-]+))?$/, mod: './js/queues.js', perm: 'order.read', nav: 'nav.queues' },
  { name: 'order', re: /^\/orders\/([\w-]+)$/, mod: './js/order.js', perm: 'order.read' },
  { name: 'map', re: /^\/map$/, mod: './js/map.js', perm: 'grid.read', nav: 'nav.map' },
  { name: 'registry', re: /^\/registry(?:\/([\w-]+))?$/, mod: './js/registry.js', perm: 'registry.read', alt: 'roster.read', nav: 'nav.registry' },
  { name: 'dashboard', re: /^\/dashboard$/, mod: './js/dashboard.js', perm: 'stats.read', nav: 'nav.dashboard' },
  { name: 'wall', re: /^\/wall$/, mod: './js/dashboard.js', perm: 'stats.read', wall: true },
  { name: 'report', re: /^\/report(?:\/([\d-]+))?$/, mod: './js/report.js', perm: 'report.read', nav: 'nav.report' },
  { name: 'admin', re: /^\/admin(?:\/([\w-]+))?$/, mod: './js/admin.js', perm: null, nav: 'nav.admin' },
];

export function user() { return state.user; }
export function allowed(perm) { return can(state.user, perm); }

function screenAllowed(s) {
  if (s.name === 'admin') return adminAllowed();
  return can(state.user, s.perm) || (s.alt && can(state.user, s.alt));
}

// Administration shows if any of its tabs is allowed.
export function adminTabs() {
  const u = state.user;
  return [
    { key: 'users', label: t('admin.users'), ok: can(u, 'user.admin') },
    { key: 'tokens', label: t('admin.tokens'), ok: can(u, 'user.admin') },
    { key: 'departments', label: t('admin.departments'), ok: can(u, 'roster.admin') },
    { key: 'catalog', label: t('admin.catalog'), ok: can(u, 'catalog.admin') },
    { key: 'calendar', label: t('admin.calendar'), ok: can(u, 'calendar.admin') || can(u, 'catalog.admin') },
    { key: 'webhooks', label: t('admin.webhooks'), ok: can(u, 'webhook.admin') },
    { key: 'deadletters', label: t('admin.deadletters'), ok: can(u, 'webhook.admin') },
    { key: 'audit', label: t('admin.audit'), ok: can(u, 'audit.read') },
  ].filter((x) => x.ok);
}
function adminAllowed() { return adminTabs().length > 0; }

function homePath() {
  const first = SCREENS.find((s) => s.nav && screenAllowed(s));
  return first ? '/' + first.name : '/none';
}

function renderNav() {
  const nav = $('#nav');
  clear(nav);
  if (!state.user) return;
  const cur = state.route ? state.route.name : '';
  for (const s of SCREENS) {
    if (!s.nav || !screenAllowed(s)) continue;
    const active = cur === s.name || (s.name === 'queues' && cur === 'order');
    nav.append(h('a', { href: '#/' + s.name, 'aria-current': active ? 'page' : null }, t(s.nav)));
  }
  nav.append(h('a.ext', { href: '/m.html', target: '_blank', rel: 'noopener' }, t('nav.resident')));
  const who = $('#who');
  clear(who);
  const u = state.user;
  who.append(h('span.name', u.name || u.login),
    h('span.role', t('role.' + u.role) !== 'role.' + u.role ? t('role.' + u.role) : u.role_label || u.role),
    h('button.link', { type: 'button', onclick: logout }, t('nav.logout')));
}

async function logout() {
  try { await post('/api/v1/auth/logout'); } catch { /* already gone */ }
  state.user = null;
  setCsrf(null);
  location.hash = '';
  showLogin();
}

function showLogin(message) {
  document.body.classList.remove('wall');
  state.user = null;
  renderNav();
  const main = clear($('#main'));
  const login = input({ name: 'login', autocomplete: 'username', required: true, autocapitalize: 'off', spellcheck: 'false' });
  const pw = input({ name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const err = h('p.error', { role: 'alert', hidden: !message }, message || '');
  const btn = h('button.primary', { type: 'submit' }, t('login.submit'));
  const form = h('form.login', { id: 'login-form' },
    h('h1', t('login.title')),
    h('p.sub', t('app.subtitle')),
    field(t('login.login'), login),
    field(t('login.password'), pw),
    err, btn,
    h('p.hint', h('a', { href: '/m.html' }, t('login.hint'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    btn.disabled = true;
    try {
      const r = await post('/api/v1/auth/login', { login: login.value.trim(), password: pw.value }, { quiet401: true });
      setCsrf(r.csrf_token);
      state.user = r.user;
      if (!location.hash || location.hash === '#/' || location.hash === '#') location.replace('#' + homePath()); // → hashchange → route()
      else route();
    } catch (ex) {
      err.hidden = false;
      err.textContent = t('login.failed', { msg: ex.message });
      btn.disabled = false;
      pw.select();
    }
  });
  main.append(form);
  login.focus();
}

async function route() {
  if (!state.user) return showLogin();
  const path = (location.hash || '').replace(/^#/, '') || '/';
  if (path === '/' || path === '') {
    location.replace('#' + homePath());
    return;
  }
  if (state.cleanup) { try { state.cleanup(); } catch { /* ignore */ } state.cleanup = null; }
  // Each screen renders into its own container: a slow screen that
  // finishes after the user moved on writes into a detached element.
  const seq = ++state.seq;
  const main = h('div.view');
  clear($('#main')).append(main);
  let found = null, m = null;
  for (const s of SCREENS) { m = s.re.exec(path.split('?')[0]); if (m) { found = s; break; } }
  state.route = found;
  document.body.classList.toggle('wall', !!(found && found.wall));
  renderNav();
  if (!found) {
    main.append(h('div.error', { role: 'alert' }, t('common.none')));
    return;
  }
  if (!screenAllowed(found)) {
    main.append(errorBox({ status: 403 }));
    return;
  }
  const query = new URLSearchParams(path.includes('?') ? path.slice(path.indexOf('?') + 1) : '');
  const ph = h('p.loading', t('common.loading')); // until the screen has rendered
  main.append(ph);
  try {
    const mod = await import(found.mod);
    const ctx = {
      el: main, params: m.slice(1), query, user: state.user, can: (p) => can(state.user, p),
      wall: !!found.wall, lang: lang(),
      onCleanup: (fn) => {
        if (seq !== state.seq) { try { fn(); } catch { /* ignore */ } return; }
        const prev = state.cleanup;
        state.cleanup = prev ? () => { prev(); fn(); } : fn;
      },
    };
    await mod.default(ctx);
    ph.remove();
  } catch (e) {
    if (e && e.status === 401) return;
    clear(main).append(errorBox(e));
    if (!(e && e.status)) console.warn(e);
  }
  if (seq === state.seq) $('#main').focus({ preventScroll: true });
}

export function refresh() { route(); }

async function boot() {
  applyI18n();
  $('#lang').addEventListener('click', toggleLang);
  onLang(() => { applyI18n(); if (state.user) route(); else showLogin(); });
  onUnauthorized(() => { if (state.user) { state.user = null; showLogin(t('login.expired')); } });
  window.addEventListener('hashchange', route);
  if (!hasSession()) return showLogin();
  try {
    const me = await api('GET', '/api/v1/auth/me', undefined, { quiet401: true });
    state.user = { ...me.user, permissions: me.permissions };
    setCsrf(me.csrf_token);
    route();
  } catch (e) {
    if (e.status && e.status !== 401) toast(e.message, 'bad');
    setCsrf(null);
    showLogin();
  }
}

boot();
