// docs/client-example.sh stays true: the suite runs it (sh + curl + jq)
// against a real server, with a token and anonymously, and checks through
// the API that what it printed is what happened.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { startServer, adminClient, Client, SRC } from './lib.mjs';

let srv, admin, token;
const SCRIPT = join(SRC, 'docs/client-example.sh');

function run(env) {
  return new Promise((resolve) => {
    execFile('sh', [SCRIPT], { env: { PATH: process.env.PATH, ...env }, timeout: 60000 }, (err, stdout, stderr) => {
      resolve({ code: err ? err.code : 0, stdout, stderr });
    });
  });
}

before(async () => {
  srv = await startServer({ demo: true });
  srv.adminPassword = 'whistle-admin';
  admin = await adminClient(srv);
  const u = await admin.post('/api/v1/users', { login: 'resident.example', name: '李居民', role: 'resident', password: 'resident-pw-1' });
  assert.equal(u.status, 201, u.text);
  const t = await admin.post('/api/v1/tokens', { user_id: u.body.id, label: 'client example' });
  assert.equal(t.status, 201, t.text);
  token = t.body.token;
});
after(async () => { await srv.stop(); srv.cleanup(); });

async function checkOutput(r) {
  assert.equal(r.code, 0, `script failed:\n${r.stdout}\n${r.stderr}`);
  const code = /^tracking code: (\S+)$/m.exec(r.stdout)?.[1];
  assert.ok(code, r.stdout);
  const track = await new Client(srv.url).get(`/api/v1/track/${code}`);
  assert.equal(track.status, 200, track.text);
  assert.equal(track.body.category_code, '0201');
  assert.match(r.stdout, new RegExp(`^now: ${track.body.state_zh} — ${track.body.status_text}`, 'm'));
  for (const ev of track.body.timeline) assert.ok(r.stdout.includes(`  ${ev.at}  ${ev.text}`), `timeline line for ${ev.action}:\n${r.stdout}`);
  assert.ok(track.body.timeline.length >= 1);
  return code;
}

test('with a token: reports, follows by tracking code, prints the timeline', async () => {
  const r = await run({ BASE_URL: srv.url, TOKEN: token });
  const code = await checkOutput(r);
  // the report belongs to the token's account
  const mine = await new Client(srv.url, { token }).get('/api/v1/orders/mine');
  assert.equal(mine.status, 200, mine.text);
  assert.ok(JSON.stringify(mine.body).includes(code), mine.text);
});

test('anonymous with a phone number', async () => {
  await checkOutput(await run({ BASE_URL: srv.url, PHONE: '13800001111' }));
});

test('errors are shown and stop the script', async () => {
  const r = await run({ BASE_URL: srv.url });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /HTTP 422: invalid_field: phone/);
  const r2 = await run({ BASE_URL: srv.url, TOKEN: token, CATEGORY: 'NOPE' });
  assert.notEqual(r2.code, 0);
  assert.match(r2.stderr, /no category NOPE/);
});
