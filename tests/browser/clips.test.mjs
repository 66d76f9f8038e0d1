// clips.test.mjs — the clip from before the press in headless Chromium: the demo (its simulated
// GB/T 28181 gate camera streams from the start) with a shortened clip window; guard1 presses the
// one-key button, the operator's incident card shows 报警前录像 with a player that plays at once
// (currentTime advances), marks the press, offers the download and turns 已完成 when the window
// has passed; the supervisor sees 解除保护, the operator does not; 1366×768 and a phone without
// horizontal scroll.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, launch, loginAs, holdButton, outDir, DESKTOP, PHONE, WAIT } from './harness.mjs';

const BEFORE = 4;
const AFTER = 3;

let server;
let browser;
let tmp;
const errors = [];

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'xiaoan-clips-'));
  const config = path.join(tmp, 'clips.toml');
  writeFileSync(config, `
[video]
clip_before_secs = ${BEFORE}
clip_after_secs = ${AFTER}
`);
  server = await startServer({}, { args: ['--config', config] });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('a press attaches a pre-alarm clip that plays on the operator card', async () => {
  const op = await loginAs(browser, server.url, 'operator', DESKTOP, errors);
  const guard = await loginAs(browser, server.url, 'guard1', PHONE, errors);
  // Let the gate camera fill the pre-roll.
  await op.page.waitForTimeout((BEFORE + 1) * 1000);
  await holdButton(guard.page, 2400);

  const opPage = op.page;
  await opPage.getByTestId('queue-item').first().click();
  const clip = opPage.getByTestId('clip').first();
  await clip.waitFor({ timeout: WAIT });
  const video = clip.getByTestId('clip-video');
  // It plays at once, while the rest is still recording.
  await opPage.waitForFunction(() => {
    const v = document.querySelector('[data-testid=clip-video]');
    return v && v.currentTime > 0.5 && v.videoWidth > 0;
  }, null, { timeout: WAIT });
  const early = await video.evaluate((v) => ({ t: v.currentTime, w: v.videoWidth, d: v.duration }));
  assert.ok(early.w > 0, JSON.stringify(early));
  assert.match(await clip.getByTestId('clip-download').getAttribute('href'), /\/api\/v1\/clips\/\d+\/download/);
  assert.equal(await clip.getByTestId('clip-release').isVisible(), false, 'operators cannot release');
  assert.match(await clip.getByTestId('clip-offset').textContent(), /T[−+]\d|报警前/);

  // Complete once the window has passed (plus polling).
  await opPage.waitForFunction(() => document.querySelector('[data-testid=clip]')?.dataset.state === 'complete', null, { timeout: (AFTER + 6) * 1000 });
  await opPage.waitForFunction(() => {
    const v = document.querySelector('[data-testid=clip-video]');
    return v && Number.isFinite(v.duration) && v.duration > 0;
  }, null, { timeout: WAIT });
  const d = await video.evaluate((v) => v.duration);
  assert.ok(d >= BEFORE + AFTER - 1 && d <= BEFORE + AFTER + 2, `duration ${d}`);
  const t0 = await video.evaluate((v) => { v.currentTime = 0.2; v.play(); return v.currentTime; });
  await opPage.waitForFunction((t) => document.querySelector('[data-testid=clip-video]').currentTime > t + 1, t0, { timeout: WAIT });
  assert.equal(await clip.getByTestId('clip-state').textContent(), '已完成');

  const wide = await opPage.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(wide <= 0, `no horizontal scroll at 1366×768 (${wide})`);
  await opPage.screenshot({ path: path.join(outDir, 'clips-operator.png') });
  await clip.screenshot({ path: path.join(outDir, 'clips-player.png') });

  // The supervisor releases the protection.
  const sup = await loginAs(browser, server.url, 'supervisor', DESKTOP, errors);
  await sup.page.getByTestId('queue-item').first().click();
  const release = sup.page.getByTestId('clip-release').first();
  await release.waitFor({ timeout: WAIT });
  sup.page.once('dialog', (dlg) => dlg.accept());
  await release.click();
  await sup.page.getByText('已解除保护').first().waitFor({ timeout: WAIT });

  // A phone without horizontal scroll.
  const phone = await loginAs(browser, server.url, 'operator', PHONE, errors);
  await phone.page.getByTestId('queue-item').first().click();
  await phone.page.getByTestId('clip').first().waitFor({ timeout: WAIT });
  const pwide = await phone.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(pwide <= 0, `no horizontal scroll on a phone (${pwide})`);
  await phone.page.screenshot({ path: path.join(outDir, 'clips-phone.png') });

  assert.deepEqual(errors, []);
  for (const c of [op, guard, sup, phone]) await c.context.close();
});
