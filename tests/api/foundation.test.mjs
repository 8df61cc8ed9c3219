// Foundation (issue 2) through the HTTP API against the real binary.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, Client, adminClient, assertError, cli } from './lib.mjs';

let srv, admin;
before(async () => {
  srv = await startServer();
  admin = await adminClient(srv);
});
after(async () => { await srv.stop(); srv.cleanup(); });

test('health, version, request id, security headers', async () => {
  const r = await fetch(srv.url + '/healthz');
  assert.equal(r.status, 200);
  const body = await r.json();
  assert.equal(body.status, 'ok');
  assert.match(r.headers.get('x-request-id'), /^[0-9a-f]{16}$/);
  // every request its own id, across the server's threads
  const ids = await Promise.all(Array.from({ length: 300 }, () =>
    fetch(srv.url + '/api/v1/ping').then((x) => x.headers.get('x-request-id'))));
  for (const id of ids) assert.match(id, /^[0-9a-f]{16}$/);
  assert.equal(new Set([r.headers.get('x-request-id'), ...ids]).size, 301);
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  const r2 = await fetch(srv.url + '/api/v1/version', { headers: { 'X-Request-Id': 'trace-12345678' } });
  assert.equal(r2.headers.get('x-request-id'), 'trace-12345678');
  // the request id appears in the server's log line for that request
  await new Promise((res) => setTimeout(res, 50));
  assert.ok(srv.logs.join('').includes('"rid":"trace-12345678"'));
});

test('metrics in Prometheus text format', async () => {
  const r = await fetch(srv.url + '/metrics');
  assert.equal(r.status, 200);
  const text = await r.text();
  assert.match(text, /# TYPE whistle_http_requests_total counter/);
  assert.match(text, /whistle_http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+/);
  assert.match(text, /whistle_http_request_duration_seconds_bucket\{.*le="\+Inf"\} \d+/);
  assert.match(text, /whistle_http_open_connections \d+/);
  assert.match(text, /whistle_db_write_seconds_total [\d.]+/);
});

test('error bodies and statuses at the edge', async () => {
  const anon = new Client(srv.url);
  assertError(assert, await anon.get('/api/v1/nope'), 404, 'not_found');
  assertError(assert, await anon.del('/healthz'), 405, 'method_not_allowed');
  assertError(assert, await anon.get('/api/v1/users'), 401, 'login_required');
  // 415: JSON route with another content type
  assertError(assert, await anon.req('POST', '/api/v1/auth/login', 'login=a', { raw: true, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }), 415);
  // 400: broken JSON, and JSON that is not an object
  assertError(assert, await anon.req('POST', '/api/v1/auth/login', '{"login":', { raw: true, headers: { 'Content-Type': 'application/json' } }), 400, 'bad_json');
  assertError(assert, await anon.req('POST', '/api/v1/auth/login', '[1]', { raw: true, headers: { 'Content-Type': 'application/json' } }), 400, 'bad_json');
  // 422: a field out of range names the field
  const r = await admin.post('/api/v1/users', { login: 'x', name: 'n', role: 'dispatcher', password: 'password-1' });
  assertError(assert, r, 422, 'invalid_field');
  assert.match(r.body.error.message, /login/);
  const r2 = await admin.post('/api/v1/users', { login: 'someone', name: 'n', role: 'pope', password: 'password-1' });
  assertError(assert, r2, 422);
  assert.match(r2.body.error.message, /role/);
  // 413: body over the limit
  const big = JSON.stringify({ login: 'a'.repeat(2 << 20), password: 'x' });
  assertError(assert, await anon.req('POST', '/api/v1/auth/login', big, { raw: true, headers: { 'Content-Type': 'application/json' } }), 413, 'body_too_large');
  // 401 for a bad bearer token even on a public route
  const bad = new Client(srv.url, { token: 'wt_notarealtoken000' });
  assertError(assert, await bad.get('/api/v1/auth/me'), 401);
});

test('admin creates a dispatcher and a department handler; permissions hold; audit records it', async () => {
  const dept = await admin.post('/api/v1/departments', { code: 'CGJ', name: '县城市管理局' });
  assert.equal(dept.status, 201, dept.text);
  const d1 = await admin.post('/api/v1/users', { login: 'wang.dispatch', name: '王调度', role: 'dispatcher', password: 'dispatch-pw-1' });
  assert.equal(d1.status, 201, d1.text);
  assert.equal(d1.body.role, 'dispatcher');
  assert.equal(d1.body.password_hash, undefined, 'no secret in the answer');
  const h1 = await admin.post('/api/v1/users', { login: 'li.cg', name: '李城管', role: 'department_handler', scope_dept: dept.body.id, password: 'handler-pw-1' });
  assert.equal(h1.status, 201, h1.text);
  assert.equal(h1.body.scope_kind, 'department');
  assert.equal(h1.body.scope_dept, dept.body.id);
  // duplicate login → 409
  assertError(assert, await admin.post('/api/v1/users', { login: 'li.cg', name: 'x', role: 'leader', password: 'handler-pw-1' }), 409, 'login_taken');

  const disp = new Client(srv.url);
  assert.equal((await disp.login('wang.dispatch', 'dispatch-pw-1')).status, 200);
  const hand = new Client(srv.url);
  assert.equal((await hand.login('li.cg', 'handler-pw-1')).status, 200);
  const me = await hand.get('/api/v1/auth/me');
  assert.equal(me.body.user.role, 'department_handler');

  // outside their permission: 403 with the error body
  assertError(assert, await disp.get('/api/v1/users'), 403, 'forbidden');
  assertError(assert, await hand.post('/api/v1/users', { login: 'evil', name: 'e', role: 'admin', password: 'evil-pass-1' }), 403, 'forbidden');
  assertError(assert, await hand.get('/api/v1/audit'), 403, 'forbidden');

  // CSRF: a cookie session without the token cannot write
  const noCsrf = new Client(srv.url);
  noCsrf.cookie = admin.cookie;
  assertError(assert, await noCsrf.post('/api/v1/departments', { code: 'X1', name: '某局' }), 403, 'csrf_failed');

  // the audit shows who did what
  const audit = await admin.get('/api/v1/audit?object_type=user&limit=100');
  assert.equal(audit.status, 200);
  const created = audit.body.items.filter((i) => i.action === 'user.create');
  assert.ok(created.some((i) => i.detail.login === 'wang.dispatch' && i.login === 'admin' && i.ip === '127.0.0.1' && i.request_id));
  assert.ok(created.some((i) => i.detail.login === 'li.cg'));
  const logins = await admin.get('/api/v1/audit?limit=200');
  assert.ok(logins.body.items.some((i) => i.action === 'auth.login' && i.login === 'li.cg'));
  // no interface changes the audit
  assertError(assert, await admin.del('/api/v1/audit'), 405);
  // paging with a cursor
  const p1 = await admin.get('/api/v1/audit?limit=2');
  assert.equal(p1.body.items.length, 2);
  assert.ok(p1.body.next_cursor);
  const p2 = await admin.get('/api/v1/audit?limit=2&cursor=' + p1.body.next_cursor);
  assert.ok(p2.body.items[0].id < p1.body.items[1].id + 1 && p2.body.items[0].id !== p1.body.items[1].id);
  assertError(assert, await admin.get('/api/v1/audit?since=yesterday'), 422);
});

test('five bad passwords lock the account for 15 minutes; too many attempts get 429', async () => {
  assert.equal((await admin.post('/api/v1/users', { login: 'victim', name: '受害者', role: 'leader', password: 'right-password' })).status, 201);
  const c = new Client(srv.url);
  for (let i = 0; i < 4; i++) assertError(assert, await c.login('victim', 'wrong-password'), 401, 'bad_credentials');
  const fifth = await c.login('victim', 'wrong-password');
  assertError(assert, fifth, 429, 'account_locked');
  // even the right password is refused while locked
  const sixth = await c.login('victim', 'right-password');
  assertError(assert, sixth, 429, 'account_locked');
  assert.match(sixth.body.error.message, /15|1[0-5] 分钟|minutes/);
  const audit = await admin.get('/api/v1/audit?object_type=user&limit=50');
  assert.ok(audit.body.items.some((i) => i.action === 'auth.locked'));
  // after 15 minutes (test clock) the right password works again
  assert.equal((await admin.post('/api/v1/test/clock', { offset_seconds: 16 * 60 })).status, 200);
  const later = await c.login('victim', 'right-password');
  assert.equal(later.status, 200, later.text);
  assert.equal((await admin.post('/api/v1/test/clock', { offset_seconds: 0 })).status, 200);
});

test('sessions expire after inactivity; logout ends a session', async () => {
  const c = new Client(srv.url);
  assert.equal((await c.login('admin', 'admin-password-1')).status, 200);
  assert.equal((await c.get('/api/v1/auth/me')).status, 200);
  await admin.post('/api/v1/test/clock', { offset_seconds: 31 * 60 });
  const stale = await c.get('/api/v1/auth/me');
  await admin.post('/api/v1/test/clock', { offset_seconds: 0 });
  // the admin's own session also idled past the limit under the shifted clock
  admin = await (async () => { const a = new Client(srv.url); await a.login('admin', 'admin-password-1'); return a; })();
  assertError(assert, stale, 401, 'session_expired');
  const d = new Client(srv.url);
  await d.login('admin', 'admin-password-1');
  assert.equal((await d.post('/api/v1/auth/logout')).status, 200);
  assertError(assert, await d.get('/api/v1/auth/me'), 401);
});

test('API tokens: issued, used as bearer, revoked', async () => {
  const u = await admin.post('/api/v1/users', { login: 'camera-01', name: '东门摄像头', role: 'device' });
  assert.equal(u.status, 201, u.text);
  const t = await admin.post('/api/v1/tokens', { user_id: u.body.id, label: 'east gate camera' });
  assert.equal(t.status, 201, t.text);
  assert.match(t.body.token, /^wt_[0-9a-f]{48}$/);
  const dev = new Client(srv.url, { token: t.body.token });
  const me = await dev.get('/api/v1/auth/me');
  assert.equal(me.status, 200);
  assert.equal(me.body.user.role, 'device');
  assertError(assert, await dev.get('/api/v1/users'), 403);
  const list = await admin.get('/api/v1/tokens');
  assert.ok(list.body.items.some((x) => x.id === t.body.id && !x.token));
  assert.equal((await admin.del('/api/v1/tokens/' + t.body.id)).status, 200);
  assertError(assert, await dev.get('/api/v1/auth/me'), 401, 'bad_token');
  assertError(assert, await admin.del('/api/v1/tokens/' + t.body.id), 404);
});

test('CLI: user add, token issue (usable as bearer), token revoke', async () => {
  const add = cli(['user', 'add', 'hotline-bridge', '--db', srv.db, '--role', 'device', '--name', '12345热线']);
  assert.equal(add.status, 0, add.stderr);
  const issued = cli(['token', 'issue', 'hotline-bridge', '--db', srv.db, '--label', '12345 bridge']);
  assert.equal(issued.status, 0, issued.stderr);
  const m = issued.stdout.match(/token (\d+) .*: (wt_[0-9a-f]{48})/);
  assert.ok(m, issued.stdout);
  const dev = new Client(srv.url, { token: m[2] });
  const me = await dev.get('/api/v1/auth/me');
  assert.equal(me.status, 200);
  assert.equal(me.body.user.login, 'hotline-bridge');
  const audit = await admin.get('/api/v1/audit?object_type=token&limit=20');
  assert.ok(audit.body.items.some((i) => i.action === 'token.issue' && i.login === 'cli'));
  assert.equal(cli(['token', 'revoke', m[1], '--db', srv.db]).status, 0);
  assertError(assert, await dev.get('/api/v1/auth/me'), 401);
  assert.equal(cli(['token', 'issue', 'nobody-here', '--db', srv.db]).status, 1);
  assert.equal(cli(['user', 'add', 'x', '--db', srv.db, '--role', 'admin', '--password-env', 'NOPE_UNSET']).status, 2);
});

test('settings: typed and ranged, versioned, audited; public ones readable by anyone', async () => {
  const all = await admin.get('/api/v1/settings');
  assert.equal(all.status, 200, all.text);
  assert.equal(all.body.settings['rating.default_days'].value, 7);
  assert.equal(all.body.settings['map.tile_url'].value, '');
  assertError(assert, await admin.put('/api/v1/settings/map.tile_url', { value: 'javascript:alert(1)' }), 422);
  assertError(assert, await admin.put('/api/v1/settings/rating.default_days', { value: 0 }), 422);
  assertError(assert, await admin.put('/api/v1/settings/rating.default_days', { value: '7' }), 422);
  assertError(assert, await admin.put('/api/v1/settings/no.such.key', { value: 1 }), 404);
  assertError(assert, await admin.put('/api/v1/settings/rating.default_days', {}), 422, 'missing_field');
  const url = 'https://tiles.example.gov.cn/{z}/{x}/{y}.png';
  const put = await admin.put('/api/v1/settings/map.tile_url', { value: url });
  assert.equal(put.status, 200, put.text);
  assert.equal(put.body.settings['map.tile_url'].value, url);
  assert.equal((await admin.put('/api/v1/settings/rating.default_days', { value: 10 })).body.settings['rating.default_days'].value, 10);
  const pub = await new Client(srv.url).get('/api/v1/public/settings');
  assert.equal(pub.status, 200);
  assert.equal(pub.body['map.tile_url'], url);
  assert.equal(pub.body['rating.default_days'], undefined, 'only public settings are public');
  const audit = await admin.get('/api/v1/audit?object_type=setting');
  assert.ok(audit.body.items.some((i) => i.action === 'setting.put' && i.object_id === 'map.tile_url'));
  const leader = new Client(srv.url);
  await admin.post('/api/v1/users', { login: 'leader.zhang', name: '张县长', role: 'leader', password: 'leader-pass-1' });
  assert.equal((await leader.login('leader.zhang', 'leader-pass-1')).status, 200);
  assertError(assert, await leader.get('/api/v1/settings'), 403);
  const me = await leader.get('/api/v1/auth/me');
  assert.ok(me.body.permissions.includes('report.read'));
  assert.ok(!me.body.permissions.includes('user.admin'));
  await admin.put('/api/v1/settings/map.tile_url', { value: '' });
});

test('users can be locked and unlocked by an administrator', async () => {
  const u = await admin.post('/api/v1/users', { login: 'temp.staff', name: '临时', role: 'leader', password: 'temp-pass-1' });
  const c = new Client(srv.url);
  assert.equal((await c.login('temp.staff', 'temp-pass-1')).status, 200);
  assert.equal((await admin.post(`/api/v1/users/${u.body.id}/lock`)).status, 200);
  assertError(assert, await c.get('/api/v1/auth/me'), 401);
  assertError(assert, await new Client(srv.url).login('temp.staff', 'temp-pass-1'), 403, 'account_disabled');
  assert.equal((await admin.post(`/api/v1/users/${u.body.id}/unlock`)).status, 200);
  assert.equal((await new Client(srv.url).login('temp.staff', 'temp-pass-1')).status, 200);
  assertError(assert, await admin.post('/api/v1/users/99999/lock'), 404);
});

test('static web UI is served from the binary with a strict CSP', async () => {
  const r = await fetch(srv.url + '/');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /text\/html/);
  const csp = r.headers.get('content-security-policy');
  assert.ok(csp && !csp.includes('unsafe-inline'), csp);
  const etag = r.headers.get('etag');
  const r2 = await fetch(srv.url + '/', { headers: { 'If-None-Match': etag } });
  assert.equal(r2.status, 304);
});

test('CLI: bad flag exits 2 naming it; --help for every subcommand', () => {
  const bad = cli(['serve', '--no-such-flag']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--no-such-flag/);
  const badv = cli(['serve', '--max-connections', 'lots', '--db', join(srv.dir, 'x.db')]);
  assert.equal(badv.status, 2);
  assert.match(badv.stderr, /max-connections/);
  for (const c of ['init', 'serve', 'user', 'token', 'backup', 'version', 'demo', 'check']) {
    const h = cli([c, '--help']);
    assert.equal(h.status, 0, c);
    assert.match(h.stdout, /usage: whistle/);
  }
  assert.equal(cli(['frobnicate']).status, 2);
  const serveHelp = cli(['serve', '--help']).stdout;
  assert.match(serveHelp, /WHISTLE_DB/);
  assert.match(serveHelp, /WHISTLE_LISTEN/);
});

test('a database newer than the binary is refused with a clear message', () => {
  const dir = srv.dir;
  const db = join(dir, 'future.db');
  assert.equal(cli(['init', '--db', db]).status, 0);
  // bump the recorded schema version beyond what the binary knows
  const sqlite = cli(['version']);
  assert.equal(sqlite.status, 0);
  const r = execSql(db, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'sql/999_future.sql', '2030-01-01T00:00:00Z')");
  assert.equal(r, 0);
  const again = cli(['init', '--db', db]);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /schema version 999/);
  assert.ok(existsSync(db));
});

import { execFileSync } from 'node:child_process';
function execSql(db, sql) {
  try { execFileSync('sqlite3', [db, sql]); return 0; } catch (e) { return e.status || 1; }
}

// Connection threads run --connection-nice levels below the process, so
// that the single writer thread gets the CPU first under many connections.
import { connect } from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';

function threadNices(pid) {
  const out = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3
      out.push({ tid: Number(tid), comm, nice: Number(f[16]) }); // field 19: nice
    } catch { /* the thread ended meanwhile */ }
  }
  return out;
}

async function openConnection(url) {
  const { port } = new URL(url);
  const sock = connect(Number(port), '127.0.0.1');
  await new Promise((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
  sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise((resolve) => sock.once('data', resolve)); // answered; kept alive
  return sock;
}

// The threads that serve connections: MHD's (event threads, or a thread per
// connection) and the work lane's. The writer, the priority lane and the
// background jobs keep the process's priority.
const serving = (t) => t.comm.startsWith('MHD-') || t.comm === 'whistle-work';

for (const [levels, model] of [[7, []], [0, []], [5, ['--http-threads', '0']]]) {
  test(`--connection-nice ${levels} ${model.join(' ')}: the threads that serve connections run that many nice levels below the process`, async () => {
    const s = await startServer({ args: ['--connection-nice', String(levels), ...model] });
    const sock = await openConnection(s.url);
    try {
      const threads = threadNices(s.proc.pid);
      const main = threads.find((t) => t.tid === s.proc.pid);
      const conns = threads.filter(serving);
      assert.ok(main, JSON.stringify(threads));
      // with event threads: --http-threads (4) of MHD's and --workers (64) of the lane's
      if (model.length) assert.ok(conns.some((t) => t.comm.startsWith('MHD-conn')), JSON.stringify(threads));
      else {
        assert.equal(conns.filter((t) => t.comm.startsWith('MHD-worker')).length, 4, JSON.stringify(threads));
        assert.equal(conns.filter((t) => t.comm === 'whistle-work').length, 64, JSON.stringify(threads));
      }
      for (const t of conns) assert.equal(t.nice, Math.min(19, main.nice + levels), JSON.stringify(t));
      const prio = threads.filter((t) => t.comm === 'whistle-prio');
      assert.equal(prio.length, 2, JSON.stringify(threads));
      for (const t of threads.filter((x) => !serving(x))) assert.equal(t.nice, main.nice, JSON.stringify(t));
    } finally {
      sock.destroy();
      await s.stop();
      s.cleanup();
    }
  });
}

test('--connection-nice, --http-threads, --workers and --read-mmap-mb out of range are refused naming the flag', () => {
  for (const [flag, value] of [['--connection-nice', '25'], ['--http-threads', '65'], ['--http-threads', '-1'], ['--workers', '0'], ['--workers', '1025'],
    ['--read-mmap-mb', '-1'], ['--read-mmap-mb', '1048577'], ['--read-mmap-mb', '2k']]) {
    const r = cli(['serve', flag, value, '--db', '/nonexistent/x.db']);
    assert.equal(r.status, 2, `${flag} ${value}`);
    assert.match(r.stderr, new RegExp(flag.slice(2)), `${flag} ${value}`);
  }
});
