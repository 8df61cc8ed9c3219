// order.js — one work order: everything about it, its timeline, photos,
// position on the map, and the actions the caller may take now (exactly
// the server's allowed_actions), each with its confirmation and the note
// or fields it needs. Each action has a key (shown on its button).
import { h, clear, fmtTime } from './dom.js';
import { t, tf, lang } from '../i18n.js';
import { get, post, upload, items } from './api.js';
import { dialog, toast, badge, errorBox, field } from './ui.js';
import { stateBadge, overdueBadge, catName, deptName, gridName, actionLabel, urgencyLabel, levelLabel, channelLabel, ensureCatalog, catalogNow, loadGridNames, gridInfo } from './orders-common.js';
import { user } from '../app.js';
import { departments, supervisionTable } from './queues.js';
import { shrink } from './photo.js';
import { loadLeaflet, tileSetting } from './vendor.js';

const KEYS = { accept: 'a', dispatch: 'd', sign: 's', feedback: 'f', verify: 'v', 'verify-pass': 'v', 'verify-fail': 'w',
  reject: 'x', merge: 'm', onsite: 'o', return: 't', 'return-approve': 'y', 'return-refuse': 'u', extend: 'e',
  'extend-approve': 'y', 'extend-refuse': 'u', escalate: 'l', reopen: 'z', rate: 'g' };

// What each action asks for. The server validates again; this is for people.
function formFor(api, order, depts) {
  const note = (req) => ({ name: 'note', label: t('f.note'), type: 'textarea', required: req });
  const reason = { name: 'reason', label: t('f.reason'), type: 'textarea', required: true };
  const photos = { name: 'photos', label: t('f.photos'), type: 'photos' };
  switch (api) {
    case 'reject': case 'return': case 'reopen': case 'verify-fail':
      return [reason];
    case 'escalate': case 'return-refuse': case 'extend-refuse':
      return [{ ...reason, required: false }];
    case 'merge': return [{ name: 'merge_into', label: t('f.merge_into'), type: 'number', min: 1, required: true }, note(false)];
    case 'accept': return order.category_code ? [note(false)] : [categoryField(order), note(false)];
    case 'dispatch': {
      const cat = catalogNow() && catalogNow().map.get(order.category_code);
      const byCode = new Map(depts.map((d) => [d.code, d]));
      const sugg = order.dept_id || (cat && cat.dept && byCode.get(cat.dept) ? byCode.get(cat.dept).id : '');
      const assistSugg = new Set(cat && Array.isArray(cat.assist) ? cat.assist.map((c) => byCode.get(c)?.id).filter(Boolean).map(String) : []);
      const opts = depts.map((d) => ({ value: d.id, label: (lang() === 'en' && d.name_en ? d.name_en : d.name) + (String(d.id) === String(sugg) ? ' ' + t('f.suggested') : ''), checked: assistSugg.has(String(d.id)) }));
      const f = [
        { name: 'dept_id', label: t('f.dept'), type: 'select', required: true, value: sugg, options: [{ value: '', label: '—' }, ...opts] },
        { name: 'assist', label: t('f.assist'), type: 'multiselect', options: opts },
        note(false),
      ];
      if (!order.category_code) f.unshift(categoryField(order));
      return f;
    }
    case 'extend': return [{ name: 'hours', label: t('f.hours'), type: 'number', min: 1, max: 2000, required: true, value: 24 }, reason];
    case 'feedback': return [note(true), photos];
    case 'onsite': return [note(true), photos];
    case 'rate': return [{ name: 'rating', label: t('f.rating'), type: 'select', options: ['satisfied', 'basic', 'unsatisfied'].map((v) => ({ value: v, label: t('rating.' + v) })) }, note(false)];
    default: return [note(false)];
  }
}

// An action dialog (a richer one than ui.dialog: multi-selects and photos).
function actionDialog(api, order, depts) {
  return new Promise((resolve) => {
    const fields = formFor(api, order, depts);
    const title = actionLabel(api);
    const form = h('form.dialog-form');
    form.append(h('h2', { id: 'act-title' }, `${title} · ${order.code || order.id}`),
      h('p', t('act.confirm', { a: title, c: order.code || order.id })));
    const get = {};
    const pending = [];
    for (const f of fields) {
      if (f.type === 'photos') {
        const list = h('div.thumbs');
        const ids = [];
        const inp = h('input', { type: 'file', accept: 'image/*', multiple: true, id: 'act-photos' });
        inp.addEventListener('change', () => {
          for (const file of [...inp.files]) {
            const p = (async () => {
              const blob = await shrink(file);
              const url = URL.createObjectURL(blob);
              const img = h('img', { src: url, alt: file.name, width: 64, height: 64 });
              list.append(img);
              const r = await upload('/api/v1/attachments', blob, 'image/jpeg');
              ids.push(r.id);
            })().catch((e) => toast(e.message, 'bad'));
            pending.push(p);
          }
          inp.value = '';
        });
        get[f.name] = () => ids.slice();
        form.append(field(f.label, inp), list);
      } else if (f.type === 'multiselect') {
        const box = h('div.checks', { role: 'group', 'aria-labelledby': 'ms-' + f.name }, f.options.map((o) =>
          h('label.check', h('input', { type: 'checkbox', value: String(o.value), checked: !!o.checked }), ' ', o.label)));
        get[f.name] = () => [...box.querySelectorAll('input:checked')].map((c) => Number(c.value));
        form.append(h('div.field', h('span.label', { id: 'ms-' + f.name }, f.label), box));
      } else {
        let c;
        if (f.type === 'textarea') c = h('textarea', { name: f.name, rows: 3, maxLength: 2000 });
        else if (f.type === 'select') {
          c = h('select', { name: f.name }, f.options.map((o) => h('option', { value: String(o.value), selected: String(o.value) === String(f.value ?? '') }, o.label)));
        } else c = h('input', { name: f.name, type: f.type || 'text', min: f.min, max: f.max });
        if (f.value !== undefined && f.type !== 'select') c.value = f.value;
        get[f.name] = () => c.value;
        form.append(field(f.label + (f.required ? ' *' : ''), c));
        c.dataset.required = f.required ? '1' : '';
      }
    }
    const err = h('p.error', { role: 'alert', hidden: true });
    const ok = h('button.primary', { type: 'submit' }, title);
    const dlg = h('dialog.dlg', { 'aria-labelledby': 'act-title' }, form);
    form.append(err, h('div.dialog-buttons', h('button', { type: 'button', onclick: () => dlg.close() }, t('common.cancel')), ok));
    let result = null;
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      for (const f of fields) {
        if (f.required && !String(get[f.name]()).trim()) {
          err.hidden = false;
          err.textContent = `${f.label}: ${t('common.required')}`;
          return;
        }
      }
      ok.disabled = true;
      await Promise.all(pending);
      result = {};
      for (const f of fields) result[f.name] = get[f.name]();
      dlg.close();
    });
    dlg.addEventListener('close', () => { dlg.remove(); resolve(result); });
    document.body.append(dlg);
    dlg.showModal();
    (form.querySelector('textarea,input,select') || ok).focus();
  });
}

// A category chooser (leaves of the catalogue) for orders filed without one.
function categoryField(order) {
  const cat = catalogNow();
  const opts = [];
  if (cat) for (const top of cat.tops) for (const c of top.children || []) {
    const nm = (x) => (lang() === 'en' && x.name_en ? x.name_en : x.name);
    opts.push({ value: c.code, label: `${nm(top)} · ${nm(c)}` });
  }
  return { name: 'category_code', label: t('o.category'), type: 'select', value: order.category_code || '', options: [{ value: '', label: '—' }, ...opts] };
}

function bodyFor(api, v) {
  const b = {};
  if (v.note && v.note.trim()) b.note = v.note.trim();
  if (v.reason && v.reason.trim()) b.reason = v.reason.trim();
  if (v.dept_id) b.dept_id = Number(v.dept_id);
  if (v.assist && v.assist.length) b.assist = v.assist.filter((x) => String(x) !== String(v.dept_id));
  if (v.merge_into) b.into = Number(v.merge_into);
  if (v.hours) b.hours = Number(v.hours);
  if (v.category_code) b.category_code = v.category_code;
  if (v.rating) { b.rating = v.rating; if (b.note) { b.comment = b.note; delete b.note; } }
  if (api === 'verify-pass') b.passed = true;
  if (api === 'verify-fail') b.passed = false;
  if (v.photos && v.photos.length) b.photos = v.photos;
  return b;
}

function gridPath(o) {
  const g = gridInfo(o.grid_code);
  if (g && Array.isArray(g.path) && g.path.length) return g.path.map((p) => p.name).join(' › ');
  return gridName(o);
}

function actionName(a) { return typeof a === 'string' ? a : (a.api || a.action || a.name); }

export default async function orderView(ctx) {
  const id = ctx.params[0];
  const [o, depts] = await Promise.all([get('/api/v1/orders/' + encodeURIComponent(id)), departments(), ensureCatalog()]);
  const order = o.order || o;
  await loadGridNames([order.grid_code]);
  render(ctx, order, depts);
}

function attUrl(a) {
  if (a.url) return a.url;
  return '/api/v1/attachments/' + (a.id ?? a.attachment_id ?? a);
}

function render(ctx, o, depts) {
  const el = ctx.el;
  clear(el);
  // "verify" is one route with two outcomes: two buttons.
  const allowed = (o.allowed_actions || []).map(actionName).filter(Boolean)
    .flatMap((a) => (a === 'verify' ? ['verify-pass', 'verify-fail'] : [a]));
  const head = h('div.order-head',
    h('a.back', { href: '#/queues', onclick: (e) => { if (history.length > 1) { e.preventDefault(); history.back(); } } }, '‹ ' + t('o.back')),
    h('h1', { id: 'order-title' }, `${t('o.code')} ${o.code || o.id}`, ' ', stateBadge(o), ' ', overdueBadge(o),
      o.pending ? [' ', badge(t('pending.' + o.pending), 'amber')] : null,
      o.urgency && o.urgency !== 'normal' ? [' ', badge(urgencyLabel(o.urgency), 'red')] : null));

  // actions
  const actBox = h('section.card.actions', { 'aria-labelledby': 'h-actions' }, h('h2#h-actions', t('o.actions')));
  if (!allowed.length) actBox.append(h('p.muted', t('o.no_actions')));
  const buttons = h('div.action-buttons');
  for (const api of allowed) {
    const key = KEYS[api];
    const danger = ['reject', 'verify-fail', 'return', 'return-refuse', 'extend-refuse'].includes(api);
    buttons.append(h('button' + (danger ? '' : '.primary'), { type: 'button', dataset: { action: api }, 'aria-keyshortcuts': key || null, onclick: () => act(api) },
      actionLabel(api), key ? h('kbd', key) : null));
  }
  actBox.append(buttons);

  async function act(api) {
    const v = await actionDialog(api, o, depts);
    if (!v) return;
    try {
      const route = api.startsWith('verify') ? 'verify' : api;
      const r = await post(`/api/v1/orders/${o.id}/${route}`, bodyFor(api, v));
      toast(`${actionLabel(api)} · ${t('o.done')}`);
      const fresh = r && (r.order || r).allowed_actions ? (r.order || r) : (await get('/api/v1/orders/' + o.id));
      render(ctx, fresh.order || fresh, depts);
    } catch (e) {
      toast(e.message, 'bad');
    }
  }

  // facts
  const kv = (k, v) => (v === null || v === undefined || v === '' ? null : [h('dt', k), h('dd', v)]);
  const deptById = new Map(depts.map((d) => [d.id, d]));
  const assist = (o.assist_dept_ids || []).map((id) => { const d = deptById.get(id); return d ? (lang() === 'en' && d.name_en ? d.name_en : d.name) : String(id); }).join('、');
  const reporter = o.anonymous ? t('o.anonymous') : [o.reporter_name, o.reporter_phone].filter(Boolean).join(' ');
  const facts = h('section.card', h('dl.kv',
    kv(t('o.category'), catName(o)),
    kv(t('o.reported'), fmtTime(o.created_at)),
    kv(t('o.channel'), channelLabel(o.channel)),
    kv(t('o.reporter'), reporter || null),
    kv(t('o.grid'), gridPath(o)),
    kv(t('o.address'), o.address),
    kv(t('o.level'), levelLabel(o.level)),
    kv(t('o.dept'), deptName(o)),
    kv(t('o.assist'), assist),
    kv(t('o.response_deadline'), o.response_deadline ? fmtTime(o.response_deadline) : null),
    kv(t('o.deadline'), o.deadline ? fmtTime(o.deadline) : null),
    kv(t('o.rating'), o.rating ? [tf('rating.' + o.rating, o.rating), o.rating_comment ? ` · ${o.rating_comment}` : '', o.rating_default ? ` (${t('o.rating_default')})` : ''] : null)),
  h('h2', t('o.desc')), h('p.desc', o.description || ''));

  // photos
  const atts = o.attachments || o.photos || [];
  const photoBox = h('section.card', h('h2', t('o.photos')));
  const groups = [['before', t('o.photos.report')], ['after', t('o.photos.feedback')], ['other', t('o.photos')]];
  let any = false;
  for (const [kind, label] of groups) {
    const list = atts.filter((a) => (a.kind || 'before') === kind);
    if (!list.length) continue;
    any = true;
    photoBox.append(h('h3', label), h('div.thumbs', list.map((a, i) => h('a', { href: attUrl(a), target: '_blank', rel: 'noopener' },
      h('img', { src: attUrl(a), alt: `${label} ${i + 1}`, loading: 'lazy', width: 160, height: 120 })))));
  }
  if (!any) photoBox.append(h('p.muted', t('common.none')));

  // timeline
  const tl = o.timeline || o.events || [];
  const tlBox = h('section.card', h('h2', t('o.timeline')), h('ol.timeline', tl.map((ev) => h('li',
    h('time', { datetime: ev.at || ev.created_at }, fmtTime(ev.at || ev.created_at, true)),
    h('strong', tf('ev.' + ev.action, ev.action)),
    ev.actor_name ? h('span.muted', ` · ${ev.actor_name}${ev.actor_role ? ' (' + tf('role.' + ev.actor_role, ev.actor_role) + ')' : ''}`) : (ev.actor_role ? h('span.muted', ` · ${tf('role.' + ev.actor_role, ev.actor_role)}`) : null),
    ev.dept_name && ['dispatch', 'sign', 'feedback', 'return', 'extend'].includes(ev.action) ? h('span.muted', ` · ${ev.dept_name}`) : null,
    ev.from_state && ev.to_state && ev.from_state !== ev.to_state ? h('span.muted', ` · ${tf('state.' + ev.from_state, ev.from_state)} → ${tf('state.' + ev.to_state, ev.to_state)}`) : null,
    ev.note ? h('p.note', ev.note) : null,
    ev.data && ev.data.reason ? h('p.note', `${t('f.reason')}: ${ev.data.reason}`) : null,
    ev.data && ev.data.rating ? h('p.note', tf('rating.' + ev.data.rating, ev.data.rating)) : null,
    Array.isArray(ev.attachments) && ev.attachments.length ? h('div.thumbs.small', ev.attachments.map((a) => h('a', { href: attUrl(a), target: '_blank', rel: 'noopener' }, h('img', { src: attUrl(a), alt: '', width: 64, height: 48 })))) : null))));

  // map position
  const mapBox = h('section.card', h('h2', t('o.position')));
  const lat = o.lat ?? (o.location && o.location.lat), lng = o.lng ?? (o.location && o.location.lng);
  if (typeof lat === 'number' && typeof lng === 'number') {
    const div = h('div.minimap', { id: 'order-map', role: 'img', 'aria-label': `${t('o.position')}: ${lat.toFixed(5)}, ${lng.toFixed(5)}` });
    mapBox.append(div, h('p.muted', `${lat.toFixed(6)}, ${lng.toFixed(6)}`));
    Promise.all([loadLeaflet(), tileSetting()]).then(([L, tiles]) => {
      if (!div.isConnected) return;
      const map = L.map(div, { attributionControl: !!tiles.url }).setView([lat, lng], 16);
      if (tiles.url) L.tileLayer(tiles.url, { attribution: tiles.attribution, maxZoom: 19 }).addTo(map);
      L.circleMarker([lat, lng], { radius: 9, color: '#b42318', weight: 3, fillOpacity: 0.6 }).addTo(map);
      const u = user();
      if (o.grid_code && u && (u.scope_kind === 'all' || u.scope_kind === 'grid')) {
        get('/api/v1/grids/' + encodeURIComponent(o.grid_code), { geometry: 1 }).then((g) => {
          if (g.geometry) {
            const layer = L.geoJSON(g.geometry, { style: { color: '#1548a0', weight: 2, fillOpacity: 0.06 } }).addTo(map);
            map.invalidateSize();
            map.fitBounds(layer.getBounds().extend([lat, lng]), { maxZoom: 17, padding: [16, 16] });
          }
        }, () => {});
      }
    }).catch(() => {});
  } else mapBox.append(h('p.muted', t('o.no_position')));

  // supervision notices of this order (督办)
  let supBox = null;
  if (ctx.can('supervision.read')) {
    supBox = h('section.card', { id: 'order-supervision' }, h('h2', t('sup.list')));
    const supList = h('div');
    supBox.append(supList);
    const loadSup = () => get('/api/v1/supervision', { order_id: o.id }).then((r) => {
      clear(supList).append(items(r).length ? supervisionTable(items(r), ctx, loadSup) : h('p.muted', t('common.none')));
    }, () => {});
    if (ctx.can('supervision.write') && !['closed', 'rated', 'rejected', 'merged', 'onsite_resolved'].includes(o.state)) {
      supBox.append(h('button', { type: 'button', onclick: async () => {
        const v = await dialog({ title: `${t('sup.issue')} · ${o.code}`, fields: [
          { name: 'reason', label: t('sup.reason'), type: 'textarea', required: true },
          { name: 'hours', label: t('sup.hours'), type: 'number', min: 1, max: 2160, value: 24 }] });
        if (!v) return;
        try { await post('/api/v1/supervision', { order_id: o.id, reason: v.reason.trim(), answer_hours: v.hours || undefined }); toast(t('common.saved')); loadSup(); } catch (e) { toast(e.message, 'bad'); }
      } }, t('sup.issue')));
    }
    loadSup();
  }

  el.append(head, h('div.order-grid', h('div.order-main', facts, photoBox, tlBox, supBox), h('div.order-side', actBox, mapBox)));

  const onKey = (e) => {
    if (e.target.closest('input,textarea,select') || e.ctrlKey || e.metaKey || e.altKey || document.querySelector('dialog[open]')) return;
    if (e.key === 'Escape' || e.key === 'Backspace') { history.back(); e.preventDefault(); return; }
    const api = allowed.find((a) => KEYS[a] === e.key);
    if (api) { e.preventDefault(); act(api); }
  };
  document.addEventListener('keydown', onKey);
  ctx.onCleanup(() => document.removeEventListener('keydown', onKey));
  const first = buttons.querySelector('button');
  if (first) setTimeout(() => first.focus(), 0);
}

export { errorBox, items };
