// The whole loop in a real browser, at phone (360 px) and desktop (1366 px)
// widths: a resident reports with a photo and follows the order; the
// dispatcher dispatches it; the department signs for it and feeds back
// with a photo; the centre verifies and closes it; the resident rates it;
// the dashboard and the monthly report count it. Screenshots of every
// screen go to $WHISTLE_ARTIFACTS/screens for review.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch, openPage, startServer, shot, login, PHONE, DESKTOP, makeJpeg, Client, ARTIFACTS } from './lib.mjs';

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

async function photoFile(page, name) {
  const file = join(srv.dir, name);
  writeFileSync(file, await makeJpeg(page));
  return file;
}

// The staff member opens the order from a queue with the keyboard (j/k,
// Enter) and takes one action through its dialog.
// The demo county has thousands of orders: find ours by a word of its text.
async function openFromQueue(page, queue, code, tag, word) {
  await page.goto(`${srv.url}/#/queues/${queue}`);
  await page.locator('#queue-list table').waitFor();
  await page.locator('#q-search').fill(word);
  // the search button, not Enter in the box: under the sanitizers a press
  // once reached the page instead of the box (the page showed the order
  // opened from the unfiltered list's first row), and the test never saw the
  // search's answer. The keys are tested below, on the list.
  await page.locator('form[role=search] button[type=submit]').click();
  const row = page.locator('#queue-list tbody tr', { hasText: code });
  try {
    await row.waitFor();
  } catch (e) {
    // this wait has failed twice in full runs and never alone: say what the
    // page showed instead, so that the next failure tells why
    const shown = await page.locator('#queue-list').innerText().catch(() => '(no #queue-list)');
    const search = await page.locator('#q-search').inputValue().catch(() => '(no #q-search)');
    await shot(page, `failed-queue-${queue}-${tag}`).catch(() => {});
    throw new Error(`order ${code} not in the ${queue} queue after searching "${word}" ` +
      `(box holds "${search}", page ${page.url()}); the list shows: ${shown.slice(0, 600)}\n${e.message}`);
  }
  await shot(page, `queue-${queue}-${tag}`);
  const rows = await page.locator('#queue-list tbody tr').allTextContents();
  const idx = rows.findIndex((r) => r.includes(code));
  for (let i = 0; i < idx; i++) await page.keyboard.press('j');
  await page.keyboard.press('Enter');
  await page.locator('#order-title', { hasText: code }).waitFor();
}

async function act(page, action, fill) {
  await page.locator(`button[data-action="${action}"]`).click();
  const dlg = page.locator('dialog[open]');
  await dlg.waitFor();
  if (fill) await fill(dlg);
  await dlg.locator('button[type=submit]').click();
  await dlg.waitFor({ state: 'detached' });
}

for (const [tag, viewport] of [['phone', PHONE], ['desktop', DESKTOP]]) {
  test(`the whole loop at ${viewport.width} px`, async () => {
    const mobile = tag === 'phone';
    // this month's count before: the dashboard and the report must show one more
    const leader = new Client(srv.url);
    await leader.login('leader', 'whistle-demo');
    const before = (await leader.get('/api/v1/stats/dashboard')).body.month.received;
    const word = 'ZX' + Math.random().toString(36).slice(2, 8).toUpperCase();
    const desc = `${tag}：菜市场门口垃圾堆了三天没人清理，气味很大（${word}）`;
    const phone = mobile ? '13800001111' : '13900002222';

    // 1. a resident reports with a photo, from the contact card's QR link
    // on the desktop the resident shares the phone's position (inside the demo county)
    const res = await openPage(browser, srv, { viewport, mobile, problems, geolocation: mobile ? undefined : { latitude: 30.0512, longitude: 103.8537 } });
    const rp = res.page;
    await rp.goto(`${srv.url}/m.html`);
    await rp.locator('.cat').first().waitFor();
    await shot(rp, `m-report-1-${tag}`);
    // Either category leads to the dispatcher: on the phone the resident is
    // not sure (the centre classifies it), on the desktop the category has
    // no department in the catalogue (确权后人工转派).
    await rp.locator('.cat', { hasText: mobile ? '市容环境' : '其他' }).click();
    await rp.locator('.sub.unsure').waitFor();
    await shot(rp, `m-report-2-${tag}`);
    if (mobile) await rp.locator('.sub.unsure').click();
    else await rp.locator('.sub', { hasText: '其他问题' }).click();
    await rp.getByLabel('问题描述').fill(desc);
    await rp.locator('#photo').setInputFiles(await photoFile(rp, `before-${tag}.jpg`));
    await rp.locator('.photo:not(.busy) img').waitFor();
    // the photo was shrunk in the browser to at most 1600 px
    const dims = await rp.locator('.photo img').evaluate((img) => new Promise((r) => {
      const check = () => (img.naturalWidth ? r([img.naturalWidth, img.naturalHeight]) : setTimeout(check, 20));
      check();
    }));
    assert.ok(Math.max(...dims) <= 1600, 'resized: ' + dims);
    if (mobile) { // the grid from the lists
      await rp.locator('#grid-1').selectOption({ label: '晋原街道' });
      await rp.locator('#grid-2').waitFor();
      await rp.locator('#grid-2').selectOption({ index: 1 });
    } else { // the grid from the position
      await rp.locator('#gps').click();
      await rp.locator('#loc-status.ok').waitFor();
      await rp.waitForFunction(() => document.querySelector('#grid-2') && document.querySelector('#grid-2').value !== '');
    }
    await rp.getByLabel(/手机号/).fill(phone);
    await shot(rp, `m-report-3-${tag}`);
    await rp.locator('#submit').click();
    const code = (await rp.locator('#track-code').textContent()).trim();
    assert.match(code, /^[A-Z0-9]{6,12}$/);
    await shot(rp, `m-report-done-${tag}`);
    await rp.locator('#follow').click();
    await rp.locator('#plain-state', { hasText: '已收到' }).waitFor();
    await shot(rp, `m-track-submitted-${tag}`);

    // 2. the dispatcher classifies and dispatches it
    const dis = await openPage(browser, srv, { viewport, mobile, problems });
    const dp = dis.page;
    await login(dp, srv, 'dispatcher', 'whistle-demo');
    await openFromQueue(dp, 'dispatch', code, tag, word);
    if (!mobile) await dp.locator('#order-map .leaflet-interactive').first().waitFor(); // its position on the map
    await shot(dp, `order-submitted-${tag}`);
    await act(dp, 'dispatch', async (dlg) => {
      if (mobile) await dlg.getByLabel('事项').selectOption({ label: '市容环境 · 垃圾堆放' });
      await dlg.getByLabel(/主办部门/).selectOption({ label: '县城市管理局' });
      await dlg.getByLabel('说明').fill('请城管局尽快清理');
    });
    await dp.locator('#order-title', { hasText: '已派遣' }).waitFor();

    // 3. the department signs for it and feeds back with a photo
    const dep = await openPage(browser, srv, { viewport, mobile, problems });
    const hp = dep.page;
    await login(hp, srv, 'chengguan', 'whistle-demo');
    await openFromQueue(hp, 'department', code, tag, word);
    await act(hp, 'sign');
    await hp.locator('#order-title', { hasText: '已签收' }).waitFor();
    const after = await photoFile(hp, `after-${tag}.jpg`);
    await act(hp, 'feedback', async (dlg) => {
      await dlg.getByLabel(/说明/).fill('已安排环卫工人清运完毕，并对地面进行了冲洗。');
      await dlg.locator('#act-photos').setInputFiles(after);
      await dlg.locator('.thumbs img').waitFor();
    });
    await hp.locator('#order-title', { hasText: '已反馈' }).waitFor();
    await shot(hp, `order-feedback-${tag}`);

    // 4. the centre verifies on site and closes it
    await openFromQueue(dp, 'all', code, tag + '-verify', word);
    await act(dp, 'verify-pass', async (dlg) => dlg.getByLabel('说明').fill('现场核实已清理干净'));
    await dp.locator('#order-title', { hasText: '已结案' }).waitFor();
    await shot(dp, `order-closed-${tag}`);

    // 5. the resident sees the result with the photos before and after, and rates it
    await rp.reload();
    await rp.locator('#plain-state', { hasText: '已办结' }).waitFor();
    await rp.locator('#photos-after img').waitFor();
    await rp.locator('#track-dept', { hasText: '城市管理局' }).waitFor();
    await shot(rp, `m-track-closed-${tag}`);
    await rp.getByLabel('满意', { exact: true }).check();
    await rp.getByLabel(/想说的话/).fill('处理得很快，谢谢！');
    assert.equal(await rp.locator('#last4').inputValue(), phone.slice(-4));
    await rp.getByRole('button', { name: '提交评价' }).click();
    await rp.locator('#rated').waitFor();
    await rp.locator('#plain-state', { hasText: '评价' }).waitFor();
    await shot(rp, `m-track-rated-${tag}`);

    // the timeline in the console shows every step
    await dp.reload();
    await dp.locator('#order-title', { hasText: '已评价' }).waitFor();
    const tl = await dp.locator('ol.timeline').textContent();
    for (const w of ['问题已上报', '派给承办部门', '部门签收', '部门反馈', '核实通过', '群众评价']) assert.ok(tl.includes(w), `${w} in timeline: ${tl}`);
    await shot(dp, `order-rated-${tag}`);

    // 6. the dashboard and the monthly report count it; the map shows the grids
    const lead = await openPage(browser, srv, { viewport, mobile, problems });
    const lp = lead.page;
    await login(lp, srv, 'leader', 'whistle-demo');
    await lp.goto(srv.url + '/#/dashboard');
    await lp.locator('#chart-trend').waitFor();
    const received = Number(await lp.locator('.kpis').nth(1).locator('.kpi-v').first().textContent());
    assert.equal(received, before + 1, 'this month\'s received counts the order');
    await shot(lp, `dashboard-${tag}`);
    await lp.goto(srv.url + '/#/wall');
    await lp.locator('body.wall #chart-ranking').waitFor();
    await shot(lp, `dashboard-wall-${tag}`);
    await lp.goto(srv.url + '/#/report');
    await lp.locator('#sec-summary table').waitFor();
    const cells = await lp.locator('#sec-summary tbody tr').first().locator('td').allTextContents();
    assert.equal(cells[0], '受理问题');
    assert.equal(Number(cells[1]), before + 1, 'the monthly report counts it');
    await lp.locator('#sec-progress', { hasText: '城市管理局' }).waitFor();
    assert.match(await lp.locator('#dl-xlsx').getAttribute('href'), /format=xlsx/);
    await shot(lp, `report-${tag}`);
    if (!mobile) { // the page as printed on A4, for review
      await lp.emulateMedia({ media: 'print' });
      const pdf = await lp.pdf({ path: join(ARTIFACTS, 'screens', 'report-a4.pdf'), format: 'A4', printBackground: true });
      assert.ok(pdf.length > 10000);
      await lp.emulateMedia({ media: 'screen' });
    }
    await lp.goto(srv.url + '/#/map');
    await lp.locator('#map path.leaflet-interactive').first().waitFor();
    await lp.locator('#map path.leaflet-interactive').nth(3).click({ force: true });
    await lp.locator('#grid-name').waitFor();
    await shot(lp, `map-${tag}`);

    for (const c of [res.context, dis.context, dep.context, lead.context]) await c.close();
  });
}

test('no console errors and no requests to other hosts', () => {
  assert.deepEqual(problems, []);
});
