// timers.test.mjs — what happens when nobody claims an alarm, against a server with short timers
// (escalate after 2 s, tell the school to call 110 after 3 s): the console marks the incident
// 超时未接警/已上报值班长, and the guard's page shows a big 请立即拨打110 with a tel:110 link.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { rmSync } from 'node:fs';
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
  await restarted?.stop();
  await server?.stop();
  if (server) rmSync(server.dataDir, { recursive: true, force: true });
});

let restarted;

test('an unclaimed alarm escalates on the console and tells the guard to call 110', async () => {
  const sup = await loginAs(browser, server.url, 'supervisor', DESKTOP, errors);
  await sup.page.getByTestId('start-shift').click();
  const guard = await loginAs(browser, server.url, 'guard2', PHONE, errors);
  assert.equal(await guard.page.getByTestId('call-110').count(), 0);
  // By touch this time: a short touch raises nothing, a 2 s touch-and-hold does.
  await holdButton(guard.page, 500, 'touch');
  await guard.page.waitForTimeout(300);
  assert.ok(await guard.page.getByTestId('alarm-status').isHidden());
  await holdButton(guard.page, 2400, 'touch');
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
  await sup.context.close();
  await guard.context.close();
});

test('when the server goes away the console warns, then reconnects and reloads the queue', async () => {
  const op = await loginAs(browser, server.url, 'operator', DESKTOP, errors);
  await op.page.getByTestId('start-shift').click();
  const guard = await loginAs(browser, server.url, 'guard1', PHONE, errors);
  assert.equal(await op.page.getByTestId('conn-banner').count(), 0);

  await server.kill();
  await op.page.getByTestId('conn-banner').waitFor({ state: 'visible', timeout: WAIT });
  assert.match(await op.page.getByTestId('conn-banner').textContent(), /实时连接已中断/);
  await guard.page.getByTestId('conn-banner').waitFor({ state: 'visible', timeout: WAIT });
  await op.page.screenshot({ path: path.join(outDir, 'console-disconnected.png') });

  // While the server is down the guard presses: the alarm is retried with the same key until stored.
  const keys = [];
  guard.page.on('request', (r) => { if (r.method() === 'POST' && r.url().endsWith('/api/v1/alarms')) keys.push(r.headers()['idempotency-key']); });
  await holdButton(guard.page, 2400);
  await guard.page.waitForFunction(() => /重试/.test(document.querySelector('[data-testid="press-msg"]')?.textContent || ''), null, { timeout: WAIT });
  assert.ok(keys.length >= 1);

  restarted = await startServer({ XIAOAN_INCIDENT__ESCALATE_AFTER_SECS: '2', XIAOAN_SCHOOL__CALL_110_AFTER_SECS: '3' },
    { addr: new URL(server.url).host, dataDir: server.dataDir });
  await guard.page.waitForSelector('[data-testid="alarm-status"][data-state="received"]', { timeout: 15_000 });
  assert.ok(keys.length >= 2, 'the alarm was retried');
  assert.equal(new Set(keys).size, 1, `every retry carries the same Idempotency-Key: ${keys}`);
  await op.page.getByTestId('conn-banner').waitFor({ state: 'hidden', timeout: 15_000 });
  await op.page.locator('[data-testid="queue-item"][data-state="received"]', { hasText: '恩施市实验小学' }).waitFor({ timeout: WAIT });
  assert.equal(await op.page.locator('body').getAttribute('data-alerting'), 'true');
  assert.deepEqual(errors, []);
});
