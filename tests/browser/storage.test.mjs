// storage.test.mjs — the red storage-failure banner. The server sends its storage state on the
// live stream ({type: 'storage', storage: {ok, since, error, refused}}); here the stream is
// answered by the test (the server-side state is proved by crates/xiaoan/tests/storage_faults.rs)
// so the console's side can be checked on its own: the banner appears on the police console and
// on the guard's page while storage fails, and goes away when the state says it recovered.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, loginAs, DESKTOP, PHONE, WAIT } from './harness.mjs';

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

/** Answers the page's event stream with the storage state `state()` (it reconnects at once). */
async function fakeStream(context, state) {
  await context.route('**/api/v1/events', (route) => route.fulfill({
    status: 200,
    headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-store' },
    body: `retry: 300\ndata: ${JSON.stringify({ type: 'storage', storage: state() })}\n\n`,
  }));
}

test('a storage failure shows the red banner on every console until storage recovers', async () => {
  const failing = { ok: false, since: new Date().toISOString(), error: 'database or disk is full', refused: 3 };
  let now = { ok: true, since: new Date().toISOString(), error: null, refused: 0 };
  const op = await loginAs(browser, server.url, 'operator', DESKTOP, errors);
  const guard = await loginAs(browser, server.url, 'guard1', PHONE, errors);
  for (const u of [op, guard]) {
    await fakeStream(u.context, () => now);
    // A fresh page load opens the stream through the route.
    await u.page.reload();
    await u.page.waitForFunction(() => ['console', 'school'].includes(document.body.dataset.page), null, { timeout: WAIT });
  }
  assert.equal(await op.page.getByTestId('storage-banner').count(), 0);

  now = failing;
  for (const u of [op, guard]) {
    const banner = u.page.getByTestId('storage-banner');
    await banner.waitFor({ state: 'visible', timeout: WAIT });
    const text = await banner.textContent();
    assert.match(text, /存储故障：报警无法保存，请立即处理/);
    assert.match(text, /Storage failure: alarms cannot be saved/);
    assert.match(text, /3/);
    assert.equal(await banner.getAttribute('role'), 'alert');
  }

  now = { ok: true, since: new Date().toISOString(), error: null, refused: 0 };
  for (const u of [op, guard]) {
    await u.page.getByTestId('storage-banner').waitFor({ state: 'hidden', timeout: WAIT });
    assert.equal(await u.page.evaluate(() => document.body.dataset.storage ?? null), null);
  }
  await op.context.close();
  await guard.context.close();
  assert.deepEqual(errors, []);
});
