// api.js — the one way the web UI talks to the server: JSON in and out,
// the session cookie (HttpOnly, sent by the browser) plus the CSRF token
// on every state-changing request, and the uniform error body
// {"error":{"code","message"}} turned into an ApiError.

let csrf = null;
const listeners = new Set();

// The session cookie is HttpOnly, so the page cannot see it; a flag in
// localStorage remembers that this browser logged in, so that pages do not
// probe /auth/me (an anonymous 401 shows as an error in the console).
const SESSION_KEY = 'whistle.session';
export function setCsrf(token) {
  csrf = token || null;
  try { if (csrf) localStorage.setItem(SESSION_KEY, '1'); else localStorage.removeItem(SESSION_KEY); } catch { /* off */ }
}
export function hasSession() {
  try { return localStorage.getItem(SESSION_KEY) === '1'; } catch { return true; }
}
export function onUnauthorized(fn) { listeners.add(fn); }

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message || code || ('HTTP ' + status));
    this.status = status;
    this.code = code || 'http_' + status;
    this.body = body || null; // the whole error answer (an import's report rides along)
  }
}

// api('GET', '/api/v1/users', undefined, {query: {limit: 50}})
export async function api(method, path, body, { query, raw = false, headers = {}, quiet401 = false } = {}) {
  let url = path;
  if (query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
    }
    const s = q.toString();
    if (s) url += (url.includes('?') ? '&' : '?') + s;
  }
  const h = { Accept: 'application/json', ...headers };
  if (csrf && method !== 'GET' && method !== 'HEAD') h['X-CSRF-Token'] = csrf;
  let payload;
  if (body !== undefined) {
    if (raw) payload = body;
    else { payload = JSON.stringify(body); h['Content-Type'] = 'application/json'; }
  }
  let r;
  try {
    r = await fetch(url, { method, headers: h, body: payload, credentials: 'same-origin' });
  } catch (e) {
    throw new ApiError(0, 'network', e.message);
  }
  const ct = r.headers.get('content-type') || '';
  let data = null;
  if (ct.includes('json')) {
    try { data = await r.json(); } catch { data = null; }
  } else if (r.status !== 204) {
    data = await r.text();
  }
  if (!r.ok) {
    const err = data && data.error ? data.error : {};
    if (r.status === 401 && !quiet401) for (const fn of listeners) fn();
    throw new ApiError(r.status, err.code, err.message, data);
  }
  return data;
}

export const get = (p, query, opts) => api('GET', p, undefined, { ...opts, query });
export const post = (p, body, opts) => api('POST', p, body === undefined ? {} : body, opts);
export const put = (p, body, opts) => api('PUT', p, body, opts);
export const patch = (p, body, opts) => api('PATCH', p, body, opts);
export const del = (p, opts) => api('DELETE', p, undefined, opts);

// Upload raw bytes (a photo, a CSV) with its content type.
export function upload(path, blob, contentType, query) {
  return api('POST', path, blob, { raw: true, query, headers: { 'Content-Type': contentType } });
}

// Items of a list answer, whatever the wrapper ({items:[...]}, {data:[...]}, [...]).
export function items(res) {
  if (!res) return [];
  if (Array.isArray(res)) return res;
  for (const k of ['items', 'data', 'orders', 'results', 'rows']) if (Array.isArray(res[k])) return res[k];
  return [];
}
