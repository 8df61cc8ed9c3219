// Notifications (issue 4 item 8): webhooks configured by administrators,
// delivered from the outbox with HMAC signatures, retries with backoff,
// dead letters — against a real HTTP receiver on 127.0.0.1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHmac } from 'node:crypto';
import { startServer, Client, adminClient, assertError, freePort } from './lib.mjs';

let srv, admin;
before(async () => {
  srv = await startServer();
  admin = await adminClient(srv);
});
after(async () => { await srv.stop(); srv.cleanup(); });

// A receiver that records every request. mode: 'ok' answers 200, 'fail'
// answers 500. It can be started late (the port is reserved up front).
function receiver(port) {
  const r = {
    port, mode: 'ok', requests: [], server: null,
    url(path = '/hook') { return `http://127.0.0.1:${port}${path}`; },
    async start() {
      r.server = http.createServer((req, res) => {
        let body = '';
        req.on('data', (c) => { body += c; });
        req.on('end', () => {
          r.requests.push({ headers: req.headers, body, path: req.url, method: req.method });
          res.writeHead(r.mode === 'ok' ? 200 : 500, { 'Content-Type': 'text/plain' });
          res.end(r.mode === 'ok' ? 'ok' : 'broken');
        });
      });
      await new Promise((res) => r.server.listen(port, '127.0.0.1', res));
    },
    async stop() {
      if (r.server) await new Promise((res) => { r.server.close(res); r.server.closeAllConnections?.(); });
      r.server = null;
    },
    // Distinct event ids seen, with how many times each arrived.
    ids() {
      const m = new Map();
      for (const q of r.requests) m.set(q.headers['x-whistle-event-id'], (m.get(q.headers['x-whistle-event-id']) || 0) + 1);
      return m;
    },
  };
  return r;
}

async function until(what, fn, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('only administrators manage webhooks; bad URLs and filters are refused with a reason', async () => {
  assertError(assert, await new Client(srv.url).get('/api/v1/webhooks'), 401);
  const u = await admin.post('/api/v1/users', { login: 'disp1', name: '调度', role: 'dispatcher', password: 'dispatch-pw-1' });
  assert.equal(u.status, 201, u.text);
  const disp = new Client(srv.url);
  assert.equal((await disp.login('disp1', 'dispatch-pw-1')).status, 200);
  assertError(assert, await disp.get('/api/v1/webhooks'), 403);
  assertError(assert, await disp.post('/api/v1/webhooks', { url: 'http://127.0.0.1:9/x' }), 403);
  assertError(assert, await disp.get('/api/v1/webhooks/dead-letters'), 403);

  let r = await admin.post('/api/v1/webhooks', { url: 'https://oa.example.gov.cn/hook' });
  assertError(assert, r, 422, 'invalid_field');
  assert.match(r.body.error.message, /relay/);
  assertError(assert, await admin.post('/api/v1/webhooks', { url: 'ftp://x/y' }), 422);
  assertError(assert, await admin.post('/api/v1/webhooks', { url: 'http://user:pw@host/x' }), 422);
  assertError(assert, await admin.post('/api/v1/webhooks', { url: 'http://host:99999/x' }), 422);
  r = await admin.post('/api/v1/webhooks', { url: 'http://169.254.169.254/latest/meta-data' });
  assertError(assert, r, 422, 'target_refused');
  assert.match(r.body.error.message, /link-local/);
  assertError(assert, await admin.post('/api/v1/webhooks', { url: 'http://0.0.0.0:8080/' }), 422, 'target_refused');
  assertError(assert, await admin.post('/api/v1/webhooks', { url: 'http://[fe80::1]/' }), 422, 'target_refused');
  r = await admin.post('/api/v1/webhooks', { url: 'http://127.0.0.1:9/x', events: ['order.*', 'Bad Event'] });
  assertError(assert, r, 422, 'invalid_field');
  assert.match(r.body.error.message, /events\[1\]/);
  assertError(assert, await admin.post('/api/v1/webhooks', { url: 'http://127.0.0.1:9/x', events: [] }), 422);
  assertError(assert, await admin.post('/api/v1/webhooks', { url: 'http://127.0.0.1:9/x', events: 'order.*' }), 422);
  assertError(assert, await admin.post('/api/v1/webhooks', { url: 'http://127.0.0.1:9/x', secret: 'short' }), 422);
  assertError(assert, await admin.del('/api/v1/webhooks/999999'), 404);
  assertError(assert, await admin.post('/api/v1/webhooks/999999/ping'), 404);
  assertError(assert, await admin.post('/api/v1/webhooks/dead-letters/999999/retry'), 404);
});

test('a delivery is signed (HMAC-SHA256 over timestamp.body) and carries the event id', async () => {
  const rcv = receiver(await freePort());
  await rcv.start();
  const secret = 'test-secret-0123456789';
  const w = await admin.post('/api/v1/webhooks', { url: rcv.url('/whistle?src=test'), secret, events: ['order.*'], description: '短信网关 SMS gateway' });
  assert.equal(w.status, 201, w.text);
  assert.equal(w.body.secret, secret, 'secret shown once at creation');
  const list = await admin.get('/api/v1/webhooks');
  const mine = list.body.items.find((x) => x.id === w.body.id);
  assert.ok(mine);
  assert.equal(mine.secret, undefined, 'the secret is not listed');
  assert.deepEqual(mine.events, ['order.*']);

  const p = await admin.post(`/api/v1/webhooks/${w.body.id}/ping`);
  assert.equal(p.status, 202, p.text);
  assert.match(p.body.event_id, /^[0-9a-f]{32}$/);
  await until('the ping', () => rcv.requests.length >= 1);
  const q = rcv.requests[0];
  assert.equal(q.method, 'POST');
  assert.equal(q.path, '/whistle?src=test');
  assert.equal(q.headers['content-type'], 'application/json');
  assert.equal(q.headers['x-whistle-event'], 'webhook.ping');
  assert.equal(q.headers['x-whistle-event-id'], p.body.event_id);
  assert.equal(q.headers['x-whistle-attempt'], '1');
  const ts = q.headers['x-whistle-timestamp'];
  assert.match(ts, /^\d+$/);
  const expected = 'sha256=' + createHmac('sha256', secret).update(ts + '.' + q.body).digest('hex');
  assert.equal(q.headers['x-whistle-signature'], expected);
  const wrong = 'sha256=' + createHmac('sha256', 'another-secret-xyz').update(ts + '.' + q.body).digest('hex');
  assert.notEqual(q.headers['x-whistle-signature'], wrong);
  const body = JSON.parse(q.body);
  assert.equal(body.id, p.body.event_id);
  assert.equal(body.event, 'webhook.ping');
  assert.equal(body.object_type, 'webhook');
  assert.equal(body.data.webhook_id, w.body.id);
  // delivered, and listed as such
  await until('delivered state', async () => {
    const d = await admin.get(`/api/v1/webhooks/${w.body.id}/deliveries?state=delivered`);
    return d.body.items.length === 1 && d.body.items[0].last_status === 200;
  });
  // a ping goes to its own webhook only
  const other = receiver(await freePort());
  await other.start();
  const w2 = await admin.post('/api/v1/webhooks', { url: other.url() });
  assert.equal(w2.status, 201);
  await admin.post(`/api/v1/webhooks/${w.body.id}/ping`);
  await until('second ping', () => rcv.requests.length >= 2);
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(other.requests.length, 0);
  // audit trail records the administration
  const a = await admin.get(`/api/v1/audit?object_type=webhook&object_id=${w.body.id}`);
  assert.ok(a.body.items.some((x) => x.action === 'webhook.create'));
  await admin.del(`/api/v1/webhooks/${w.body.id}`);
  await admin.del(`/api/v1/webhooks/${w2.body.id}`);
  await rcv.stop();
  await other.stop();
});

test('receiver down for a while, then up: every event arrives exactly once per id', async () => {
  const rcv = receiver(await freePort()); // not listening yet
  const w = await admin.post('/api/v1/webhooks', { url: rcv.url(), backoff_ms: 150, max_attempts: 40 });
  assert.equal(w.status, 201, w.text);
  const ids = [];
  for (let i = 0; i < 6; i++) {
    const p = await admin.post(`/api/v1/webhooks/${w.body.id}/ping`);
    assert.equal(p.status, 202);
    ids.push(p.body.event_id);
  }
  // while down: attempts are made and fail, nothing is lost
  await until('failed attempts', async () => {
    const d = await admin.get(`/api/v1/webhooks/${w.body.id}/deliveries?state=pending`);
    return d.body.items.length === 6 && d.body.items.some((x) => x.attempts >= 2 && /connect/.test(x.last_error));
  });
  const l = await admin.get('/api/v1/webhooks');
  assert.equal(l.body.items.find((x) => x.id === w.body.id).pending, 6);
  await rcv.start();
  await until('all six delivered', () => rcv.ids().size === 6, 15000);
  const seen = rcv.ids();
  for (const id of ids) assert.equal(seen.get(id), 1, `event ${id} delivered exactly once`);
  await until('delivered states', async () => {
    const d = await admin.get(`/api/v1/webhooks/${w.body.id}/deliveries?state=delivered`);
    return d.body.items.length === 6;
  });
  await admin.del(`/api/v1/webhooks/${w.body.id}`);
  await rcv.stop();
});

test('a receiver that always fails ends in the dead letter list; retry delivers it', async () => {
  const rcv = receiver(await freePort());
  rcv.mode = 'fail';
  await rcv.start();
  const w = await admin.post('/api/v1/webhooks', { url: rcv.url(), backoff_ms: 100, max_attempts: 3 });
  assert.equal(w.status, 201, w.text);
  const p = await admin.post(`/api/v1/webhooks/${w.body.id}/ping`);
  const dead = await until('a dead letter', async () => {
    const d = await admin.get('/api/v1/webhooks/dead-letters');
    return d.body.items.find((x) => x.event_id === p.body.event_id);
  });
  assert.equal(dead.state, 'dead');
  assert.equal(dead.attempts, 3);
  assert.equal(dead.last_status, 500);
  assert.equal(dead.webhook_id, w.body.id);
  assert.equal(rcv.requests.length, 3, 'exactly max_attempts tries');
  assert.deepEqual(rcv.requests.map((q) => q.headers['x-whistle-attempt']), ['1', '2', '3']);
  assert.ok(rcv.requests.every((q) => q.headers['x-whistle-event-id'] === p.body.event_id), 'same id on every try');
  const l = await admin.get('/api/v1/webhooks');
  assert.equal(l.body.items.find((x) => x.id === w.body.id).dead_letters, 1);
  // no further tries once dead
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(rcv.requests.length, 3);
  // the receiver is fixed; an administrator retries the dead letter
  rcv.mode = 'ok';
  const r = await admin.post(`/api/v1/webhooks/dead-letters/${dead.id}/retry`);
  assert.equal(r.status, 200, r.text);
  assertError(assert, await admin.post(`/api/v1/webhooks/dead-letters/${dead.id}/retry`), 409, 'not_dead_letter');
  await until('redelivery', () => rcv.requests.length === 4);
  await until('no longer dead', async () => {
    const d = await admin.get('/api/v1/webhooks/dead-letters');
    return !d.body.items.some((x) => x.id === dead.id);
  });
  const a = await admin.get(`/api/v1/audit?object_type=webhook_delivery&object_id=${dead.id}`);
  assert.ok(a.body.items.some((x) => x.action === 'webhook.retry'));
  await admin.del(`/api/v1/webhooks/${w.body.id}`);
  await rcv.stop();
});

test('deleting a webhook cancels what it still owed', async () => {
  const port = await freePort();
  const w = await admin.post('/api/v1/webhooks', { url: `http://127.0.0.1:${port}/`, backoff_ms: 60000, max_attempts: 5 });
  await admin.post(`/api/v1/webhooks/${w.body.id}/ping`);
  await until('first failed attempt', async () => {
    const d = await admin.get(`/api/v1/webhooks/${w.body.id}/deliveries`);
    return d.body.items.length === 1 && d.body.items[0].attempts === 1;
  });
  assert.equal((await admin.del(`/api/v1/webhooks/${w.body.id}`)).status, 200);
  assertError(assert, await admin.del(`/api/v1/webhooks/${w.body.id}`), 404);
  const d = await admin.get(`/api/v1/webhooks/${w.body.id}/deliveries`);
  assert.equal(d.body.items[0].state, 'cancelled');
  assert.ok(!(await admin.get('/api/v1/webhooks')).body.items.some((x) => x.id === w.body.id));
});

test('pending deliveries survive a restart of the server', async () => {
  const rcv = receiver(await freePort()); // down
  const w = await admin.post('/api/v1/webhooks', { url: rcv.url(), backoff_ms: 100, max_attempts: 50 });
  const p = await admin.post(`/api/v1/webhooks/${w.body.id}/ping`);
  await until('an attempt while down', async () => {
    const d = await admin.get(`/api/v1/webhooks/${w.body.id}/deliveries`);
    return d.body.items[0]?.attempts >= 1;
  });
  await srv.stop();
  await rcv.start();
  srv = await startServer({ dir: srv.dir });
  admin = await adminClient(srv);
  await until('delivery after restart', () => rcv.ids().get(p.body.event_id) === 1, 15000);
  await rcv.stop();
});
