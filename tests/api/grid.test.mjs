// The grid (issue 3, items 1, 2, 7): levels, a tree created through the API
// and imported with polygons, locate (inside, shared edge, hole,
// multipolygon, outside), scope, split/merge/retire with history, import
// dry run and all-or-nothing, export → re-import, and contact cards whose
// QR code is decoded from a browser rendering of the card page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, Client, adminClient, assertError, cli } from './lib.mjs';

let srv, admin, anon;
before(async () => {
  srv = await startServer();
  admin = await adminClient(srv);
  anon = new Client(srv.url);
});
after(async () => { await srv.stop(); srv.cleanup(); });

// [lng, lat] rectangle as a GeoJSON Polygon (counter-clockwise, closed)
const rect = (x0, y0, x1, y1) => [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]];
const poly = (...rings) => ({ type: 'Polygon', coordinates: rings });
const locate = (c, lat, lng) => c.get(`/api/v1/locate?lat=${lat}&lng=${lng}`);

const LEVELS = [
  { name: 'county', label_zh: '县', code_width: 6 },
  { name: 'street', label_zh: '街道', code_width: 3 },
  { name: 'community', label_zh: '社区', code_width: 3 },
  { name: 'grid', label_zh: '网格', code_width: 3 },
];

test('levels are configured per deployment', async () => {
  // nothing can be created before the levels exist
  assertError(assert, await admin.post('/api/v1/grids', { code: '510199', name: '测试县' }), 409, 'no_levels');
  const bad = await admin.put('/api/v1/grid-levels', { levels: [{ name: 'county', label_zh: '县', code_width: 4 }, LEVELS[1]] });
  assertError(assert, bad, 422, 'invalid_field');
  assert.match(bad.body.error.message, /6-digit/);
  assertError(assert, await admin.put('/api/v1/grid-levels', { levels: [LEVELS[0]] }), 422);
  const r = await admin.put('/api/v1/grid-levels', { levels: LEVELS });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body.items.map((l) => [l.depth, l.label_zh, l.code_length]),
    [[0, '县', 6], [1, '街道', 9], [2, '社区', 12], [3, '网格', 15]]);
  const g = await admin.get('/api/v1/grid-levels');
  assert.equal(g.body.items.length, 4);
});

test('a tree is created through the API with polygons (holes included)', async () => {
  const county = await admin.post('/api/v1/grids', {
    code: '510199', name: '测试县', geometry: poly(rect(104.0, 30.0, 104.4, 30.4)),
  });
  assert.equal(county.status, 201, county.text);
  assert.equal(county.body.depth, 0);
  assert.equal(county.body.level.label_zh, '县');
  // a street by explicit code, the next by "next free code under parent"
  const east = await admin.post('/api/v1/grids', {
    code: '510199001', name: '东街道', kind: 'other', geometry: poly(rect(104.0, 30.0, 104.2, 30.4)),
  });
  assert.equal(east.status, 201, east.text);
  const west = await admin.post('/api/v1/grids', {
    parent_code: '510199', name: '西街道', geometry: poly(rect(104.2, 30.0, 104.4, 30.4)),
  });
  assert.equal(west.status, 201, west.text);
  assert.equal(west.body.code, '510199002');
  assert.equal(west.body.parent_code, '510199');
  const c1 = await admin.post('/api/v1/grids', {
    parent_code: '510199001', name: '锦屏社区', kind: '住宅小区', geometry: poly(rect(104.0, 30.0, 104.2, 30.2)),
  });
  assert.equal(c1.status, 201, c1.text);
  assert.equal(c1.body.code, '510199001001');
  assert.equal(c1.body.kind, 'residential');
  // a community with a hole (a lake that belongs to no community)
  const c2 = await admin.post('/api/v1/grids', {
    parent_code: '510199001', name: '湖畔社区', kind: 'scenic',
    geometry: poly(rect(104.0, 30.2, 104.2, 30.4), rect(104.05, 30.25, 104.1, 30.3)),
  });
  assert.equal(c2.status, 201, c2.text);
  assert.equal(c2.body.code, '510199001002');

  // bad input: a code that fits no level, a parent that does not exist,
  // an unknown kind, a broken polygon, a duplicate code
  assertError(assert, await admin.post('/api/v1/grids', { code: '5101990011', name: 'x' }), 422, 'invalid_field');
  assertError(assert, await admin.post('/api/v1/grids', { code: '510199009001', name: 'x' }), 422, 'invalid_field');
  assertError(assert, await admin.post('/api/v1/grids', { parent_code: '510199', name: 'x', kind: 'castle' }), 422, 'invalid_field');
  const badGeom = await admin.post('/api/v1/grids', { parent_code: '510199', name: 'x', geometry: { type: 'Polygon', coordinates: [[[104, 30], [104.1, 30]]] } });
  assertError(assert, badGeom, 422, 'invalid_geometry');
  assertError(assert, await admin.post('/api/v1/grids', { code: '510199001', name: 'dup' }), 409, 'code_taken');

  const tree = await admin.get('/api/v1/grids?parent=510199001');
  assert.equal(tree.status, 200);
  assert.deepEqual(tree.body.items.map((g) => g.code), ['510199001001', '510199001002']);
  const root = await admin.get('/api/v1/grids');
  assert.deepEqual(root.body.items.map((g) => [g.code, g.children]), [['510199', 2]]);
  const one = await admin.get('/api/v1/grids/510199001002?geometry=1');
  assert.equal(one.body.geometry.coordinates.length, 2, 'outer ring and the hole');
  assert.deepEqual(one.body.path.map((p) => p.name), ['测试县', '东街道', '湖畔社区']);
});

const goodImport = {
  type: 'FeatureCollection',
  features: [
    { type: 'Feature', properties: { code: '510199001001001', name: '第一网格', kind: 'residential', parent_code: '510199001001' },
      geometry: poly(rect(104.0, 30.0, 104.1, 30.2)) },
    { type: 'Feature', properties: { code: '510199001001002', name: '第二网格', kind: 'shops' },
      geometry: poly(rect(104.1, 30.0, 104.2, 30.2)) },
    // a community of two separate pieces (MultiPolygon)
    { type: 'Feature', properties: { code: '510199002001', name: '飞地社区', kind: 'rural' },
      geometry: { type: 'MultiPolygon', coordinates: [[rect(104.2, 30.0, 104.3, 30.1)], [rect(104.3, 30.3, 104.4, 30.4)]] } },
  ],
};

test('grid import: dry run reports every bad feature by number; all or nothing', async () => {
  const bad = structuredClone(goodImport);
  bad.features.push(
    { type: 'Feature', properties: { code: '51019900100', name: '长度不对' }, geometry: null },            // 4: code fits no level
    { type: 'Feature', properties: { code: '510199001001003' }, geometry: null },                       // 5: no name
    { type: 'Feature', properties: { code: '510199001001004', name: '坏边界' },
      geometry: { type: 'Polygon', coordinates: [[[104, 30], [104.1, 30], [104, 30]]] } },              // 6: degenerate ring
    { type: 'Feature', properties: { code: '510199003001', name: '无上级' }, geometry: null },          // 7: parent missing
    { type: 'Feature', properties: { code: '510199002001', name: '重复' }, geometry: null },            // 8: duplicate of 3
    { type: 'Feature', properties: { code: '510199001001005', name: '单位', dept_code: 'NOPE' }, geometry: null }, // 9
  );
  const body = JSON.stringify(bad);
  const dry = await admin.req('POST', '/api/v1/grids/import?dry_run=1', body, { raw: true, headers: { 'Content-Type': 'application/geo+json' } });
  assert.equal(dry.status, 200, dry.text);
  assert.equal(dry.body.committed, false);
  assert.equal(dry.body.rows, 9);
  const byFeature = Object.fromEntries(dry.body.errors.map((e) => [e.feature, e.message]));
  assert.deepEqual(Object.keys(byFeature).map(Number).sort((a, b) => a - b), [4, 5, 6, 7, 8, 9], JSON.stringify(dry.body.errors));
  assert.match(byFeature[4], /levels/);
  assert.match(byFeature[5], /name/);
  assert.match(byFeature[6], /geometry/);
  assert.match(byFeature[7], /parent/);
  assert.match(byFeature[8], /more than once/);
  assert.match(byFeature[9], /NOPE/);
  // a real run with the same file: rejected, nothing written
  const real = await admin.req('POST', '/api/v1/grids/import', body, { raw: true, headers: { 'Content-Type': 'application/geo+json' } });
  assertError(assert, real, 422, 'import_rejected');
  assert.equal(real.body.report.errors.length, 6);
  assertError(assert, await admin.get('/api/v1/grids/510199001001001'), 404);

  const ok = await admin.req('POST', '/api/v1/grids/import', JSON.stringify(goodImport), { raw: true, headers: { 'Content-Type': 'application/geo+json' } });
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual([ok.body.committed, ok.body.created, ok.body.updated, ok.body.errors.length], [true, 3, 0, 0]);
  const g = await admin.get('/api/v1/grids/510199001001002');
  assert.equal(g.body.kind_label, '沿街商铺');
  assert.equal(g.body.parent_code, '510199001001');
});

test('locate: inside, on a shared edge, in a hole, in a multipolygon, outside', async () => {
  // inside: the deepest grid wins
  let r = await locate(admin, 30.1, 104.05);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.grid.code, '510199001001001');
  assert.equal(r.body.grid.depth, 3);
  assert.deepEqual(r.body.grid.path.map((p) => p.level), ['县', '街道', '社区', '网格']);
  // on the edge shared by 第一网格 and 第二网格 (lng 104.1): one answer, the
  // same every time (half-open rule: the eastern grid)
  const answers = new Set();
  for (let i = 0; i < 20; i++) answers.add((await locate(admin, 30.1, 104.1)).body.grid.code);
  assert.deepEqual([...answers], ['510199001001002']);
  // on a horizontal shared edge (lat 30.2 between the two communities): the northern one
  r = await locate(admin, 30.2, 104.15);
  assert.equal(r.body.grid.code, '510199001002');
  // on the vertex shared by four grids
  r = await locate(admin, 30.2, 104.1);
  assert.equal(r.body.grid.code, '510199001002');
  // on the street boundary (lng 104.2): 西街道, never both
  r = await locate(admin, 30.35, 104.2);
  assert.equal(r.body.grid.code, '510199002');
  // in the hole of 湖畔社区: not the community, but the street around it
  r = await locate(admin, 30.27, 104.07);
  assert.equal(r.body.grid.code, '510199001');
  // in each piece of the multipolygon
  assert.equal((await locate(admin, 30.05, 104.25)).body.grid.code, '510199002001');
  assert.equal((await locate(admin, 30.35, 104.35)).body.grid.code, '510199002001');
  assert.equal((await locate(admin, 30.2, 104.35)).body.grid.code, '510199002');
  // outside everything: a clear "no grid"
  r = await locate(admin, 31.0, 105.0);
  assertError(assert, r, 404, 'no_grid');
  assert.match(r.body.error.message, /no grid/);
  // on the county's outer east edge: outside (half-open)
  assertError(assert, await locate(admin, 30.1, 104.4), 404, 'no_grid');
  // bad coordinates
  assertError(assert, await admin.get('/api/v1/locate?lat=91&lng=104'), 422);
  assertError(assert, await admin.get('/api/v1/locate?lat=abc&lng=104'), 422);
  assertError(assert, await admin.get('/api/v1/locate?lng=104'), 422);
  // the public variant (resident page) gives code and name only
  r = await anon.get('/api/v1/public/locate?lat=30.1&lng=104.05');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body, { code: '510199001001001', name: '第一网格' });
  assertError(assert, await anon.get('/api/v1/public/locate?lat=0&lng=0'), 404, 'no_grid');
  assertError(assert, await anon.get('/api/v1/locate?lat=30.1&lng=104.05'), 401);
  // the resident page's picker
  const pg = await anon.get('/api/v1/public/grids?parent=510199');
  assert.deepEqual(pg.body.items.map((x) => [x.code, x.name, x.has_children]), [['510199001', '东街道', true], ['510199002', '西街道', true]]);
  assert.equal(pg.body.items[0].duties, undefined, 'names and codes only');
});

let gwId;
test('duties and 包保单位; a grid worker sees only their subtree', async () => {
  const dept = await admin.post('/api/v1/departments', { code: 'CGJ', name: '县城市管理局', phone: '0838-1234567' });
  assert.equal(dept.status, 201, dept.text);
  const u = await admin.post('/api/v1/users', { login: 'gw.liu', name: '刘网格', role: 'grid_worker', scope_grid: '510199001001', phone: '13800000001', password: 'gridworker-1' });
  assert.equal(u.status, 201, u.text);
  gwId = u.body.id;
  const d = await admin.put('/api/v1/grids/510199001001/duties', {
    duties: [{ duty: 'grid_head', user_id: gwId }, { duty: '网格员', name: '王五', phone: '13900000002' }, { duty: '党员中心户', name: '赵六' }],
    dept_code: 'CGJ',
  });
  assert.equal(d.status, 200, d.text);
  assert.deepEqual(d.body.duties.map((x) => [x.duty, x.duty_label, x.name]),
    [['grid_head', '网格长', '刘网格'], ['grid_worker', '网格员', '王五'], ['party_household', '党员中心户', '赵六']]);
  assert.equal(d.body.duties[0].phone, '13800000001', 'an account holder\'s phone comes from the account');
  assert.equal(d.body.dept.code, 'CGJ');
  assertError(assert, await admin.put('/api/v1/grids/510199001001/duties', { duties: [{ duty: '村长', name: 'x' }] }), 422);
  assertError(assert, await admin.put('/api/v1/grids/510199001001/duties', { duties: [{ duty: 'grid_head' }] }), 422);

  const gw = new Client(srv.url);
  assert.equal((await gw.login('gw.liu', 'gridworker-1')).status, 200);
  const roots = await gw.get('/api/v1/grids');
  assert.deepEqual(roots.body.items.map((g) => g.code), ['510199001001']);
  const sub = await gw.get('/api/v1/grids?tree=1&parent=510199');
  assert.ok(sub.body.items.length >= 3);
  assert.ok(sub.body.items.every((g) => g.code.startsWith('510199001001')), JSON.stringify(sub.body.items.map((g) => g.code)));
  assert.deepEqual((await gw.get('/api/v1/grids?parent=510199')).body.items, []);
  assertError(assert, await gw.get('/api/v1/grids/510199002'), 404);
  assertError(assert, await gw.get('/api/v1/grids/510199001002'), 404);
  assert.equal((await gw.get('/api/v1/grids/510199001001001')).status, 200);
  const map = await gw.get('/api/v1/grids.geojson');
  assert.equal(map.status, 200);
  const fc = JSON.parse(map.text);
  assert.equal(fc.type, 'FeatureCollection');
  assert.ok(fc.features.length >= 3);
  assert.ok(fc.features.every((f) => f.properties.code.startsWith('510199001001')));
  const exp = await gw.get('/api/v1/grids/export');
  const lines = exp.text.trim().split('\r\n').slice(1);
  assert.ok(lines.length >= 3 && lines.every((l) => l.startsWith('510199001001')), exp.text.slice(0, 300));
  // cards of another community: absent
  assertError(assert, await gw.get('/api/v1/grids/510199002001/cards'), 404);
  // no writes for a grid worker
  assertError(assert, await gw.post('/api/v1/grids', { parent_code: '510199001001', name: 'x' }), 403, 'forbidden');
  // locating is not scoped (any point may be reported)
  assert.equal((await locate(gw, 30.35, 104.35)).body.grid.code, '510199002001');
  // the admin map sees everything, filtered by depth
  const all = JSON.parse((await admin.get('/api/v1/grids.geojson?depth=1')).text);
  assert.deepEqual(all.features.map((f) => f.properties.code), ['510199001', '510199002']);
});

test('split, merge and retire keep history; locate follows the new grids', async () => {
  const before = await admin.get('/api/v1/grids/510199001001002');
  const oldId = before.body.id;
  // split 第二网格 into two halves
  const sp = await admin.post('/api/v1/grids/510199001001002/split', {
    reason: '网格优化调整',
    parts: [
      { name: '第二网格西片', geometry: poly(rect(104.1, 30.0, 104.15, 30.2)) },
      { name: '第二网格东片', geometry: poly(rect(104.15, 30.0, 104.2, 30.2)) },
    ],
  });
  assert.equal(sp.status, 200, sp.text);
  assert.deepEqual(sp.body.retired, ['510199001001002']);
  assert.deepEqual(sp.body.created, ['510199001001003', '510199001001004']);
  const old = await admin.get('/api/v1/grids/510199001001002');
  assert.equal(old.body.id, oldId, 'the old grid keeps its row and id');
  assert.equal(old.body.status, 'retired');
  assert.deepEqual(old.body.replaced_by, ['510199001001003', '510199001001004']);
  assert.equal(old.body.retire_reason, '网格优化调整');
  const part = await admin.get('/api/v1/grids/510199001001004');
  assert.deepEqual(part.body.replaces, ['510199001001002']);
  assert.equal(part.body.kind, 'shops', 'kind carried over');
  assert.equal((await locate(admin, 30.1, 104.12)).body.grid.code, '510199001001003');
  assert.equal((await locate(admin, 30.1, 104.17)).body.grid.code, '510199001001004');
  // retired grids are listed only on request
  const act = await admin.get('/api/v1/grids?parent=510199001001');
  assert.deepEqual(act.body.items.map((g) => g.code), ['510199001001001', '510199001001003', '510199001001004']);
  const allc = await admin.get('/api/v1/grids?parent=510199001001&status=all');
  assert.equal(allc.body.items.length, 4);
  // a retired grid cannot be changed or split again
  assertError(assert, await admin.patch('/api/v1/grids/510199001001002', { name: 'x' }), 409, 'grid_retired');

  // merge the halves back into one grid (their polygons, side by side)
  const mg = await admin.post('/api/v1/grids/510199001001003/merge', { with: ['510199001001004'], name: '第二网格（合并）', reason: '撤并' });
  assert.equal(mg.status, 200, mg.text);
  assert.deepEqual(mg.body.created, ['510199001001005']);
  assert.deepEqual(mg.body.retired.sort(), ['510199001001003', '510199001001004']);
  assert.equal((await locate(admin, 30.1, 104.12)).body.grid.code, '510199001001005');
  assert.equal((await locate(admin, 30.1, 104.17)).body.grid.code, '510199001001005');
  // the edge inside the merged grid still belongs to it; the edge with 第一网格 is still one answer
  assert.equal((await locate(admin, 30.1, 104.15)).body.grid.code, '510199001001005');
  assert.equal((await locate(admin, 30.1, 104.1)).body.grid.code, '510199001001005');
  assertError(assert, await admin.post('/api/v1/grids/510199001001005/merge', { with: ['510199002001'] }), 422);

  // split a street with a child: the child moves (new code), the old one is retired
  const sp2 = await admin.post('/api/v1/grids/510199002/split', {
    parts: [
      { name: '西街道南', geometry: poly(rect(104.2, 30.0, 104.4, 30.2)), children: ['510199002001'] },
      { name: '西街道北', geometry: poly(rect(104.2, 30.2, 104.4, 30.4)) },
    ],
  });
  assert.equal(sp2.status, 200, sp2.text);
  assert.deepEqual(sp2.body.created, ['510199003', '510199004']);
  assert.deepEqual(sp2.body.moved, [{ from: '510199002001', to: '510199003001' }]);
  const moved = await admin.get('/api/v1/grids/510199002001');
  assert.equal(moved.body.status, 'retired');
  assert.deepEqual(moved.body.replaced_by, ['510199003001']);
  assert.equal((await locate(admin, 30.35, 104.35)).body.grid.code, '510199003001');
  assert.equal((await locate(admin, 30.35, 104.25)).body.grid.code, '510199004');
  // every active child must be given to a part
  assertError(assert, await admin.post('/api/v1/grids/510199003/split', { parts: [{ name: 'a' }, { name: 'b' }] }), 422, 'invalid_field');

  // retire: refused while children are active, unless cascading
  assertError(assert, await admin.post('/api/v1/grids/510199001/retire', {}), 409, 'has_active_children');
  const rt = await admin.post('/api/v1/grids/510199001002/retire', { reason: '并入景区管理' });
  assert.equal(rt.status, 200, rt.text);
  assert.equal(rt.body.status, 'retired');
  assert.equal((await locate(admin, 30.35, 104.15)).body.grid.code, '510199001', 'the street takes over');

  // the audit trail has every change
  const au = await admin.get('/api/v1/audit?object_type=grid&limit=100');
  const actions = au.body.items.map((x) => x.action);
  for (const a of ['grid.create', 'grid.import', 'grid.update', 'grid.split', 'grid.merge', 'grid.retire']) assert.ok(actions.includes(a), a);
});

test('export then re-import changes nothing; CLI import is seen by the running server', async () => {
  const exp = await admin.get('/api/v1/grids/export?format=csv');
  assert.equal(exp.status, 200);
  assert.match(exp.headers.get('content-type'), /text\/csv/);
  const n = exp.text.trim().split('\r\n').length - 1;
  const re = await admin.req('POST', '/api/v1/grids/import', exp.text, { raw: true, headers: { 'Content-Type': 'text/csv' } });
  assert.equal(re.status, 200, re.text);
  assert.deepEqual([re.body.created, re.body.updated, re.body.errors.length, re.body.committed], [0, n, 0, true]);
  const exp2 = await admin.get('/api/v1/grids/export?format=csv');
  assert.equal(exp2.text, exp.text, 'the export of the re-imported tree is identical');
  const gj = await admin.get('/api/v1/grids/export?format=geojson');
  const re2 = await admin.req('POST', '/api/v1/grids/import?dry_run=1', gj.text, { raw: true, headers: { 'Content-Type': 'application/geo+json' } });
  assert.deepEqual([re2.body.created, re2.body.updated, re2.body.errors.length], [0, n, 0]);

  // CSV with Chinese headers and a BOM through `whistle import grids`, while the server runs
  const dir = mkdtempSync(join(tmpdir(), 'whistle-grid-'));
  const file = join(dir, 'grids.csv');
  const geom = JSON.stringify(poly(rect(104.2, 30.2, 104.3, 30.4))).replace(/"/g, '""');
  writeFileSync(file, '\ufeff编码,名称,类型,上级编码,网格员,网格员电话,边界\r\n' +
    `510199004001,北片社区,林盘,510199004,张三、李四,13900000011、13900000012,"${geom}"\r\n`);
  const dry = cli(['import', 'grids', file, '--db', srv.db, '--dry-run']);
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stdout, /dry run: 1 rows ok/);
  const bad = join(dir, 'bad.csv');
  writeFileSync(bad, 'code,name\r\n510199004002,好的\r\n510199009001,无上级\r\n,无编码\r\n');
  const b = cli(['import', 'grids', bad, '--db', srv.db]);
  assert.equal(b.status, 1);
  assert.match(b.stderr, /line 3: 510199009001: parent_code/);
  assert.match(b.stderr, /line 4: code: required/);
  const run = cli(['import', 'grids', file, '--db', srv.db]);
  assert.equal(run.status, 0, run.stderr);
  const g = await admin.get('/api/v1/grids/510199004001');
  assert.equal(g.body.kind, 'rural');
  assert.deepEqual(g.body.duties.map((x) => [x.name, x.phone]), [['张三', '13900000011'], ['李四', '13900000012']]);
  assertError(assert, await admin.get('/api/v1/grids/510199004002'), 404, 'not_found');
  // the server's locate index notices the other process's write (within ~1 s)
  let code;
  for (let i = 0; i < 40 && code !== '510199004001'; i++) {
    code = (await locate(admin, 30.3, 104.25)).body.grid?.code;
    if (code !== '510199004001') await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(code, '510199004001');
  const ex = cli(['export', 'grids', '--db', srv.db, '--format', 'geojson']);
  assert.equal(ex.status, 0, ex.stderr);
  assert.ok(JSON.parse(ex.stdout).features.some((f) => f.properties.code === '510199004001'));
  rmSync(dir, { recursive: true, force: true });
});

function have(cmd) {
  try { execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }); return true; } catch { return false; }
}

test('contact cards render with scannable QR codes that open the report page for the grid', async () => {
  const r = await admin.get('/api/v1/grids/510199001001/cards?base=https://whistle.example.org/');
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get('content-type'), /text\/html/);
  const html = r.text;
  assert.match(html, /网格服务联系卡/);
  assert.match(html, /刘网格/);
  assert.match(html, /王五/);
  assert.match(html, /县城市管理局/, 'the 包保单位 of the community');
  assert.equal((html.match(/<svg/g) || []).length, 2, 'one card per active leaf grid (第一网格, 第二网格（合并）)');
  assert.doesNotMatch(html, /<script|\sstyle=|<style/i, 'CSP: no inline script or style');
  const css = await anon.get('/api/v1/card.css');
  assert.equal(css.status, 200);
  assert.match(css.text, /@page\{size:A4/);
  const svg = await admin.get('/api/v1/grids/510199001001001/qr.svg?base=http://x.test');
  assert.equal(svg.status, 200);
  assert.match(svg.headers.get('content-type'), /image\/svg\+xml/);
  assertError(assert, await admin.get('/api/v1/grids/510199001001/cards?base=javascript:alert(1)'), 422);
  assertError(assert, await admin.get('/api/v1/grids/999999/cards'), 404);

  // render the page in a browser and scan the picture
  assert.ok(have('chromium') && have('zbarimg'), 'chromium and zbarimg (scripts/deps.sh) are needed');
  const dir = mkdtempSync(join(tmpdir(), 'whistle-card-'));
  const page = join(dir, 'cards.html');
  writeFileSync(page, html.replace('<head>', `<head><base href="${srv.url}/">`));
  const png = join(dir, 'cards.png');
  execFileSync('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars',
    `--user-data-dir=${join(dir, 'profile')}`, `--screenshot=${png}`, '--window-size=800,1130',
    'file://' + page], { stdio: 'ignore', timeout: 120000 });
  assert.ok(existsSync(png), 'the browser wrote a screenshot');
  const out = execFileSync('zbarimg', ['-q', '--raw', png], { timeout: 60000 }).toString().trim().split('\n').sort();
  assert.deepEqual(out, [
    'https://whistle.example.org/m.html?grid=510199001001001',
    'https://whistle.example.org/m.html?grid=510199001001005',
  ]);
  rmSync(dir, { recursive: true, force: true });
});

test('the demo county: a tiled tree, scoped demo accounts', async () => {
  const demo = await startServer({ demo: true });
  try {
    const a = new Client(demo.url);
    assert.equal((await a.login('admin', 'whistle-admin')).status, 200);
    const lv = await a.get('/api/v1/grid-levels');
    assert.deepEqual(lv.body.items.map((l) => [l.label_zh, l.grids]), [['县', 1], ['街道', 3], ['社区', 9], ['网格', 36], ['微网格', 144]]);
    // every point of a sample lattice lands in exactly one micro-grid (no gaps)
    for (let i = 0; i < 12; i++) {
      const lat = 30.0 + 0.1 * ((i * 7 + 3) % 12) / 12 + 0.001 * i, lng = 103.8 + 0.1 * ((i * 5 + 1) % 12) / 12 + 0.0007 * i;
      const r = await locate(a, lat, lng);
      assert.equal(r.status, 200, `${lat},${lng}: ${r.text}`);
      assert.equal(r.body.grid.depth, 4);
    }
    const gw = new Client(demo.url);
    assert.equal((await gw.login('gridworker', 'whistle-demo')).status, 200);
    const mine = await gw.get('/api/v1/grids?tree=1');
    assert.deepEqual(mine.body.items.map((g) => g.code), ['511423001001001', '511423001001001001', '511423001001001002', '511423001001001003', '511423001001001004']);
    const g = await gw.get('/api/v1/grids/511423001001001');
    assert.ok(g.body.duties.some((d) => d.duty === 'grid_worker' && d.name === '刘网格'));
    assert.ok(g.body.dept, '包保单位 assigned');
    const com = new Client(demo.url);
    assert.equal((await com.login('community', 'whistle-demo')).status, 200);
    assert.equal((await com.get('/api/v1/grids?tree=1')).body.items.length, 1 + 4 + 16);

    // an address (or building/unit/room) resolves to its grid through the registry
    const hh = await a.get('/api/v1/households?grid=511423002001&limit=1');
    assert.equal(hh.status, 200, hh.text);
    const h = hh.body.items[0];
    assert.ok(h && h.grid, 'the demo registry has households with grids');
    const q = (o) => '/api/v1/grids/resolve?' + new URLSearchParams(o).toString();
    let r = await a.get(q({ address: h.address }));
    assert.equal(r.status, 200, r.text);
    assert.deepEqual([r.body.grid.code, r.body.exact, r.body.matched], [h.grid.code, true, 'household']);
    const parts = { compound: h.compound, building: h.building + '栋', unit: h.unit + '单元', room: h.room };
    r = await a.get(q(parts));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.grid.code, h.grid.code);
    r = await a.get(q({ address: h.compound }));
    assert.equal(r.status, 200, r.text);
    assert.ok(h.grid.code.startsWith(r.body.grid.code), 'the common grid of the matches contains the household');
    assert.ok(r.body.candidates.some((c) => c.code === h.grid.code));
    assertError(assert, await a.get(q({ address: '火星基地九号楼' })), 404, 'no_grid');
    assertError(assert, await a.get('/api/v1/grids/resolve'), 422);
    // a grid worker resolves only into their own grids
    assertError(assert, await gw.get(q({ address: h.address })), 404, 'no_grid');
  } finally {
    await demo.stop();
    demo.cleanup();
  }
});
