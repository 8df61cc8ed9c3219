// Browser test helpers: the real whistle binary (tests/api/lib.mjs's
// startServer) and Debian's chromium driven by playwright-core. Every page
// fails its test on a console error, an uncaught exception, or a request to
// any host other than the server.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, Client, SRC } from '../api/lib.mjs';

export { startServer, Client };

export const ARTIFACTS = process.env.WHISTLE_ARTIFACTS || join(SRC, 'build', 'artifacts');
export const PHONE = { width: 360, height: 740 };
export const DESKTOP = { width: 1366, height: 900 };

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage', '--lang=zh-CN'],
  });
}

// A fresh browser context (own cookies) and page at the given size, with
// the watchdogs. problems is an array the test asserts empty at the end.
export async function openPage(browser, srv, { viewport = DESKTOP, mobile = false, problems, geolocation } = {}) {
  const context = await browser.newContext({
    viewport, deviceScaleFactor: 1, isMobile: mobile, hasTouch: mobile, locale: 'zh-CN',
    permissions: geolocation ? ['geolocation'] : [], geolocation,
  });
  const page = await context.newPage();
  const origin = new URL(srv.url).origin;
  const where = () => page.url().replace(origin, '');
  page.on('console', (m) => {
    if (m.type() === 'error') {
      const loc = m.location() && m.location().url ? ` (${m.location().url.replace(origin, '')})` : '';
      problems.push(`console error on ${where()}: ${m.text()}${loc}`);
    }
  });
  page.on('pageerror', (e) => problems.push(`uncaught on ${where()}: ${e.message}`));
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (u.startsWith(origin + '/') || u.startsWith('data:') || u.startsWith('blob:')) return route.continue();
    problems.push(`request to another host: ${u}`);
    return route.abort();
  });
  page.setDefaultTimeout(30000); // generous: CI machines are shared and slow
  page.problems = problems;
  return { context, page };
}

// Every visible form control must have an accessible name (a <label>,
// aria-label or aria-labelledby; buttons their text).
export async function unlabelled(page) {
  return page.evaluate(() => {
    const bad = [];
    for (const el of document.querySelectorAll('input, select, textarea, button')) {
      if (el.type === 'hidden' || !el.getClientRects().length) continue;
      if (el.type === 'file' && el.labels && el.labels.length) continue;
      const name = (el.labels && [...el.labels].map((l) => l.textContent).join(' ').trim()) ||
        el.getAttribute('aria-label') || (el.getAttribute('aria-labelledby') || '').split(' ').map((id) => document.getElementById(id)?.textContent || '').join('').trim() ||
        (el.tagName === 'BUTTON' ? el.textContent.trim() : '') || el.getAttribute('title');
      if (!name) bad.push(el.outerHTML.slice(0, 120));
    }
    return bad;
  });
}

let shotDir = null;
export async function shot(page, name) {
  if (!shotDir) { shotDir = join(ARTIFACTS, 'screens'); mkdirSync(shotDir, { recursive: true }); }
  if (page.problems) for (const b of await unlabelled(page)) page.problems.push(`unlabelled control on ${name}: ${b}`);
  const file = join(shotDir, name + '.png');
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// Logs in through the console's login form.
export async function login(page, srv, loginName, password) {
  await page.goto(srv.url + '/');
  await page.locator('#login-form').waitFor();
  await page.getByLabel(/账号|Login/).fill(loginName);
  await page.getByLabel(/密码|Password/).fill(password);
  await page.getByRole('button', { name: /登录|Log in/ }).click();
  await page.locator('#nav a').first().waitFor();
}

// A small JPEG made by the browser itself (a "photo" for uploads).
// Each call draws a different picture (photos are stored by content: two
// identical ones would be one photo).
let jpegSeq = 0;
export async function makeJpeg(page, w = 2400, h = 1800) {
  const seq = ++jpegSeq;
  const b64 = await page.evaluate(async ([w, h, seq]) => {
    const c = document.createElement('canvas');
    c.width = w; c.height = h;
    const g = c.getContext('2d');
    const grd = g.createLinearGradient(0, 0, w, h);
    grd.addColorStop(0, '#7a8a99'); grd.addColorStop(1, '#2f3b46');
    g.fillStyle = grd; g.fillRect(0, 0, w, h);
    g.fillStyle = `hsl(${(seq * 67) % 360} 60% 35%)`;
    g.beginPath(); g.arc(w / 2, h / 2, h / 4, 0, Math.PI * 2); g.fill();
    g.fillStyle = '#fff'; g.font = `${h / 6}px sans-serif`; g.fillText(String(seq), w / 10, h / 4);
    const blob = await new Promise((r) => c.toBlob(r, 'image/jpeg', 0.8));
    const buf = new Uint8Array(await blob.arrayBuffer());
    let s = '';
    for (let i = 0; i < buf.length; i += 0x8000) s += String.fromCharCode(...buf.subarray(i, i + 0x8000));
    return btoa(s);
  }, [w, h, seq]);
  return Buffer.from(b64, 'base64');
}
