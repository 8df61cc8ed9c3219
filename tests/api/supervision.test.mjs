// Supervision 督办 and deductions (issue 4 items 4 and 5): the background
// scanner finds overdue and late orders from the deadlines stored in the
// orders — without anyone asking, also after a restart and for what
// happened while it was not running — issues supervision notices to the
// department (copied to the inspectors) and records deductions, once per
// order and kind; closed orders nobody rated get the default rating.
// Time is moved with the test clock (POST /api/v1/test/clock).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { startServer, Client, adminClient, assertError, freePort } from './lib.mjs';

let srv, admin, disp, zjj, cgj, insp, gw, grid, depts = {};
let offset = 0; // seconds the test clock is ahead

async function advance(seconds) {
  offset += seconds;
  const r = await admin.post('/api/v1/test/clock', { offset_seconds: offset });
  assert.equal(r.status, 200, r.text);
}

async function until(what, fn, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Everyone acts through an API token: sessions would idle out when the
// test clock jumps hours ahead, tokens do not.
const tokens = {};
function client(login) {
  return new Client(srv.url, { token: tokens[login] });
}

async function loginAll() {
  admin = client('admin');
  disp = client('disp');
  zjj = client('zjj');
  cgj = client('cgj');
  insp = client('insp');
  gw = client('gridw');
}

// 0201 井盖缺失 (missing manhole cover): ZJJ, natural time, sign within 1 h, complete within 8 h.
async function report(who = gw, text = '人民路口井盖缺失，夜间危险') {
  const r = await who.post('/api/v1/reports', { category_code: '0201', description: text, grid_code: grid, channel: 'grid_app' });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.state, 'dispatched', 'auto-dispatched by the catalogue: ' + r.text);
  return r.body.id;
}

async function notices(client, q) {
  const r = await client.get('/api/v1/supervision?' + new URLSearchParams(q));
  assert.equal(r.status, 200, r.text);
  return r.body.items;
}

async function waitNotice(orderId, kind) {
  return until(`${kind} notice for order ${orderId}`, async () => (await notices(insp, { order_id: orderId, kind }))[0]);
}

// A webhook receiver, to see the events the scanner emits.
const received = [];
let rcvServer;

before(async () => {
  srv = await startServer();
  admin = await adminClient(srv);
  for (const [code, name] of [['ZJJ', '县住房和城乡建设局'], ['CGJ', '县城市管理局']]) {
    const d = await admin.post('/api/v1/departments', { code, name });
    assert.equal(d.status, 201, d.text);
    depts[code] = d.body.id;
  }
  const square = { type: 'Polygon', coordinates: [[[103.50, 30.04], [103.52, 30.04], [103.52, 30.06], [103.50, 30.06], [103.50, 30.04]]] };
  const lv = await admin.put('/api/v1/grid-levels', { levels: [
    { name: 'county', label_zh: '县', code_width: 6 }, { name: 'street', label_zh: '街道', code_width: 3 },
    { name: 'community', label_zh: '社区', code_width: 3 }] });
  assert.equal(lv.status, 200, lv.text);
  const root = await admin.post('/api/v1/grids', { code: '511423', name: '测试县', geometry: square });
  assert.equal(root.status, 201, root.text);
  const child = await admin.post('/api/v1/grids', { parent_code: '511423', name: '城关街道', geometry: square });
  assert.equal(child.status, 201, child.text);
  grid = child.body.code;
  const users = [
    { login: 'disp', name: '王调度', role: 'dispatcher', password: 'dispatch-pw-1' },
    { login: 'zjj', name: '住建承办', role: 'department_handler', scope_dept: depts.ZJJ, password: 'handler-pw-1' },
    { login: 'cgj', name: '城管承办', role: 'department_handler', scope_dept: depts.CGJ, password: 'handler-pw-2' },
    { login: 'insp', name: '赵纪检', role: 'inspector', password: 'inspect-pw-1' },
    { login: 'gridw', name: '网格员小李', role: 'grid_worker', scope_grid: grid, password: 'gridwork-pw-1' },
  ];
  users.push({ login: 'admin' });
  for (const u of users) {
    let id;
    if (u.login === 'admin') {
      id = (await admin.get('/api/v1/auth/me')).body.user.id;
    } else {
      const r = await admin.post('/api/v1/users', u);
      assert.equal(r.status, 201, r.text);
      id = r.body.id;
    }
    const t = await admin.post('/api/v1/tokens', { user_id: id, label: 'supervision test' });
    assert.equal(t.status, 201, t.text);
    tokens[u.login] = t.body.token;
  }
  await loginAll();
  const port = await freePort();
  rcvServer = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => { received.push(JSON.parse(body)); res.writeHead(204); res.end(); });
  });
  await new Promise((r) => rcvServer.listen(port, '127.0.0.1', r));
  const w = await admin.post('/api/v1/webhooks', { url: `http://127.0.0.1:${port}/`, events: ['order.overdue', 'order.deadline_warning', 'supervision.*', 'deduction.*'], backoff_ms: 200 });
  assert.equal(w.status, 201, w.text);
});
after(async () => {
  await srv.stop();
  srv.cleanup();
  await new Promise((r) => rcvServer.close(r));
});

test('overdue orders get supervision notices and deductions without anyone asking; once each', async () => {
  const a = await report();
  const b = await report();
  // the response deadline (1 h) is near: a warning event, no notice yet
  await until('a deadline warning', () => received.some((x) => x.event === 'order.deadline_warning' && x.data.id === a && x.data.kind === 'response'));
  assert.equal((await notices(insp, { order_id: a })).length, 0);

  await advance(2 * 3600); // nobody signed within the hour
  const na = await waitNotice(a, 'late_signing');
  const nb = await waitNotice(b, 'late_signing');
  assert.equal(na.state, 'issued');
  assert.equal(na.dept_id, depts.ZJJ);
  assert.equal(na.dept_name, '县住房和城乡建设局');
  assert.equal(na.grid_code, grid);
  assert.deepEqual(na.copied_to, ['inspector']);
  assert.match(na.code, /^DB\d{8}-\d{6}$/);
  assert.match(na.reason, /签收/);
  assert.ok(Date.parse(na.due_at) > Date.parse(na.issued_at), 'the notice has its own deadline');
  assert.equal(na.answer_overdue, false);

  // B is signed late now: the notice stays the only one of its kind
  assert.equal((await zjj.post(`/api/v1/orders/${b}/sign`, {})).status, 200);
  await advance(7 * 3600); // 9 h after the report: the 8 h completion limit has passed for both
  await waitNotice(a, 'overdue_completion');
  await waitNotice(b, 'overdue_completion');
  await new Promise((r) => setTimeout(r, 1500)); // another scanner round
  for (const id of [a, b]) {
    const all = await notices(insp, { order_id: id });
    assert.deepEqual(all.map((n) => n.kind).sort(), ['late_signing', 'overdue_completion'], `one notice per kind for order ${id}`);
  }
  const ded = await insp.get(`/api/v1/deductions?dept_id=${depts.ZJJ}`);
  assert.equal(ded.status, 200, ded.text);
  for (const id of [a, b]) {
    const mine = ded.body.items.filter((x) => x.order_id === id);
    assert.deepEqual(mine.map((x) => x.kind).sort(), ['late_signing', 'overdue_completion']);
    for (const x of mine) {
      assert.equal(x.dept_id, depts.ZJJ);
      assert.ok(x.points > 0);
      assert.ok(x.notice_id, 'deduction linked to its notice');
    }
  }
  assert.ok(ded.body.total_points >= 4 * 1);
  // the events went out through the outbox to the webhook
  await until('overdue and supervision events', () =>
    received.some((x) => x.event === 'order.overdue' && x.data.id === a && x.data.kind === 'completion') &&
    received.some((x) => x.event === 'supervision.issued' && x.data.order_id === a && x.data.kind === 'late_signing') &&
    received.some((x) => x.event === 'deduction.recorded' && x.data.order_id === b));
  // the order's overdue queue agrees with the scanner
  const od = await disp.get('/api/v1/orders?queue=overdue');
  assert.equal(od.status, 200, od.text);
  assert.ok(od.body.items.some((o) => o.id === a));
});

test('the inspector and the centre see every notice; a department only its own', async () => {
  const mine = await notices(zjj, {});
  assert.ok(mine.length >= 4);
  assert.ok(mine.every((n) => n.dept_id === depts.ZJJ));
  assert.equal((await notices(cgj, {})).length, 0, 'another department sees none');
  assertError(assert, await cgj.get(`/api/v1/supervision/${mine[0].id}`), 403);
  const one = await insp.get(`/api/v1/supervision/${mine[0].id}`);
  assert.equal(one.status, 200, one.text);
  assert.equal(one.body.order.category, '0201');
  assert.ok((await notices(disp, {})).length >= 4);
  assert.ok((await notices(insp, { state: 'issued' })).length >= 4);
  assertError(assert, await gw.get('/api/v1/supervision'), 403);
  assertError(assert, await new Client(srv.url).get('/api/v1/supervision'), 401);
  assertError(assert, await insp.get('/api/v1/supervision/999999'), 404);
  assertError(assert, await insp.get('/api/v1/supervision?state=lost'), 422);
  const cg = await cgj.get('/api/v1/deductions');
  assert.equal(cg.body.items.length, 0);
});

test('issued → answered by the department → closed by the centre; wrong state 409, wrong actor 403', async () => {
  const n = (await notices(zjj, { state: 'issued' }))[0];
  assertError(assert, await disp.post(`/api/v1/supervision/${n.id}/close`, {}), 409, 'wrong_state');
  assertError(assert, await insp.post(`/api/v1/supervision/${n.id}/answer`, { answer: '已安排' }), 403);
  assertError(assert, await cgj.post(`/api/v1/supervision/${n.id}/answer`, { answer: '不是我们的' }), 403, 'out_of_scope');
  assertError(assert, await zjj.post(`/api/v1/supervision/${n.id}/answer`, {}), 422);
  const r = await zjj.post(`/api/v1/supervision/${n.id}/answer`, { answer: '已安排施工队今日补装井盖，并加强巡查。' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.state, 'answered');
  assert.match(r.body.answer, /井盖/);
  assertError(assert, await zjj.post(`/api/v1/supervision/${n.id}/answer`, { answer: '再答一次' }), 409, 'wrong_state');
  assertError(assert, await zjj.post(`/api/v1/supervision/${n.id}/close`, {}), 403);
  assertError(assert, await insp.post(`/api/v1/supervision/${n.id}/close`, {}), 403);
  const c = await disp.post(`/api/v1/supervision/${n.id}/close`, { note: '核实已整改' });
  assert.equal(c.status, 200, c.text);
  assert.equal(c.body.state, 'closed');
  assert.ok(c.body.closed_at && c.body.answered_at);
  assertError(assert, await disp.post(`/api/v1/supervision/${n.id}/close`, {}), 409);
  const au = await admin.get(`/api/v1/audit?object_type=supervision&object_id=${n.id}`);
  assert.deepEqual(au.body.items.map((x) => x.action).sort(), ['supervision.answer', 'supervision.close']);
  await until('answered and closed events', () => received.some((x) => x.event === 'supervision.answered' && x.data.id === n.id) &&
    received.some((x) => x.event === 'supervision.closed' && x.data.id === n.id));
  // a manual notice (人工督办) by the centre
  const id = await report();
  const m = await disp.post('/api/v1/supervision', { order_id: id, reason: '群众多次来电反映，请加快办理', answer_hours: 24 });
  assert.equal(m.status, 201, m.text);
  assert.equal(m.body.kind, 'manual');
  assert.equal(m.body.dept_id, depts.ZJJ);
  assertError(assert, await zjj.post('/api/v1/supervision', { order_id: id, reason: '自己督办自己' }), 403);
  assertError(assert, await disp.post('/api/v1/supervision', { order_id: 999999, reason: '没有这个工单' }), 404);
});

test('returned more than twice → repeated_returns (推诿扯皮); rejected staff reports → 乱吹哨', async () => {
  const id = await report();
  for (let i = 1; i <= 3; i++) {
    let r = await zjj.post(`/api/v1/orders/${id}/return`, { reason: `不属于本部门职责 ${i}` });
    assert.equal(r.status, 200, r.text);
    r = await disp.post(`/api/v1/orders/${id}/return-approve`, {});
    assert.equal(r.status, 200, r.text);
    if (i < 3) {
      r = await disp.post(`/api/v1/orders/${id}/dispatch`, { dept_id: depts.ZJJ });
      assert.equal(r.status, 200, r.text);
    }
  }
  const n = await waitNotice(id, 'repeated_returns');
  assert.equal(n.dept_id, depts.ZJJ);
  assert.match(n.reason, /3/);
  const d = await until('the deduction', async () => (await insp.get(`/api/v1/deductions?kind=repeated_returns`)).body.items.find((x) => x.order_id === id));
  assert.equal(d.dept_id, depts.ZJJ);

  // a grid worker's report that the centre rejects is charged to the grid (乱吹哨);
  // without a category it waits for the centre (submitted)
  const r1 = await gw.post('/api/v1/reports', { description: '网格员上报：邻居家装修声音大', grid_code: grid, channel: 'grid_app' });
  assert.equal(r1.status, 201, r1.text);
  assert.equal(r1.body.state, 'submitted');
  const bad = r1.body.id;
  assert.equal((await disp.post(`/api/v1/orders/${bad}/reject`, { reason: '不属于受理范围，无效上报' })).status, 200);
  // an anonymous resident's rejected report is not charged to anyone
  const r2 = await new Client(srv.url).post('/api/v1/reports', { description: '居民反映：楼上漏水', grid_code: grid, phone: '13800005678', channel: 'resident_web' });
  assert.equal(r2.status, 201, r2.text);
  assert.equal((await disp.post(`/api/v1/orders/${r2.body.id}/reject`, { reason: '属于私人纠纷' })).status, 200);
  const w = await until('improper whistle deduction', async () => (await insp.get('/api/v1/deductions?kind=improper_whistle')).body.items.find((x) => x.order_id === bad));
  assert.equal(w.dept_id, null);
  assert.equal(w.grid_code, grid);
  assert.equal(w.level, 'community');
  assert.match(w.note, /无效上报/);
  assert.ok(!(await insp.get('/api/v1/deductions?kind=improper_whistle')).body.items.some((x) => x.order_id === r2.body.id));
  assertError(assert, await insp.get('/api/v1/deductions?kind=nope'), 422);
});

test('after a restart: what became late while no scanner ran is found from the stored deadlines', async () => {
  const late = await report(); // will be signed late while the jobs do not run
  const still = await report(); // will stay unsigned across the restart
  await srv.stop();
  // a server without background jobs: time passes, the order is signed late
  srv = await startServer({ dir: srv.dir, args: ['--no-jobs'] });
  await loginAll();
  offset += 2 * 3600;
  assert.equal((await admin.post('/api/v1/test/clock', { offset_seconds: offset })).status, 200);
  assert.equal((await zjj.post(`/api/v1/orders/${late}/sign`, {})).status, 200);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal((await notices(insp, { order_id: late })).length, 0, 'no scanner ran');
  await srv.stop();
  // back with jobs
  srv = await startServer({ dir: srv.dir });
  await loginAll();
  assert.equal((await admin.post('/api/v1/test/clock', { offset_seconds: offset })).status, 200);
  const n1 = await waitNotice(late, 'late_signing');
  const n2 = await waitNotice(still, 'late_signing');
  assert.equal(n1.dept_id, depts.ZJJ);
  assert.equal(n2.state, 'issued');
  // earlier notices were not issued again by the restarted scanner
  await new Promise((r) => setTimeout(r, 1500));
  const all = await notices(insp, { limit: 500 });
  const keys = all.filter((n) => n.kind !== 'manual').map((n) => `${n.order_id}/${n.kind}`);
  assert.equal(new Set(keys).size, keys.length, 'at most one notice per order and kind');
});

test('a closed order nobody rates gets the default rating after N days', async () => {
  const id = await report();
  assert.equal((await zjj.post(`/api/v1/orders/${id}/sign`, {})).status, 200);
  assert.equal((await zjj.post(`/api/v1/orders/${id}/feedback`, { note: '已补装新井盖' })).status, 200);
  const v = await disp.post(`/api/v1/orders/${id}/verify`, { passed: true });
  assert.equal(v.status, 200, v.text);
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal((await disp.get(`/api/v1/orders/${id}`)).body.state, 'closed');
  await advance(8 * 86400);
  const o = await until('the default rating', async () => {
    const r = await disp.get(`/api/v1/orders/${id}`);
    return r.body.state === 'rated' ? r.body : null;
  }, 15000);
  assert.equal(o.rating, 'satisfied');
  assert.equal(o.rating_default, true);
});

// The month (yyyy-mm, China Standard Time) of an RFC 3339 time.
function cstMonth(iso) {
  return new Date(Date.parse(iso) + 8 * 3600 * 1000).toISOString().slice(0, 7);
}

function sql(q) {
  return execFileSync('sqlite3', [srv.db, q]).toString().trim();
}

test('indicators and assessment count the notices and deductions; their daily counts equal a recount, a wrong one is found', async () => {
  // answer one more notice, late: on time is judged against its due time
  const open = (await notices(zjj, { state: 'issued' }))[0];
  await advance(4 * 86400);
  assert.equal((await zjj.post(`/api/v1/supervision/${open.id}/answer`, { answer: '已整改完毕' })).status, 200);
  // the scanner would go on issuing (four days passed): compare a still database
  await srv.stop();
  srv = await startServer({ dir: srv.dir, args: ['--no-jobs'] });
  await loginAll();
  assert.equal((await admin.post('/api/v1/test/clock', { offset_seconds: offset })).status, 200);
  const all = await notices(insp, { limit: 500 });
  const deds = (await insp.get('/api/v1/deductions?limit=500')).body.items;
  const months = [...new Set(all.map((n) => cstMonth(n.issued_at)))].sort();
  assert.ok(months.length >= 1);
  let seen = 0;
  for (const m of months) {
    // notices per department, counted here from the list
    const want = {};
    for (const n of all.filter((x) => cstMonth(x.issued_at) === m)) {
      const w = (want[n.dept_id] ||= { notices: 0, ontime: 0 });
      w.notices++;
      if (n.answered_at && Date.parse(n.answered_at) <= Date.parse(n.due_at)) w.ontime++;
    }
    const ind = await admin.get(`/api/v1/stats/indicators?period=${m}&group_by=dept`);
    assert.equal(ind.status, 200, ind.text);
    for (const [dept, w] of Object.entries(want)) {
      const it = ind.body.items.find((i) => i.key === String(dept));
      assert.ok(it, `department ${dept} in ${m}`);
      assert.equal(it.counts.notices, w.notices, `${m} dept ${dept} notices`);
      assert.equal(it.counts.notices_ontime, w.ontime, `${m} dept ${dept} notices on time`);
      seen += w.notices;
    }
    // deductions per department and kind, and those charged to the street
    const count = (pred) => {
      const c = {};
      for (const d of deds.filter((x) => cstMonth(x.at) === m && pred(x))) c[d.kind] = (c[d.kind] || 0) + 1;
      return c;
    };
    const items = (it) => Object.fromEntries(it.deduction_items.map((x) => [x.kind, x.count]));
    const byDept = await assessment(m, 'dept');
    for (const dept of [depts.ZJJ, depts.CGJ]) {
      const it = byDept.find((i) => i.subject === String(dept));
      assert.deepEqual(items(it), count((x) => x.dept_id === dept), `${m} dept ${dept} deductions`);
    }
    const byStreet = await assessment(m, 'street');
    const street = byStreet.find((i) => i.subject === grid);
    assert.deepEqual(items(street), count((x) => x.dept_id === null && x.grid_code.startsWith(grid)), `${m} street deductions`);
  }
  assert.ok(seen >= 6, `compared ${seen} notices`);
  assert.ok(deds.some((x) => x.dept_id === null), 'a deduction charged to a grid');
  assert.ok(all.some((n) => n.answered_at && Date.parse(n.answered_at) > Date.parse(n.due_at)), 'a late answer');

  // the daily counts equal a recount of the raw rows …
  const range = `from=${months[0]}&to=${months[months.length - 1]}`;
  let c = await admin.get(`/api/v1/stats/check?${range}`);
  assert.equal(c.status, 200, c.text);
  assert.equal(c.body.differences, 0, JSON.stringify(c.body.items.slice(0, 5)));
  // … and a count that is off is reported, with its day and subject
  sql(`UPDATE stats_notices SET ontime = ontime + 1 WHERE dept_id = ${depts.ZJJ} AND day = (SELECT max(day) FROM stats_notices WHERE dept_id = ${depts.ZJJ})`);
  sql(`UPDATE stats_deductions SET n = n + 2 WHERE kind = 'improper_whistle'`);
  c = await admin.get(`/api/v1/stats/check?${range}`);
  assert.equal(c.body.differences, 2, JSON.stringify(c.body.items));
  const n = c.body.items.find((x) => /^notices_ontime on \d{4}-\d\d-\d\d$/.test(x.indicator));
  assert.ok(n, JSON.stringify(c.body.items));
  assert.equal(n.key, String(depts.ZJJ));
  assert.equal(n.aggregates, n.recomputed + 1);
  const d = c.body.items.find((x) => /^improper_whistle on /.test(x.indicator));
  assert.equal(d.group, 'grid');
  assert.equal(d.key, grid);
  assert.equal(d.aggregates, d.recomputed + 2);
  sql(`UPDATE stats_notices SET ontime = ontime - 1 WHERE dept_id = ${depts.ZJJ} AND day = (SELECT max(day) FROM stats_notices WHERE dept_id = ${depts.ZJJ})`);
  sql(`UPDATE stats_deductions SET n = n - 2 WHERE kind = 'improper_whistle'`);
  assert.equal((await admin.get(`/api/v1/stats/check?${range}`)).body.differences, 0);
});

async function assessment(month, kind) {
  const r = await admin.get(`/api/v1/assessment?month=${month}&kind=${kind}`);
  assert.equal(r.status, 200, r.text);
  return r.body.items;
}
