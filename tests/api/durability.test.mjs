// Durability (issue 2): kill -9 during a burst of writes loses nothing that
// was acknowledged; an online backup taken during a burst is consistent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startServer, adminClient, cli } from './lib.mjs';

function sql(db, q) {
  return execFileSync('sqlite3', [db, q]).toString().trim();
}

// Fires `total` department creations with `conc` in flight; resolves with
// the codes that were answered 201. Stops quietly once the server is gone.
async function burst(client, prefix, total, conc) {
  const acked = [];
  let next = 0;
  async function worker() {
    while (next < total) {
      const i = next++;
      const code = `${prefix}${i}`;
      try {
        const r = await client.post('/api/v1/departments', { code, name: `部门${i}` });
        if (r.status === 201) acked.push(code);
      } catch { return; }
    }
  }
  await Promise.all(Array.from({ length: conc }, worker));
  return acked;
}

test('kill -9 during a burst of writes keeps every acknowledged write', async () => {
  const srv = await startServer();
  const admin = await adminClient(srv);
  const p = burst(admin, 'K', 100000, 32);
  await new Promise((r) => setTimeout(r, 1500));
  await srv.kill9();
  const acked = await p;
  assert.ok(acked.length > 50, `only ${acked.length} writes acknowledged before the kill`);
  assert.equal(sql(srv.db, 'PRAGMA integrity_check'), 'ok');
  const stored = new Set(sql(srv.db, "SELECT code FROM departments WHERE code LIKE 'K%'").split('\n'));
  const lost = acked.filter((c) => !stored.has(c));
  assert.deepEqual(lost, [], `${lost.length} acknowledged writes lost`);
  // every stored department has its audit entry (same transaction)
  const orphans = sql(srv.db, "SELECT count(*) FROM departments d WHERE NOT EXISTS (SELECT 1 FROM audit a WHERE a.object_type = 'department' AND a.object_id = CAST(d.id AS TEXT))");
  assert.equal(orphans, '0');
  // the server starts again on the same database
  const again = await startServer({ dir: srv.dir });
  const r = await fetch(again.url + '/healthz');
  assert.equal(r.status, 200);
  await again.stop();
  srv.cleanup();
});

test('whistle backup during a burst of writes restores to a consistent database', async () => {
  const srv = await startServer();
  const admin = await adminClient(srv);
  let stop = false;
  const writer = (async () => {
    let i = 0;
    while (!stop) {
      await burst(admin, `B${i++}-`, 50, 8);
    }
  })();
  await new Promise((r) => setTimeout(r, 500));
  const file = join(srv.dir, 'backup.db');
  const b = cli(['backup', '--db', srv.db, file]);
  assert.equal(b.status, 0, b.stderr);
  stop = true;
  await writer;
  assert.equal(sql(file, 'PRAGMA integrity_check'), 'ok');
  const n = Number(sql(file, "SELECT count(*) FROM departments"));
  assert.ok(n > 0);
  const audited = Number(sql(file, "SELECT count(*) FROM audit WHERE action = 'department.create'"));
  assert.equal(audited, n, 'each department in the backup has its audit entry');
  // the backup serves
  const restored = await startServer({ dir: srv.dir, admin: false, args: [] , });
  await restored.stop();
  const check = cli(['check', '--db', file]);
  assert.equal(check.status, 0, check.stderr);
  await srv.stop();
  srv.cleanup();
});
