// An Open311 GeoReport v2 client written from the specification
// (wiki.open311.org/GeoReport_v2), not from whistle's code: it discovers
// the endpoint, lists services, reads a service definition, posts a
// request with a location and an attribute (form-encoded, api_key), reads
// it back by id and by token, filters requests by status and date, and
// checks the error format — each in JSON and in XML.
//
// Only the setup (an account and its API token to use as api_key) and the
// last section ("whistle's side") use whistle's own API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, adminClient } from './lib.mjs';

let srv, base, apiKey;

before(async () => {
  srv = await startServer({ demo: true });
  srv.adminPassword = 'whistle-admin';
  const admin = await adminClient(srv);
  // The integration files on behalf of residents: a resident-role account (scope: what it filed).
  const u = await admin.post('/api/v1/users', { login: 'open311.app', name: 'Open311 手机应用', role: 'resident', password: 'open311-app-pw' });
  assert.equal(u.status, 201, u.text);
  const t = await admin.post('/api/v1/tokens', { user_id: u.body.id, label: 'open311 test client' });
  assert.equal(t.status, 201, t.text);
  apiKey = t.body.token;
  // A grid that contains the test point (30.0501, 103.5102), so that the report can be located.
  const grids = await admin.get('/api/v1/grids');
  assert.equal(grids.status, 200, grids.text);
  const square = { type: 'Polygon', coordinates: [[[103.50, 30.04], [103.52, 30.04], [103.52, 30.06], [103.50, 30.06], [103.50, 30.04]]] };
  const items = grids.body.items || [];
  const root = items.find((g) => g.depth === 0);
  const g = root
    ? await admin.post('/api/v1/grids', { parent_code: root.code, name: 'Open311 测试网格', geometry: square })
    : await admin.post('/api/v1/grids', { code: '511423', name: '测试县', geometry: square });
  assert.equal(g.status, 201, g.text);
  base = srv.url + '/open311/v2';
});
after(async () => { await srv.stop(); srv.cleanup(); });

// ---- a small strict XML parser (enough for GeoReport documents) ---------

function parseXml(text) {
  let i = 0;
  const fail = (msg) => { throw new Error(`XML: ${msg} at ${i}: ${JSON.stringify(text.slice(i, i + 40))}`); };
  const ws = () => { while (/\s/.test(text[i] || '')) i++; };
  const decode = (s) => s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);|&/g, (m, e) => {
    if (!e) fail('bare &');
    if (e === 'amp') return '&';
    if (e === 'lt') return '<';
    if (e === 'gt') return '>';
    if (e === 'quot') return '"';
    if (e === 'apos') return "'";
    return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
  });
  const name = () => {
    const m = /^[A-Za-z_][A-Za-z0-9_.-]*/.exec(text.slice(i));
    if (!m) fail('element name expected');
    i += m[0].length;
    return m[0];
  };
  ws();
  if (text.startsWith('<?xml', i)) {
    const end = text.indexOf('?>', i);
    if (end < 0) fail('unterminated declaration');
    const decl = text.slice(i, end);
    if (!/encoding=["']utf-8["']/i.test(decl)) fail('the declaration must say encoding="UTF-8"');
    i = end + 2;
  } else fail('missing XML declaration');
  ws();
  function element() {
    if (text[i] !== '<') fail('< expected');
    i++;
    const n = name();
    ws();
    if (text[i] !== '/' && text[i] !== '>') fail('attributes are not expected in GeoReport');
    if (text.startsWith('/>', i)) { i += 2; return { name: n, children: [], text: '' }; }
    i++;
    const node = { name: n, children: [], text: '' };
    for (;;) {
      const lt = text.indexOf('<', i);
      if (lt < 0) fail(`unclosed <${n}>`);
      const chunk = text.slice(i, lt);
      if (/[<>]/.test(chunk.replace(/&[^;]*;/g, ''))) fail('unescaped markup in text');
      node.text += decode(chunk);
      i = lt;
      if (text.startsWith('</', i)) {
        i += 2;
        const close = name();
        if (close !== n) fail(`</${close}> closes <${n}>`);
        ws();
        if (text[i] !== '>') fail('> expected');
        i++;
        if (node.children.length && node.text.trim()) fail(`mixed content in <${n}>`);
        return node;
      }
      node.children.push(element());
    }
  }
  const root = element();
  ws();
  if (i !== text.length) fail('content after the root element');
  return root;
}

const child = (node, n) => node.children.find((c) => c.name === n);
const textOf = (node, n) => child(node, n)?.text;

// ---- HTTP helpers ----------------------------------------------------------

async function get(path, format) {
  const r = await fetch(`${base}/${path.replace('{f}', format)}`);
  const text = await r.text();
  return { status: r.status, type: r.headers.get('content-type') || '', text, body: format === 'json' ? JSON.parse(text) : parseXml(text) };
}

async function post(path, format, fields) {
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) {
    for (const x of Array.isArray(v) ? v : [v]) form.append(k, x);
  }
  const r = await fetch(`${base}/${path.replace('{f}', format)}`, {
    method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form.toString(),
  });
  const text = await r.text();
  return { status: r.status, type: r.headers.get('content-type') || '', text, body: format === 'json' ? JSON.parse(text) : parseXml(text) };
}

// The error format: [{code, description}] / <errors><error><code/><description/></error></errors>,
// with code matching the HTTP status.
function assertErrors(r, format, statuses) {
  assert.ok(statuses.includes(r.status), `status ${r.status} not in ${statuses}: ${r.text}`);
  if (format === 'json') {
    assert.match(r.type, /application\/json/);
    assert.ok(Array.isArray(r.body) && r.body.length >= 1, r.text);
    for (const e of r.body) {
      assert.equal(Number(e.code), r.status, r.text);
      assert.equal(typeof e.description, 'string');
      assert.ok(e.description.length > 0);
    }
  } else {
    assert.match(r.type, /text\/xml/);
    assert.equal(r.body.name, 'errors', r.text);
    assert.ok(r.body.children.length >= 1);
    for (const e of r.body.children) {
      assert.equal(e.name, 'error');
      assert.equal(Number(textOf(e, 'code')), r.status, r.text);
      assert.ok(textOf(e, 'description')?.length > 0, r.text);
    }
  }
}

const ISO8601_TZ = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
const DATATYPES = ['string', 'number', 'datetime', 'text', 'singlevaluelist', 'multivaluelist'];

// Turns a <request> element into the JSON shape for comparison.
function requestFromXml(node) {
  const o = {};
  for (const c of node.children) o[c.name] = c.text;
  return o;
}

// Answers to a service definition's required attributes (the first key of lists).
function answersFor(def) {
  const out = {};
  for (const a of def.attributes || []) {
    if (!a.variable) continue;
    const v = a.datatype === 'number' ? '3' : a.datatype === 'datetime' ? '2026-11-20T20:00:00+08:00'
      : a.values?.length ? a.values[0].key : 'answer';
    if (a.datatype === 'multivaluelist') out[`attribute[${a.code}][]`] = [v];
    else out[`attribute[${a.code}]`] = v;
  }
  return out;
}

// ---- the client ---------------------------------------------------------------

let services, withAttrs, definition, created;

test('service discovery names GeoReport v2 and both formats', async () => {
  for (const f of ['json', 'xml']) {
    const r = await get('discovery.{f}', f);
    assert.equal(r.status, 200, r.text);
    if (f === 'json') {
      const ep = r.body.endpoints.find((e) => /GeoReport_v2/.test(e.specification));
      assert.ok(ep, r.text);
      assert.ok(ep.formats.includes('text/xml') && ep.formats.includes('application/json'));
      assert.ok(r.body.changeset && r.body.contact !== undefined);
    } else {
      assert.equal(r.body.name, 'discovery');
      const eps = child(r.body, 'endpoints').children;
      const ep = eps.find((e) => /GeoReport_v2/.test(textOf(e, 'specification')));
      assert.ok(ep, r.text);
      const formats = child(ep, 'formats').children.map((x) => x.text);
      assert.ok(formats.includes('text/xml') && formats.includes('application/json'));
    }
  }
});

test('GET services: the list, the same in JSON and XML', async () => {
  const j = await get('services.{f}', 'json');
  assert.equal(j.status, 200, j.text);
  assert.match(j.type, /application\/json/);
  assert.ok(Array.isArray(j.body) && j.body.length > 10);
  for (const s of j.body) {
    assert.equal(typeof s.service_code, 'string');
    assert.ok(s.service_name);
    assert.equal(typeof s.metadata, 'boolean');
    assert.ok(['realtime', 'batch', 'blackbox'].includes(s.type));
    assert.ok('description' in s && 'keywords' in s && 'group' in s);
  }
  services = j.body;
  const x = await get('services.{f}', 'xml');
  assert.equal(x.status, 200);
  assert.match(x.type, /text\/xml/);
  assert.equal(x.body.name, 'services');
  assert.deepEqual(x.body.children.map((s) => textOf(s, 'service_code')), services.map((s) => s.service_code));
  assert.deepEqual(x.body.children.map((s) => textOf(s, 'service_name')), services.map((s) => s.service_name));
  assert.deepEqual(x.body.children.map((s) => textOf(s, 'metadata')), services.map((s) => String(s.metadata)));
  withAttrs = services.find((s) => s.metadata);
  assert.ok(withAttrs, 'at least one service asks for extra fields');
});

test('GET services/{code}: the service definition and its attributes', async () => {
  const j = await get(`services/${withAttrs.service_code}.{f}`, 'json');
  assert.equal(j.status, 200, j.text);
  assert.equal(j.body.service_code, withAttrs.service_code);
  assert.ok(j.body.attributes.length > 0);
  for (const a of j.body.attributes) {
    assert.equal(typeof a.variable, 'boolean');
    assert.ok(a.code && a.description);
    assert.ok(DATATYPES.includes(a.datatype), a.datatype);
    assert.equal(typeof a.required, 'boolean');
    assert.ok(Number.isInteger(Number(a.order)));
    if (a.datatype.endsWith('valuelist')) assert.ok(a.values.length && a.values.every((v) => v.key !== undefined && v.name));
  }
  definition = j.body;
  const x = await get(`services/${withAttrs.service_code}.{f}`, 'xml');
  assert.equal(x.status, 200);
  assert.equal(x.body.name, 'service_definition');
  assert.equal(textOf(x.body, 'service_code'), withAttrs.service_code);
  const attrs = child(x.body, 'attributes').children;
  assert.deepEqual(attrs.map((a) => textOf(a, 'code')), definition.attributes.map((a) => a.code));
  const list = attrs.find((a) => child(a, 'values'));
  if (list) assert.ok(child(list, 'values').children.every((v) => v.name === 'value' && textOf(v, 'key') !== undefined));
});

test('POST requests with a location and an attribute, in JSON and in XML', async () => {
  const fields = {
    api_key: apiKey, service_code: withAttrs.service_code,
    lat: '30.0501', long: '103.5102', address_string: '城南街道 幸福路 12 号',
    email: 'li.resident@example.cn', first_name: '小明', last_name: '李', phone: '13800001111',
    description: '路口有个井盖不见了, 晚上很危险 <快来> & "quick"', media_url: 'https://example.cn/photo/1.jpg',
    device_id: 'test-phone-1', account_id: 'acct-77',
    ...answersFor(definition),
  };
  const j = await post('requests.{f}', 'json', fields);
  assert.ok([200, 201].includes(j.status), j.text);
  assert.ok(Array.isArray(j.body) && j.body.length === 1, j.text);
  assert.ok(j.body[0].service_request_id || j.body[0].token, j.text);
  created = j.body[0];

  const x = await post('requests.{f}', 'xml', { ...fields, description: 'second report, XML' });
  assert.ok([200, 201].includes(x.status), x.text);
  assert.equal(x.body.name, 'service_requests');
  const req = child(x.body, 'request');
  assert.ok(textOf(req, 'service_request_id') || textOf(req, 'token'), x.text);
  assert.notEqual(textOf(req, 'service_request_id'), created.service_request_id);
});

test('GET requests/{id} reads it back, in JSON and XML', async () => {
  assert.ok(created.service_request_id, 'this server answers with an id at once');
  const path = `requests/${created.service_request_id}.{f}?api_key=${encodeURIComponent(apiKey)}`;
  const j = await get(path, 'json');
  assert.equal(j.status, 200, j.text);
  assert.equal(j.body.length, 1);
  const r = j.body[0];
  assert.equal(String(r.service_request_id), String(created.service_request_id));
  assert.equal(r.service_code, withAttrs.service_code);
  assert.ok(['open', 'closed'].includes(r.status));
  assert.equal(r.status, 'open');
  assert.match(r.requested_datetime, ISO8601_TZ);
  assert.match(r.updated_datetime, ISO8601_TZ);
  if (r.expected_datetime) assert.match(r.expected_datetime, ISO8601_TZ);
  assert.ok(Math.abs(Number(r.lat) - 30.0501) < 1e-6 && Math.abs(Number(r.long) - 103.5102) < 1e-6, JSON.stringify(r));
  assert.match(r.description, /井盖不见了/);
  assert.equal(r.media_url, 'https://example.cn/photo/1.jpg');
  assert.ok('agency_responsible' in r && 'service_notice' in r && 'status_notes' in r && 'address' in r);

  const x = await get(path, 'xml');
  assert.equal(x.status, 200, x.text);
  assert.equal(x.body.name, 'service_requests');
  const xr = requestFromXml(child(x.body, 'request'));
  assert.equal(xr.service_request_id, String(created.service_request_id));
  assert.equal(xr.status, r.status);
  assert.equal(xr.service_code, r.service_code);
  assert.equal(xr.description, r.description, 'escaped text survives the XML round trip');
  assert.equal(xr.requested_datetime, r.requested_datetime);
});

test('GET tokens/{token} gives the service_request_id', async () => {
  if (!created.token) return; // a server may answer with the id only
  for (const f of ['json', 'xml']) {
    const r = await get(`tokens/${created.token}.{f}`, f);
    assert.equal(r.status, 200, r.text);
    const id = f === 'json' ? r.body[0].service_request_id : textOf(child(r.body, 'request'), 'service_request_id');
    assert.equal(String(id), String(created.service_request_id));
  }
});

test('GET requests filters by id list, service_code, status and date', async () => {
  const key = `api_key=${encodeURIComponent(apiKey)}`;
  const now = Date.now();
  const iso = (t) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const start = iso(now - 3600e3), end = iso(now + 3600e3);
  const ids = (r, f) => (f === 'json' ? r.body.map((x) => String(x.service_request_id))
    : r.body.children.map((c) => textOf(c, 'service_request_id')));
  for (const f of ['json', 'xml']) {
    let r = await get(`requests.{f}?${key}&status=open&start_date=${start}&end_date=${end}`, f);
    assert.equal(r.status, 200, r.text);
    assert.ok(ids(r, f).includes(String(created.service_request_id)), r.text);
    r = await get(`requests.{f}?${key}&status=closed&start_date=${start}&end_date=${end}`, f);
    assert.equal(r.status, 200, r.text);
    assert.ok(!ids(r, f).includes(String(created.service_request_id)));
    r = await get(`requests.{f}?${key}&service_code=${withAttrs.service_code}`, f);
    assert.ok(ids(r, f).includes(String(created.service_request_id)));
    const other = services.find((s) => s.service_code !== withAttrs.service_code).service_code;
    r = await get(`requests.{f}?${key}&service_code=${other}`, f);
    assert.ok(!ids(r, f).includes(String(created.service_request_id)));
    // a window that ends before the request was made
    r = await get(`requests.{f}?${key}&start_date=${iso(now - 30 * 86400e3)}&end_date=${iso(now - 20 * 86400e3)}`, f);
    assert.equal(r.status, 200);
    assert.ok(!ids(r, f).includes(String(created.service_request_id)));
    // a time zone offset (with the '+' escaped, as a URL needs)
    const local = new Date(now + 8 * 3600e3 + 3600e3).toISOString().slice(0, 19) + '+08:00';
    r = await get(`requests.{f}?${key}&end_date=${encodeURIComponent(local)}`, f);
    assert.ok(ids(r, f).includes(String(created.service_request_id)), r.text);
    // the id list overrides the other filters
    r = await get(`requests.{f}?${key}&service_request_id=${created.service_request_id}&status=closed`, f);
    assert.deepEqual(ids(r, f), [String(created.service_request_id)]);
  }
});

test('errors: missing api_key, unknown service_code, malformed date — JSON and XML', async () => {
  for (const f of ['json', 'xml']) {
    const noKey = await post('requests.{f}', f, { service_code: withAttrs.service_code, lat: '30.05', long: '103.51', description: 'x' });
    assertErrors(noKey, f, [400, 401, 403]);
    const badKey = await post('requests.{f}', f, { api_key: 'wt_' + '0'.repeat(48), service_code: withAttrs.service_code, lat: '30.05', long: '103.51' });
    assertErrors(badKey, f, [401, 403]);
    const unknown = await post('requests.{f}', f, { api_key: apiKey, service_code: 'NO-SUCH-SERVICE', lat: '30.05', long: '103.51', description: 'x' });
    assertErrors(unknown, f, [400, 404]);
    assertErrors(await get('services/NO-SUCH-SERVICE.{f}', f), f, [404]);
    assertErrors(await get('requests.{f}?start_date=2026-13-45T99:00:00Z', f), f, [400]);
    assertErrors(await get('requests.{f}?end_date=yesterday', f), f, [400]);
    assertErrors(await get('requests/999999999.{f}', f), f, [404]);
    // no location at all
    const noLoc = await post('requests.{f}', f, { api_key: apiKey, service_code: withAttrs.service_code, description: 'x', ...answersFor(definition) });
    assertErrors(noLoc, f, [400]);
  }
});

test('a required attribute left out is refused; jurisdiction_id is checked', async () => {
  const required = definition.attributes.find((a) => a.required);
  if (required) {
    const answers = answersFor(definition);
    delete answers[`attribute[${required.code}]`];
    delete answers[`attribute[${required.code}][]`];
    const r = await post('requests.{f}', 'json', { api_key: apiKey, service_code: withAttrs.service_code, lat: '30.05', long: '103.51', description: 'x', ...answers });
    assertErrors(r, 'json', [400]);
    assert.match(r.body[0].description, new RegExp(required.code));
  }
  assertErrors(await get('services.{f}?jurisdiction_id=no.such.city', 'json'), 'json', [400, 404]);
  assertErrors(await get('services.{f}?jurisdiction_id=no.such.city', 'xml'), 'xml', [400, 404]);
});

// ---- whistle's side (not the spec): the same work order as any other -----

test("whistle's side: the request is a work order from channel open311, audited; reads without api_key are the public view", async () => {
  const admin = await adminClient(srv);
  const o = await admin.get(`/api/v1/orders/${created.service_request_id}`);
  assert.equal(o.status, 200, o.text);
  const order = o.body.order || o.body;
  assert.equal(order.channel, 'open311');
  assert.equal(order.category_code ?? order.category?.code, withAttrs.service_code);
  const audit = await admin.get(`/api/v1/audit?object_type=order&object_id=${created.service_request_id}`);
  assert.equal(audit.status, 200, audit.text);
  assert.ok(audit.body.items.some((e) => e.login === 'open311.app'), audit.text);
  // without an api_key: no description, address or exact position
  const pub = await get(`requests/${created.service_request_id}.{f}`, 'json');
  assert.equal(pub.status, 200, pub.text);
  assert.equal(pub.body[0].description, null);
  assert.equal(pub.body[0].address, null);
  assert.equal(pub.body[0].status, 'open');
});
