// m.js — the residents' phone page: report a problem in three steps
// (what → describe + photos → where + contact), follow it by its tracking
// code, rate the result. Small and framework-free for cheap phones on slow
// connections; photos are shrunk in the browser before they are sent.
import { t, tf, applyI18n, toggleLang, onLang, lang } from './i18n.js';
import { h, clear, fmtTime } from './js/dom.js';
import { api, get, post, upload, items, setCsrf, hasSession } from './js/api.js';
import { shrink } from './js/photo.js';

const MAX_PHOTOS = 6;
const ICONS = new Set(['apartment', 'bolt', 'broom', 'building', 'car', 'crane', 'ebike', 'fire', 'flame',
  'handshake', 'heart', 'leaf', 'manhole', 'noise', 'parking', 'pipe', 'question', 'road', 'shop',
  'streetlight', 'tap', 'trash', 'tree', 'warning', 'water', 'wire', 'wrench']);
const MINE_KEY = 'whistle.mine';

const main = document.getElementById('main');
const params = new URLSearchParams(location.search);
const S = {
  catalog: null, // loaded once
  me: null, // a logged-in staff member using this page
  draft: null,
};

function newDraft() {
  const key = [...crypto.getRandomValues(new Uint8Array(12))].map((b) => b.toString(16).padStart(2, '0')).join('');
  return {
    top: null, cat: null, desc: '', photos: [], lat: null, lng: null, grid: params.get('grid') || '',
    gridName: '', address: '', anonymous: false, phone: '', name: '', key,
  };
}

function iconFor(c, parent) {
  const n = c && c.icon && ICONS.has(c.icon) ? c.icon : parent && parent.icon && ICONS.has(parent.icon) ? parent.icon : 'question';
  return '/icons/' + n + '.svg';
}
const nameOf = (c) => (lang() === 'en' && c.name_en ? c.name_en : c.name) || c.code;

let toastTimer;
function toast(msg) {
  const el = document.getElementById('toast');
  el.textContent = msg;
  el.className = 'toast show';
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.className = 'toast'; }, 3500);
}

function errMsg(e) { return e && e.code === 'network' ? t('m.offline') : (e && e.message) || String(e); }

// ---- data -------------------------------------------------------------------

function catLabel(code) {
  if (!code || !S.catalog) return code || '';
  for (const top of S.catalog) {
    if (top.code === code) return nameOf(top);
    for (const c of top.children || []) if (c.code === code) return `${nameOf(top)} · ${nameOf(c)}`;
  }
  return code;
}

function toTree(list) {
  if (!Array.isArray(list)) return [];
  if (list.some((c) => Array.isArray(c.children))) return list;
  const byCode = new Map(list.map((c) => [c.code, { ...c, children: [] }]));
  const tops = [];
  for (const c of byCode.values()) {
    const p = c.parent && byCode.get(c.parent);
    if (p) p.children.push(c); else tops.push(c);
  }
  return tops;
}

async function loadCatalog() {
  if (S.catalog) return S.catalog;
  const r = await get('/api/v1/public/catalog');
  S.catalog = toTree(r.categories || items(r));
  return S.catalog;
}

// ---- report -----------------------------------------------------------------

async function showReport() {
  if (!S.draft) S.draft = newDraft();
  const d = S.draft;
  clear(main);
  let cats;
  try { cats = await loadCatalog(); } catch (e) {
    main.append(h('p.error', { role: 'alert' }, errMsg(e)));
    return;
  }
  const s1 = h('section.step', { 'aria-labelledby': 'h-step1' });
  const s2 = h('section.step', { 'aria-labelledby': 'h-step2' });
  const s3 = h('section.step', { 'aria-labelledby': 'h-step3' });
  const err = h('p.error', { role: 'alert', hidden: true, id: 'report-error' });
  const submit = h('button.primary', { type: 'submit', id: 'submit' }, t('m.submit'));
  const form = h('form', { id: 'report', novalidate: true }, s1, s2, s3, err, submit);
  main.append(form);

  // Step 1: what
  function step1() {
    clear(s1).append(h('h2#h-step1', d.cat || d.top ? t('m.step1') : t('m.step1')));
    if (d.top && (d.cat || d.top.children.length === 0 || d.unsure)) {
      const c = d.cat || d.top;
      s1.append(h('div.chosen', h('img', { src: iconFor(c, d.top), alt: '' }),
        h('strong', d.cat ? `${nameOf(d.top)} · ${nameOf(d.cat)}` : `${nameOf(d.top)} · ${t('m.unsure')}`),
        h('button.linkbtn', { type: 'button', onclick: () => { d.top = null; d.cat = null; d.unsure = false; step1(); } }, t('m.change'))));
      return;
    }
    if (d.top) {
      const subs = h('div.subs', { role: 'group', 'aria-label': t('m.step1.sub') });
      for (const c of d.top.children) {
        subs.append(h('button.sub', { type: 'button', dataset: { code: c.code }, onclick: () => { d.cat = c; step1(); focusNext(s2); } },
          h('img', { src: iconFor(c, d.top), alt: '' }), h('span', nameOf(c))));
      }
      subs.append(h('button.sub.unsure', { type: 'button', onclick: () => { d.unsure = true; step1(); focusNext(s2); } }, t('m.unsure')));
      s1.append(h('div.chosen', h('img', { src: iconFor(d.top), alt: '' }), h('strong', nameOf(d.top)),
        h('button.linkbtn', { type: 'button', onclick: () => { d.top = null; step1(); } }, t('m.change'))),
      h('h3', t('m.step1.sub')), subs);
      return;
    }
    const grid = h('div.cats', { role: 'group', 'aria-label': t('m.step1') });
    for (const c of cats) {
      grid.append(h('button.cat', { type: 'button', 'aria-pressed': 'false', dataset: { code: c.code },
        onclick: () => { d.top = c; d.cat = null; d.unsure = false; step1(); const f = s1.querySelector('.sub'); if (f) f.focus(); else focusNext(s2); } },
      h('img', { src: iconFor(c), alt: '' }), h('span', nameOf(c))));
    }
    s1.append(grid);
  }

  // Step 2: describe + photos
  const desc = h('textarea', { id: 'desc', name: 'description', maxLength: 2000, placeholder: t('m.desc.ph'), required: true });
  desc.value = d.desc;
  desc.addEventListener('input', () => { d.desc = desc.value; });
  const photos = h('div.photos', { 'aria-live': 'polite' });
  const fileIn = h('input', { type: 'file', id: 'photo', accept: 'image/*', capture: 'environment', 'aria-label': t('m.photo.add') });
  const addLabel = h('label.addphoto', { for: 'photo' }, h('img', { src: '/icons/camera.svg', alt: '', width: 26, height: 26 }), t('m.photo.add'), fileIn);
  const photoStatus = h('p.status', { role: 'status' });
  function drawPhotos() {
    clear(photos);
    d.photos.forEach((p, i) => {
      photos.append(h('div.photo' + (p.id ? '' : '.busy'), h('img', { src: p.url, alt: `${t('m.photos')} ${i + 1}` }),
        h('button', { type: 'button', 'aria-label': t('m.photo.remove', { n: i + 1 }), onclick: () => { URL.revokeObjectURL(p.url); d.photos.splice(i, 1); drawPhotos(); } }, '×')));
    });
    addLabel.hidden = d.photos.length >= MAX_PHOTOS;
  }
  fileIn.addEventListener('change', async () => {
    const files = [...fileIn.files];
    fileIn.value = '';
    for (const f of files) {
      if (d.photos.length >= MAX_PHOTOS) { toast(t('m.photo.max', { n: MAX_PHOTOS })); break; }
      const p = { id: null, url: '' };
      try {
        const blob = await shrink(f);
        p.url = URL.createObjectURL(blob);
        d.photos.push(p);
        drawPhotos();
        photoStatus.className = 'status';
        photoStatus.textContent = t('m.photo.uploading');
        const r = await upload('/api/v1/attachments', blob, 'image/jpeg');
        p.id = r.id ?? (r.attachment && r.attachment.id);
        photoStatus.textContent = '';
        drawPhotos();
      } catch (e) {
        const i = d.photos.indexOf(p);
        if (i >= 0) d.photos.splice(i, 1);
        drawPhotos();
        photoStatus.className = 'status bad';
        photoStatus.textContent = t('m.photo.failed', { msg: errMsg(e) });
      }
    }
  });
  s2.append(h('h2#h-step2', t('m.step2')), h('label', { for: 'desc' }, t('m.desc')), desc,
    h('label', { for: 'photo' }, t('m.photos')), addLabel, photos, photoStatus);
  drawPhotos();

  // Step 3: where + contact
  const gps = h('button.gps', { type: 'button', id: 'gps' }, h('img', { src: '/icons/pin.svg', alt: '', width: 22, height: 22 }), t('m.loc.gps'));
  const locStatus = h('p.status', { role: 'status', id: 'loc-status' });
  const picker = h('div.picker', { id: 'grid-picker' });
  const address = h('input', { type: 'text', id: 'address', maxLength: 200, placeholder: t('m.loc.address.ph'), autocomplete: 'street-address' });
  address.value = d.address;
  address.addEventListener('input', () => { d.address = address.value; });
  gps.addEventListener('click', () => {
    if (!navigator.geolocation) { locStatus.className = 'status bad'; locStatus.textContent = t('m.loc.denied'); return; }
    locStatus.className = 'status';
    locStatus.textContent = t('m.loc.locating');
    gps.disabled = true;
    navigator.geolocation.getCurrentPosition(async (pos) => {
      gps.disabled = false;
      d.lat = pos.coords.latitude;
      d.lng = pos.coords.longitude;
      try {
        const r = await get('/api/v1/public/locate', { lat: d.lat.toFixed(6), lng: d.lng.toFixed(6) });
        const g = r.grid || r;
        d.grid = g.code;
        d.gridName = g.path || g.name || g.code;
        locStatus.className = 'status ok';
        locStatus.textContent = t('m.loc.found', { v: d.gridName });
        gridPicker(picker, d, d.grid);
      } catch (e) {
        locStatus.className = 'status bad';
        locStatus.textContent = e.status === 404 || e.code === 'no_grid' ? t('m.loc.nogrid') : errMsg(e);
      }
    }, () => {
      gps.disabled = false;
      locStatus.className = 'status bad';
      locStatus.textContent = t('m.loc.denied');
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });

  const anon = h('input', { type: 'checkbox', id: 'anon', name: 'anonymous', checked: d.anonymous });
  const phone = h('input', { type: 'tel', id: 'phone', name: 'phone', inputMode: 'tel', autocomplete: 'tel', maxLength: 20, required: !S.me });
  const name = h('input', { type: 'text', id: 'name', name: 'name', autocomplete: 'name', maxLength: 32 });
  phone.value = d.phone; name.value = d.name;
  phone.addEventListener('input', () => { d.phone = phone.value; });
  name.addEventListener('input', () => { d.name = name.value; });
  anon.addEventListener('change', () => { d.anonymous = anon.checked; });
  const phoneHint = h('small.hint', { id: 'phone-hint' }, t('m.phone.hint'));
  phone.setAttribute('aria-describedby', 'phone-hint');
  const phoneBox = h('div', h('label', { for: 'phone' }, t('m.phone') + (S.me ? '' : ' *')), phone, phoneHint,
    h('label', { for: 'name' }, t('m.name')), name,
    h('label.radio', { for: 'anon' }, anon, t('m.anon')));
  s3.append(h('h2#h-step3', t('m.step3')), gps, locStatus,
    h('p.label', t('m.loc.grid')), picker,
    h('label', { for: 'address' }, t('m.loc.address')), address,
    h('h3', t('m.contact')), phoneBox);
  gridPicker(picker, d, d.grid);
  step1();

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const fail = (msg, el) => { err.hidden = false; err.textContent = msg; if (el) el.focus(); };
    err.hidden = true;
    if (!d.top) return fail(t('m.need.cat'), s1.querySelector('button'));
    if (!d.desc.trim()) return fail(t('m.need.desc'), desc);
    if (!d.grid && d.lat === null) return fail(t('m.need.where'), picker.querySelector('select') || gps);
    const ph = d.phone.replace(/[\s-]/g, '');
    if ((ph || !S.me) && !/^\+?\d{7,15}$/.test(ph)) return fail(t('m.need.phone'), phone);
    if (d.photos.some((p) => !p.id)) return fail(t('m.photo.uploading'));
    const body = {
      description: d.desc.trim(), channel: 'resident_web', idempotency_key: d.key,
      photos: d.photos.map((p) => p.id), anonymous: d.anonymous,
    };
    if (d.cat) body.category_code = d.cat.code;
    else if (d.top && !d.top.children.length) body.category_code = d.top.code;
    if (d.grid) body.grid_code = d.grid;
    if (d.lat !== null) { body.lat = d.lat; body.lng = d.lng; }
    if (d.address.trim()) body.address = d.address.trim();
    if (ph) body.phone = ph;
    if (d.name.trim()) body.name = d.name.trim();
    submit.disabled = true;
    submit.textContent = t('m.sending');
    try {
      const r = await post('/api/v1/reports', body);
      const o = r.order || r;
      remember(o.code, ph.slice(-4));
      for (const p of d.photos) URL.revokeObjectURL(p.url);
      S.draft = null;
      showDone(o.code);
    } catch (ex) {
      submit.disabled = false;
      submit.textContent = t('m.submit');
      fail(errMsg(ex));
    }
  });
}

// The grid as a cascade of lists (street → community → grid → …), each
// loaded when the one above is chosen. With a target code (from the QR
// code of a contact card, or from the phone's position) the chain down to
// it is chosen already.
async function gridPicker(box, d, target) {
  const levelLabel = (depth) => t(depth <= 1 ? 'm.loc.l1' : depth === 2 ? 'm.loc.l2' : 'm.loc.l3');
  const chain = [];
  async function children(parent) {
    try { return items(await get('/api/v1/public/grids', parent ? { parent } : undefined)); } catch { return []; }
  }
  let list = await children(null);
  let parent = null;
  while (list.length) {
    let pick = target ? list.find((g) => target === g.code || target.startsWith(g.code)) : null;
    if (!parent && list.length === 1) pick = list[0]; // the county itself
    chain.push({ list, pick: pick || null });
    if (!pick || !pick.has_children || pick.code === target) break;
    parent = pick.code;
    list = await children(parent);
  }
  function draw() {
    clear(box);
    chain.forEach((lvl, i) => {
      if (i === 0 && lvl.list.length === 1) { box.append(h('p.county', lvl.list[0].name)); return; }
      const id = 'grid-' + i;
      const sel = h('select', { id, dataset: { level: String(i) } }, h('option', { value: '' }, i > 1 ? t('m.loc.optional') : t('m.loc.choose')),
        lvl.list.map((g) => h('option', { value: g.code, selected: lvl.pick && lvl.pick.code === g.code }, g.name)));
      sel.addEventListener('change', async () => {
        chain.length = i + 1;
        const g = lvl.list.find((x) => x.code === sel.value) || null;
        lvl.pick = g;
        const up = chain.slice(0, i).reverse().find((x) => x.pick);
        d.grid = g ? g.code : (up ? up.pick.code : '');
        d.gridName = chain.filter((x) => x.pick).map((x) => x.pick.name).join(' ');
        if (g && g.has_children) {
          const next = await children(g.code);
          if (next.length) chain.push({ list: next, pick: null });
        }
        draw();
        const nextSel = box.querySelector(`select[data-level="${i + 1}"]`);
        if (nextSel && g) nextSel.focus();
      });
      box.append(h('label', { for: id }, levelLabel(lvl.list[0] ? lvl.list[0].depth : i)), sel);
    });
  }
  const last = chain.filter((x) => x.pick).pop();
  if (last && target) { d.grid = last.pick.code; d.gridName = chain.filter((x) => x.pick).map((x) => x.pick.name).join(' '); }
  draw();
}

function focusNext(section) {
  const el = section.querySelector('textarea,input,select,button');
  if (el) el.focus({ preventScroll: false });
}

function remember(code, last4) {
  if (!code) return;
  try {
    const list = JSON.parse(localStorage.getItem(MINE_KEY) || '[]').filter((x) => x.code !== code);
    list.unshift({ code, last4, at: Date.now() });
    localStorage.setItem(MINE_KEY, JSON.stringify(list.slice(0, 20)));
  } catch { /* storage off: the code is on screen */ }
}
function mine() {
  try { return JSON.parse(localStorage.getItem(MINE_KEY) || '[]'); } catch { return []; }
}

function showDone(code) {
  clear(main).append(h('section.step.done', { id: 'done' },
    h('div.tick', { 'aria-hidden': 'true' }, '✓'),
    h('h2', t('m.done.title')),
    h('p', t('m.done.code')),
    h('p.code', { id: 'track-code' }, code),
    h('button.secondary', { type: 'button', onclick: () => { navigator.clipboard && navigator.clipboard.writeText(code).then(() => toast(t('m.copied')), () => {}); } }, t('m.copy')),
    h('p', t('m.done.keep')),
    h('a.primary', { href: '#track/' + encodeURIComponent(code), role: 'button', id: 'follow' }, t('m.done.follow')),
    h('button.secondary', { type: 'button', onclick: () => { location.hash = '#report'; showReport(); } }, t('m.done.again'))));
  main.querySelector('h2').focus?.();
}

// ---- track ------------------------------------------------------------------

function showTrackForm(code) {
  clear(main);
  const input = h('input', { type: 'text', id: 'code', name: 'code', autocomplete: 'off', autocapitalize: 'characters', spellcheck: 'false', maxLength: 32 });
  input.value = code || '';
  const form = h('form.trackform', { id: 'track-form' },
    h('div', h('label', { for: 'code' }, t('m.track.code')), input),
    h('button', { type: 'submit' }, t('m.track.go')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const c = input.value.trim();
    if (c) location.hash = '#track/' + encodeURIComponent(c);
  });
  const box = h('section.step', form);
  const list = mine();
  if (list.length) {
    box.append(h('h2', t('m.track.mine')), h('ul.mine', list.map((x) =>
      h('li', h('a', { href: '#track/' + encodeURIComponent(x.code) }, x.code), ' ', h('span.status', fmtTime(Math.floor(x.at / 1000)))))));
  }
  main.append(box);
  return box;
}

function photoUrl(a, code) {
  const id = a.id ?? a.attachment_id ?? a;
  return `/api/v1/attachments/${id}?track=${encodeURIComponent(code)}`;
}

async function showTrack(code) {
  showTrackForm(code);
  const out = h('div', { id: 'track-result', 'aria-live': 'polite' }, h('p.loading', t('common.loading')));
  main.append(out);
  let o;
  try {
    const r = await get('/api/v1/track/' + encodeURIComponent(code));
    o = r.order || r;
  } catch (e) {
    clear(out).append(h('p.error', { role: 'alert' }, e.status === 404 ? t('m.track.notfound') : errMsg(e)));
    return;
  }
  try { await loadCatalog(); } catch { /* names fall back to codes */ }
  clear(out);
  const st = o.state;
  const dept = o.department || '';
  const cat = catLabel(o.category_code);
  const done = st === 'closed' || st === 'rated' || st === 'onsite_resolved';
  out.append(h('section.step', { id: 'track-state' },
    h('p.status', t('m.track.state')),
    h('p.now' + (done ? '.ok' : ''), { id: 'plain-state' }, lang() === 'en' ? tf('plain.' + st, st) : (o.status_text || tf('plain.' + st, st))),
    h('dl.facts',
      h('dt', t('m.track.code')), h('dd', h('code', o.code || code)),
      cat ? [h('dt', t('m.track.category')), h('dd', cat)] : null,
      o.address ? [h('dt', t('m.loc.address')), h('dd', o.address)] : null,
      dept ? [h('dt', t('m.track.dept')), h('dd', { id: 'track-dept' }, dept)] : null,
      o.created_at ? [h('dt', t('m.track.reported')), h('dd', fmtTime(o.created_at))] : null,
      o.deadline && !done ? [h('dt', t('m.track.deadline')), h('dd', fmtTime(o.deadline))] : null),
    o.description ? h('p.desc', o.description) : null));

  // photos before / after
  const atts = o.photos || [];
  const before = atts.filter((a) => a.kind === 'before');
  const after = atts.filter((a) => a.kind === 'after');
  const gallery = (title, list, id) => list.length ? h('section.step', { id },
    h('h2', title), h('div.photos', list.map((a, i) => h('a.photo', { href: photoUrl(a, code), target: '_blank', rel: 'noopener' },
      h('img', { src: photoUrl(a, code), alt: `${title} ${i + 1}`, loading: 'lazy' }))))) : null;
  out.append(gallery(t('m.track.before'), before, 'photos-before') || '', gallery(t('m.track.after'), after, 'photos-after') || '');

  // timeline in plain words
  const tl = o.timeline || o.events || [];
  if (tl.length) {
    out.append(h('section.step', { id: 'timeline' }, h('h2', t('m.track.timeline')),
      h('ol.timeline', tl.map((ev) => h('li',
        h('time', { datetime: ev.at || ev.created_at }, fmtTime(ev.at || ev.created_at)),
        h('strong', tf('ev.' + ev.action, ev.text || ev.action)),
        ev.dept_name && ['dispatch', 'sign', 'feedback'].includes(ev.action) ? h('span', ' · ' + ev.dept_name) : null,
        ev.note ? h('p.note', ev.note) : null)))));
  }

  // rating
  if (o.can_rate) out.append(rateForm(code));
  else if (o.rating) {
    out.append(h('section.step', h('p.now.ok', { id: 'rated' }, t('m.rate.done', { v: tf('rating.' + o.rating, o.rating) }))));
  }
}

function rateForm(code) {
  const known = mine().find((x) => x.code === code);
  const box = h('section.step', { id: 'rate' });
  const choices = ['satisfied', 'basic', 'unsatisfied'].map((v, i) => {
    const r = h('input', { type: 'radio', name: 'rating', id: 'rating-' + v, value: v, checked: i === 0 });
    return h('label.radio', { for: 'rating-' + v }, r, t('m.rate.' + v));
  });
  const comment = h('textarea', { id: 'comment', maxLength: 500 });
  const last4 = h('input', { type: 'tel', id: 'last4', inputMode: 'numeric', maxLength: 4, autocomplete: 'off' });
  if (known && known.last4) last4.value = known.last4;
  const err = h('p.error', { role: 'alert', hidden: true });
  const btn = h('button.primary', { type: 'submit' }, t('m.rate.send'));
  const form = h('form', h('fieldset.plain', h('legend', h('strong', t('m.rate.title'))), h('div.ratings', choices)),
    h('label', { for: 'comment' }, t('m.rate.comment')), comment,
    h('label', { for: 'last4' }, t('m.rate.phone4')), last4, err, btn);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const rating = form.querySelector('input[name=rating]:checked').value;
    btn.disabled = true;
    try {
      const body = { rating };
      if (comment.value.trim()) body.comment = comment.value.trim();
      if (last4.value.trim()) body.phone_last4 = last4.value.trim();
      await post(`/api/v1/track/${encodeURIComponent(code)}/rate`, body);
      toast(t('m.rate.thanks'));
      await showTrack(code);
    } catch (ex) {
      btn.disabled = false;
      err.hidden = false;
      err.textContent = errMsg(ex);
    }
  });
  box.append(form);
  return box;
}

// ---- routing ------------------------------------------------------------------

function route() {
  const hash = decodeURIComponent(location.hash.replace(/^#/, ''));
  const track = hash.startsWith('track');
  document.getElementById('tab-report').setAttribute('aria-current', track ? 'false' : 'page');
  document.getElementById('tab-track').setAttribute('aria-current', track ? 'page' : 'false');
  if (track) {
    const code = hash.slice(6);
    if (code) showTrack(code); else showTrackForm('');
  } else showReport();
}

async function boot() {
  applyI18n();
  document.getElementById('lang').addEventListener('click', toggleLang);
  onLang(() => { applyI18n(); route(); });
  window.addEventListener('hashchange', route);
  // A staff member logged in on this browser reports as themselves; their
  // session needs the CSRF token on POSTs.
  // (Asked only when the console said so: an anonymous 401 would show up
  // as an error in the browser's console.)
  if (hasSession()) {
    try {
      const me = await api('GET', '/api/v1/auth/me', undefined, { quiet401: true });
      setCsrf(me.csrf_token);
      S.me = me.user;
    } catch { /* ended: anonymous */ }
  }
  route();
}

boot();
