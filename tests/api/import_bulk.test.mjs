// Large imports (PERF): from 20,000 rows the import drops the secondary
// indexes of people/households and rebuilds them inside the same
// transaction, and does not keep rows in memory (second pass in the
// transaction). Whatever happens — a bad row, a dry run, success — the
// import stays all-or-nothing and the schema ends exactly as it began.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { adminClient, cli, startServer, tempDir } from './lib.mjs';

function sql(db, q) {
  return execFileSync('sqlite3', [db, q]).toString().trim();
}

// n people with valid 18-digit ID numbers (GB 11643 check digit), three per flat.
function peopleCsv(n, { duplicateLast = false } = {}) {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const chk = '10X98765432';
  const idOf = (i) => {
    const d = Math.floor(i / 1000);
    const y = 1950 + Math.floor(d / 336), m = 1 + Math.floor((d % 336) / 28), dd = 1 + (d % 28);
    const base = `510100${y}${String(m).padStart(2, '0')}${String(dd).padStart(2, '0')}${String(i % 1000).padStart(3, '0')}`;
    let s = 0;
    for (let k = 0; k < 17; k++) s += Number(base[k]) * w[k];
    return base + chk[s % 11];
  };
  const lines = ['姓名,公民身份号码,联系电话,小区,楼栋,单元,房号'];
  for (let i = 0; i < n; i++) {
    const flat = Math.floor(i / 3);
    const id = duplicateLast && i === n - 1 ? idOf(0) : idOf(i);
    lines.push(`居民${i},${id},13${String(i).padStart(9, '0')},幸福小区,${1 + (flat % 9)}栋,${1 + (Math.floor(flat / 9) % 30)}单元,${100 + Math.floor(flat / 270)}`);
  }
  return lines.join('\n') + '\n';
}

const indexes = (db) => sql(db, "SELECT name || ':' || coalesce(sql, '') FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('people', 'households') ORDER BY name");

test('a large import is all-or-nothing and keeps every index', () => {
  const dir = tempDir();
  try {
    const db = join(dir, 'whistle.db');
    const init = cli(['user', 'add', 'admin', '--db', db, '--role', 'admin', '--name', 'A', '--password-env', 'PW'], { env: { PW: 'admin-password-1' } });
    assert.equal(init.status, 0, init.stderr);
    const before = indexes(db);
    assert.match(before, /people_name/);
    const N = 25000;

    // one duplicate ID number on the last line: nothing is written
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, peopleCsv(N, { duplicateLast: true }));
    const r1 = cli(['import', 'people', bad, '--db', db, '--json']);
    assert.notEqual(r1.status, 0);
    assert.match(r1.stdout + r1.stderr, new RegExp(`"line": ${N + 1}`));
    assert.match(r1.stdout, /"committed": false/);
    assert.equal(sql(db, 'SELECT count(*) FROM people'), '0');
    assert.equal(indexes(db), before);

    // a dry run of good rows: checked against the database, nothing kept
    const good = join(dir, 'good.csv');
    writeFileSync(good, peopleCsv(N));
    const r2 = cli(['import', 'people', good, '--db', db, '--dry-run', '--json']);
    assert.equal(r2.status, 0, r2.stderr);
    assert.equal(JSON.parse(r2.stdout).created, N);
    assert.equal(sql(db, 'SELECT count(*) FROM people'), '0');
    assert.equal(indexes(db), before);

    // the real import: every row, every index, a consistent file
    const r3 = cli(['import', 'people', good, '--db', db, '--json']);
    assert.equal(r3.status, 0, r3.stderr);
    const rep = JSON.parse(r3.stdout);
    assert.equal(rep.created, N);
    assert.equal(rep.committed, true);
    assert.equal(sql(db, 'SELECT count(*) FROM people'), String(N));
    assert.equal(sql(db, 'SELECT count(*) FROM households'), String(Math.ceil(N / 3)));
    assert.equal(indexes(db), before);
    assert.equal(sql(db, 'PRAGMA integrity_check'), 'ok');
    // the rebuilt index answers (and is the one the planner picks)
    assert.equal(sql(db, "SELECT count(*) FROM people WHERE name = '居民12345'"), '1');
    assert.match(sql(db, "EXPLAIN QUERY PLAN SELECT id FROM people WHERE name = '居民12345'"), /people_name/);

    // importing the same file again: unchanged, indexes intact
    const r4 = cli(['import', 'people', good, '--db', db, '--json']);
    assert.equal(r4.status, 0, r4.stderr);
    assert.equal(JSON.parse(r4.stdout).unchanged, N);
    assert.equal(indexes(db), before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// people for the grid tests: a valid ID number per row (a distinct range per
// file), one address per row from addr(i), the grid from grid(i)
function movingCsv(n, { base, compound, addr, grid }) {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const chk = '10X98765432';
  const lines = ['姓名,公民身份号码,所属网格,小区,楼栋,单元,房号'];
  for (let i = 0; i < n; i++) {
    const k = base + i;
    const d = Math.floor(k / 1000);
    const y = 1950 + Math.floor(d / 336), m = 1 + Math.floor((d % 336) / 28), dd = 1 + (d % 28);
    const id17 = `510100${y}${String(m).padStart(2, '0')}${String(dd).padStart(2, '0')}${String(k % 1000).padStart(3, '0')}`;
    let s = 0;
    for (let j = 0; j < 17; j++) s += Number(id17[j]) * w[j];
    const a = addr(i);
    lines.push(`住户${k},${id17 + chk[s % 11]},${grid(i)},${compound},${1 + (a % 50)}栋,${1 + Math.floor(a / 50) % 4}单元,${1000 + Math.floor(a / 200)}`);
  }
  return lines.join('\n') + '\n';
}

// Large imports keep a memo of addresses (one household per address, its
// grid in memory) and defer the moves of a household whose address comes
// again under another grid; the address search index is filled at the end.
// Whatever the path, the outcome must be that of one row after the other:
// the household ends in the grid of its last line, with all its people.
test('large imports: one household per address, the last grid wins, the address search finds them', async () => {
  const srv = await startServer({ demo: true });
  const dir = tempDir();
  try {
    srv.adminPassword = 'whistle-admin'; // the demo's
    const admin = await adminClient(srv);
    const db = srv.db;
    const [A, B] = sql(db, "SELECT code FROM grids WHERE status = 'active' AND id NOT IN " +
      "(SELECT parent_id FROM grids WHERE parent_id IS NOT NULL) ORDER BY code LIMIT 2").split('\n');
    const gridOf = (code) => sql(db, `SELECT id FROM grids WHERE code = '${code}'`);
    const where = (compound) => `FROM people p JOIN households h ON h.id = p.household_id WHERE h.compound = '${compound}'`;
    const checkAll = (compound, households, people, code) => {
      assert.equal(sql(db, `SELECT count(*) FROM households WHERE compound = '${compound}'`), String(households));
      assert.equal(sql(db, `SELECT count(*) ${where(compound)}`), String(people));
      // every person in the grid of their household, the household in the expected grid
      assert.equal(sql(db, `SELECT count(*) ${where(compound)} AND p.grid_id IS NOT h.grid_id`), '0');
      assert.equal(sql(db, `SELECT count(DISTINCT h.grid_id) || ':' || min(h.grid_id) FROM households h WHERE compound = '${compound}'`), `1:${gridOf(code)}`);
      // every household in the address search
      assert.equal(sql(db, `SELECT count(*) FROM households_fts WHERE households_fts MATCH '"${compound}"'`), String(households));
    };
    const ftsOk = () => {
      // fails when households_fts does not hold exactly the households' addresses
      sql(db, "INSERT INTO households_fts (households_fts) VALUES ('integrity-check')");
      assert.equal(sql(db, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'households_fts_ai'"), '1');
    };

    // 21,000 people on 3,000 addresses (7 lines each, spread over the file):
    // the first half in grid A, the second in B — every household moves to B
    const f1 = join(dir, 'moving.csv');
    writeFileSync(f1, movingCsv(21000, { base: 0, compound: '鹏程小区', addr: (i) => i % 3000, grid: (i) => (i < 10500 ? A : B) }));
    let r = cli(['import', 'people', f1, '--db', db, '--json']);
    assert.equal(r.status, 0, r.stderr);
    let rep = JSON.parse(r.stdout);
    assert.deepEqual([rep.created, rep.error_count, rep.committed], [21000, 0, true]);
    checkAll('鹏程小区', 3000, 21000, B);
    ftsOk();
    // found by the address search (households_fts) through the API
    let s = await admin.get(`/api/v1/households?address=${encodeURIComponent('鹏程小区7栋2单元1000室')}&limit=50`);
    assert.equal(s.status, 200, s.text);
    assert.deepEqual(s.body.items.map((h) => h.address), ['鹏程小区7栋2单元1000室']);
    s = await admin.get(`/api/v1/people?address=${encodeURIComponent('鹏程小区7栋2单元1000室')}&limit=50`);
    assert.equal(s.body.items.length, 7);
    // the grid counts were recounted
    assert.equal(sql(db, `SELECT households FROM grids WHERE code = '${B}'`), sql(db, `SELECT count(*) FROM households WHERE grid_id = ${gridOf(B)}`));

    // the same people again, grids swapped: every person exists (the full
    // upsert path, after the deferred moves are written): all end in A
    writeFileSync(f1, movingCsv(21000, { base: 0, compound: '鹏程小区', addr: (i) => i % 3000, grid: (i) => (i < 10500 ? B : A) }));
    r = cli(['import', 'people', f1, '--db', db, '--json']);
    assert.equal(r.status, 0, r.stderr);
    rep = JSON.parse(r.stdout);
    assert.deepEqual([rep.created, rep.error_count, rep.committed], [0, 0, true]);
    checkAll('鹏程小区', 3000, 21000, A);
    ftsOk();

    // more addresses than the memo holds (it is emptied, the moves written):
    // 1,000 addresses 20 times each, alternating A and B (the last is B),
    // then 33,000 addresses once, in A
    const f2 = join(dir, 'many.csv');
    writeFileSync(f2, movingCsv(53000, {
      base: 100000, compound: '锦程小区',
      addr: (i) => (i < 20000 ? i % 1000 : 1000 + i - 20000),
      grid: (i) => (i < 20000 ? (Math.floor(i / 1000) % 2 ? B : A) : A),
    }));
    r = cli(['import', 'people', f2, '--db', db, '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).created, 53000);
    assert.equal(sql(db, "SELECT count(*) FROM households WHERE compound = '锦程小区'"), '34000');
    assert.equal(sql(db, `SELECT count(*) ${where('锦程小区')} AND p.grid_id IS NOT h.grid_id`), '0');
    assert.equal(sql(db, `SELECT count(*) ${where('锦程小区')} AND h.grid_id = ${gridOf(B)}`), '20000');
    assert.equal(sql(db, `SELECT count(*) FROM households WHERE compound = '锦程小区' AND grid_id = ${gridOf(B)}`), '1000');
    assert.equal(sql(db, "SELECT count(*) FROM households_fts WHERE households_fts MATCH '\"锦程小区\"'"), '34000');
    ftsOk();
    s = await admin.get(`/api/v1/households?address=${encodeURIComponent('锦程小区3栋1单元1100室')}&limit=50`);
    assert.deepEqual(s.body.items.map((h) => h.address), ['锦程小区3栋1单元1100室']);

    // a bad row in the middle of a large file: nothing of it is written
    const before = sql(db, 'SELECT count(*) FROM people') + '/' + sql(db, 'SELECT count(*) FROM households');
    const lines = movingCsv(25000, { base: 200000, compound: '云程小区', addr: (i) => i % 5000, grid: () => A }).split('\n');
    lines[12001] = lines[12001].replace(/^([^,]*),[^,]*,/, '$1,12345,');
    const f3 = join(dir, 'bad.csv');
    writeFileSync(f3, lines.join('\n'));
    r = cli(['import', 'people', f3, '--db', db, '--json']);
    assert.notEqual(r.status, 0);
    rep = JSON.parse(r.stdout);
    assert.equal(rep.committed, false);
    assert.deepEqual(rep.errors.map((x) => x.line), [12002]);
    assert.equal(sql(db, 'SELECT count(*) FROM people') + '/' + sql(db, 'SELECT count(*) FROM households'), before);
    ftsOk();
  } finally {
    await srv.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
