// Work orders (issue 4): the state machine through the HTTP API, every path
// and each refusal (wrong state → 409, wrong role or scope → 403),
// idempotent reports, concurrent sign-for, deadlines over a weekend, a
// holiday and a make-up working day, queues, search, tracking and photos.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startServer, Client, adminClient, assertError, cli, tempDir } from './lib.mjs';

let srv, admin;
const depts = {};
const u = {}; // logged-in clients by name
const users = {};

// The grid tree of the test county, written straight into the grid table
// (the grid contract of 002) so this file does not depend on the grid API.
const GRIDS = [
  ['511402', null, 0, '测试县'],
  ['511402001', '511402', 1, '东街道'],
  ['511402001001', '511402001', 2, '东一社区'],
  ['511402001001001', '511402001001', 3, '东一社区第一网格'],
  ['511402002', '511402', 1, '西街道'],
  ['511402002001', '511402002', 2, '西一社区'],
];

function sql(db, text) {
  execFileSync('sqlite3', [db, text]);
}

const PW = 'orders-test-pw-1';

// Bearer tokens rather than sessions: the test clock jumps months ahead,
// which would end every session.
async function tokenClient(userId, label) {
  const t = await admin.post('/api/v1/tokens', { user_id: userId, label });
  assert.equal(t.status, 201, t.text);
  return new Client(srv.url, { token: t.body.token });
}

before(async () => {
  const dir = tempDir();
  const db = join(dir, 'whistle.db');
  const r = cli(['init', '--db', db]);
  assert.equal(r.status, 0, r.stderr);
  const values = GRIDS.map(([code, parent, depth, name]) =>
    `('${code}', ${parent ? `(SELECT id FROM grids WHERE code = '${parent}')` : 'NULL'}, ${depth}, '${name}', 'x', 'x')`);
  for (const v of values) sql(db, `INSERT INTO grids (code, parent_id, depth, name, created_at, updated_at) VALUES ${v}`);
  srv = await startServer({ dir });
  admin = await adminClient(srv);
  const me = await admin.get('/api/v1/auth/me');
  admin = await tokenClient(me.body.user.id, 'orders-test-admin');
  for (const [code, name] of [['CGJ', '县城市管理局'], ['YJJ', '县应急管理局'], ['GDGS', '县供电公司'], ['ZJJ', '县住建局'], ['SWJ', '县水务局']]) {
    const d = await admin.post('/api/v1/departments', { code, name });
    assert.equal(d.status, 201, d.text);
    depts[code] = d.body.id;
  }
  const spec = {
    disp: { role: 'dispatcher' },
    cg: { role: 'department_handler', scope_dept: depts.CGJ },
    yj: { role: 'department_handler', scope_dept: depts.YJJ },
    gw: { role: 'grid_worker', scope_grid: '511402001001' },
    gw2: { role: 'grid_worker', scope_grid: '511402002001' },
    comm: { role: 'community_staff', scope_grid: '511402001001' },
    street: { role: 'street_staff', scope_grid: '511402001' },
    res: { role: 'resident' },
    res2: { role: 'resident' },
    leader: { role: 'leader' },
  };
  for (const [name, s] of Object.entries(spec)) {
    const c = await admin.post('/api/v1/users', { login: 'wo-' + name, name, password: PW, phone: '13900005678', ...s });
    assert.equal(c.status, 201, c.text);
    users[name] = c.body.id;
    u[name] = await tokenClient(c.body.id, 'orders-test');
  }
});
after(async () => { await srv?.stop(); srv?.cleanup(); });

const GRID = '511402001001001';
const act = (c, id, action, body = {}) => c.post(`/api/v1/orders/${id}/${action}`, body);

async function report(c, body, headers = {}) {
  const r = await c.post('/api/v1/reports', { description: '楼道里有电动车飞线充电，存在安全隐患', grid_code: GRID, ...body }, { headers });
  assert.ok(r.status === 201 || r.status === 200, r.text);
  return r.body;
}

async function get(c, id) {
  const r = await c.get(`/api/v1/orders/${id}`);
  assert.equal(r.status, 200, r.text);
  return r.body;
}

async function expectState(id, state) {
  const o = await get(admin, id);
  assert.equal(o.state, state, `order ${id}: ${JSON.stringify(o.timeline.map((e) => e.action))}`);
  return o;
}

// 1x1 PNG
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000' +
  '1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082', 'hex');

async function upload(c, bytes, type = 'image/png') {
  return c.req('POST', '/api/v1/attachments', bytes, { raw: true, headers: { 'Content-Type': type } });
}

test('catalogue: public tree with ≥80 kinds; staff read; admin edits make versions', async () => {
  const anon = new Client(srv.url);
  const p = await anon.get('/api/v1/public/catalog');
  assert.equal(p.status, 200, p.text);
  const leaves = p.body.categories.flatMap((g) => g.children);
  assert.ok(leaves.length >= 80, `${leaves.length} kinds`);
  for (const name of ['飞线充电', '噪音扰民', '油烟扰民', '违章停车', '危房', '管道漏水', '污水外溢', '井盖缺失', '路灯不亮', '垃圾堆放', '违章搭建', '邻里纠纷', '安全隐患']) {
    assert.ok(leaves.some((l) => l.name === name), name);
  }
  assert.ok(leaves.every((l) => l.icon && l.name_en), 'icons and English names');
  const full = await u.disp.get('/api/v1/catalog');
  assert.equal(full.status, 200);
  const all = full.body.categories.flatMap((g) => g.children);
  assert.ok(all.some((k) => !k.dept && !full.body.categories.find((g) => g.children.includes(k)).dept), 'some kinds have no department');
  assertError(assert, await u.res.put('/api/v1/catalog/categories/0203', { name: 'x' }), 403);
  assertError(assert, await admin.put('/api/v1/catalog/categories/0203', { name: '', limits: { normal: { response_hours: 1, complete_hours: 2 } } }), 422, 'invalid_catalog');
  const v0 = full.body.version;
  const before = await report(u.res, { category_code: '0203', description: '小区门口路灯不亮很久了' });
  const e = await admin.put('/api/v1/catalog/categories/0203', {
    name: '路灯不亮', name_en: 'Street light out', icon: 'streetlight', dept: 'CGJ',
    limits: { normal: { response_hours: 1, complete_hours: 4 } }, time: 'natural', onsite: false,
  });
  assert.equal(e.status, 200, e.text);
  assert.equal(e.body.version, v0 + 1);
  const vers = await u.disp.get('/api/v1/catalog/versions');
  assert.equal(vers.body.items[0].version, v0 + 1);
  const old = await u.disp.get(`/api/v1/catalog/versions/${v0}`);
  assert.equal(old.status, 200);
  // the order filed before keeps the rules it was created under
  const ob = await get(admin, before.id);
  assert.equal(ob.catalog_version, v0);
  assert.equal(ob.complete_minutes, 40 * 60);
  const after_ = await report(u.res, { category_code: '0203', description: '另一处路灯不亮' });
  const oa = await get(admin, after_.id);
  assert.equal(oa.catalog_version, v0 + 1);
  assert.equal(oa.complete_minutes, 4 * 60);
  assert.equal(oa.time_mode, 'natural');
  assert.equal(oa.dept_id, depts.CGJ);
  // a whole import makes a new version too; a broken document changes nothing
  assertError(assert, await admin.put('/api/v1/catalog', { categories: [] }), 422, 'invalid_catalog');
});

test('report: validation, anonymous needs a phone, tracking code, idempotency', async () => {
  const anon = new Client(srv.url);
  assertError(assert, await anon.post('/api/v1/reports', { description: '没有电话的匿名反映', grid_code: GRID }), 422, 'invalid_field');
  assertError(assert, await anon.post('/api/v1/reports', { description: 'x', grid_code: GRID, phone: '13800001111' }), 422);
  assertError(assert, await anon.post('/api/v1/reports', { description: '未知网格', grid_code: '999999', phone: '13800001111' }), 422, 'unknown_grid');
  assertError(assert, await anon.post('/api/v1/reports', { description: '未知事项', grid_code: GRID, phone: '13800001111', category_code: 'NOPE' }), 422, 'unknown_category');
  assertError(assert, await anon.post('/api/v1/reports', { description: '只有纬度', lat: 30.1, phone: '13800001111', grid_code: GRID }), 422);
  assertError(assert, await anon.post('/api/v1/reports', { description: '照片太多', grid_code: GRID, phone: '13800001111', photos: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] }), 422);
  assertError(assert, await anon.post('/api/v1/reports', { description: '渠道不对', grid_code: GRID, phone: '13800001111', channel: 'hotline_12345' }), 422);
  // the leader may not report
  assertError(assert, await u.leader.post('/api/v1/reports', { description: '领导不能上报', grid_code: GRID }), 403);

  const r1 = await anon.post('/api/v1/reports', { description: '井盖缺失，有人差点掉下去', grid_code: GRID, category_code: '0201', phone: '138 0000 2222', address: '东一路12号' }, { headers: { 'Idempotency-Key': 'retry-1' } });
  assert.equal(r1.status, 201, r1.text);
  assert.match(r1.body.code, /^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{8}$/);
  const r2 = await anon.post('/api/v1/reports', { description: '井盖缺失，有人差点掉下去', grid_code: GRID, category_code: '0201', phone: '138 0000 2222' }, { headers: { 'Idempotency-Key': 'retry-1' } });
  assert.equal(r2.status, 200, r2.text);
  assert.equal(r2.body.id, r1.body.id);
  assert.equal(r2.body.code, r1.body.code);
  // the key in the body works the same; concurrent retries still give one order
  const rs = await Promise.all(Array.from({ length: 10 }, () => u.res.post('/api/v1/reports', { description: '重复提交测试', grid_code: GRID, idempotency_key: 'same-key' })));
  const ids = new Set(rs.map((r) => r.body.id));
  assert.equal(ids.size, 1, JSON.stringify(rs.map((r) => r.status)));
  assert.equal(rs.filter((r) => r.status === 201).length, 1);
  // another caller's same key is another order
  const other = await u.res2.post('/api/v1/reports', { description: '重复提交测试', grid_code: GRID, idempotency_key: 'same-key' });
  assert.equal(other.status, 201);
  assert.notEqual(other.body.id, [...ids][0]);

  // public tracking page: plain words, no personal data
  const t = await anon.get(`/api/v1/track/${r1.body.code}`);
  assert.equal(t.status, 200, t.text);
  assert.equal(t.body.state, 'dispatched');
  assert.equal(t.body.department, '县住建局');
  assert.ok(t.body.timeline.length === 2 && t.body.timeline[0].text);
  assert.ok(!t.text.includes('13800002222') && !t.text.includes('138 0000 2222'));
  assertError(assert, await anon.get('/api/v1/track/AAAAAAAA'), 404);
  assertError(assert, await anon.get('/api/v1/track/bad'), 404);
});

test('the whole loop: dispatch, sign, extension, feedback, rework, close, rate, reopen, return', async () => {
  const o = await report(u.res, { category_code: '0501', lat: 30.05, lng: 103.85, address: '东一社区3栋' });
  assert.equal(o.state, 'dispatched');
  let d = await get(u.yj, o.id);
  assert.equal(d.dept_id, depts.YJJ);
  assert.deepEqual(d.assist_dept_ids, [depts.GDGS]);
  assert.deepEqual(d.allowed_actions.sort(), ['return', 'sign']);
  // the assisting department sees it but cannot sign; another department cannot see it
  assert.equal((await u.cg.get(`/api/v1/orders/${o.id}`)).status, 403);
  assertError(assert, await act(u.cg, o.id, 'sign'), 403, 'out_of_scope');
  assertError(assert, await act(u.disp, o.id, 'sign'), 403, 'forbidden');
  assertError(assert, await act(u.yj, o.id, 'feedback', { note: '已处理' }), 409, 'wrong_state');
  let r = await act(u.yj, o.id, 'sign');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.state, 'signed');
  assertError(assert, await act(u.yj, o.id, 'sign'), 409, 'wrong_state');

  // extension: requested, blocks feedback, approved with a later deadline
  const dl0 = Date.parse(r.body.deadline);
  assertError(assert, await act(u.yj, o.id, 'extend', {}), 422);
  r = await act(u.yj, o.id, 'extend', { hours: 8, reason: '需要协调供电公司断电' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.pending, 'extension');
  assertError(assert, await act(u.yj, o.id, 'feedback', { note: '已处理' }), 409, 'request_pending');
  assertError(assert, await act(u.yj, o.id, 'extend-approve'), 403);
  assertError(assert, await act(u.disp, o.id, 'return-approve'), 409, 'no_request');
  const q = await u.disp.get('/api/v1/orders?queue=dispatch');
  assert.ok(q.body.items.some((i) => i.id === o.id), 'the extension request waits in the dispatch queue');
  r = await act(u.disp, o.id, 'extend-approve', { note: '同意' });
  assert.equal(r.status, 200, r.text);
  assert.ok(Date.parse(r.body.deadline) > dl0);
  assert.equal(r.body.extensions, 1);
  assertError(assert, await act(u.disp, o.id, 'extend-approve'), 409, 'no_request');
  r = await act(u.yj, o.id, 'extend', { until: '2030-01-01', reason: '再延期' });
  assert.equal(r.status, 200, r.text);
  r = await act(u.disp, o.id, 'extend-refuse', { note: '不同意' });
  assert.equal(r.body.pending, null);
  assert.equal(r.body.extensions, 1);

  // feedback with a photo; rework; feedback again; verified by the grid worker
  const ph = await upload(u.yj, PNG);
  assert.equal(ph.status, 201, ph.text);
  assertError(assert, await act(u.yj, o.id, 'feedback', {}), 422);
  r = await act(u.yj, o.id, 'feedback', { note: '已拆除飞线，设置充电桩', photos: [ph.body.id] });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.state, 'feedback');
  assertError(assert, await act(u.gw2, o.id, 'verify', { passed: true }), 403, 'out_of_scope');
  assertError(assert, await act(u.disp, o.id, 'verify', {}), 422);
  r = await act(u.disp, o.id, 'verify', { passed: false, note: '现场仍有飞线' });
  assert.equal(r.body.state, 'rework');
  assert.equal(r.body.reworks, 1);
  r = await act(u.yj, o.id, 'feedback', { note: '已全部拆除' });
  assert.equal(r.body.state, 'feedback');
  r = await act(u.gw, o.id, 'verify', { passed: true });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.state, 'closed');

  // rated by the reporter only
  assertError(assert, await act(u.res2, o.id, 'rate', { rating: 'satisfied' }), 403);
  assertError(assert, await act(u.disp, o.id, 'rate', { rating: 'satisfied' }), 403);
  assertError(assert, await act(u.res, o.id, 'rate', { rating: 'great' }), 422);
  d = await get(u.res, o.id);
  assert.deepEqual(d.allowed_actions, ['rate']);
  r = await act(u.res, o.id, 'rate', { rating: 'satisfied', comment: '处理很快' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.state, 'rated');
  assertError(assert, await act(u.res, o.id, 'rate', { rating: 'basic' }), 409, 'wrong_state');

  // reopened on a justified complaint, re-dispatched by hand, returned, re-dispatched
  assertError(assert, await act(u.disp, o.id, 'reopen', {}), 422);
  r = await act(u.disp, o.id, 'reopen', { reason: '群众投诉问题反复' });
  assert.equal(r.body.state, 'accepted');
  assert.equal(r.body.dept_id, null);
  assertError(assert, await act(u.disp, o.id, 'dispatch', { dept_id: 99999 }), 422);
  r = await act(u.disp, o.id, 'dispatch', { dept_id: depts.CGJ, assist: [depts.ZJJ] });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.state, 'dispatched');
  assert.equal(r.body.dept_id, depts.CGJ);
  assertError(assert, await act(u.cg, o.id, 'return', {}), 422);
  r = await act(u.cg, o.id, 'return', { reason: '不属于城管职责' });
  assert.equal(r.body.pending, 'return');
  assertError(assert, await act(u.cg, o.id, 'sign'), 409, 'request_pending');
  r = await act(u.disp, o.id, 'return-refuse', { note: '属于城管职责' });
  assert.equal(r.body.pending, null);
  r = await act(u.cg, o.id, 'return', { reason: '确实不属于城管职责' });
  r = await act(u.disp, o.id, 'return-approve');
  assert.equal(r.body.state, 'accepted');
  assert.equal(r.body.returns, 1);
  assert.equal(r.body.dept_id, null);
  assert.equal((await u.cg.get(`/api/v1/orders/${o.id}`)).status, 403, 'no longer the department\'s');
  // back with the catalogue's department when none is named
  r = await act(u.disp, o.id, 'dispatch', {});
  assert.equal(r.body.dept_id, depts.YJJ);

  // the timeline replays to the state, and every entry names the actor
  d = await get(admin, o.id);
  const tl = d.timeline;
  assert.equal(tl.length, d.seq);
  tl.forEach((e, i) => assert.equal(e.seq, i + 1));
  assert.equal(tl.at(-1).to_state, d.state);
  for (let i = 1; i < tl.length; i++) assert.equal(tl[i].from_state, tl[i - 1].to_state);
  assert.ok(tl.filter((e) => e.action === 'sign')[0].actor_name === 'yj');
  assert.ok(d.attachments.some((a) => a.id === ph.body.id && a.kind === 'after'));
  // the audit trail has every action
  const au = await admin.get(`/api/v1/audit?object_type=order&object_id=${o.id}&limit=100`);
  assert.equal(au.body.items.length, tl.length - 1 /* report + auto dispatch = one audit */);
});

test('no department: waits in the dispatch queue; accept, reject, merge; levels and escalation', async () => {
  const a = await report(u.res, { category_code: '9901', description: '其他问题：小区广场舞音响声音太大' });
  assert.equal(a.state, 'submitted');
  const q = await u.disp.get('/api/v1/orders?queue=dispatch&limit=200');
  assert.ok(q.body.items.some((i) => i.id === a.id));
  assertError(assert, await act(u.comm, a.id, 'accept'), 403, 'wrong_level');
  let r = await act(u.disp, a.id, 'accept', { note: '立案' });
  assert.equal(r.body.state, 'accepted');
  assertError(assert, await act(u.disp, a.id, 'accept'), 409, 'wrong_state');
  assertError(assert, await act(u.disp, a.id, 'dispatch', {}), 422, 'no_department');
  assertError(assert, await act(u.disp, a.id, 'reject', {}), 422);
  r = await act(u.disp, a.id, 'reject', { reason: '不属于受理范围' });
  assert.equal(r.body.state, 'rejected');
  for (const x of ['accept', 'dispatch', 'sign', 'feedback', 'verify', 'rate', 'reopen', 'escalate']) {
    const res = await act(x === 'rate' ? u.res : x === 'sign' || x === 'feedback' ? u.yj : u.disp, a.id, x,
      { reason: '原因说明', note: '说明', passed: true, rating: 'basic', dept_id: depts.YJJ });
    assert.ok([409, 403].includes(res.status), `${x} on rejected: ${res.status} ${res.text}`);
  }

  // merge a duplicate into the first report
  const b = await report(u.res2, { category_code: '9902', description: '重复反映：广场舞音响' });
  const c = await report(u.res2, { category_code: '9902', description: '第二个重复反映' });
  assertError(assert, await act(u.disp, b.id, 'merge', { into: b.id }), 422);
  assertError(assert, await act(u.disp, b.id, 'merge', { into: a.id }), 422); // into a rejected order
  r = await act(u.disp, b.id, 'merge', { into: c.id });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.state, 'merged');
  assert.equal(r.body.merged_into, c.id);

  // 分级办理: a community-level matter (邻里纠纷) handled by the community, escalated up
  const n = await report(u.gw, { category_code: '1001', description: '楼上楼下因漏水发生纠纷' });
  let o = await get(u.comm, n.id);
  assert.equal(o.level, 'community');
  assertError(assert, await act(u.gw2, n.id, 'onsite', { note: '调解' }), 403); // other grid
  r = await act(u.comm, n.id, 'accept');
  assert.equal(r.status, 200, r.text);
  r = await act(u.comm, n.id, 'escalate', { reason: '社区调解不成' });
  assert.equal(r.body.level, 'street');
  assert.equal(r.body.state, 'accepted');
  assertError(assert, await act(u.comm, n.id, 'escalate', { reason: '再上报' }), 403, 'wrong_level');
  r = await act(u.street, n.id, 'escalate', { reason: '需要县里统筹' });
  assert.equal(r.body.level, 'county');
  assertError(assert, await act(u.street, n.id, 'escalate', { reason: '再上报' }), 403, 'wrong_level');
  assertError(assert, await act(u.disp, n.id, 'escalate', { reason: '再上报' }), 409, 'top_level');

  // on-site resolution (即时办结) by the grid worker, only where the catalogue allows it
  const s = await report(u.res, { category_code: '1001', description: '两户因停车位争吵' });
  const nope = await report(u.res, { category_code: '9901', description: '不允许即时办结的事项' });
  assertError(assert, await act(u.gw, nope.id, 'onsite', { note: '已解决' }), 409, 'onsite_not_allowed');
  assertError(assert, await act(u.cg, s.id, 'onsite', { note: '已解决' }), 403);
  r = await act(u.gw, s.id, 'onsite', { note: '现场调解，双方和解' });
  assert.equal(r.body.state, 'onsite_resolved');
  r = await act(u.res, s.id, 'rate', { rating: 'basic' });
  assert.equal(r.body.state, 'rated');
});

test('50 concurrent sign-fors: exactly one wins', async () => {
  const o = await report(u.res, { category_code: '0501', description: '并发签收测试：飞线充电' });
  const rs = await Promise.all(Array.from({ length: 50 }, () => act(u.yj, o.id, 'sign')));
  const ok = rs.filter((r) => r.status === 200);
  assert.equal(ok.length, 1, rs.map((r) => r.status).join(','));
  assert.ok(rs.filter((r) => r.status !== 200).every((r) => r.status === 409 && r.body.error.code === 'wrong_state'));
  const d = await get(admin, o.id);
  assert.equal(d.timeline.filter((e) => e.action === 'sign').length, 1);
});

test('tracking: the reporter rates with the last 4 digits of the phone; photos by scope', async () => {
  const anon = new Client(srv.url);
  const ph = await upload(anon, PNG);
  assert.equal(ph.status, 201, ph.text);
  assertError(assert, await upload(anon, Buffer.from('GIF89a not allowed'), 'image/png'), 415, 'not_a_photo');
  assertError(assert, await upload(anon, Buffer.from('hello')), 415);
  assertError(assert, await upload(anon, Buffer.alloc(0)), 422);
  const big = Buffer.alloc(5 * 1024 * 1024 + 10);
  PNG.copy(big);
  assertError(assert, await upload(anon, big), 413);
  const same = await upload(anon, PNG);
  assert.equal(same.body.id, ph.body.id, 'content-addressed: stored once');

  const o = (await anon.post('/api/v1/reports', { description: '暴露垃圾无人清理', grid_code: GRID, category_code: '0102', phone: '13712345678', photos: [ph.body.id] })).body;
  const t = await anon.get(`/api/v1/track/${o.code}`);
  assert.equal(t.body.photos.length, 1);
  // photos: the order's department and scoped staff yes, others no, public with the code
  assert.equal((await u.cg.get(`/api/v1/attachments/${ph.body.id}`)).status, 200);
  assert.equal((await u.res2.get(`/api/v1/attachments/${ph.body.id}`)).status, 403);
  assert.equal((await anon.get(`/api/v1/attachments/${ph.body.id}`)).status, 401);
  const pub = await anon.get(`/api/v1/attachments/${ph.body.id}?track=${o.code}`);
  assert.equal(pub.status, 200);
  assert.equal(pub.headers.get('content-type'), 'image/png');

  // close it, then rate through the tracking page
  await act(u.cg, o.id, 'sign');
  await act(u.cg, o.id, 'feedback', { note: '已清运' });
  await act(u.disp, o.id, 'verify', { passed: true });
  assertError(assert, await anon.post(`/api/v1/track/${o.code}/rate`, { rating: 'satisfied', phone_last4: '0000' }), 403, 'not_reporter');
  assertError(assert, await anon.post(`/api/v1/track/${o.code}/rate`, { rating: 'meh', phone_last4: '5678' }), 422);
  const r = await anon.post(`/api/v1/track/${o.code}/rate`, { rating: 'satisfied', phone_last4: '5678', comment: '很满意' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.state, 'rated');
  assertError(assert, await anon.post(`/api/v1/track/${o.code}/rate`, { rating: 'basic', phone_last4: '5678' }), 409);
  const d = await get(admin, o.id);
  assert.equal(d.timeline.at(-1).actor_role, 'reporter');
});

test('queues, counts, search, near; scope of lists', async () => {
  const x = await report(u.res, { category_code: '0302', description: '东一社区门口污水外溢臭气熏天', lat: 30.6601, lng: 104.0633 });
  const dq = await u.cg.get('/api/v1/orders?queue=department&limit=5');
  assert.equal(dq.status, 200, dq.text);
  for (const i of dq.body.items) assert.equal(i.dept_id, depts.CGJ);
  // stable cursor paging over the department queue (deadline, id)
  let seen = [], cursor = null, pages = 0;
  do {
    const p = await u.disp.get(`/api/v1/orders?queue=all&limit=3${cursor ? '&cursor=' + cursor : ''}`);
    assert.equal(p.status, 200, p.text);
    seen.push(...p.body.items.map((i) => i.id));
    cursor = p.body.next_cursor;
    pages++;
  } while (cursor && pages < 100);
  assert.equal(new Set(seen).size, seen.length, 'no order twice');
  const total = (await u.disp.get('/api/v1/orders?queue=all&limit=200')).body.items.length;
  assert.equal(seen.length, total);
  assertError(assert, await u.disp.get('/api/v1/orders?cursor=garbage'), 422);
  assertError(assert, await u.disp.get('/api/v1/orders?queue=nope'), 422);
  // full text: Chinese with the trigram index, and two characters by LIKE
  const ft = await u.disp.get('/api/v1/orders?q=' + encodeURIComponent('污水外溢'));
  assert.ok(ft.body.items.some((i) => i.id === x.id));
  assert.ok(ft.body.items.every((i) => i.description.includes('污水外溢')));
  const ft2 = await u.disp.get('/api/v1/orders?q=' + encodeURIComponent('臭气'));
  assert.ok(ft2.body.items.some((i) => i.id === x.id));
  const near = await u.disp.get('/api/v1/orders?near=30.6605,104.0633,100');
  assert.ok(near.body.items.some((i) => i.id === x.id));
  const far = await u.disp.get('/api/v1/orders?near=30.70,104.0633,100');
  assert.ok(!far.body.items.some((i) => i.id === x.id));
  // filters
  const f = await u.disp.get('/api/v1/orders?category=03&state=dispatched');
  assert.ok(f.body.items.length >= 1 && f.body.items.every((i) => i.category_code.startsWith('03') && i.state === 'dispatched'));
  // scope: the other grid's worker sees none of these; a resident only their own
  const g2 = await u.gw2.get('/api/v1/orders?queue=grid');
  assert.equal(g2.body.items.length, 0);
  // two orders filed at the community itself, beside those of its grid
  for (const d of ['社区本级：小区围墙倒塌一段', '社区本级：广场路灯不亮']) await report(u.disp, { description: d, grid_code: '511402001001' });
  const g1 = await u.gw.get('/api/v1/orders?queue=grid&limit=200');
  assert.ok(g1.body.items.length > 0 && g1.body.items.every((i) => i.grid_code.startsWith('511402001001')));
  // the grid queue is newest first, and small pages walk it in the same order
  assert.ok(g1.body.items.length >= 3, 'several pages to walk');
  const byTime = [...g1.body.items].sort((a, b) => (b.created_at > a.created_at ? 1 : b.created_at < a.created_at ? -1 : b.id - a.id));
  assert.deepEqual(g1.body.items.map((i) => i.id), byTime.map((i) => i.id));
  const walked = [];
  for (let c = null, n = 0; n < 200; n++) {
    const p = await u.gw.get(`/api/v1/orders?queue=grid&limit=2${c ? '&cursor=' + c : ''}`);
    assert.equal(p.status, 200, p.text);
    assert.ok(p.body.items.length <= 2);
    walked.push(...p.body.items.map((i) => i.id));
    if (!(c = p.body.next_cursor)) break;
  }
  assert.deepEqual(walked, g1.body.items.map((i) => i.id));
  // the grid queue merges each grid code's newest orders: it must list
  // exactly what the general query lists for the same scope, in the same order
  assert.ok(new Set(g1.body.items.map((i) => i.grid_code)).size >= 2, 'orders under several grid codes');
  const same = await u.gw.get('/api/v1/orders?queue=all&limit=200');
  assert.deepEqual(g1.body.items.map((i) => i.id), same.body.items.map((i) => i.id));
  const mine = await u.res2.get('/api/v1/orders/mine?limit=200');
  assert.ok(mine.body.items.length > 0);
  for (const i of mine.body.items) assert.equal((await u.res2.get(`/api/v1/orders/${i.id}`)).status, 200);
  assertError(assert, await u.res2.get(`/api/v1/orders/${x.id}`), 403);
  assertError(assert, await u.res.get('/api/v1/orders'), 403);
  const counts = await u.disp.get('/api/v1/orders/counts');
  assert.equal(counts.status, 200);
  assert.ok(counts.body.dispatch >= 1 && typeof counts.body.overdue === 'number');
  const cc = await u.cg.get('/api/v1/orders/counts');
  assert.ok(cc.body.department >= 1);
  assert.equal(cc.body.dispatch, undefined);
});

// ---- time: deadlines across a weekend, a holiday, a make-up working day ----

const CST = 8 * 3600;
const at = (y, m, d, hh, mm = 0) => Date.UTC(y, m - 1, d, hh, mm) / 1000 - CST;
async function setClock(target) {
  const off = target - Math.floor(Date.now() / 1000);
  const r = await admin.post('/api/v1/test/clock', { offset_seconds: off });
  assert.equal(r.status, 200, r.text);
}

test('deadlines: weekend, holiday and make-up working day from an administrator-loaded 2027 calendar; overdue', async () => {
  // a 2027 calendar with one holiday (Mon 5 April) and one make-up working day (Sat 20 February)
  const cal = { year: 2027, hours: [['08:30', '12:00'], ['14:00', '17:30']], holidays: ['2027-04-05'], workdays: ['2027-02-20'] };
  assertError(assert, await u.disp.put('/api/v1/calendar/2027', cal), 403);
  assertError(assert, await admin.put('/api/v1/calendar/2027', { ...cal, holidays: ['2027-02-30'] }), 422);
  assertError(assert, await admin.put('/api/v1/calendar/2027', { ...cal, year: 2028 }), 422);
  const put = await admin.put('/api/v1/calendar/2027', cal);
  assert.equal(put.status, 200, put.text);
  assert.deepEqual((await u.disp.get('/api/v1/calendar/2027')).body.workdays, ['2027-02-20']);

  // 飞线充电: 2 working hours to sign for, 8 to complete
  const cases = [
    // Friday 16:00 before a make-up working Saturday
    { now: at(2027, 2, 19, 16), sign: at(2027, 2, 20, 9), done: at(2027, 2, 20, 17) },
    // Friday 16:00 before a weekend
    { now: at(2027, 3, 12, 16), sign: at(2027, 3, 15, 9), done: at(2027, 3, 15, 17) },
    // Friday 16:00 before a weekend and a Monday holiday
    { now: at(2027, 4, 2, 16), sign: at(2027, 4, 6, 9), done: at(2027, 4, 6, 17) },
  ];
  let last;
  for (const c of cases) {
    await setClock(c.now);
    const o = await report(u.res, { category_code: '0501', description: '飞线充电：截止时间测试' });
    const created = Date.parse(o.created_at) / 1000;
    const drift = created - c.now;
    assert.ok(drift >= 0 && drift < 5);
    assert.equal(Date.parse(o.response_deadline) / 1000, c.sign + drift, `sign-for deadline from ${new Date(c.now * 1000).toISOString()}`);
    assert.equal(Date.parse(o.deadline) / 1000, c.done + drift, `completion deadline from ${new Date(c.now * 1000).toISOString()}`);
    last = o;
  }
  // overdue is computed: not yet, then after the deadline passes, until the order leaves the department
  let d = await get(u.yj, last.id);
  assert.equal(d.overdue, false);
  await setClock(at(2027, 4, 6, 9, 30));
  d = await get(u.yj, last.id);
  assert.equal(d.response_overdue, true);
  assert.equal(d.overdue, false);
  await act(u.yj, last.id, 'sign');
  await setClock(at(2027, 4, 6, 18));
  d = await get(u.yj, last.id);
  assert.equal(d.overdue, true);
  const oq = await u.disp.get('/api/v1/orders?queue=overdue&limit=200');
  assert.ok(oq.body.items.some((i) => i.id === last.id && i.overdue));
  assert.ok(oq.body.items.every((i) => i.overdue));
  await act(u.yj, last.id, 'feedback', { note: '已处理' });
  d = await get(u.yj, last.id);
  assert.equal(d.overdue, false);
  const oq2 = await u.disp.get('/api/v1/orders?queue=overdue&limit=200');
  assert.ok(!oq2.body.items.some((i) => i.id === last.id));
});
