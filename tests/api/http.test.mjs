// The HTTP threading model (http.c, lane.c): a few event threads run the
// cheap reads marked ROUTE_INLINE themselves and hand every other request to
// the work lane. These tests hold it to what users rely on: reads are not
// queued behind writes, a queue longer than the lane loses nothing, a stop
// under load answers or refuses every request and keeps every acknowledged
// write, and a session used only through inline reads stays alive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { startServer, adminClient, Client } from './lib.mjs';

function sql(db, q) {
  return execFileSync('sqlite3', [db, q]).toString().trim();
}

async function createDepartments(client, prefix, n) {
  return Promise.all(Array.from({ length: n }, (_, i) =>
    client.post('/api/v1/departments', { code: `${prefix}${i}`, name: `部门${prefix}${i}` })));
}

test('one worker: 120 concurrent writes all land, and reads are answered while they queue', async () => {
  const srv = await startServer({ args: ['--workers', '1', '--http-threads', '2'] });
  try {
    const admin = await adminClient(srv);
    let writesDone = 0;
    const writes = createDepartments(admin, 'Q', 120).then((rs) => { writesDone = Date.now(); return rs; });
    // a queue page and a health check: inline, so not behind the 120 writes
    await new Promise((r) => setTimeout(r, 20));
    const reads = await Promise.all([admin.get('/api/v1/orders?queue=all'), admin.get('/api/v1/auth/me'),
      fetch(srv.url + '/healthz')]);
    const readsDone = Date.now();
    const rs = await writes;
    assert.deepEqual(rs.map((r) => r.status), rs.map(() => 201), rs.find((r) => r.status !== 201)?.text);
    assert.equal(reads[0].status, 200, reads[0].text);
    assert.equal(reads[1].status, 200, reads[1].text);
    assert.equal(reads[2].status, 200);
    assert.ok(readsDone <= writesDone, `reads answered ${readsDone - writesDone} ms after the last queued write`);
    assert.equal(sql(srv.db, "SELECT count(*) FROM departments WHERE code LIKE 'Q%'"), '120');
  } finally {
    await srv.stop();
    srv.cleanup();
  }
});

test('SIGTERM under a burst of writes: a clean exit, every acknowledged write kept', async () => {
  const srv = await startServer({ args: ['--workers', '2'] });
  const admin = await adminClient(srv);
  const acked = [];
  const answered = new Set();
  let next = 0;
  async function worker() {
    while (next < 100000) {
      const code = `T${next++}`;
      try {
        const r = await admin.post('/api/v1/departments', { code, name: `部门${code}` });
        answered.add(r.status);
        if (r.status === 201) acked.push(code);
        else if (r.status !== 503) throw new Error(`unexpected ${r.status}: ${r.text}`);
      } catch (e) {
        if (/unexpected/.test(e.message)) throw e;
        return; // the server has gone
      }
    }
  }
  const burst = Promise.all(Array.from({ length: 24 }, worker));
  await new Promise((r) => setTimeout(r, 800));
  const { code, signal } = await srv.stop();
  await burst;
  assert.equal(signal, null, srv.logs.join(''));
  assert.equal(code, 0, srv.logs.join(''));
  assert.ok(acked.length > 20, `only ${acked.length} writes acknowledged`);
  const stored = new Set(sql(srv.db, "SELECT code FROM departments WHERE code LIKE 'T%'").split('\n'));
  const lost = acked.filter((c) => !stored.has(c));
  assert.deepEqual(lost, [], `${lost.length} acknowledged writes lost`);
  assert.equal(sql(srv.db, 'PRAGMA integrity_check'), 'ok');
  srv.cleanup();
});

test('a session used only through inline reads has its idle timer refreshed', async () => {
  const srv = await startServer();
  try {
    const admin = await adminClient(srv);
    const c = new Client(srv.url);
    assert.equal((await c.login('admin', 'admin-password-1')).status, 200);
    // 20 minutes on: /auth/me runs on an event thread, which posts the refresh
    assert.equal((await admin.post('/api/v1/test/clock', { offset_seconds: 20 * 60 })).status, 200);
    assert.equal((await c.get('/api/v1/auth/me')).status, 200);
    // the refresh is written by a worker, after the answer: wait for it
    const due = Math.floor(Date.now() / 1000) + 20 * 60 - 5;
    for (let i = 0; i < 100 && Number(sql(srv.db, 'SELECT last_seen FROM sessions ORDER BY id DESC LIMIT 1')) < due; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    // 40 minutes on: 20 since the refresh (idle limit 30): still logged in
    assert.equal((await admin.post('/api/v1/test/clock', { offset_seconds: 40 * 60 })).status, 200);
    const me = await c.get('/api/v1/auth/me');
    assert.equal(me.status, 200, me.text);
    assert.equal((await admin.post('/api/v1/test/clock', { offset_seconds: 0 })).status, 200);
  } finally {
    await srv.stop();
    srv.cleanup();
  }
});

async function writeJobs(url) {
  const text = await (await fetch(url + '/metrics')).text();
  return Number(text.match(/^whistle_db_write_jobs_total (\d+)/m)[1]);
}

test('a stale click is refused on a read, without a job for the writer', async () => {
  const srv = await startServer({ demo: true, args: ['--no-jobs'] });
  try {
    const dept = new Client(srv.url);
    assert.equal((await dept.login('chengguan', 'whistle-demo')).status, 200);
    const q = await dept.get('/api/v1/orders?queue=department&state=dispatched&limit=5');
    assert.equal(q.status, 200, q.text);
    const o = q.body.items[0];
    assert.ok(o, 'a dispatched order of the department');
    const before = await writeJobs(srv.url);
    const r = await dept.post(`/api/v1/orders/${o.id}/sign`, { note: '已签收' });
    assert.equal(r.status, 200, r.text);
    const afterSign = await writeJobs(srv.url);
    assert.equal(afterSign, before + 1, 'the sign is one write job');
    // signing again, and feeding back on an order of another state, are stale
    for (let i = 0; i < 5; i++) {
      const again = await dept.post(`/api/v1/orders/${o.id}/sign`, { note: '已签收' });
      assert.equal(again.status, 409, again.text);
      assert.equal(again.body.error.code, 'wrong_state');
    }
    const missing = await dept.post('/api/v1/orders/999999999/sign', {});
    assert.equal(missing.status, 404, missing.text);
    assert.equal(await writeJobs(srv.url), afterSign, 'refusals queued no write');
  } finally {
    await srv.stop();
    srv.cleanup();
  }
});

// --read-mmap-mb: the readers read the database file through a memory map
// (not the writer's pages copied by pread), and still see every committed
// write at once — through the WAL, which is never mapped.
test('--read-mmap-mb: readers map the database file and see each write as soon as it is acknowledged', async () => {
  const mapsTheFile = (srv) => {
    const file = realpathSync(srv.db);
    return readFileSync(`/proc/${srv.proc.pid}/maps`, 'utf8').split('\n').some((l) => l.endsWith(' ' + file));
  };
  const plain = await startServer();
  try {
    const admin = await adminClient(plain);
    assert.equal((await admin.get('/api/v1/departments')).status, 200);
    assert.equal(mapsTheFile(plain), false, 'no map without the flag');
  } finally {
    await plain.stop();
    plain.cleanup();
  }
  const srv = await startServer({ args: ['--read-mmap-mb', '64'] });
  try {
    const admin = await adminClient(srv);
    for (let i = 0; i < 30; i++) {
      const w = await admin.post('/api/v1/departments', { code: `M${i}`, name: `映射部门${i}` });
      assert.equal(w.status, 201, w.text);
      const r = await admin.get('/api/v1/departments');
      assert.equal(r.status, 200, r.text);
      assert.equal(r.text.match(/映射部门\d+/g).length, i + 1, r.text);
    }
    assert.equal(mapsTheFile(srv), true, 'the readers map the database file');
  } finally {
    await srv.stop();
    srv.cleanup();
  }
});
