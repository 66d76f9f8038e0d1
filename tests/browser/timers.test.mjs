// timers.test.mjs — what happens when nobody claims an alarm, against a server with short timers
// (escalate after 2 s, tell the school to call 110 after 3 s): the console marks the incident
// 超时未接警/已上报值班长, and the guard's page shows a big 请立即拨打110 with a tel:110 link.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer, launch, loginAs, holdButton, textOf, outDir, DESKTOP, PHONE, WAIT } from './harness.mjs';

let server;
let browser;
const errors = [];

before(async () => {
  server = await startServer({ XIAOAN_INCIDENT__ESCALATE_AFTER_SECS: '2', XIAOAN_SCHOOL__CALL_110_AFTER_SECS: '3' });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('an unclaimed alarm escalates on the console and tells the guard to call 110', async () => {
  const sup = await loginAs(browser, server.url, 'supervisor', DESKTOP, errors);
  await sup.page.getByTestId('start-shift').click();
  const guard = await loginAs(browser, server.url, 'guard2', PHONE, errors);
  assert.equal(await guard.page.getByTestId('call-110').count(), 0);
  await holdButton(guard.page, 2400);
  await guard.page.waitForSelector('[data-testid="alarm-status"][data-state="received"]', { timeout: WAIT });

  const item = sup.page.locator('[data-testid="queue-item"]', { hasText: '恩施市机关幼儿园' });
  await item.waitFor({ timeout: WAIT });
  await item.getByTestId('escalated').waitFor({ timeout: WAIT });
  assert.match(await item.getByTestId('escalated').textContent(), /超时未接警/);
  assert.match(await item.getAttribute('class'), /escalated/);
  await sup.page.getByTestId('card-escalated').waitFor({ timeout: WAIT });
  assert.match(await textOf(sup.page, '[data-testid="card-escalated"]'), /已上报值班长/);

  const box = guard.page.getByTestId('call-110');
  await box.waitFor({ state: 'visible', timeout: WAIT });
  assert.match(await box.textContent(), /请立即拨打 ?110/);
  assert.equal(await guard.page.getByTestId('call-110-link').getAttribute('href'), 'tel:110');
  await guard.page.screenshot({ path: path.join(outDir, 'guard-call110.png') });
  await sup.page.screenshot({ path: path.join(outDir, 'console-escalated.png') });

  // Once the police claim it, the call-110 prompt goes away.
  await sup.page.getByTestId('act-claim').click();
  await guard.page.waitForSelector('[data-testid="alarm-status"][data-state="claimed"]', { timeout: WAIT });
  await box.waitFor({ state: 'hidden', timeout: WAIT });
  assert.deepEqual(errors, []);
});
