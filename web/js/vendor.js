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
// networks run their own tile servers). Until the server keeps it, it is
// kept per browser (set on the map screen). Without one the map has a plain
// background and the grid polygons alone — and makes no outside request.
const TILE_KEY = 'whistle.tileUrl';
export function tileUrl() {
  try { return localStorage.getItem(TILE_KEY) || ''; } catch { return ''; }
}
export function setTileUrl(u) {
  try { if (u) localStorage.setItem(TILE_KEY, u); else localStorage.removeItem(TILE_KEY); } catch { /* off */ }
}
export async function tileSetting() {
  return { url: tileUrl(), attribution: '' };
}
