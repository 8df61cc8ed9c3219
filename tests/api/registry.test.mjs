// The registry (issue 3, items 3–6): 100,000 people imported from a GBK CSV
// (bad rows reported by line, nothing committed; then a clean file through
// the CLI), search by name/phone/ID/address, export to CSV and XLSX and
// re-import unchanged, grid-worker scope, masks, audited unmasking, no ID
// number in clear in the database files, visits and the due list, places
// and the roster.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, Client, adminClient, assertError, cli } from './lib.mjs';

let srv, admin;
const N = 100000;
const A = '510199001001001', B = '510199001001002';

// valid 18-character ID numbers (GB 11643 check digit)
const W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
function idNumber(i) {
  const k = Math.floor(i / 1000); // unique (date, sequence) pairs up to 100,000 people
  const y = 1930 + (k % 80), m = 1 + (Math.floor(k / 80) % 12), d = 1 + (k % 28);
  const body = `511402${y}${String(m).padStart(2, '0')}${String(d).padStart(2, '0')}${String(i % 1000).padStart(3, '0')}`;
  let s = 0;
  for (let k = 0; k < 17; k++) s += Number(body[k]) * W[k];
  return body + '10X98765432'[s % 11];
}
const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗'.split('');
const GIVEN = ['伟', '芳', '娜', '秀英', '敏', '静', '丽', '强', '磊', '军', '洋', '勇', '艳', '杰', '娟', '涛', '明', '超', '秀兰', '霞'];
const person = (i) => ({
  name: SURNAMES[i % 20] + GIVEN[Math.floor(i / 20) % 20] + (i % 7 === 0 ? '华' : ''),
  id: idNumber(i),
  phone: '13' + String(800000000 + i).padStart(9, '0'),
  grid: i % 2 ? B : A,
  compound: i % 2 ? '锦绣花园' : '幸福里',
  building: String(1 + (Math.floor(i / 40) % 30)),
  unit: String(1 + (Math.floor(i / 8) % 4)),
  room: String(101 + (i % 8)),
  tags: i % 50 === 0 ? '独居老人' : (i % 97 === 0 ? '残疾人、低保' : ''),
  kind: i % 5 === 0 ? '流动' : '户籍',
});
const HEADER = '姓名,性别,身份证号,联系电话,所属网格,小区,楼栋,单元,房号,人员类型,关爱标签';
const row = (p) => [p.name, '', p.id, p.phone, p.grid, p.compound, p.building + '栋', p.unit + '单元', p.room, p.kind, p.tags].join(',');

before(async () => {
  srv = await startServer();
  admin = await adminClient(srv);
  let r = await admin.put('/api/v1/grid-levels', { levels: [
    { name: 'county', label_zh: '县', code_width: 6 },
    { name: 'street', label_zh: '街道', code_width: 3 },
    { name: 'community', label_zh: '社区', code_width: 3 },
    { name: 'grid', label_zh: '网格', code_width: 3 },
  ] });
  assert.equal(r.status, 200, r.text);
  for (const g of [{ code: '510199', name: '测试县' }, { code: '510199001', name: '东街道' },
    { code: '510199001001', name: '锦屏社区' }, { code: A, name: '幸福里网格' }, { code: B, name: '锦绣网格' }]) {
    r = await admin.post('/api/v1/grids', g);
    assert.equal(r.status, 201, r.text);
  }
  r = await admin.post('/api/v1/users', { login: 'gw.a', name: '李敏', role: 'grid_worker', scope_grid: A, password: 'grid-worker-1' });
  assert.equal(r.status, 201, r.text);
  r = await admin.post('/api/v1/departments', { code: 'SWJ', name: '县水务局' });
  assert.equal(r.status, 201, r.text);
  r = await admin.post('/api/v1/users', { login: 'dept.sw', name: '赵水务', role: 'department_handler', scope_dept: r.body.id, password: 'dept-handler-1' });
  assert.equal(r.status, 201, r.text);
});
after(async () => { await srv.stop(); srv.cleanup(); });

const gbk = (text) => execFileSync('iconv', ['-f', 'UTF-8', '-t', 'GBK'], { input: Buffer.from(text, 'utf8'), maxBuffer: 1 << 30 });
const csvPost = (c, path, body) => c.req('POST', path, body, { raw: true, headers: { 'Content-Type': 'text/csv' } });

test('a GBK file with bad rows: every bad row reported by line, nothing committed', async () => {
  const lines = ['社区实有人口登记表（2026年）', HEADER];
  for (let i = 0; i < N; i++) lines.push(row(person(i)));
  // bad rows (line numbers are 1-based physical lines, the title is line 1)
  lines[1000] = row({ ...person(998), id: idNumber(998).slice(0, 17) + (idNumber(998)[17] === '1' ? '2' : '1') }); // check digit
  lines[2000] = row({ ...person(1998), phone: '1.38001E+10' });    // Excel turned the phone into a number
  lines[3000] = row({ ...person(2998), grid: '510199009009009' }); // no such grid
  lines[4000] = row({ ...person(3998), tags: '会飞的人' });          // unknown care tag
  lines[5000] = row({ ...person(7), name: '重复者' });               // the same ID number as line 9
  const file = gbk(lines.join('\r\n') + '\r\n');
  assert.ok(file.length > 5_000_000, 'a big file');
  assert.equal(file.indexOf(Buffer.from('幸福里', 'utf8')), -1, 'the file really is GBK');

  const dry = await csvPost(admin, '/api/v1/import/people?dry_run=1', file);
  assert.equal(dry.status, 200, dry.text.slice(0, 500));
  assert.equal(dry.body.encoding, 'gb18030');
  assert.equal(dry.body.dry_run, true);
  assert.equal(dry.body.committed, false);
  assert.equal(dry.body.rows, N);
  assert.deepEqual(dry.body.ignored_columns, []);
  const byLine = Object.fromEntries(dry.body.errors.map((e) => [e.line, e.message]));
  assert.deepEqual(Object.keys(byLine).map(Number).sort((a, b) => a - b), [1001, 2001, 3001, 4001, 5001], JSON.stringify(dry.body.errors));
  assert.match(byLine[1001], /身份证号.*check digit/);
  assert.match(byLine[2001], /联系电话.*Excel/);
  assert.match(byLine[3001], /所属网格.*no grid '510199009009009'/);
  assert.match(byLine[4001], /unknown care tag '会飞的人'/);
  assert.match(byLine[5001], /same ID number as line 10/);
  assert.equal(dry.body.error_count, 5);
  assert.equal(dry.body.created, N - 5, 'the dry run also tried every good row');

  const real = await csvPost(admin, '/api/v1/import/people', file);
  assertError(assert, real, 422, 'import_rejected');
  assert.equal(real.body.report.committed, false);
  assert.equal(real.body.report.error_count, 5);
  const none = await admin.get('/api/v1/people?limit=5');
  assert.equal(none.status, 200);
  assert.deepEqual(none.body.items, [], 'nothing was committed');
  const hh = await admin.get('/api/v1/households?limit=5');
  assert.deepEqual(hh.body.items, [], 'no household either');
});

test('a clean GBK file of 100,000 people is committed through the CLI', async () => {
  const lines = [HEADER];
  for (let i = 0; i < N; i++) lines.push(row(person(i)));
  const path = join(srv.dir, 'people-gbk.csv');
  writeFileSync(path, gbk(lines.join('\r\n') + '\r\n'));
  const t0 = Date.now();
  const r = cli(['import', 'people', path, '--db', srv.db]);
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /100000 rows \(gb18030\), 100000 new, 0 changed, 0 unchanged, 0 bad: committed/);
  console.log(`# CLI import of ${N} people: ${Date.now() - t0} ms`);
  // the server sees them (and the grid counts)
  const a = await admin.get(`/api/v1/people?grid=${A}&limit=1`);
  assert.equal(a.body.items.length, 1);
  const g = await admin.get(`/api/v1/grids/${A}`);
  assert.equal(g.body.people, N / 2, JSON.stringify(g.body).slice(0, 300));
});

test('search by name, phone, ID number and address, with stable cursor paging', async () => {
  const p = person(12345);
  // ID number: exact, through the keyed hash
  let r = await admin.get('/api/v1/people?id_number=' + p.id);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.items.length, 1);
  assert.equal(r.body.items[0].name, p.name);
  assert.equal(r.body.items[0].id_number, p.id.slice(0, 4) + '**********' + p.id.slice(14));
  assert.equal(r.body.items[0].masked, true);
  // q detects an ID number or a phone
  r = await admin.get('/api/v1/people?q=' + p.phone);
  assert.deepEqual(r.body.items.map((x) => x.name), [p.name]);
  assert.equal(r.body.items[0].phone, p.phone.slice(0, 3) + '****' + p.phone.slice(7));
  assert.equal(r.body.items[0].grid.code, p.grid);
  assert.equal(r.body.items[0].household.address, `${p.compound}${p.building}栋${p.unit}单元${p.room}室`);
  // name: prefix, pages ordered by (name, id) without repeats or gaps
  const name = person(0).name; // 王伟华
  const seen = new Set();
  let cursor = 0, pages = 0;
  for (;;) {
    r = await admin.get(`/api/v1/people?name=${encodeURIComponent(name)}&limit=10${cursor ? '&cursor=' + cursor : ''}`);
    assert.equal(r.status, 200, r.text);
    for (const x of r.body.items) {
      assert.ok(x.name.startsWith(name));
      assert.ok(!seen.has(x.id), 'no repeats');
      seen.add(x.id);
    }
    pages++;
    if (!r.body.next_cursor) break;
    cursor = r.body.next_cursor;
  }
  let expected = 0;
  for (let i = 0; i < N; i++) if (person(i).name.startsWith(name)) expected++;
  assert.equal(seen.size, expected);
  assert.ok(pages > 1);
  // address: substring of the household address
  r = await admin.get(`/api/v1/people?address=${encodeURIComponent('锦绣花园7栋2单元')}&limit=500`);
  assert.equal(r.status, 200, r.text);
  assert.ok(r.body.items.length > 0);
  for (const x of r.body.items) assert.match(x.household.address, /^锦绣花园7栋2单元/);
  assertError(assert, await admin.get('/api/v1/people?address=' + encodeURIComponent('锦绣')), 422);
  // care tag within a grid
  r = await admin.get(`/api/v1/people?tag=独居老人&grid=${A}&limit=500`);
  assert.ok(r.body.items.length > 0);
  for (const x of r.body.items) {
    assert.deepEqual(x.tags, ['elderly_alone']);
    assert.equal(x.grid.code, A);
  }
});

test('export to CSV and XLSX; the CSV re-imports unchanged', async () => {
  const e1 = await admin.get('/api/v1/export/people?format=csv&unmask=1');
  assert.equal(e1.status, 200);
  assert.match(e1.headers.get('content-type'), /text\/csv/);
  assert.equal(e1.headers.get('x-rows'), String(N));
  assert.ok(e1.text.includes(person(4242).id), 'full ID numbers with unmask');
  const re = await csvPost(admin, '/api/v1/import/people', Buffer.from(e1.text, 'utf8'));
  assert.equal(re.status, 200, re.text.slice(0, 400));
  assert.equal(re.body.committed, true);
  assert.equal(re.body.created, 0);
  assert.equal(re.body.updated, 0);
  assert.equal(re.body.unchanged, N);
  const e2 = await admin.get('/api/v1/export/people?format=csv&unmask=1');
  assert.equal(e2.text, e1.text, 'export → import → export is the identity');
  // masked export: masks only
  const m = await admin.get('/api/v1/export/people');
  assert.ok(!m.text.includes(person(4242).id));
  assert.ok(m.text.includes(person(4242).id.slice(0, 4) + '**********'));
  // the same through the CLI, and XLSX read back with python3's zipfile
  const out = join(srv.dir, 'people.xlsx');
  const r = cli(['export', 'people', '--format', 'xlsx', '--out', out, '--db', srv.db]);
  assert.equal(r.status, 0, r.stderr);
  const py = execFileSync('python3', ['-c', `
import zipfile, re, sys
z = zipfile.ZipFile(sys.argv[1])
x = z.read('xl/worksheets/sheet1.xml').decode('utf-8')
rows = re.findall(r'<row ', x)
print(len(rows)); print('${person(4242).id}' in x); print('公民身份号码' in x)`, out]).toString().trim().split('\n');
  assert.deepEqual(py, [String(N + 1), 'True', 'True']);
  const x = await admin.get('/api/v1/export/people?format=xlsx');
  assert.equal(x.status, 200);
  assert.match(x.headers.get('content-type'), /spreadsheetml/);
});

test('a grid worker sees only their grid; masks; unmasking is audited; departments see none', async () => {
  const gw = new Client(srv.url);
  assert.equal((await gw.login('gw.a', 'grid-worker-1')).status, 200);
  let r = await gw.get('/api/v1/people?limit=500');
  assert.equal(r.status, 200);
  assert.equal(r.body.items.length, 500);
  for (const x of r.body.items) {
    assert.equal(x.grid.code, A);
    assert.match(x.id_number, /^\d{4}\*{10}[\dX]{4}$/);
    assert.match(x.phone, /^\d{3}\*{4}\d{4}$/);
  }
  // someone of grid B: absent, by id, by ID number, by phone, in exports
  const pb = person(1); // odd → B
  const inB = (await admin.get('/api/v1/people?id_number=' + pb.id)).body.items[0];
  assertError(assert, await gw.get(`/api/v1/people/${inB.id}`), 404);
  assertError(assert, await gw.get(`/api/v1/people/${inB.id}?unmask=1`), 404);
  assert.deepEqual((await gw.get('/api/v1/people?id_number=' + pb.id)).body.items, []);
  assert.deepEqual((await gw.get('/api/v1/people?q=' + pb.phone)).body.items, []);
  assert.deepEqual((await gw.get(`/api/v1/people?grid=${B}`)).body.items, []);
  const ex = await gw.get('/api/v1/export/people?unmask=1');
  assert.equal(ex.status, 200);
  assert.ok(!ex.text.includes(pb.id), 'no one of grid B in the export');
  assert.equal(ex.headers.get('x-rows'), String(N / 2));
  assertError(assert, await gw.get(`/api/v1/households/${inB.household.id}`), 404);
  // someone of grid A: masked by default, full with unmask=1, and that read is audited
  const pa = person(2);
  const inA = (await gw.get('/api/v1/people?id_number=' + pa.id)).body.items[0];
  r = await gw.get(`/api/v1/people/${inA.id}`);
  assert.equal(r.body.id_number, pa.id.slice(0, 4) + '**********' + pa.id.slice(14));
  r = await gw.get(`/api/v1/people/${inA.id}?unmask=1`);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.id_number, pa.id);
  assert.equal(r.body.phone, pa.phone);
  assert.equal(r.body.masked, false);
  const audit = await admin.get(`/api/v1/audit?object_type=person&object_id=${inA.id}`);
  const entry = audit.body.items.find((x) => x.action === 'person.unmask');
  assert.ok(entry, JSON.stringify(audit.body));
  assert.equal(entry.login, 'gw.a');
  assert.ok(!JSON.stringify(audit.body).includes(pa.id), 'the audit trail holds no ID number');
  // a department handler has no access to the registry at all
  const dept = new Client(srv.url);
  assert.equal((await dept.login('dept.sw', 'dept-handler-1')).status, 200);
  assertError(assert, await dept.get('/api/v1/people'), 403);
  assertError(assert, await dept.get(`/api/v1/people/${inA.id}`), 403);
  // the grid worker may register people in grid A only, and may not bulk import
  const pn = person(N + 1);
  assertError(assert, await gw.post('/api/v1/people', { name: pn.name, id_number: pn.id, grid: B, compound: '锦绣花园', building: '1', room: '101' }), 403, 'out_of_scope');
  r = await gw.post('/api/v1/people', { name: pn.name, id_number: pn.id, grid: A, compound: '幸福里', building: '1', room: '101' });
  assert.equal(r.status, 201, r.text);
  assertError(assert, await gw.post('/api/v1/people', { name: 'x', id_number: pb.id, grid: A, compound: '幸福里', building: '1', room: '101' }), 403, 'out_of_scope');
  assertError(assert, await csvPost(gw, '/api/v1/import/people?dry_run=1', Buffer.from(HEADER + '\n', 'utf8')), 403);
});

test('the raw database files contain no ID number and no phone in clear', async () => {
  // checkpoint-independent: look at the main file and the WAL as they are
  const files = [srv.db, srv.db + '-wal'].filter((f) => existsSync(f));
  assert.ok(files.length >= 1);
  const probes = [0, 1, 2, 4242, 12345, 99999].map((i) => person(i));
  for (const f of files) {
    const raw = readFileSync(f);
    for (const p of probes) {
      assert.equal(raw.indexOf(Buffer.from(p.id)), -1, `${f} holds ID number ${p.id}`);
      assert.equal(raw.indexOf(Buffer.from(p.phone)), -1, `${f} holds phone ${p.phone}`);
    }
  }
  // the key is outside the database, readable by its owner only
  const key = srv.db + '.key';
  assert.ok(existsSync(key));
  assert.equal(readFileSync(key).length, 32);
  assert.equal(execFileSync('stat', ['-c', '%a', key]).toString().trim(), '600');
});

test('household visits and the list of households due for a visit', async () => {
  const gw = new Client(srv.url);
  await gw.login('gw.a', 'grid-worker-1');
  let due = await gw.get('/api/v1/visits/due?tag=elderly_alone&limit=500');
  assert.equal(due.status, 200, due.text);
  assert.equal(due.body.interval_days, 7);
  assert.ok(due.body.items.length > 0);
  const first = due.body.items[0];
  assert.equal(first.grid.code, A);
  assert.match(first.cared_for, /elderly_alone/);
  let r = await gw.post(`/api/v1/households/${first.id}/visits`, { findings: '老人身体良好，燃气已检查', needs: '楼道灯坏了' });
  assert.equal(r.status, 201, r.text);
  due = await gw.get('/api/v1/visits/due?tag=elderly_alone&limit=500');
  assert.ok(!due.body.items.some((h) => h.id === first.id), 'visited: no longer due');
  const h = await gw.get(`/api/v1/households/${first.id}`);
  assert.equal(h.body.visits[0].findings, '老人身体良好，燃气已检查');
  assert.equal(h.body.visits[0].visitor, '李敏');
  assert.ok(h.body.last_visit_at);
  // eight days later it is due again (interval 7 days); bearer tokens do
  // not idle out the way sessions do
  const tok = await admin.post('/api/v1/tokens', { user_id: 1, label: 'clock' });
  assert.equal(tok.status, 201, tok.text);
  const bot = new Client(srv.url, { token: tok.body.token });
  assert.equal((await bot.post('/api/v1/test/clock', { offset_seconds: 8 * 86400 })).status, 200);
  due = await bot.get('/api/v1/visits/due?tag=独居老人&limit=500');
  assert.ok(due.body.items.some((x) => x.id === first.id));
  assert.equal((await bot.post('/api/v1/test/clock', { offset_seconds: 0 })).status, 200);
  admin = await adminClient(srv); // the sessions idled out in those eight days
  await gw.login('gw.a', 'grid-worker-1');
  assertError(assert, await gw.post(`/api/v1/households/${first.id}/visits`, {}), 422);
});

test('places: facilities imported, exported and re-imported unchanged', async () => {
  const csv = '部件编码,所属网格,部件类型,位置,权属单位,状态,纬度,经度\n' +
    `JG-001,${A},井盖,幸福路12号门口,SWJ,完好,30.5872,103.5231\n` +
    `,${A},路灯,幸福里3栋旁,,破损,30.5873,103.5232\n` +
    `,${B},充电棚,锦绣花园北门,,,30.59,103.53\n`;
  let r = await csvPost(admin, '/api/v1/import/facilities', Buffer.from(csv, 'utf8'));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.created, 3);
  const list = await admin.get('/api/v1/registry/facilities?q=JG-001');
  assert.equal(list.body.items[0].kind, 'manhole_cover');
  assert.equal(list.body.items[0].kind_label, '井盖');
  assert.equal(list.body.items[0].owner_dept, 'SWJ');
  const e1 = await admin.get('/api/v1/export/facilities');
  assert.match(e1.text, /F0000\d\d,510199001001001,路灯/);
  r = await csvPost(admin, '/api/v1/import/facilities', Buffer.from(e1.text, 'utf8'));
  assert.equal(r.body.unchanged, 3, r.text);
  assert.equal((await admin.get('/api/v1/export/facilities')).text, e1.text);
  // a bad enum is reported by line
  r = await csvPost(admin, '/api/v1/import/facilities?dry_run=1', Buffer.from('部件类型,所属网格\n飞碟,' + A + '\n', 'utf8'));
  assert.equal(r.body.errors[0].line, 2);
  assert.match(r.body.errors[0].message, /部件类型.*井盖/);
});

test('roster: staff with several duties, party organisations with 党员联系户, representatives', async () => {
  const csv = '姓名,联系电话,职责,所属网格\n李敏,13900001111,网格员、楼栋长,' + A + '\n李敏,13900001111,网格员,' + B + '\n王大爷,13900002222,党员中心户,' + A + '\n';
  let r = await csvPost(admin, '/api/v1/import/staff', Buffer.from(csv, 'utf8'));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.committed, true);
  r = await admin.get('/api/v1/roster?grid=510199001001');
  const li = r.body.items.find((x) => x.name === '李敏');
  assert.deepEqual(li.duties.map((d) => `${d.grid_code}:${d.duty_label}`).sort(),
    [`${A}:楼栋长`, `${A}:网格员`, `${B}:网格员`]);
  const branch = await admin.post('/api/v1/party-orgs', { level: '小区党支部', name: '幸福里小区党支部', grid: A, secretary: '刘书记' });
  assert.equal(branch.status, 201, branch.text);
  const group = await admin.post('/api/v1/party-orgs', { level: '楼栋党小组', name: '3栋党小组', grid: A, parent_id: branch.body.id });
  assert.equal(group.status, 201, group.text);
  assertError(assert, await admin.post('/api/v1/party-orgs', { level: '社区党委', name: 'x', parent_id: group.body.id }), 422);
  const hh = (await admin.get(`/api/v1/households?grid=${A}&limit=2`)).body.items.map((h) => h.id);
  r = await admin.post(`/api/v1/party-orgs/${group.body.id}/members`, { name: '王大爷', role: 'central_household', households: hh });
  assert.equal(r.status, 201, r.text);
  const g = await admin.get(`/api/v1/party-orgs/${group.body.id}`);
  assert.deepEqual(g.body.member_list[0].households.map((h) => h.id), hh);
  const top = await admin.get(`/api/v1/party-orgs/${branch.body.id}`);
  assert.equal(top.body.children[0].name, '3栋党小组');
  r = await admin.post('/api/v1/representatives', { name: '周代表', kind: '人大代表', level: 'county', grid: A });
  assert.equal(r.status, 201, r.text);
  r = await admin.get('/api/v1/representatives');
  assert.equal(r.body.items[0].kind_label, '人大代表');
  const staff = cli(['export', 'staff', '--db', srv.db]);
  assert.equal(staff.status, 0, staff.stderr);
  assert.match(staff.stdout, /李敏,13900001111,楼栋长,510199001001001/);
});
