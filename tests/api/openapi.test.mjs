// The route table and the OpenAPI document (docs/openapi.json, served at
// /api/v1/openapi.json) cannot drift: every route of GET /api/v1/routes
// (generated from src/routes.c at run time) must be documented with the
// same permission, every documented operation must exist, every operation
// has a description, an example and its errors, every example fits its
// schema, and the real responses of the documented GET routes fit theirs.
//
// When this fails after you added a route: describe it in docs/openapi.json
// (the failure lists what is missing), then re-run.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, Client, SRC } from './lib.mjs';

let srv, routes, doc, admin;
before(async () => {
  srv = await startServer({ demo: true });
  const anon = new Client(srv.url);
  const r = await anon.get('/api/v1/routes');
  assert.equal(r.status, 200, r.text);
  routes = r.body.items;
  const o = await anon.get('/api/v1/openapi.json');
  assert.equal(o.status, 200, o.text);
  doc = o.body;
  admin = new Client(srv.url);
  const l = await admin.login('admin', 'whistle-admin');
  assert.equal(l.status, 200, 'demo admin login: ' + l.text);
});
after(async () => { await srv.stop(); srv.cleanup(); });

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

function operations() {
  const out = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const m of Object.keys(item)) {
      if (METHODS.includes(m)) out.push({ path, method: m.toUpperCase(), op: item[m] });
    }
  }
  return out;
}

// ---- a small JSON Schema (2020-12 subset) validator --------------------

function resolve(ref) {
  assert.ok(ref.startsWith('#/'), `only local $ref: ${ref}`);
  let node = doc;
  for (const part of ref.slice(2).split('/')) {
    node = node?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  assert.ok(node !== undefined, `unresolved $ref ${ref}`);
  return node;
}

function typeOf(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (Number.isInteger(v)) return 'integer';
  return typeof v;
}

// Returns a list of problems (empty when v fits schema).
function validate(schema, v, where = '$', depth = 0) {
  if (depth > 40) return [];
  if (schema === true || schema === undefined) return [];
  if (schema === false) return [`${where}: not allowed`];
  if (schema.$ref) return validate(resolve(schema.$ref), v, where, depth + 1);
  const errs = [];
  if (schema.type) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    const t = typeOf(v);
    const ok = types.some((x) => x === t || (x === 'number' && t === 'integer'));
    if (!ok) return [`${where}: expected ${types.join('|')}, got ${t} (${JSON.stringify(v)?.slice(0, 80)})`];
  }
  if ('const' in schema && JSON.stringify(schema.const) !== JSON.stringify(v)) errs.push(`${where}: expected ${JSON.stringify(schema.const)}`);
  if (schema.enum && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(v))) errs.push(`${where}: ${JSON.stringify(v)} not in ${JSON.stringify(schema.enum)}`);
  if (typeof v === 'number') {
    if (schema.minimum !== undefined && v < schema.minimum) errs.push(`${where}: below ${schema.minimum}`);
    if (schema.maximum !== undefined && v > schema.maximum) errs.push(`${where}: above ${schema.maximum}`);
  }
  if (typeof v === 'string') {
    const n = [...v].length;
    if (schema.minLength !== undefined && n < schema.minLength) errs.push(`${where}: shorter than ${schema.minLength}`);
    if (schema.maxLength !== undefined && n > schema.maxLength) errs.push(`${where}: longer than ${schema.maxLength}`);
    if (schema.pattern && !new RegExp(schema.pattern, 'u').test(v)) errs.push(`${where}: does not match ${schema.pattern}`);
  }
  if (Array.isArray(v) && schema.items) {
    v.forEach((x, i) => errs.push(...validate(schema.items, x, `${where}[${i}]`, depth + 1)));
  }
  if (typeOf(v) === 'object') {
    for (const k of schema.required || []) if (!(k in v)) errs.push(`${where}: missing required ${k}`);
    const props = schema.properties || {};
    for (const [k, x] of Object.entries(v)) {
      if (props[k]) errs.push(...validate(props[k], x, `${where}.${k}`, depth + 1));
      else if (schema.additionalProperties !== undefined) errs.push(...validate(schema.additionalProperties, x, `${where}.${k}`, depth + 1));
    }
  }
  if (schema.allOf) for (const s of schema.allOf) errs.push(...validate(s, v, where, depth + 1));
  if (schema.anyOf && !schema.anyOf.some((s) => validate(s, v, where, depth + 1).length === 0)) errs.push(`${where}: matches none of anyOf`);
  if (schema.oneOf && schema.oneOf.filter((s) => validate(s, v, where, depth + 1).length === 0).length !== 1) errs.push(`${where}: must match exactly one of oneOf`);
  return errs;
}

function walkRefs(node, path, out) {
  if (Array.isArray(node)) node.forEach((x, i) => walkRefs(x, `${path}[${i}]`, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref') out.push({ ref: v, path });
      else if (k !== 'example' && k !== 'examples') walkRefs(v, `${path}.${k}`, out);
    }
  }
}

// ---- the tests ---------------------------------------------------------

test('the served document is docs/openapi.json, an OpenAPI 3.1 document', () => {
  const onDisk = JSON.parse(readFileSync(join(SRC, 'docs/openapi.json'), 'utf8'));
  assert.deepEqual(doc, onDisk, 'rebuild: the binary embeds an old docs/openapi.json');
  assert.match(doc.openapi, /^3\.1\.\d+$/);
  assert.ok(doc.info?.title && doc.info?.version && doc.info?.description);
  assert.ok(doc.components?.schemas?.Error, 'the error body is described');
  assert.ok(doc.components?.securitySchemes?.bearerToken && doc.components?.securitySchemes?.sessionCookie);
  const refs = [];
  walkRefs(doc, '$', refs);
  for (const { ref, path } of refs) assert.doesNotThrow(() => resolve(ref), `${path}: $ref ${ref}`);
});

test('every route of the table is documented, and every documented operation is a route', () => {
  const documented = new Set(operations().map((o) => `${o.method} ${o.path}`));
  const table = new Set(routes.map((r) => `${r.method} ${r.pattern}`));
  const missing = [...table].filter((k) => !documented.has(k));
  const extra = [...documented].filter((k) => !table.has(k));
  assert.deepEqual(missing, [], `routes missing from docs/openapi.json:\n  ${missing.join('\n  ')}`);
  assert.deepEqual(extra, [], `docs/openapi.json documents routes that do not exist:\n  ${extra.join('\n  ')}`);
  assert.equal(table.size, routes.length, 'no route is listed twice');
});

test('every operation: permission as in the table, description, tag, parameters, examples, errors', () => {
  const byKey = new Map(routes.map((r) => [`${r.method} ${r.pattern}`, r]));
  const tags = new Set((doc.tags || []).map((t) => t.name));
  const ids = new Set();
  const problems = [];
  for (const { path, method, op } of operations()) {
    const k = `${method} ${path}`;
    const rt = byKey.get(k);
    if (!rt) continue; // reported by the previous test
    const p = (msg) => problems.push(`${k}: ${msg}`);
    if (op['x-permission'] !== rt.permission) p(`x-permission ${op['x-permission']} but the route needs ${rt.permission}`);
    if (rt.permission === 'public' && !(Array.isArray(op.security) && op.security.length === 0)) p('public route must have security: []');
    if (rt.permission !== 'public' && op.security && op.security.length === 0) p('route needs a login but says security: []');
    if (!op.summary) p('no summary');
    if (!op.description || op.description.length < 20) p('no real description');
    if (!op.operationId) p('no operationId');
    else if (ids.has(op.operationId)) p(`duplicate operationId ${op.operationId}`);
    ids.add(op.operationId);
    if (!op.tags?.length || !op.tags.every((t) => tags.has(t))) p(`tags ${op.tags} not declared in the top-level tags`);
    // path parameters: exactly those of the pattern
    const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    const params = (op.parameters || []).map((x) => (x.$ref ? resolve(x.$ref) : x));
    const declared = params.filter((x) => x.in === 'path').map((x) => x.name);
    if (JSON.stringify(names.slice().sort()) !== JSON.stringify(declared.slice().sort())) p(`path parameters ${declared} but the pattern has ${names}`);
    for (const x of params) {
      if (!x.description) p(`parameter ${x.name} has no description`);
      if (!x.schema) p(`parameter ${x.name} has no schema`);
      if (x.in === 'path' && x.example === undefined) p(`path parameter ${x.name} has no example`);
    }
    // request body for JSON routes
    if (rt.flags.includes('json_body')) {
      const c = op.requestBody?.content?.['application/json'];
      if (!c?.schema) p('JSON body route without a requestBody schema');
      else if (c.example === undefined && !c.examples) p('requestBody without an example');
      else {
        const ex = c.example !== undefined ? [c.example] : Object.values(c.examples).map((e) => e.value);
        for (const e of ex) for (const err of validate(c.schema, e, 'requestBody.example')) p(err);
      }
    }
    // responses: a success with an example, and the errors
    const codes = Object.keys(op.responses || {});
    const ok = codes.filter((c) => /^2\d\d$/.test(c));
    if (!ok.length) p('no 2xx response');
    for (const c of codes) {
      const resp = op.responses[c].$ref ? resolve(op.responses[c].$ref) : op.responses[c];
      if (!resp.description) p(`response ${c} has no description`);
      for (const [type, media] of Object.entries(resp.content || {})) {
        const ex = media.example !== undefined ? [media.example] : Object.values(media.examples || {}).map((e) => e.value);
        if (!ex.length && !/^3/.test(c)) p(`response ${c} ${type} has no example`);
        if (type.includes('json') && media.schema) for (const e of ex) for (const err of validate(media.schema, e, `response ${c} example`)) p(err);
      }
      if (/^[45]/.test(c) && !type4xxIsErrorOrSpec(resp, path)) p(`error response ${c} does not use the Error schema`);
    }
    if (rt.permission !== 'public' && (!codes.includes('401') || !codes.includes('403'))) p('a route that needs a login documents 401 and 403');
    if (rt.flags.includes('json_body') && !codes.includes('422') && !codes.includes('400')) p('a JSON body route documents 400/422');
  }
  assert.deepEqual(problems, [], problems.join('\n'));
});

// whistle's own routes answer errors with the Error schema; the Open311
// routes answer in the GeoReport v2 error format (their own schema).
function type4xxIsErrorOrSpec(resp, path) {
  const contents = Object.values(resp.content || {});
  if (!contents.length) return true;
  if (path.startsWith('/open311/')) return contents.every((m) => m.schema);
  return contents.some((m) => m.schema?.$ref === '#/components/schemas/Error' || m.schema?.$ref === '#/components/schemas/Error');
}

test('real answers of the documented GET routes fit their documented schemas', async () => {
  const problems = [];
  let checked = 0;
  for (const { path, method, op } of operations()) {
    if (method !== 'GET' || path === '/api/v1/openapi.json') continue;
    const params = (op.parameters || []).map((x) => (x.$ref ? resolve(x.$ref) : x));
    // fill path parameters from their examples; skip routes needing a required query parameter
    if (params.some((x) => x.in === 'query' && x.required)) continue;
    let url = path;
    for (const x of params.filter((q) => q.in === 'path')) url = url.replace(`{${x.name}}`, encodeURIComponent(String(x.example)));
    const r = await admin.get(url);
    const documented = Object.keys(op.responses);
    if (!documented.includes(String(r.status))) {
      problems.push(`GET ${url}: status ${r.status} is not documented (${documented}): ${r.text.slice(0, 200)}`);
      continue;
    }
    const resp = op.responses[String(r.status)].$ref ? resolve(op.responses[String(r.status)].$ref) : op.responses[String(r.status)];
    const ct = (r.headers.get('content-type') || '').split(';')[0];
    const media = resp.content?.[ct] || resp.content?.[Object.keys(resp.content || {}).find((k) => k.split(';')[0] === ct)];
    if (resp.content && !media) {
      problems.push(`GET ${url}: answered ${ct}, documented ${Object.keys(resp.content)}`);
      continue;
    }
    if (media?.schema && ct.includes('json')) {
      // one line per kind of problem, not one per list item
      const errs = validate(media.schema, r.body, `GET ${url} ${r.status}`).map((x) => x.replace(/\[\d+\]/g, '[]').replace(/ \(.*\)$/, ''));
      problems.push(...new Set(errs));
    }
    checked++;
  }
  assert.ok(checked >= 10, `checked ${checked} routes`);
  assert.deepEqual(problems, [], problems.join('\n'));
});

test('the reference page renders the document (no inline script or style)', async () => {
  const r = await fetch(srv.url + '/api.html');
  assert.equal(r.status, 200);
  const html = await r.text();
  assert.match(r.headers.get('content-security-policy') || '', /script-src 'self'/);
  assert.match(html, /<script[^>]*\ssrc="\/api\.js"/);
  assert.doesNotMatch(html, /<script>(?!<\/script>)|<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=/i);
});
