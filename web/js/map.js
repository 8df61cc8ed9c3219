// map.js — the grids of the caller's scope on a Leaflet map, coloured by
// their open and overdue orders, with the open orders as points. Clicking
// a grid shows its people in charge and its numbers. A base-map tile URL
// is optional (government networks run their own tile servers); without
// one the map has a plain background and makes no outside request.
import { h, clear, fmtTime } from './dom.js';
import { t, lang, extend } from '../i18n.js';
import { get, put, items } from './api.js';
import { field, select, table, badge, toast } from './ui.js';
import { loadLeaflet, tileSetting, forgetTileSetting } from './vendor.js';
import { catNameOf, ensureCatalog, stateBadge } from './orders-common.js';

extend({
  'map.title': ['网格地图', 'Grid map'],
  'map.level': ['显示层级', 'Level'],
  'map.open': ['在办工单', 'Open orders'],
  'map.overdue': ['超期', 'Overdue'],
  'map.none': ['无在办', 'No open orders'],
  'map.legend': ['图例', 'Legend'],
  'map.pick': ['点击地图上的网格查看负责人和数据', 'Click a grid to see who is in charge and its numbers'],
  'map.duties': ['负责人', 'People in charge'],
  'map.households': ['户数', 'Households'],
  'map.people': ['人数', 'People'],
  'map.kind': ['类型', 'Kind'],
  'map.dept': ['包保单位', 'Responsible unit'],
  'map.cards': ['打印联系卡', 'Print contact cards'],
  'map.tiles': ['底图地址（瓦片 URL 模板，可留空）', 'Base map tile URL template (optional)'],
  'map.tiles.hint': ['例如 https://tiles.example.gov.cn/{z}/{x}/{y}.png；留空则不加载底图，只显示网格。对所有用户生效。', 'e.g. https://tiles.example.gov.cn/{z}/{x}/{y}.png; empty: no base map, grids only. Applies to everyone.'],
  'map.settings': ['地图设置', 'Map settings'],
  'map.orders': ['工单点位', 'Orders'],
  'map.truncated': ['网格过多，只显示了一部分', 'Too many grids: only part is shown'],
});

const FINAL = new Set(['closed', 'rated', 'rejected', 'merged', 'onsite_resolved']);

export default async function mapView(ctx) {
  const el = ctx.el;
  const [L, levelsRes, , tiles] = await Promise.all([loadLeaflet(), get('/api/v1/grid-levels').catch(() => ({ items: [] })), ensureCatalog(), tileSetting()]);
  const levels = items(levelsRes).filter((l) => l.depth > 0);
  let depth = levels.find((l) => l.name === 'grid') ? levels.find((l) => l.name === 'grid').depth : (levels.length ? levels[Math.min(2, levels.length - 1)].depth : 1);
  if (ctx.query.get('depth')) depth = Number(ctx.query.get('depth'));
  const levelSel = select(levels.map((l) => ({ value: l.depth, label: lang() === 'en' ? l.name : l.label_zh })), { value: depth, name: 'depth', id: 'map-level' });
  const tileIn = h('input', { type: 'url', id: 'map-tiles', value: tiles.url, placeholder: 'https://…/{z}/{x}/{y}.png', size: 40 });
  const legend = h('div.legend', { 'aria-label': t('map.legend') },
    h('span.sw.none'), t('map.none'), h('span.sw.open'), t('map.open'), h('span.sw.over'), t('map.overdue'),
    h('span.dot'), t('map.orders'));
  const mapDiv = h('div#map.map', { role: 'application', 'aria-label': t('map.title') });
  const side = h('aside.map-side.card', { 'aria-live': 'polite' }, h('p.muted', t('map.pick')));
  const settings = h('details.no-print', h('summary', t('map.settings')),
    h('form.toolbar', { onsubmit: async (e) => {
      e.preventDefault();
      try {
        await put('/api/v1/settings/map.tile_url', { value: tileIn.value.trim() });
        forgetTileSetting();
        location.reload();
      } catch (ex) { toast(ex.message, 'bad'); }
    } },
      field(t('map.tiles'), tileIn, { hint: t('map.tiles.hint') }), h('button', { type: 'submit' }, t('common.save'))));
  el.append(h('div.toolbar', h('h1', t('map.title')), h('div.spacer'), field(t('map.level'), levelSel), legend),
    h('div.map-wrap', mapDiv, side));
  if (ctx.can('settings.admin')) el.append(settings); // a deployment setting: administrators only

  const map = L.map(mapDiv, { attributionControl: !!tiles.url, zoomSnap: 0.25 });
  if (tiles.url) L.tileLayer(tiles.url, { attribution: tiles.attribution, maxZoom: 19 }).addTo(map);
  ctx.onCleanup(() => map.remove());

  // open orders with their positions (the first pages of the list)
  const orders = [];
  try {
    let cursor;
    for (let i = 0; i < 5; i++) {
      const r = await get('/api/v1/orders', { limit: 200, cursor });
      orders.push(...items(r).filter((o) => !FINAL.has(o.state)));
      cursor = r.next_cursor;
      if (!cursor) break;
    }
  } catch { /* the map still shows the grids */ }

  let gridLayer = null;
  const pointLayer = L.layerGroup().addTo(map);
  for (const o of orders) {
    if (typeof o.lat !== 'number') continue;
    const m = L.circleMarker([o.lat, o.lng], { radius: 6, color: o.overdue ? '#8c1d13' : '#0e3577', weight: 2, fillColor: o.overdue ? '#e5484d' : '#3b82f6', fillOpacity: 0.85 });
    m.bindPopup(() => h('div', h('a', { href: '#/orders/' + o.id }, o.code), h('br'), catNameOf(o.category_code), ' · ', stateBadge(o)));
    m.addTo(pointLayer);
  }

  const countsFor = (code) => {
    let open = 0, over = 0;
    for (const o of orders) if (o.grid_code && o.grid_code.startsWith(code)) { open++; if (o.overdue) over++; }
    return { open, over };
  };

  async function drawGrids() {
    const gj = await get('/api/v1/grids.geojson', { depth });
    if (gridLayer) gridLayer.remove();
    const max = Math.max(1, ...gj.features.map((f) => countsFor(f.properties.code).open));
    gridLayer = L.geoJSON(gj, {
      style: (f) => {
        const c = countsFor(f.properties.code);
        const fill = c.over ? '#d92d20' : c.open ? '#f79009' : '#98a2b3';
        return { color: '#1d2939', weight: 1, fillColor: fill, fillOpacity: c.open ? 0.25 + 0.45 * (c.open / max) : 0.12 };
      },
      onEachFeature: (f, layer) => {
        const c = countsFor(f.properties.code);
        layer.bindTooltip(`${f.properties.name}${c.open ? ` · ${t('map.open')} ${c.open}` : ''}${c.over ? ` · ${t('map.overdue')} ${c.over}` : ''}`, { sticky: true });
        layer.on('click', () => showGrid(f.properties.code));
      },
    }).addTo(map);
    pointLayer.bringToFront?.();
    if (gj.features.length) map.fitBounds(gridLayer.getBounds(), { padding: [10, 10] });
    else map.setView([30, 104], 10);
    if (gj.truncated) toast(t('map.truncated'));
  }

  async function showGrid(code) {
    clear(side).append(h('p.loading', t('common.loading')));
    try {
      const g = await get('/api/v1/grids/' + encodeURIComponent(code));
      const c = countsFor(code);
      const list = orders.filter((o) => o.grid_code && o.grid_code.startsWith(code)).slice(0, 8);
      clear(side).append(...[
        h('h2', { id: 'grid-name' }, g.name),
        h('p.muted', (g.path || []).map((p) => p.name).join(' › ')),
        h('dl.kv',
          h('dt', t('map.kind')), h('dd', g.kind_label || g.kind),
          h('dt', t('map.households')), h('dd', String(g.households ?? '—')),
          h('dt', t('map.people')), h('dd', String(g.people ?? '—')),
          g.dept ? [h('dt', t('map.dept')), h('dd', g.dept.name)] : null,
          h('dt', t('map.open')), h('dd', String(c.open)),
          h('dt', t('map.overdue')), h('dd', c.over ? badge(String(c.over), 'red') : '0')),
        h('h3', t('map.duties')),
        (g.duties || []).length
          ? h('ul.duties', g.duties.map((d) => h('li', h('strong', d.duty_label || d.duty), ' ', d.name || '', d.phone ? h('span.muted', ' ' + d.phone) : null)))
          : h('p.muted', t('common.none')),
        list.length ? [h('h3', t('map.open')), h('ul.duties', list.map((o) => h('li', h('a', { href: '#/orders/' + o.id }, o.code), ' ', catNameOf(o.category_code), ' ', o.overdue ? badge(t('map.overdue'), 'red') : null)))] : null,
        h('p', h('a.button', { href: `/api/v1/grids/${encodeURIComponent(code)}/cards`, target: '_blank', rel: 'noopener' }, t('map.cards')))].flat().filter(Boolean));
    } catch (e) {
      clear(side).append(h('p.error', e.message));
    }
  }

  levelSel.addEventListener('change', () => { depth = Number(levelSel.value); drawGrids(); });
  await drawGrids();
  setTimeout(() => map.invalidateSize(), 0);
}

export { fmtTime, table };
