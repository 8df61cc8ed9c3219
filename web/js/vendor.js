// vendor.js — loads the two browser libraries whistle embeds from Debian's
// packages (Leaflet, Chart.js) on first use, from this server only.
let leaflet = null, chart = null;

function script(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = resolve;
    s.onerror = () => reject(new Error('cannot load ' + src));
    document.head.append(s);
  });
}

export function loadLeaflet() {
  if (!leaflet) {
    const css = document.createElement('link');
    css.rel = 'stylesheet';
    css.href = '/vendor/leaflet.css';
    document.head.append(css);
    leaflet = script('/vendor/leaflet.js').then(() => window.L);
  }
  return leaflet;
}

export function loadChart() {
  if (!chart) chart = script('/vendor/chart.js').then(() => window.Chart);
  return chart;
}

// The base map: a tile URL template is a deployment setting (government
// networks run their own tile servers), kept by the server
// (GET /api/v1/public/settings; administrators change it with
// PUT /api/v1/settings/map.tile_url). Without one the map has a plain
// background and the grid polygons alone — and makes no outside request.
let tiles = null;
export function tileSetting() {
  if (!tiles) {
    tiles = fetch('/api/v1/public/settings', { credentials: 'same-origin' })
      .then((r) => (r.ok ? r.json() : {}))
      .then((s) => ({ url: s['map.tile_url'] || '', attribution: s['map.attribution'] || '' }))
      .catch(() => ({ url: '', attribution: '' }));
  }
  return tiles;
}
export function forgetTileSetting() { tiles = null; }
