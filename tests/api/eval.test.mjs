// Evaluation (issue 5): on a fixed generated dataset — orders created and
// walked through their states through the API with the test clock — every
// indicator for every department, street, community and month equals the
// figures computed HERE, independently, from the raw timeline the test
// drove; the aggregates also equal the server's own recomputation
// (GET /stats/check, `whistle check`). Then: assessment rules are
// versioned (a closed month keeps its score), the monthly report reads back
// as XLSX and prints to A4 PDF through headless Chromium without cut tables,
// the ledger ticks off, and joint analysis links to its orders.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, Client, adminClient, assertError, cli, tempDir } from './lib.mjs';

let srv, admin, dir;
const depts = {};
const u = {};
const PW = 'eval-test-pw-1';

const GRIDS = [
  ['511402', null, 0, '测试县'],
  ['511402001', '511402', 1, '东街道'],
  ['511402001001', '511402001', 2, '东一社区'],
  ['511402001001001', '511402001001', 3, '东一社区一网格'],
  ['511402001002', '511402001', 2, '东二社区'],
  ['511402001002001', '511402001002', 3, '东二社区一网格'],
  ['511402002', '511402', 1, '西街道'],
  ['511402002001', '511402002', 2, '西一社区'],
  ['511402002001001', '511402002001', 3, '西一社区一网格'],
];
const LEAVES = ['511402001001001', '511402001002001', '511402002001001'];

// Phases: the clock only moves forward. November and December 2026 end up
// closed months; January 2027 is the current month at the end.
const PHASES = [Date.UTC(2026, 10, 24, -8) / 1000, Date.UTC(2026, 11, 1, -8) / 1000, Date.UTC(2027, 0, 4, -8) / 1000];
const MONTHS = ['2026-11', '2026-12', '2027-01'];

// Deterministic PRNG (mulberry32).
function rng(seed) {
  return () => {
    seed |= 0; seed = (seed + 0x6D2B79F5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function setClock(epoch) {
  const off = Math.max(0, Math.ceil(epoch - Date.now() / 1000));
  const r = await admin.post('/api/v1/test/clock', { offset_seconds: off });
  assert.equal(r.status, 200, r.text);
}

async function tokenClient(userId, label) {
  const t = await admin.post('/api/v1/tokens', { user_id: userId, label });
  assert.equal(t.status, 201, t.text);
  return new Client(srv.url, { token: t.body.token });
}

before(async () => {
  dir = tempDir();
  const db = join(dir, 'whistle.db');
  assert.equal(cli(['init', '--db', db]).status, 0);
  for (const [code, parent, depth, name] of GRIDS) {
    execFileSync('sqlite3', [db, `INSERT INTO grids (code, parent_id, depth, name, created_at, updated_at) VALUES ('${code}', ${parent ? `(SELECT id FROM grids WHERE code = '${parent}')` : 'NULL'}, ${depth}, '${name}', 'x', 'x')`]);
  }
  srv = await startServer({ dir });
  admin = await adminClient(srv);
  const me = await admin.get('/api/v1/auth/me');
  admin = await tokenClient(me.body.user.id, 'eval-admin');
  for (const [code, name] of [['CGJ', '县城市管理局'], ['ZJJ', '县住建局'], ['SWJ', '县水务局'], ['JTJ', '县交通运输局']]) {
    const d = await admin.post('/api/v1/departments', { code, name });
    assert.equal(d.status, 201, d.text);
    depts[code] = d.body.id;
  }
  const spec = {
    disp: { role: 'dispatcher' },
    CGJ: { role: 'department_handler', scope_dept: depts.CGJ },
    ZJJ: { role: 'department_handler', scope_dept: depts.ZJJ },
    SWJ: { role: 'department_handler', scope_dept: depts.SWJ },
    JTJ: { role: 'department_handler', scope_dept: depts.JTJ },
    gw: { role: 'grid_worker', scope_grid: '511402' },
    comm: { role: 'community_staff', scope_grid: '511402001001' },
    res: { role: 'resident' },
    leader: { role: 'leader' },
  };
  for (const [name, s] of Object.entries(spec)) {
    const c = await admin.post('/api/v1/users', { login: 'ev-' + name.toLowerCase(), name, password: PW, phone: '13900001234', ...s });
    assert.equal(c.status, 201, c.text);
    u[name] = await tokenClient(c.body.id, 'eval');
  }
});
after(async () => { await srv?.stop(); srv?.cleanup(); });

// ---- the dataset ---------------------------------------------------------

const CATS = { '0101': 'CGJ', '0201': 'ZJJ', '0301': 'SWJ', '0204': 'JTJ' };
const OTHER = { CGJ: 'ZJJ', ZJJ: 'SWJ', SWJ: 'JTJ', JTJ: 'CGJ' };
const RATINGS = ['satisfied', 'satisfied', 'basic', 'unsatisfied'];

// A script is a list of [hours after the previous step, step]; steps are
// interpreted by run() below. Every path of the state machine that counts.
const SCRIPTS = {
  happy: [[1, 'sign'], [5, 'feedback'], [2, 'pass'], [1, 'rate']],
  late_sign: [[30, 'sign'], [10, 'feedback'], [1, 'pass']],
  returned: [[1, 'return'], [1, 'return-approve'], [1, 'redispatch'], [2, 'sign'], [3, 'feedback'], [1, 'fail'], [2, 'feedback'], [1, 'pass'], [1, 'rate']],
  returned_twice: [[1, 'sign'], [1, 'return'], [1, 'return-approve'], [1, 'redispatch'], [1, 'return'], [2, 'return-approve'], [1, 'redispatch'], [1, 'sign']],
  extension: [[1, 'sign'], [2, 'extend'], [1, 'extend-approve'], [30, 'feedback'], [1, 'pass'], [1, 'rate']],
  refused_ext: [[1, 'sign'], [2, 'extend'], [3, 'extend-refuse'], [1, 'feedback'], [1, 'pass']],
  open_overdue: [[1, 'sign']],
  unsigned: [],
  late_feedback: [[1, 'sign'], [100, 'feedback'], [1, 'pass'], [2, 'rate']],
  rework_late: [[1, 'sign'], [3, 'feedback'], [60, 'fail'], [5, 'feedback'], [1, 'pass']],
  reopen: [[1, 'sign'], [4, 'feedback'], [1, 'pass'], [1, 'rate'], [3, 'reopen'], [1, 'redispatch'], [1, 'sign'], [2, 'feedback'], [1, 'pass']],
  // overdue (counted by the overdue job), then an extension moves the deadline past now
  overdue_extended: [[1, 'sign'], [150, 'wait'], [0, 'extend'], [0, 'extend-approve'], [2, 'feedback'], [1, 'pass']],
  reject: 'centre', onsite: 'centre', merge: 'centre', escalate: 'centre',
};
const NAMES = Object.keys(SCRIPTS);

function plan() {
  const rand = rng(20261124);
  const orders = [];
  PHASES.forEach((start, phase) => {
    const n = 13;
    for (let i = 0; i < n; i++) {
      const kind = NAMES[(i + phase * 5) % NAMES.length];
      const cat = Object.keys(CATS)[Math.floor(rand() * 4)];
      const grid = LEAVES[Math.floor(rand() * LEAVES.length)];
      // reports on the first five days of the phase, at 08:00–20:00 CST
      const at = start + Math.floor(rand() * 5) * 86400 + (8 + Math.floor(rand() * 12)) * 3600 + Math.floor(rand() * 3600);
      orders.push({ kind, cat, grid, at, rating: RATINGS[Math.floor(rand() * 4)], phase });
    }
  });
  return orders;
}

const act = (c, id, action, body = {}) => c.post(`/api/v1/orders/${id}/${action}`, body);

async function must(r, what) {
  assert.ok(r.status === 200 || r.status === 201, `${what}: ${r.status} ${r.text}`);
  return r.body;
}

// Builds the list of timed steps for every order, then runs them in time
// order (the clock only moves forward).
async function runDataset() {
  const orders = plan();
  const steps = [];
  for (const [idx, o] of orders.entries()) {
    steps.push({ at: o.at, idx, step: 'report' });
    const s = SCRIPTS[o.kind];
    if (s === 'centre') {
      steps.push({ at: o.at + 1800, idx, step: o.kind });
      continue;
    }
    let t = o.at + 600;
    steps.push({ at: t, idx, step: 'dispatch' });
    for (const [h, step] of s) {
      t += h * 3600;
      steps.push({ at: t, idx, step });
    }
  }
  steps.sort((a, b) => a.at - b.at || a.idx - b.idx);
  const lastAt = Math.max(...steps.map((s) => s.at));
  for (const st of steps) {
    await setClock(st.at);
    await runStep(orders, st);
  }
  return { orders, lastAt };
}

async function runStep(orders, { idx, step }) {
  const o = orders[idx];
  const handler = () => u[o.dept];
  switch (step) {
    case 'report': {
      const centre = SCRIPTS[o.kind] === 'centre';
      const by = o.kind === 'onsite' ? u.gw : u.res;
      const body = { description: `测试问题 ${idx} ${o.kind}`, grid_code: o.grid, address: `东街${idx % 4}号` };
      if (!centre) body.category_code = o.cat;
      if (o.kind === 'escalate') body.category_code = '1003'; // a community-level kind without a department
      const r = await must(await by.post('/api/v1/reports', body), 'report');
      o.id = r.id;
      o.code = r.code;
      return;
    }
    case 'dispatch': {
      const cur = (await admin.get(`/api/v1/orders/${o.id}`)).body;
      o.dept = CATS[o.cat];
      if (cur.state === 'submitted') await must(await act(u.disp, o.id, 'accept'), 'accept');
      if (cur.state !== 'dispatched') await must(await act(u.disp, o.id, 'dispatch', { dept_id: depts[o.dept] }), 'dispatch');
      else o.dept = Object.keys(depts).find((k) => depts[k] === cur.dept_id);
      return;
    }
    case 'redispatch':
      o.dept = OTHER[o.dept];
      await must(await act(u.disp, o.id, 'dispatch', { dept_id: depts[o.dept] }), 'redispatch');
      return;
    case 'sign': await must(await act(handler(), o.id, 'sign'), 'sign'); return;
    case 'wait': await new Promise((r) => setTimeout(r, 2200)); return; // the overdue job runs every second
    case 'return': await must(await act(handler(), o.id, 'return', { reason: '不属于本部门职责' }), 'return'); return;
    case 'return-approve': await must(await act(u.disp, o.id, 'return-approve'), 'return-approve'); return;
    case 'extend': await must(await act(handler(), o.id, 'extend', { reason: '需要协调施工', hours: o.kind === 'overdue_extended' ? 200 : 16 }), 'extend'); return;
    case 'extend-approve': await must(await act(u.disp, o.id, 'extend-approve'), 'extend-approve'); return;
    case 'extend-refuse': await must(await act(u.disp, o.id, 'extend-refuse'), 'extend-refuse'); return;
    case 'feedback': await must(await act(handler(), o.id, 'feedback', { note: '已处理完毕' }), 'feedback'); return;
    case 'pass': await must(await act(u.disp, o.id, 'verify', { passed: true }), 'verify'); return;
    case 'fail': await must(await act(u.disp, o.id, 'verify', { passed: false, note: '现场未整改到位' }), 'verify fail'); return;
    case 'rate': await must(await act(u.res, o.id, 'rate', { rating: o.rating, comment: '评价' }), 'rate'); return;
    case 'reopen': await must(await act(u.disp, o.id, 'reopen', { reason: '群众反映问题复发' }), 'reopen'); return;
    case 'reject':
      await must(await act(u.disp, o.id, 'reject', { reason: '不属于受理范围' }), 'reject');
      return;
    case 'onsite':
      await must(await act(u.disp, o.id, 'accept', { category_code: '0101' }), 'accept+category');
      await must(await act(u.gw, o.id, 'onsite', { note: '现场已清理' }), 'onsite');
      return;
    case 'merge': {
      const target = orders.find((x) => x.id && x.id !== o.id);
      await must(await act(u.disp, o.id, 'merge', { into: target.id }), 'merge');
      return;
    }
    case 'escalate':
      await must(await act(u.disp, o.id, 'escalate', { reason: '需街道协调' }), 'escalate');
      await must(await act(u.disp, o.id, 'accept'), 'accept');
      o.dept = 'ZJJ';
      await must(await act(u.disp, o.id, 'dispatch', { dept_id: depts.ZJJ }), 'dispatch');
      return;
    default: throw new Error('unknown step ' + step);
  }
}

// ---- the independent recomputation (JavaScript, from the timelines) --------

const COLS = ['received', 'accepted', 'rejected', 'merged', 'onsite', 'dispatched', 'signed', 'signed_ontime',
  'return_requests', 'returned', 'extension_requests', 'extensions', 'feedbacks', 'closed', 'closed_ontime',
  'reworks', 'reopened', 'escalated', 'rated', 'satisfied', 'basic', 'unsatisfied', 'rated_default',
  'inflow', 'outflow', 'overdue_done', 'handled_minutes'];
const IN_PROGRESS = new Set(['accepted', 'dispatched', 'signed', 'feedback', 'rework']);
const HOLDING = new Set(['dispatched', 'signed', 'rework']);

const epoch = (s) => Math.floor(Date.parse(s) / 1000);
function cstDay(t) {
  const d = new Date((t + 8 * 3600) * 1000);
  return d.getUTCFullYear() * 10000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate();
}
const monthOf = (t) => Math.floor(cstDay(t) / 100);
const monthKey = (m) => `${Math.floor(m / 100)}-${String(m % 100).padStart(2, '0')}`;

function workingMinutes(cal, a, b) {
  if (b <= a) return 0;
  let total = 0;
  const dayStart = (t) => Math.floor((t + 8 * 3600) / 86400);
  for (let day = dayStart(a); day <= dayStart(b); day++) {
    const d = new Date(day * 86400000);
    const iso = d.toISOString().slice(0, 10);
    const y = cal[d.getUTCFullYear()];
    const wd = d.getUTCDay();
    let working = wd >= 1 && wd <= 5;
    if (y.holidays.includes(iso)) working = false;
    if (y.workdays.includes(iso)) working = true;
    if (!working) continue;
    const base = day * 86400 - 8 * 3600;
    for (const [s, e] of y.hours) {
      const [sh, sm] = s.split(':').map(Number);
      const [eh, em] = e.split(':').map(Number);
      const from = Math.max(a, base + (sh * 60 + sm) * 60), to = Math.min(b, base + (eh * 60 + em) * 60);
      if (to > from) total += to - from;
    }
  }
  return Math.floor(total / 60);
}

function recompute(timelines, cal, now) {
  const rows = new Map(); // `${group}|${key}|${month}` → row
  const row = (g, k, m) => {
    const id = `${g}|${k}|${m}`;
    if (!rows.has(id)) rows.set(id, { v: Object.fromEntries(COLS.map((c) => [c, 0])), overdueOpen: 0, overdueNow: 0, unsignedNow: 0, mins: [] });
    return rows.get(id);
  };
  const targets = (dept, grid, m) => {
    const t = [row('all', '', m), row('dept', String(dept), m)];
    if (grid.length >= 9) t.push(row('street', grid.slice(0, 9), m));
    if (grid.length >= 12) t.push(row('community', grid.slice(0, 12), m));
    return t;
  };
  const count = (t, dept, grid, col, n = 1) => { for (const r of targets(dept, grid, monthOf(t))) r.v[col] += n; };
  for (const events of timelines) {
    let grid = '', cat = '', dept = 0, state = '', holdStart = 0, deadline = 0, rdl = 0, cycleStart = 0, fbLate = false;
    for (const ev of events) {
      const at = epoch(ev.at), a = ev.action, to = ev.to_state, data = ev.data || {};
      if (a === 'report') { grid = data.grid || ''; cat = data.category || ''; cycleStart = at; }
      let newDept = dept;
      if (a === 'dispatch') newDept = ev.dept_id;
      if (a === 'return_approve' || a === 'reopen') newDept = 0;
      const wasHolding = HOLDING.has(state), isHolding = HOLDING.has(to);
      if (wasHolding && (!isHolding || a === 'dispatch') && deadline > 0 && at > deadline) {
        count(Math.max(holdStart, deadline), dept, grid, 'overdue_done');
      }
      const oldCat = cat;
      if ((a === 'accept' || a === 'dispatch') && data.category) cat = data.category;
      const moved = IN_PROGRESS.has(state) !== IN_PROGRESS.has(to) || (IN_PROGRESS.has(to) && (newDept !== dept || oldCat !== cat));
      if (moved && IN_PROGRESS.has(state)) count(at, dept, grid, 'outflow');
      if (moved && IN_PROGRESS.has(to)) count(at, newDept, grid, 'inflow');
      const who = ev.dept_id;
      const simple = { report: 'received', accept: 'accepted', reject: 'rejected', merge: 'merged', onsite: 'onsite',
        return: 'return_requests', extend: 'extension_requests', verify_fail: 'reworks', escalate: 'escalated' };
      if (simple[a]) count(at, who, grid, simple[a]);
      if (a === 'dispatch') { count(at, who, grid, 'dispatched'); deadline = data.deadline; rdl = data.response_deadline; }
      if (a === 'sign') { count(at, who, grid, 'signed'); if (!rdl || at <= rdl) count(at, who, grid, 'signed_ontime'); }
      if (a === 'return_approve') { count(at, who, grid, 'returned'); deadline = 0; }
      if (a === 'extend_approve') { count(at, who, grid, 'extensions'); deadline = data.deadline; }
      if (a === 'extend_refuse') deadline = data.deadline;
      if (a === 'feedback') { count(at, who, grid, 'feedbacks'); fbLate = deadline > 0 && at > deadline; }
      if (a === 'verify_pass') {
        count(at, who, grid, 'closed');
        if (!fbLate) count(at, who, grid, 'closed_ontime');
        const m = workingMinutes(cal, cycleStart, at);
        count(at, who, grid, 'handled_minutes', m);
        for (const r of targets(who, grid, monthOf(at))) r.mins.push(m);
      }
      if (a === 'rate') {
        count(at, who, grid, 'rated');
        count(at, who, grid, data.rating);
        if (data.default) count(at, who, grid, 'rated_default');
      }
      if (a === 'reopen') { count(at, who, grid, 'reopened'); cycleStart = at; fbLate = false; deadline = 0; }
      if (isHolding && (!wasHolding || a === 'dispatch')) holdStart = at;
      dept = newDept;
      state = to;
    }
    if (HOLDING.has(state) && deadline > 0 && deadline < now) {
      for (const r of targets(dept, grid, monthOf(Math.max(holdStart, deadline)))) r.overdueOpen++;
      for (const r of targets(dept, grid, 0)) r.overdueNow++;
    }
    if (state === 'dispatched' && rdl > 0 && rdl < now) for (const r of targets(dept, grid, 0)) r.unsignedNow++;
  }
  return rows;
}

function expected(rows, group, key, month) {
  const out = { counts: Object.fromEntries(COLS.map((c) => [c, 0])), carried_in: 0, overdue_open: 0, overdue_now: 0, unsigned_overdue_now: 0, p90: null };
  for (const [id, r] of rows) {
    const [g, k, m] = id.split('|');
    if (g !== group || k !== key) continue;
    const mm = Number(m);
    if (mm === 0) { out.overdue_now = r.overdueNow; out.unsigned_overdue_now = r.unsignedNow; continue; }
    if (mm < month) out.carried_in += r.v.inflow - r.v.outflow;
    if (mm === month) {
      out.counts = { ...r.v };
      out.overdue_open = r.overdueOpen;
      const s = [...r.mins].sort((x, y) => x - y);
      out.p90 = s.length ? s[Math.max(1, Math.ceil(0.9 * s.length)) - 1] : null;
    }
  }
  return out;
}

// ---- the tests -------------------------------------------------------------

let data; // { orders, timelines, rows, now }

test('dataset: orders walk through every path; the aggregates equal the recomputation in this test', async () => {
  const { orders, lastAt } = await runDataset();
  // jump a week past the last action: open orders go overdue
  const now = lastAt + 7 * 86400;
  await setClock(now);
  const timelines = [];
  for (const o of orders) {
    const r = await admin.get(`/api/v1/orders/${o.id}`);
    assert.equal(r.status, 200);
    timelines.push(r.body.timeline);
  }
  // let the background jobs (default ratings, supervision) settle, then
  // read every timeline until two reads agree
  let prev = '';
  for (;;) {
    await new Promise((r) => setTimeout(r, 2500));
    timelines.length = 0;
    for (const o of orders) timelines.push((await admin.get(`/api/v1/orders/${o.id}`)).body.timeline);
    const cur = JSON.stringify(timelines);
    if (cur === prev) break;
    prev = cur;
  }
  const cal = {};
  for (const y of [2026, 2027]) {
    const r = await admin.get(`/api/v1/calendar/${y}`);
    assert.equal(r.status, 200, r.text);
    cal[y] = r.body.calendar || r.body;
  }
  const nowSrv = (await admin.post('/api/v1/test/clock', { offset_seconds: Math.ceil(now - Date.now() / 1000) })).body.now;
  const rows = recompute(timelines, cal, nowSrv);
  data = { orders, timelines, rows, now: nowSrv };
  // the dataset covers what it should
  const all = MONTHS.map((m) => expected(rows, 'all', '', Number(m.replace('-', ''))).counts);
  const sum = (c) => all.reduce((s, x) => s + x[c], 0);
  for (const c of ['received', 'accepted', 'rejected', 'merged', 'onsite', 'dispatched', 'signed', 'returned', 'extensions',
    'extension_requests', 'feedbacks', 'closed', 'reworks', 'reopened', 'escalated', 'rated', 'satisfied']) {
    assert.ok(sum(c) > 0, `the dataset has ${c}`);
  }
  assert.ok(sum('closed_ontime') < sum('closed'), 'some closes are late');
  const overdueTotal = MONTHS.reduce((t, m) => { const x = expected(rows, 'all', '', Number(m.replace('-', ''))); return t + x.counts.overdue_done + x.overdue_open; }, 0);
  assert.ok(overdueTotal > 0 && expected(rows, 'all', '', 202701).overdue_now > 0, 'overdue, ended and ongoing');
  assert.ok(sum('signed_ontime') < sum('signed'), 'some signs are late');

  let compared = 0;
  for (const m of MONTHS) {
    const month = Number(m.replace('-', ''));
    for (const group of ['all', 'dept', 'street', 'community']) {
      const r = await admin.get(`/api/v1/stats/indicators?period=${m}${group === 'all' ? '' : '&group_by=' + group}`);
      assert.equal(r.status, 200, r.text);
      const got = new Map(r.body.items.map((it) => [it.key, it]));
      const keys = new Set([...got.keys()]);
      for (const id of rows.keys()) { const [g, k] = id.split('|'); if (g === group) keys.add(k); }
      for (const key of keys) {
        const want = expected(rows, group, key, month);
        const it = got.get(key);
        const c = it ? it.counts : {};
        const where = `${m} ${group} ${key}`;
        // overdue_done is internal (the job counts a held order when its deadline passes):
        // the total "overdue" is compared below
        for (const col of COLS) if (col !== 'overdue_done') assert.equal(c[col] ?? 0, want.counts[col], `${where} ${col}`);
        assert.equal(c.carried_in ?? 0, want.carried_in, `${where} carried_in`);
        assert.equal(c.overdue ?? 0, want.counts.overdue_done + want.overdue_open, `${where} overdue`);
        assert.equal(c.overdue_now ?? 0, want.overdue_now, `${where} overdue_now`);
        assert.equal(c.unsigned_overdue_now ?? 0, want.unsigned_overdue_now, `${where} unsigned_overdue_now`);
        assert.equal(it ? it.handling.p90_minutes : null, want.p90, `${where} p90`);
        if (it) {
          // the rates are the documented fractions of these counts
          const w = want.counts;
          const rate = (n, d) => ({ num: n, den: d });
          const rates = {
            response_rate: rate(w.signed_ontime, w.signed),
            completion_rate: rate(w.closed, want.carried_in + w.inflow),
            ontime_rate: rate(w.closed_ontime, w.closed),
            return_rate: rate(w.returned, w.dispatched),
            rework_rate: rate(w.reworks, w.closed + w.reworks),
            satisfaction_rate: rate(w.satisfied + w.basic, w.rated),
          };
          for (const [name, { num, den }] of Object.entries(rates)) {
            assert.equal(it.rates[name].num, num, `${where} ${name} num`);
            assert.equal(it.rates[name].den, den, `${where} ${name} den`);
            if (den === 0) assert.equal(it.rates[name].value, null);
            else assert.ok(Math.abs(it.rates[name].value - num / den) < 1e-4, `${where} ${name}`);
          }
        }
        compared++;
      }
    }
  }
  assert.ok(compared > 30, `compared ${compared} rows`);
});

test('whistle check and GET /stats/check prove the aggregates from the timeline', async () => {
  const r = await admin.get('/api/v1/stats/check?from=2026-11&to=2027-01');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.differences, 0, JSON.stringify(r.body.items.slice(0, 5)));
  assertError(assert, await u.leader.get('/api/v1/stats/check'), 403);
  // the CLI runs without the test clock: judge overdue at the server's time
  const nowIso = new Date(data.now * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  const c = cli(['check', '--db', srv.db, '--from', '2026-11', '--to', '2027-01', '--now', nowIso]);
  assert.equal(c.status, 0, c.stderr + c.stdout);
  assert.match(c.stdout, /aggregates ok/);
});

test('indicators: filters, groupings and periods agree with each other; bad periods are 422', async () => {
  const month = await admin.get('/api/v1/stats/indicators?period=2026-12');
  const days = await admin.get('/api/v1/stats/indicators?from=2026-12-01&to=2026-12-31&group_by=day');
  assert.equal(days.body.items.length, 31);
  const total = (items, col) => items.reduce((s, it) => s + it.counts[col], 0);
  for (const col of ['received', 'closed', 'dispatched', 'handled_minutes']) {
    assert.equal(total(days.body.items, col), month.body.items[0].counts[col], col);
  }
  // carried_in of each day is the balance of the days before
  const d = days.body.items;
  for (let i = 1; i < d.length; i++) {
    assert.equal(d[i].counts.carried_in, d[i - 1].counts.in_progress_end, `day ${d[i].key}`);
  }
  const q4 = await admin.get('/api/v1/stats/indicators?period=2026-Q4&group_by=month');
  assert.deepEqual(q4.body.items.map((i) => i.key), ['2026-10', '2026-11', '2026-12']);
  const weeks = await admin.get('/api/v1/stats/indicators?period=2026-12&group_by=week');
  assert.equal(total(weeks.body.items, 'received'), month.body.items[0].counts.received);
  // a street equals the sum of its communities; a grid filter equals its street row
  const streets = await admin.get('/api/v1/stats/indicators?period=2026-12&group_by=street');
  const comms = await admin.get('/api/v1/stats/indicators?period=2026-12&group_by=community&grid=511402001');
  const east = streets.body.items.find((i) => i.key === '511402001');
  assert.equal(total(comms.body.items, 'received'), east.counts.received);
  const byGrid = await admin.get('/api/v1/stats/indicators?period=2026-12&grid=511402001');
  assert.deepEqual(byGrid.body.items[0].counts, east.counts);
  assert.equal(east.label, '东街道');
  // a department filter with a category and a channel (the detailed table)
  const cat = await admin.get(`/api/v1/stats/indicators?period=2026-12&dept=${depts.CGJ}&category=0101&group_by=channel`);
  assert.equal(cat.status, 200, cat.text);
  for (const bad of ['2026-13', '2026-W54', '2026-02-30', 'x', '1999', '2026-12-31..2026-12-01']) {
    assertError(assert, await admin.get(`/api/v1/stats/indicators?period=${bad}`), 422);
  }
  assertError(assert, await admin.get('/api/v1/stats/indicators?group_by=planet'), 422);
  // scope: a department handler sees only its department
  const mine = await u.CGJ.get('/api/v1/stats/indicators?period=2026-12&group_by=dept');
  assert.equal(mine.status, 200, mine.text);
  assert.deepEqual(mine.body.items.map((i) => i.key), [String(depts.CGJ)]);
  assertError(assert, await u.CGJ.get(`/api/v1/stats/indicators?dept=${depts.ZJJ}`), 403);
  assertError(assert, await u.res.get('/api/v1/stats/indicators'), 403);
});

test('assessment: weighted score with deductions; new rules re-score the current month, not a closed one', async () => {
  const dec0 = await u.leader.get('/api/v1/assessment?month=2026-12');
  assert.equal(dec0.status, 200, dec0.text);
  assert.equal(dec0.body.closed, true);
  const jan0 = await u.leader.get('/api/v1/assessment?month=2027-01');
  assert.equal(jan0.body.closed, false);
  // the API's department indicators carry the balances of now...
  let overdueNow = 0;
  for (const it of jan0.body.items) {
    const want = expected(data.rows, 'dept', String(it.subject), 202701);
    assert.equal(it.indicators?.counts.overdue_now ?? 0, want.overdue_now, `${it.label} overdue_now`);
    assert.equal(it.indicators?.counts.unsigned_overdue_now ?? 0, want.unsigned_overdue_now, `${it.label} unsigned_overdue_now`);
    overdueNow += want.overdue_now;
  }
  assert.ok(overdueNow > 0, 'departments have orders overdue now');
  // ...which the dashboard's ranking (computed without them) does not need
  const dash = await u.leader.get('/api/v1/stats/dashboard');
  assert.deepEqual(dash.body.ranking.map((x) => [String(x.dept), x.score, x.rank]),
    jan0.body.items.map((x) => [String(x.subject), x.score, x.rank]));
  // the breakdown adds up to the score
  for (const it of dec0.body.items) {
    if (it.score === null) continue;
    const pts = it.components.reduce((s, c) => s + c.points, 0);
    assert.ok(Math.abs(pts - it.points) < 0.05, `${it.label}: components ${pts} vs ${it.points}`);
    assert.ok(Math.abs(Math.max(0, it.points - it.deductions) - it.score) < 0.011, `${it.label} score`);
    for (const c of it.components) {
      const want = c.den ? c.max_points * c.num / c.den : 0;
      assert.ok(Math.abs(c.points - want) < 0.011, `${it.label} ${c.indicator}`);
    }
  }
  const ranks = dec0.body.items.filter((i) => i.rank !== null).map((i) => i.score);
  assert.deepEqual(ranks, [...ranks].sort((a, b) => b - a), 'ranked best first');
  // new weights: only satisfaction counts
  assertError(assert, await u.leader.put('/api/v1/assessment/rules', { rules: { weights: { satisfaction_rate: 100 } } }), 403);
  assertError(assert, await admin.put('/api/v1/assessment/rules', { rules: { weights: { happiness: 100 } } }), 422);
  assertError(assert, await admin.put('/api/v1/assessment/rules', { rules: { weights: { satisfaction_rate: 100 } }, valid_from: '2026-12-15' }), 422);
  const put = await admin.put('/api/v1/assessment/rules', { rules: { weights: { response_rate: 50, ontime_rate: 50 }, deductions: { overdue_completion: 5 }, deduction_cap: 30 } });
  assert.equal(put.status, 200, put.text);
  const dec1 = await u.leader.get('/api/v1/assessment?month=2026-12');
  assert.deepEqual(dec1.body.items.map((i) => [i.subject, i.score]), dec0.body.items.map((i) => [i.subject, i.score]), 'the closed month keeps its scores');
  assert.equal(dec1.body.rules.valid_from, null);
  const jan1 = await u.leader.get('/api/v1/assessment?month=2027-01');
  assert.equal(jan1.body.rules.valid_from, put.body.valid_from);
  assert.deepEqual(jan1.body.items[0].components.map((c) => c.indicator).sort(), ['ontime_rate', 'response_rate']);
  const changed = jan1.body.items.some((it, i) => it.score !== jan0.body.items.find((x) => x.subject === it.subject).score);
  assert.ok(changed, 'the current month is re-scored');
  const hist = await admin.get('/api/v1/assessment/rules');
  assert.equal(hist.body.history.length, 1);
  // streets and communities are ranked too
  const st = await u.leader.get('/api/v1/assessment?month=2026-12&kind=street');
  assert.deepEqual(st.body.items.map((i) => i.subject).sort(), ['511402001', '511402002']);
  assertError(assert, await u.leader.get('/api/v1/assessment?month=2026-12&kind=planet'), 422);
});

test('monthly report: HTML, CSV and XLSX (read back), CLI, permissions', async () => {
  const h = await u.leader.get('/api/v1/reports/monthly?month=2026-12&format=html');
  assert.equal(h.status, 200, h.text);
  assert.match(h.headers.get('content-type'), /text\/html/);
  for (const s of ['月专报', '总体情况', '部门考核排名', '各部门办理进度', '超期工单', '多次退单', '督办单', '高发问题', '问题热点', '@media print', 'page-break-inside:avoid', 'table-header-group']) {
    assert.ok(h.text.includes(s), s);
  }
  const json = await u.leader.get('/api/v1/reports/monthly?month=2026-12&format=json');
  const summary = json.body.sections.find((s) => s.id === 'summary');
  const want = expected(data.rows, 'all', '', 202612).counts;
  const cell = (label) => summary.rows.find((r) => r[0].startsWith(label));
  assert.equal(cell('受理问题')[1], want.received);
  assert.equal(cell('办结 closed')[1], want.closed);
  const wantNov = expected(data.rows, 'all', '', 202611).counts;
  assert.equal(cell('受理问题')[2], wantNov.received, 'previous month');
  const csv = await u.leader.get('/api/v1/reports/monthly?month=2026-12&format=csv');
  assert.match(csv.headers.get('content-type'), /text\/csv/);
  assert.ok(csv.text.includes(`受理问题 received,${want.received},${wantNov.received}`), csv.text.slice(0, 400));
  // XLSX: one sheet per table, readable back
  const x = await fetch(`${srv.url}/api/v1/reports/monthly?month=2026-12&format=xlsx`, { headers: { Authorization: 'Bearer ' + u.leader.token } });
  assert.equal(x.status, 200);
  const file = join(dir, 'report.xlsx');
  writeFileSync(file, Buffer.from(await x.arrayBuffer()));
  const wb = execFileSync('unzip', ['-p', file, 'xl/workbook.xml']).toString();
  const sheets = [...wb.matchAll(/<sheet name="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(sheets.length, json.body.sections.length, sheets.join(', '));
  assert.ok(sheets[0].includes('总体情况'));
  const strings = execFileSync('unzip', ['-p', file, 'xl/sharedStrings.xml']).toString();
  assert.ok(strings.includes('受理问题 received'));
  const sheet1 = execFileSync('unzip', ['-p', file, 'xl/worksheets/sheet1.xml']).toString();
  assert.ok(sheet1.includes(`<v>${want.received}</v>`), 'the received count is a number cell');
  // CLI
  const out = join(dir, 'cli-report.xlsx');
  const c = cli(['report', 'monthly', '--db', srv.db, '--month', '2026-12', '--format', 'xlsx', '--out', out]);
  assert.equal(c.status, 0, c.stderr);
  assert.ok(readFileSync(out).subarray(0, 2).toString() === 'PK');
  const c2 = cli(['report', 'monthly', '--db', srv.db, '--month', '2026-12', '--format', 'csv']);
  assert.equal(c2.status, 0, c2.stderr);
  assert.ok(c2.stdout.includes('受理问题'));
  assert.equal(cli(['report', 'monthly', '--db', srv.db, '--month', '2026-13']).status, 2);
  assert.equal(cli(['report', 'weekly', '--db', srv.db]).status, 2);
  // permissions and bad input
  assertError(assert, await u.CGJ.get('/api/v1/reports/monthly?month=2026-12'), 403);
  assertError(assert, await u.leader.get('/api/v1/reports/monthly?month=12-2026'), 422);
  assertError(assert, await u.leader.get('/api/v1/reports/monthly?month=2026-12&format=pdf'), 422);
});

function chromium(args) {
  for (const bin of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (existsSync(bin)) return execFileSync(bin, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 120000 });
  }
  return null;
}

test('printing: the monthly report and a long ledger print to A4 PDF with no cut rows and repeated headers', async () => {
  // a long ledger: every order of the county, 11 columns
  const led = await admin.get('/api/v1/ledger?grid=511402&period=2026-11-01..2027-01-31&format=html');
  assert.equal(led.status, 200, led.text);
  const html = join(dir, 'ledger.html');
  writeFileSync(html, led.text);
  const pdf = join(dir, 'ledger.pdf');
  if (chromium([`--print-to-pdf=${pdf}`, '--no-pdf-header-footer', 'file://' + html]) === null) return;
  const text = execFileSync('pdftotext', ['-layout', pdf, '-']).toString();
  if (process.env.WHISTLE_ARTIFACTS) {
    execFileSync('mkdir', ['-p', process.env.WHISTLE_ARTIFACTS]);
    writeFileSync(join(process.env.WHISTLE_ARTIFACTS, 'eval-ledger.pdf'), readFileSync(pdf));
    writeFileSync(join(process.env.WHISTLE_ARTIFACTS, 'eval-ledger.html'), led.text);
  }
  const pages = text.split('\f').filter((p) => p.trim());
  assert.ok(pages.length >= 2, `the ledger spans pages (${pages.length})`);
  const ledJson = await admin.get('/api/v1/ledger?grid=511402&period=2026-11-01..2027-01-31');
  const rows = ledJson.body.sections[0].rows;
  assert.equal(rows.length, data.orders.length);
  for (const p of pages) {
    if (rows.some((r) => p.includes(r[0]))) assert.ok(p.includes('工单号'), 'the table header repeats on every page');
  }
  for (const r of rows) {
    // a row is never split: its code, its reported time and its state are on one page
    const on = pages.filter((p) => p.includes(r[0]));
    assert.equal(on.length, 1, `order ${r[0]} appears on exactly one page`);
    // (a cell may wrap: date and time are checked separately)
    for (const part of r[1].split(' ')) assert.ok(on[0].includes(part), `order ${r[0]}: reported ${part} on the same page`);
  }
  // the monthly report prints too, on A4 (595 × 842 pt)
  const rep = await admin.get('/api/v1/reports/monthly?month=2026-12&format=html');
  writeFileSync(join(dir, 'report.html'), rep.text);
  const rpdf = join(dir, 'report.pdf');
  chromium([`--print-to-pdf=${rpdf}`, '--no-pdf-header-footer', 'file://' + join(dir, 'report.html')]);
  const info = execFileSync('pdfinfo', [rpdf]).toString();
  assert.match(info, /Page size:.*\(A4\)/);
  const rtext = execFileSync('pdftotext', ['-layout', rpdf, '-']).toString();
  assert.ok(rtext.includes('月专报'));
});

test('ledger: states, tick-off (销号) of closed problems only, scope, weekly view, exports', async () => {
  const closed = data.orders.find((o) => o.kind === 'happy' && o.grid.startsWith('511402001001'));
  const open = data.orders.find((o) => o.kind === 'open_overdue');
  assertError(assert, await u.comm.post(`/api/v1/ledger/${open.id}/tick`, {}), closed.grid === open.grid ? 409 : (open.grid.startsWith('511402001001') ? 409 : 403));
  const t = await u.comm.post(`/api/v1/ledger/${closed.id}/tick`, { note: '周五例会确认' });
  assert.equal(t.status, 200, t.text);
  assertError(assert, await u.comm.post(`/api/v1/ledger/${closed.id}/tick`, {}), 409, 'already_ticked');
  const other = data.orders.find((o) => o.grid.startsWith('511402002') && ['happy', 'late_sign'].includes(o.kind));
  assertError(assert, await u.comm.post(`/api/v1/ledger/${other.id}/tick`, {}), 403);
  assertError(assert, await u.CGJ.post(`/api/v1/ledger/${closed.id}/tick`, {}), 403);
  const l = await u.comm.get('/api/v1/ledger?grid=511402001001&period=2026-11-01..2027-01-31&state=ticked');
  assert.equal(l.status, 200, l.text);
  assert.deepEqual(l.body.sections[0].rows.map((r) => r[0]), [closed.code]);
  assertError(assert, await u.comm.get('/api/v1/ledger?grid=511402002'), 403);
  const csv = await u.comm.get('/api/v1/ledger?grid=511402001001&period=2026-11-01..2027-01-31&format=csv');
  assert.ok(csv.text.includes(closed.code));
  const wk = await u.comm.get('/api/v1/ledger/week?grid=511402001001&week=2026-W49&format=json');
  assert.equal(wk.status, 200, wk.text);
  assert.match(wk.body.subtitle, /周四/);
  assert.equal(wk.body.sections.length, 3);
  const inWeek = data.orders.filter((o) => o.grid.startsWith('511402001001') && o.at >= Date.UTC(2026, 10, 30, 16) / 1000 && o.at < Date.UTC(2026, 11, 2, 16) / 1000);
  assert.deepEqual(wk.body.sections[0].rows.map((r) => r[0]).sort(), inWeek.map((o) => o.code).sort(), 'collected Mon–Wed');
  const x = await fetch(`${srv.url}/api/v1/ledger?grid=511402001001&format=xlsx`, { headers: { Authorization: 'Bearer ' + u.comm.token } });
  assert.equal(x.status, 200);
  assert.equal(Buffer.from(await x.arrayBuffer()).subarray(0, 2).toString(), 'PK');
});

// The leaders' screens are answered on the priority lane (lane.h), each one
// request counted there; an order list is not.
async function laneCount() {
  const m = await (await fetch(srv.url + '/metrics')).text();
  const line = m.split('\n').find((l) => l.startsWith('whistle_http_priority_lane_requests_total '));
  assert.ok(line, 'metrics name the priority lane');
  return Number(line.split(' ')[1]);
}

test('dashboard and joint analysis', async () => {
  const lane0 = await laneCount();
  const d = await u.leader.get('/api/v1/stats/dashboard');
  assert.equal(d.status, 200, d.text);
  assert.equal(await laneCount(), lane0 + 1);
  assert.equal((await u.leader.get('/api/v1/orders?queue=all&limit=5')).status, 200);
  assert.equal(await laneCount(), lane0 + 1);
  assert.equal(d.body.trend.length, 30);
  for (const k of ['today', 'month', 'ranking', 'categories', 'hotspots']) assert.ok(k in d.body, k);
  const jan = expected(data.rows, 'all', '', 202701);
  assert.equal(d.body.month.overdue_now, jan.overdue_now);
  // balances of now are the same today as this month (computed once)
  assert.equal(d.body.today.overdue_now, jan.overdue_now);
  assert.equal(d.body.today.unsigned_overdue_now, jan.unsigned_overdue_now);
  assert.ok(jan.overdue_now > 0, "the dataset has orders overdue now");
  assert.equal(d.body.ranking.length, 4);
  const mine = await u.CGJ.get('/api/v1/stats/dashboard');
  assert.equal(mine.status, 200, mine.text);
  assert.equal(mine.body.month.overdue_now, expected(data.rows, 'dept', String(depts.CGJ), 202701).overdue_now);
  const a = await u.leader.get('/api/v1/analysis?month=2026-12&days=30');
  assert.equal(a.status, 200, a.text);
  for (const r of a.body.recurring) {
    assert.ok(r.count >= 2 && r.orders.length === r.count);
    for (const o of r.orders) assert.match(o.href, /^\/api\/v1\/orders\/\d+$/);
  }
  for (const h of a.body.hotspots) assert.ok(h.count >= 2);
  assertError(assert, await u.leader.get('/api/v1/analysis?month=2026-12&days=0'), 422);
});
