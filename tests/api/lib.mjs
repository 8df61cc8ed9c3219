// Shared helpers for the API tests: start the real whistle binary on a free
// loopback port with a fresh database, and talk HTTP to it.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, copyFileSync, renameSync, readdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';

export const BIN = process.env.WHISTLE_BIN || new URL('../../build/whistle', import.meta.url).pathname;
export const SRC = process.env.WHISTLE_SRC || new URL('../..', import.meta.url).pathname;

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

// Runs `whistle ARGS...` to completion; returns {status, stdout, stderr}.
export function cli(args, { env = {}, input } = {}) {
  try {
    const stdout = execFileSync(BIN, args, {
      env: { ...process.env, ...env }, input, stdio: ['pipe', 'pipe', 'pipe'], timeout: 600000,
    });
    return { status: 0, stdout: stdout.toString(), stderr: '' };
  } catch (e) {
    return { status: e.status, stdout: e.stdout?.toString() ?? '', stderr: e.stderr?.toString() ?? '' };
  }
}

// The directory holding a freshly made demo database (whistle.db and its
// key file), created on first use by whichever test process gets there
// first; the others wait for the atomic rename.
function demoTemplate() {
  // keyed by the binary's build time: a rebuilt binary makes a new demo
  const tpl = join(dirname(BIN), `demo-template-${Math.floor(statSync(BIN).mtimeMs)}`);
  if (existsSync(join(tpl, 'whistle.db'))) return tpl;
  const work = mkdtempSync(join(dirname(BIN), 'demo-making-'));
  const r = cli(['demo', '--db', join(work, 'whistle.db'), '--scale', 'small']);
  if (r.status !== 0) throw new Error('demo failed: ' + r.stderr);
  for (const f of readdirSync(work)) if (/-(wal|shm)$/.test(f)) rmSync(join(work, f));
  try {
    renameSync(work, tpl);
  } catch {
    rmSync(work, { recursive: true, force: true }); // another process won the race
  }
  return tpl;
}

export function tempDir() {
  return mkdtempSync(join(tmpdir(), 'whistle-test-'));
}

// Starts a server. Options: dir (reuse a database directory), demo (fill the
// demo county first), admin (create admin/admin-password-1 first), args.
export async function startServer({ dir, demo = false, admin = true, args = [] } = {}) {
  dir = dir || tempDir();
  const db = join(dir, 'whistle.db');
  if (demo) {
    // The demo county is the same for every test file of one build: make it
    // once (beside the binary) and copy it, database and key file.
    const tpl = demoTemplate();
    for (const f of readdirSync(tpl)) copyFileSync(join(tpl, f), join(dir, f));
  } else if (admin) {
    const r = cli(['user', 'add', 'admin', '--db', db, '--role', 'admin', '--name', '管理员',
      '--password-env', 'PW'], { env: { PW: 'admin-password-1' } });
    if (r.status !== 0 && !/taken/.test(r.stderr)) throw new Error('admin failed: ' + r.stderr);
  }
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logs = [];
  const proc = spawn(BIN, ['serve', '--db', db, '--listen', `127.0.0.1:${port}`, '--test-clock', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stderr.on('data', (d) => logs.push(d.toString()));
  proc.stdout.on('data', (d) => logs.push(d.toString()));
  let stopping = false;
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => {
    // A server that dies on its own (a crash, a sanitizer report) shows why.
    if (!stopping && (code !== 0 || signal)) {
      process.stderr.write(`whistle serve exited (code ${code}, signal ${signal}); its log:\n${logs.join('')}\n`);
    }
    resolve({ code, signal });
  }));
  for (let i = 0; ; i++) {
    try {
      const r = await fetch(url + '/healthz');
      if (r.ok) break;
    } catch { /* not yet */ }
    if (i > 400) throw new Error('server did not start:\n' + logs.join(''));
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    url, db, dir, proc, logs, exited,
    async stop() {
      stopping = true;
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      return exited;
    },
    async kill9() {
      stopping = true;
      proc.kill('SIGKILL');
      return exited;
    },
    cleanup() { rmSync(dir, { recursive: true, force: true }); },
  };
}

// A client with a cookie jar and the CSRF token of its session, or a bearer token.
export class Client {
  constructor(base, { token } = {}) {
    this.base = base;
    this.cookie = null;
    this.csrf = null;
    this.token = token || null;
  }

  async login(login, password) {
    const r = await this.req('POST', '/api/v1/auth/login', { login, password });
    if (r.status === 200) {
      this.csrf = r.body.csrf_token;
      const sc = r.headers.get('set-cookie');
      this.cookie = sc ? sc.split(';')[0] : null;
    }
    return r;
  }

  async req(method, path, body, { headers = {}, raw = false } = {}) {
    const h = { ...headers };
    if (this.cookie) h.Cookie = this.cookie;
    if (this.csrf && !['GET', 'HEAD'].includes(method)) h['X-CSRF-Token'] = this.csrf;
    if (this.token) h.Authorization = 'Bearer ' + this.token;
    let payload;
    if (body !== undefined && !raw) {
      payload = JSON.stringify(body);
      h['Content-Type'] = h['Content-Type'] || 'application/json';
    } else if (raw) {
      payload = body;
    }
    const r = await fetch(this.base + path, { method, headers: h, body: payload });
    const text = await r.text();
    let parsed = text;
    if ((r.headers.get('content-type') || '').includes('json')) {
      try { parsed = JSON.parse(text); } catch { parsed = text; }
    }
    return { status: r.status, body: parsed, headers: r.headers, text };
  }

  get(path, opts) { return this.req('GET', path, undefined, opts); }
  post(path, body, opts) { return this.req('POST', path, body, opts); }
  put(path, body, opts) { return this.req('PUT', path, body, opts); }
  patch(path, body, opts) { return this.req('PATCH', path, body, opts); }
  del(path, opts) { return this.req('DELETE', path, undefined, opts); }
}

// Logs in as the admin created by startServer().
export async function adminClient(srv) {
  const c = new Client(srv.url);
  const r = await c.login('admin', srv.adminPassword || 'admin-password-1');
  if (r.status !== 200) throw new Error('admin login failed: ' + JSON.stringify(r.body));
  return c;
}

// Asserts the uniform error body and status.
export function assertError(assert, r, status, code) {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.text}`);
  assert.equal(typeof r.body, 'object', 'error body is JSON: ' + r.text);
  assert.ok(r.body.error, 'error object present: ' + r.text);
  assert.equal(typeof r.body.error.message, 'string');
  if (code) assert.equal(r.body.error.code, code, r.text);
}
