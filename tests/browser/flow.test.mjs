// flow.test.mjs — the console end to end in headless Chromium against `xiaoan demo`:
// a guard's press-and-hold alarm reaches the operator live, and each step the police take
// (claim, dispatch, on scene, resolve, close) reaches the guard; other schools and police areas
// see nothing; the English switch works; nothing scrolls sideways at 1366×768 or on a phone.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer, launch, loginAs, holdButton, textOf, outDir, DESKTOP, PHONE, WAIT } from './harness.mjs';

let server;
let browser;
const errors = [];

before(async () => {
  server = await startServer();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const stateIs = (page, testid, state) =>
  page.waitForSelector(`[data-testid="${testid}"][data-state="${state}"]`, { timeout: WAIT });

test('one-key alarm: guard → operator → officer, live both ways, and nobody else sees it', async () => {
  const op = await loginAs(browser, server.url, 'operator', DESKTOP, errors);
  const opPage = op.page;

  // Before the shift starts, sound is blocked and the warning says so.
  await opPage.getByTestId('sound-banner').waitFor({ state: 'visible', timeout: WAIT });
  await opPage.getByTestId('start-shift').click();
  await opPage.getByTestId('sound-banner').waitFor({ state: 'hidden', timeout: WAIT });
  await opPage.getByTestId('shift-panel').waitFor({ state: 'hidden', timeout: WAIT });
  assert.equal(await opPage.locator('body').getAttribute('data-sound'), 'on');
  assert.equal(await opPage.locator('body').getAttribute('data-alerting'), 'false');
  await opPage.getByTestId('queue-empty').waitFor({ timeout: WAIT });

  const guard = await loginAs(browser, server.url, 'guard1', PHONE, errors);
  const gPage = guard.page;
  const officer = await loginAs(browser, server.url, 'officer', PHONE, errors);
  const guard2 = await loginAs(browser, server.url, 'guard2', PHONE, errors);
  const op2 = await loginAs(browser, server.url, 'operator2', DESKTOP, errors);

  // The guard's post (南门门卫室, point 1) is preselected, audible by default.
  assert.equal(await gPage.getByTestId('alarm-point').inputValue(), '1');
  assert.equal(await gPage.getByTestId('mode-audible').getAttribute('aria-pressed'), 'true');

  // A short press raises nothing.
  const posts = [];
  gPage.on('request', (r) => { if (r.method() === 'POST' && r.url().endsWith('/api/v1/alarms')) posts.push(r.headers()['idempotency-key']); });
  await holdButton(gPage, 600);
  await gPage.waitForTimeout(400);
  assert.equal(posts.length, 0, 'a 0.6 s press must not raise an alarm');
  assert.ok(await gPage.getByTestId('alarm-status').isHidden());

  // A deliberate 2 s hold does.
  await holdButton(gPage, 2400);
  await stateIs(gPage, 'alarm-status', 'received');
  assert.equal(posts.length, 1);
  assert.ok(posts[0] && posts[0].length >= 8, 'the alarm carries an Idempotency-Key');
  assert.match(await textOf(gPage, '[data-testid="status-title"]'), /已报警/);

  // The operator sees it live: red, unclaimed, alerting.
  const item = opPage.locator('[data-testid="queue-item"][data-state="received"]', { hasText: '恩施市实验小学' });
  await item.waitFor({ timeout: WAIT });
  assert.equal(await item.getAttribute('data-unclaimed'), 'true');
  assert.match(await item.getAttribute('class'), /unclaimed/);
  await opPage.waitForFunction(() => document.body.dataset.alerting === 'true', null, { timeout: WAIT });
  assert.equal(await opPage.getByTestId('queue').getAttribute('data-alerting'), 'true');
  const id = await item.getAttribute('data-incident-id');

  // The card: school, address, both coordinate systems, the map link, people with phones.
  await item.click();
  await opPage.waitForSelector(`[data-testid="card"][data-incident-id="${id}"]`, { timeout: WAIT });
  assert.equal(await textOf(opPage, '[data-testid="card-school"]'), '恩施市实验小学');
  assert.match(await textOf(opPage, '[data-testid="card-point"]'), /南门门卫室/);
  const coords = await textOf(opPage, '[data-testid="card-coords"]');
  assert.match(coords, /WGS-84 30\.294600, 109\.479700/);
  assert.match(coords, /GCJ-02 30\.29\d+, 109\.48\d+/);
  const amap = await opPage.getByTestId('amap-link').getAttribute('href');
  assert.match(amap, /^https:\/\/uri\.amap\.com\/marker\?position=109\.48\d+,30\.29\d+&name=/);
  await opPage.locator('[data-testid="minimap"] .mm-hot[data-school-id="1"]').waitFor({ timeout: WAIT });
  await opPage.locator('[data-testid="people"] a[href="tel:13907181021"]').waitFor({ timeout: WAIT });
  await opPage.locator('[data-testid="timeline"] li[data-kind="raised"]').waitFor({ timeout: WAIT });
  await opPage.screenshot({ path: path.join(outDir, 'console.png') });
  await gPage.screenshot({ path: path.join(outDir, 'guard-raised.png'), fullPage: true });

  // Nobody else sees it: another school's guard, another police area's operator.
  await guard2.page.waitForTimeout(300);
  assert.equal(await guard2.page.locator('[data-testid="recent-item"]').count(), 0);
  assert.ok(!(await guard2.page.locator('main').textContent()).includes('恩施市实验小学'));
  assert.equal(await op2.page.locator('[data-testid="queue-item"]').count(), 0);
  assert.equal(await op2.page.locator('body').getAttribute('data-alerting'), 'false');
  assert.ok(!(await op2.page.locator('main').textContent()).includes('恩施市实验小学'));

  // Claim → the guard sees 公安已接警, the alert stops.
  await opPage.getByTestId('act-claim').click();
  await stateIs(gPage, 'alarm-status', 'claimed');
  assert.match(await textOf(gPage, '[data-testid="status-title"]'), /公安已接警/);
  assert.match(await textOf(gPage, '[data-testid="status-sub"]'), /李娜/);
  await opPage.waitForFunction(() => document.body.dataset.alerting === 'false', null, { timeout: WAIT });
  // The card's 审计记录 (collapsed) lists the press and the claim: who, with their role, and what.
  await opPage.getByTestId('audit').locator('summary').click();
  const claimedEntry = opPage.locator('[data-testid="audit-entry"][data-action="incident.claim"]');
  await claimedEntry.waitFor({ timeout: WAIT });
  assert.match(await claimedEntry.textContent(), /接警员 李娜（接警员）认领警情/);
  assert.match(await textOf(opPage, '[data-testid="audit-entry"][data-action="incident.raise"]'), /门卫 张建国（门卫）发起报警/);

  // Dispatch to 陈伟 → the guard sees 已派警 with the unit; the officer's phone lists it.
  const unit = opPage.getByTestId('dispatch-unit');
  assert.equal(await unit.inputValue(), '恩施市公安局舞阳坝派出所巡逻组');
  await unit.fill('舞阳坝派出所巡逻一组');
  await opPage.getByTestId('dispatch-officer').selectOption('3');
  await opPage.getByTestId('dispatch-note').fill('立即前往南门');
  await opPage.getByTestId('act-dispatch').click();
  await stateIs(gPage, 'alarm-status', 'dispatched');
  assert.match(await textOf(gPage, '[data-testid="status-title"]'), /已派警/);
  assert.match(await textOf(gPage, '[data-testid="status-sub"]'), /舞阳坝派出所巡逻一组/);
  const fieldItem = officer.page.locator(`[data-testid="field-item"][data-incident-id="${id}"]`);
  await fieldItem.waitFor({ timeout: WAIT });
  assert.match(await fieldItem.textContent(), /恩施市实验小学/);
  assert.match(await fieldItem.textContent(), /南门门卫室/);
  await fieldItem.locator('a[href="tel:13907181021"]').waitFor({ timeout: WAIT });
  await officer.page.screenshot({ path: path.join(outDir, 'officer.png'), fullPage: true });

  // The officer arrives → the guard sees 民警已到达, the operator's card follows.
  await fieldItem.getByTestId('field-arrive').click();
  await stateIs(gPage, 'alarm-status', 'on_scene');
  assert.match(await textOf(gPage, '[data-testid="status-title"]'), /民警已到达/);
  await stateIs(opPage, 'card', 'on_scene');
  await fieldItem.getByTestId('field-arrived').waitFor({ timeout: WAIT });

  // Resolve (genuine) → 已处置; close → 已结案 and the queue empties.
  await opPage.getByTestId('resolve-disposition').selectOption('genuine');
  await opPage.getByTestId('resolve-note').fill('可疑人员已带离');
  await opPage.getByTestId('act-resolve').click();
  await stateIs(gPage, 'alarm-status', 'resolved');
  assert.match(await textOf(gPage, '[data-testid="status-title"]'), /已处置/);
  assert.match(await textOf(gPage, '[data-testid="status-sub"]'), /真实警情/);
  await opPage.getByTestId('act-close').click();
  await stateIs(gPage, 'alarm-status', 'closed');
  assert.match(await textOf(gPage, '[data-testid="status-title"]'), /已结案/);
  await opPage.getByTestId('queue-empty').waitFor({ timeout: WAIT });
  const kinds = await opPage.locator('[data-testid="timeline"] li').evaluateAll((els) => els.map((e) => e.dataset.kind));
  for (const k of ['raised', 'claimed', 'dispatched', 'arrived', 'resolved', 'closed']) assert.ok(kinds.includes(k), `timeline has ${k}: ${kinds}`);
  await gPage.screenshot({ path: path.join(outDir, 'guard.png'), fullPage: true });

  // Still nothing for the others, and no script errors anywhere.
  assert.equal(await guard2.page.locator('[data-testid="recent-item"]').count(), 0);
  assert.equal(await op2.page.locator('[data-testid="queue-item"]').count(), 0);
  assert.deepEqual(errors, []);
  for (const c of [op, guard, officer, guard2, op2]) await c.context.close();
});

test('a second operator gets a readable 409 when the alarm is already claimed', async () => {
  const a = await loginAs(browser, server.url, 'operator', DESKTOP, errors);
  const b = await loginAs(browser, server.url, 'supervisor', DESKTOP, errors);
  const g = await loginAs(browser, server.url, 'principal1', PHONE, errors);
  // Keyboard hold (Space) raises too, from the 北门 point.
  await g.page.getByTestId('alarm-point').selectOption('2');
  await g.page.getByTestId('mode-silent').click();
  await g.page.getByTestId('alarm-button').focus();
  await g.page.keyboard.down(' ');
  await g.page.waitForTimeout(2400);
  await g.page.keyboard.up(' ');
  await stateIs(g.page, 'alarm-status', 'received');
  for (const p of [a.page, b.page]) {
    const it = p.locator('[data-testid="queue-item"][data-state="received"]', { hasText: '北门门卫室' });
    await it.waitFor({ timeout: WAIT });
    await it.click();
    await p.getByTestId('act-claim').waitFor({ timeout: WAIT });
    assert.match(await textOf(p, '[data-testid="card-silent"]'), /是/);
  }
  // Both click 认领 at the same moment: b's request reaches the server just after a's claim
  // (held back by the route), so b gets 409 already_claimed and a readable message.
  await b.page.route('**/api/v1/incidents/*/claim', async (route) => {
    await a.page.getByTestId('act-claim').click();
    await stateIs(a.page, 'card', 'claimed');
    await route.continue();
  });
  await b.page.getByTestId('act-claim').click();
  const msg = b.page.getByTestId('action-error');
  await msg.waitFor({ state: 'visible', timeout: WAIT });
  assert.equal((await msg.textContent()).trim(), '该警情已被 接警员 李娜 认领');
  await stateIs(b.page, 'card', 'claimed');
  await stateIs(g.page, 'alarm-status', 'claimed');
  await b.page.screenshot({ path: path.join(outDir, 'console-409.png') });
  // The school reports an accidental press; the police see it on the card.
  await g.page.getByTestId('btn-accidental').click();
  await g.page.getByTestId('accidental-yes').click();
  await g.page.getByTestId('accidental-done').waitFor({ timeout: WAIT });
  await a.page.getByTestId('card-accidental').waitFor({ timeout: WAIT });
  assert.equal(await a.page.getByTestId('resolve-disposition').inputValue(), 'false_alarm');
  await a.page.getByTestId('act-resolve').click();
  await a.page.getByTestId('act-close').click();
  await stateIs(g.page, 'alarm-status', 'closed');
  assert.deepEqual(errors, []);
  for (const c of [a, b, g]) await c.context.close();
});

test('English switch, and no horizontal scrollbar at 1366×768 or on a phone', async () => {
  const op = await loginAs(browser, server.url, 'operator', DESKTOP, errors);
  assert.match(await op.page.locator('#topbar').textContent(), /接处警台/);
  await op.page.getByTestId('lang-en').click();
  await op.page.getByTestId('start-shift').waitFor({ timeout: WAIT });
  assert.equal(await textOf(op.page, '[data-testid="start-shift"]'), 'Start shift');
  assert.match(await op.page.locator('#topbar').textContent(), /Alarm centre/);
  assert.match(await op.page.getByTestId('queue').textContent(), /Incident queue/);
  const noScroll = () => document.documentElement.scrollWidth <= document.documentElement.clientWidth;
  assert.ok(await op.page.evaluate(noScroll), 'console at 1366×768 scrolls sideways');
  await op.page.screenshot({ path: path.join(outDir, 'console-en.png') });
  // The choice survives a reload; switching back gives Chinese again.
  await op.page.reload();
  await op.page.getByTestId('start-shift').waitFor({ timeout: WAIT });
  assert.equal(await textOf(op.page, '[data-testid="start-shift"]'), 'Start shift');
  await op.page.getByTestId('lang-zh').click();
  assert.equal(await textOf(op.page, '[data-testid="start-shift"]'), '开始值班');

  for (const [user, opts] of [['guard1', PHONE], ['officer', PHONE], ['inspector', DESKTOP], ['operator', PHONE], ['bureau', PHONE], ['admin', DESKTOP]]) {
    const c = await loginAs(browser, server.url, user, opts, errors);
    assert.ok(await c.page.evaluate(noScroll), `${user} at ${opts.viewport.width}px scrolls sideways`);
    if (user === 'inspector') await c.page.screenshot({ path: path.join(outDir, 'bureau.png'), fullPage: true });
    if (user === 'operator') await c.page.screenshot({ path: path.join(outDir, 'console-phone.png'), fullPage: true });
    await c.context.close();
  }
  // Logging out goes back to the login page, and the session is gone.
  await op.page.getByTestId('logout').click();
  await op.page.getByTestId('login-form').waitFor({ timeout: WAIT });
  assert.equal(new URL(op.page.url()).pathname, '/login');
  assert.equal(await op.page.evaluate(() => fetch('/api/v1/me').then((r) => r.status)), 401);
  assert.deepEqual(errors, []);
  await op.context.close();
});
