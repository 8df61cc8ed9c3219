// The staff console in a real browser: login, navigation by role, the
// administration screens (users, tokens, audit), the language switch, and
// the rules every page must keep (no console errors, no other hosts, CSP).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch, openPage, startServer, shot, login, PHONE, DESKTOP } from './lib.mjs';

let srv, browser;
const problems = [];
before(async () => {
  srv = await startServer({ demo: true });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await srv?.stop();
  srv?.cleanup();
});

test('pages are served with a strict CSP and no inline code', async () => {
  for (const p of ['/', '/m.html', '/m']) {
    const r = await fetch(srv.url + p);
    assert.equal(r.status, 200, p);
    assert.match(r.headers.get('content-type'), /text\/html/);
    const csp = r.headers.get('content-security-policy');
    assert.ok(csp && csp.includes("script-src 'self'"), p + ' CSP: ' + csp);
    assert.ok(!csp.includes('unsafe-inline'), p);
    const html = await r.text();
    assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(html), p + ' has an inline script');
    assert.ok(!/\sstyle=/i.test(html) && !/<style/i.test(html), p + ' has inline style');
  }
  for (const [p, type] of [['/app.js', /javascript/], ['/app.css', /css/], ['/vendor/leaflet.js', /javascript/],
    ['/vendor/chart.js', /javascript/], ['/icons/whistle.svg', /svg/]]) {
    const r = await fetch(srv.url + p);
    assert.equal(r.status, 200, p);
    assert.match(r.headers.get('content-type'), type, p);
  }
});

test('a wrong password is refused in the page; the right one opens the console', async () => {
  const { page, context } = await openPage(browser, srv, { viewport: DESKTOP, problems });
  await page.goto(srv.url + '/');
  await page.locator('#login-form').waitFor();
  await shot(page, 'login-desktop');
  await page.getByLabel('账号').fill('admin');
  await page.getByLabel('密码').fill('wrong-password');
  // The refused login answers 401; the browser logs that failed request.
  const before = problems.length;
  await page.getByRole('button', { name: '登录' }).click();
  await page.locator('#login-form .error:not([hidden])').waitFor();
  problems.splice(before); // expected: the 401 of the refused login
  await page.getByLabel('密码').fill('whistle-admin');
  await page.getByRole('button', { name: '登录' }).click();
  await page.locator('#nav a').first().waitFor();
  const nav = await page.locator('#nav a').allTextContents();
  for (const w of ['工单队列', '网格地图', '基础信息', '数据看板', '月专报', '系统管理']) assert.ok(nav.includes(w), `${w} in ${nav}`);
  await context.close();
});

test('administration: users, a new user, tokens shown once, audit trail', async () => {
  const { page, context } = await openPage(browser, srv, { viewport: DESKTOP, problems });
  await login(page, srv, 'admin', 'whistle-admin');
  await page.goto(srv.url + '/#/admin/users');
  await page.getByRole('cell', { name: 'chengguan' }).waitFor();
  await shot(page, 'admin-users-desktop');
  // create a user through the dialog
  await page.getByRole('button', { name: '新建用户' }).click();
  const dlg = page.locator('dialog[open]');
  await dlg.getByLabel('账号').fill('wangwu');
  await dlg.getByLabel('姓名').fill('王五');
  await dlg.getByLabel('角色').selectOption('leader');
  await dlg.getByLabel('范围类型').selectOption('all');
  await dlg.getByLabel('初始密码').fill('wangwu-pass-1');
  await dlg.getByRole('button', { name: '确定' }).click();
  await page.getByRole('cell', { name: 'wangwu' }).waitFor();
  // tokens: issue one, the secret is shown once
  await page.getByRole('link', { name: '接口令牌' }).click();
  await page.getByRole('button', { name: '签发令牌' }).click();
  await page.locator('dialog[open]').getByLabel('用途').fill('摄像头 A');
  await page.locator('dialog[open]').getByRole('button', { name: '确定' }).click();
  const secret = await page.locator('#new-token').textContent();
  assert.ok(secret.length > 20);
  await page.getByRole('cell', { name: '摄像头 A' }).waitFor();
  await shot(page, 'admin-tokens-desktop');
  // the audit trail shows both
  await page.getByRole('link', { name: '审计日志' }).click();
  await page.getByText('user.create').first().waitFor();
  await page.getByText('token.issue').first().waitFor();
  await shot(page, 'admin-audit-desktop');
  await context.close();
});

test('what a role sees follows its grants; English switch; phone width', async () => {
  const { page, context } = await openPage(browser, srv, { viewport: PHONE, mobile: true, problems });
  await login(page, srv, 'chengguan', 'whistle-demo');
  const nav = await page.locator('#nav a').allTextContents();
  assert.ok(nav.includes('工单队列'));
  assert.ok(!nav.includes('系统管理') && !nav.includes('月专报'), 'department handler nav: ' + nav);
  await page.goto(srv.url + '/#/admin/users');
  await page.getByRole('alert').filter({ hasText: '没有权限' }).waitFor();
  await page.getByRole('button', { name: '切换语言' }).click();
  await page.getByRole('link', { name: 'Queues' }).waitFor();
  await shot(page, 'console-english-phone');
  await page.getByRole('button', { name: 'Switch language' }).click();
  await page.getByRole('link', { name: '工单队列' }).waitFor();
  await context.close();
});

test('registry: grid tree with contact cards, import with a dry-run report, masked people', async () => {
  const { page, context } = await openPage(browser, srv, { viewport: DESKTOP, problems });
  await login(page, srv, 'admin', 'whistle-admin');
  // the grid tree, by keyboard: open the county, then a street
  await page.goto(srv.url + '/#/registry/grids');
  const county = page.locator('[role=treeitem]').first();
  await county.waitFor();
  await county.focus();
  await page.keyboard.press('ArrowRight');
  const street = page.locator('[role=treeitem][aria-level="2"]').first();
  await street.waitFor();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await page.locator('#cards-link').waitFor();
  const cards = await page.locator('#cards-link').getAttribute('href');
  const r = await fetch(srv.url + cards, { headers: { cookie: (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ') } });
  assert.equal(r.status, 200);
  const html = await r.text();
  assert.ok(html.includes('网格服务联系卡') && html.includes('aria-label="QR"'), 'contact cards with QR codes');
  await shot(page, 'registry-grids-desktop');
  // import people: a bad row is reported by line and nothing is written
  const grid = await street.getAttribute('data-code');
  const head = '姓名,性别,身份证号,联系电话,所属网格,小区,楼栋,单元,房号,人员类型,关爱标签\n';
  const good = `欧阳小测,女,511423195001010025,13812345678,${grid},幸福小区,3栋,2单元,201,户籍,独居老人\n`;
  const bad = `李四,男,12345,13800000000,${grid},幸福小区,3栋,2单元,202,户籍,\n`;
  const file = (name, text) => { const f = join(srv.dir, name); writeFileSync(f, text); return f; };
  await page.goto(srv.url + '/#/registry/import');
  await page.locator('#imp-kind').selectOption('people');
  await page.locator('#imp-file').setInputFiles(file('bad.csv', head + good + bad));
  await page.locator('#imp-dry').click();
  await page.locator('#imp-result .error', { hasText: '1' }).waitFor();
  await page.locator('#imp-result td.num', { hasText: '3' }).waitFor(); // line 3 is the bad row
  assert.ok(await page.locator('#imp-commit').isDisabled());
  await shot(page, 'registry-import-dryrun-desktop');
  await page.locator('#imp-file').setInputFiles(file('good.csv', head + good));
  await page.locator('#imp-dry').click();
  await page.locator('#imp-commit:not([disabled])').click();
  await page.locator('#imp-result h2', { hasText: '导入完成' }).waitFor();
  // people: the ID number is masked for the browser as the API returns it
  await page.goto(srv.url + '/#/registry/people');
  await page.getByLabel('搜索').fill('欧阳小测');
  await page.getByRole('button', { name: '搜索' }).click();
  const row = page.locator('tbody tr', { hasText: '欧阳小测' });
  await row.waitFor();
  const text = await row.textContent();
  assert.ok(!text.includes('511423195001010025'), 'ID number masked: ' + text);
  assert.match(text, /\*{4}/);
  await shot(page, 'registry-people-desktop');
  await context.close();
});

test('every screen at phone and desktop width (screenshots; labelled controls)', async () => {
  const screens = ['/queues/dispatch', '/queues/overdue', '/queues/supervision', '/queues/all', '/map', '/registry/grids',
    '/registry/people', '/registry/households', '/registry/facilities', '/registry/visits', '/registry/roster', '/registry/import',
    '/registry/export', '/dashboard', '/report', '/admin/users', '/admin/tokens', '/admin/departments', '/admin/catalog',
    '/admin/calendar', '/admin/webhooks', '/admin/deadletters', '/admin/audit'];
  for (const [tag, viewport] of [['phone', PHONE], ['desktop', DESKTOP]]) {
    const { page, context } = await openPage(browser, srv, { viewport, mobile: tag === 'phone', problems });
    await login(page, srv, 'admin', 'whistle-admin');
    for (const s of screens) {
      await page.goto(srv.url + '/#' + s);
      await page.waitForFunction(() => document.querySelector('#main .view') && !document.querySelector('#main .loading'));
      const err = await page.locator('#main .error[role=alert]').allTextContents();
      assert.deepEqual(err, [], `${s} shows an error`);
      await shot(page, `screen-${s.slice(1).replace(/\//g, '-')}-${tag}`);
    }
    await context.close();
  }
  // the resident page in English
  const { page, context } = await openPage(browser, srv, { viewport: PHONE, mobile: true, problems });
  await page.goto(srv.url + '/m.html?grid=511423001001');
  await page.locator('.cat').first().waitFor();
  await page.getByRole('button', { name: '切换语言' }).click();
  await page.locator('.cat', { hasText: 'City appearance' }).waitFor();
  await page.waitForFunction(() => document.querySelector('#grid-2') && document.querySelector('#grid-2').value === '511423001001');
  await shot(page, 'm-report-english-phone');
  await context.close();
});

test('every demo role: each screen in its navigation opens without an error', async () => {
  const roles = [['dispatcher', 'whistle-demo'], ['chengguan', 'whistle-demo'], ['leader', 'whistle-demo'],
    ['inspector', 'whistle-demo'], ['gridworker', 'whistle-demo'], ['community', 'whistle-demo']];
  const { page, context } = await openPage(browser, srv, { viewport: DESKTOP, problems });
  for (const [who, pw] of roles) {
    await login(page, srv, who, pw);
    const links = (await page.locator('#nav a:not(.ext)').evaluateAll((as) => as.map((a) => a.getAttribute('href'))));
    assert.ok(links.length >= 2, `${who} sees ${links}`);
    for (const href of links) {
      await page.goto(srv.url + '/' + href);
      await page.waitForFunction(() => document.querySelector('#main .view') && !document.querySelector('#main .loading'));
      const tabs = await page.locator('#main nav.tabs a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
      for (const tab of [href, ...tabs.filter((x) => x !== href)]) {
        if (tab !== href) {
          await page.goto(srv.url + '/' + tab);
          await page.waitForFunction(() => document.querySelector('#main .view') && !document.querySelector('#main .loading'));
        }
        const err = await page.locator('#main .error[role=alert]').allTextContents();
        assert.deepEqual(err, [], `${who} on ${tab}`);
      }
    }
    await shot(page, `role-${who}-desktop`);
    await page.getByRole('button', { name: '退出' }).click();
    await page.locator('#login-form').waitFor();
  }
  await context.close();
});

test('queue search: a slow answer to an older search never replaces a newer one', async () => {
  const { page, context } = await openPage(browser, srv, { viewport: DESKTOP, problems });
  await login(page, srv, 'admin', 'whistle-admin');
  await page.goto(srv.url + '/#/queues/all');
  await page.locator('#queue-list tbody tr').first().waitFor();
  // two searches (description words) with different answers
  const api = (q) => page.evaluate(async (q) => {
    const r = await fetch('/api/v1/orders?limit=25&q=' + encodeURIComponent(q));
    return (await r.json()).items.map((o) => o.code);
  }, q);
  const descs = (await page.locator('#queue-list tbody tr td:nth-child(4)').allTextContents()).map((d) => d.trim().slice(0, 6));
  const older = descs[0];
  const olderCodes = await api(older);
  let newer = null, newerCodes = null;
  for (const d of descs.slice(1)) {
    const c = await api(d);
    if (c.length && c.every((x) => !olderCodes.includes(x))) { newer = d; newerCodes = c; break; }
  }
  assert.ok(olderCodes.length && newer, `two searches with different answers among ${descs.join(' | ')}`);
  // the answer to the first search comes late
  await page.route('**/api/v1/orders?*', async (route) => {
    if (new URL(route.request().url()).searchParams.get('q') === older) await new Promise((r) => setTimeout(r, 1500));
    await route.continue();
  });
  const q = page.locator('#q-search');
  await q.fill(older);
  await q.press('Enter');
  await q.fill(newer);
  await q.press('Enter');
  await page.waitForTimeout(2500); // both answers are in by now
  const shown = (await page.locator('#queue-list tbody tr td:first-child').allTextContents()).map((c) => c.trim());
  assert.deepEqual(shown, newerCodes, `the rows of "${newer}", not of "${older}"`);
  await context.close();
});

test('no console errors and no requests to other hosts', () => {
  assert.deepEqual(problems, []);
});
