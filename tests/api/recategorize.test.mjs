// Regression: a dispatcher who files an order under another category while
// dispatching it (确权后人工转派) — the statistics, replayed from the raw
// timeline by GET /api/v1/stats/check, must still equal the aggregates.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, Client } from './lib.mjs';

let srv, disp, admin;
before(async () => {
  srv = await startServer({ demo: true });
  disp = new Client(srv.url);
  assert.equal((await disp.login('dispatcher', 'whistle-demo')).status, 200);
  admin = new Client(srv.url);
  assert.equal((await admin.login('admin', 'whistle-admin')).status, 200);
});
after(async () => { await srv.stop(); srv.cleanup(); });

test('dispatch with a new category keeps the statistics equal to the timeline', async () => {
  const grids = await new Client(srv.url).get('/api/v1/public/grids');
  assert.equal(grids.status, 200, grids.text);
  const depts = await admin.get('/api/v1/departments');
  const cgj = depts.body.items.find((d) => d.code === 'CGJ');
  // 9901 其他问题 has no department: it waits for the dispatcher
  const rep = await new Client(srv.url).post('/api/v1/reports', {
    category_code: '9901', description: '路边有一堆建筑垃圾没人管', grid_code: grids.body.items[0].code, phone: '13800005555',
  });
  assert.equal(rep.status, 201, rep.text);
  const id = rep.body.id;
  const d = await disp.post(`/api/v1/orders/${id}/dispatch`, { category_code: '0101', dept_id: cgj.id, note: '确权：垃圾堆放' });
  assert.equal(d.status, 200, d.text);
  const o = await disp.get(`/api/v1/orders/${id}`);
  assert.equal(o.status, 200, o.text);
  // the dispatch event itself records the new category, so that anything
  // replaying the timeline (whistle check, the indicators) sees the change
  const ev = o.body.timeline.filter((e) => e.action === 'dispatch').pop();
  assert.ok(ev, JSON.stringify(o.body.timeline));
  assert.equal(ev.data.category, '0101', JSON.stringify(ev));
  assert.equal(ev.data.dept, cgj.id);
  const month = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 7);
  const check = await admin.get(`/api/v1/stats/check?from=${month}&to=${month}`);
  assert.equal(check.status, 200, check.text);
  assert.equal(check.body.differences, 0, JSON.stringify(check.body.items?.slice(0, 5)));
});
