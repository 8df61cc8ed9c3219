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
import { cli, tempDir } from './lib.mjs';

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
