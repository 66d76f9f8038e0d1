// playback.test.mjs — recorded video on 设备管理 in headless Chromium: the demo's simulated
// GB/T 28181 gate camera is recorded in 3-second segments; the operator opens 录像回放 of the
// camera: the timeline shows the recorded spans, a segment plays in the <video> (time advances,
// 640 wide), the export inputs are prefilled from it, a span dragged on the timeline exports as
// one MP4 (downloaded, `ftyp`, and `ffmpeg -v error -xerror` when ffmpeg is on the PATH; the same
// URL fetched in the page answers 200), a span longer than an hour and a span without footage are
// refused with text; 存储 lists the camera; no horizontal scroll at 1366×768 or on a phone.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, launch, loginAs, outDir, DESKTOP, PHONE, WAIT } from './harness.mjs';

const GATE = '42280100001320000001';
const SEGMENT_SECS = 3;
const haveFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;

let server;
let browser;
let tmp;
const errors = [];

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'xiaoan-playback-'));
  const config = path.join(tmp, 'playback.toml');
  writeFileSync(config, `
[video]
segment_secs = ${SEGMENT_SECS}
`);
  server = await startServer({}, { args: ['--config', config] });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Opens 设备管理 and the gate camera's 录像回放; returns the playback section. */
async function openPlayback(page) {
  await page.getByTestId('nav-devices').click();
  await page.waitForFunction(() => document.body.dataset.page === 'devices', null, { timeout: WAIT });
  const row = page.locator(`[data-testid="camera-row"][data-camera-id="${GATE}"]`);
  await row.waitFor({ timeout: WAIT });
  await row.getByTestId('camera-replay').click();
  const pb = page.locator(`[data-testid="playback"][data-camera-id="${GATE}"]`);
  await pb.waitFor({ timeout: WAIT });
  return pb;
}

/** The closed spans' boxes on the timeline, left to right. */
async function closedSpans(pb) {
  await pb.locator('[data-testid="playback-span"]:not(.open)').nth(1).waitFor({ timeout: WAIT });
  const spans = pb.locator('[data-testid="playback-span"]:not(.open)');
  const boxes = [];
  for (let i = 0; i < await spans.count(); i += 1) boxes.push(await spans.nth(i).boundingBox());
  return boxes.sort((a, b) => a.x - b.x);
}

test('recorded spans play, a chosen span exports as an MP4, storage lists the camera', async () => {
  // A few closed segments of the gate camera.
  await new Promise((r) => setTimeout(r, (3 * SEGMENT_SECS + 3) * 1000));
  const op = await loginAs(browser, server.url, 'operator', DESKTOP, errors);
  const { page } = op;
  const pb = await openPlayback(page);
  const boxes = await closedSpans(pb);
  assert.ok(boxes.length >= 2, `recorded spans on the timeline: ${boxes.length}`);

  // A click on the timeline plays the segment there.
  const first = boxes[0];
  await page.mouse.click(first.x + first.width / 2, first.y + first.height / 2);
  await page.waitForFunction(() => {
    const v = document.querySelector('[data-testid=playback-video]');
    return v && !v.hidden && v.currentTime > 0.5 && v.videoWidth > 0;
  }, null, { timeout: WAIT });
  const played = await pb.getByTestId('playback-video').evaluate((v) => ({ t: v.currentTime, w: v.videoWidth, h: v.videoHeight }));
  assert.equal(played.w, 640, JSON.stringify(played));
  assert.equal(await pb.locator('[data-testid="playback-span"].on').count(), 1);

  // The export inputs hold the played segment.
  const from = pb.getByTestId('playback-export-from');
  const to = pb.getByTestId('playback-export-to');
  assert.match(await from.inputValue(), /^\d{2}:\d{2}:\d{2}$/);
  assert.match(await to.inputValue(), /^\d{2}:\d{2}:\d{2}$/);

  // Drag along the timeline from a little before the footage to its end (now) to choose the
  // export span (seconds of footage are a few pixels of the hour).
  const line = await pb.getByTestId('playback-timeline').boundingBox();
  const y = line.y + line.height / 2;
  const before = [await from.inputValue(), await to.inputValue()];
  await page.mouse.move(Math.max(line.x + 1, first.x - 40), y);
  await page.mouse.down();
  await page.mouse.move(line.x + line.width - 20, y, { steps: 4 });
  await page.mouse.move(line.x + line.width - 1, y, { steps: 2 });
  await page.mouse.up();
  assert.equal(await pb.locator('[data-testid="playback-span"].on').count(), 1, 'a drag does not pick a segment');
  assert.equal(await pb.getByTestId('playback-selection').isVisible(), true);
  const chosen = [await from.inputValue(), await to.inputValue()];
  assert.notDeepEqual(chosen, before, 'the drag changed the span');

  // The same span fetched in the page with its session cookie.
  const fetched = await page.evaluate(async (cam) => {
    const pbEl = document.querySelector(`[data-testid=playback][data-camera-id="${cam}"]`);
    // Local clock times of the last hour (a time later than now is yesterday's).
    const parse = (v) => {
      const [h, m, s] = v.split(':').map(Number);
      const d = new Date();
      d.setHours(h, m, s, 0);
      return d.getTime() > Date.now() + 60_000 ? d.getTime() - 86_400_000 : d.getTime();
    };
    const f = parse(pbEl.querySelector('[data-testid=playback-export-from]').value);
    const t = parse(pbEl.querySelector('[data-testid=playback-export-to]').value);
    const res = await fetch(`/api/v1/cameras/${encodeURIComponent(cam)}/export?from=${f}&to=${t}`, { credentials: 'same-origin' });
    const buf = new Uint8Array(await res.arrayBuffer());
    return { status: res.status, type: res.headers.get('content-type'), size: buf.length, head: String.fromCharCode(...buf.slice(4, 8)) };
  }, GATE);
  assert.equal(fetched.status, 200, JSON.stringify(fetched));
  assert.equal(fetched.type, 'video/mp4');
  assert.equal(fetched.head, 'ftyp');
  assert.ok(fetched.size > 0);

  // 导出 downloads it.
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 15_000 }),
    pb.getByTestId('playback-export').click(),
  ]);
  const file = path.join(tmp, 'export.mp4');
  await download.saveAs(file);
  assert.match(download.suggestedFilename(), /\.mp4$/);
  const bytes = readFileSync(file);
  assert.ok(bytes.length > 1000, `export of ${bytes.length} bytes`);
  assert.equal(bytes.subarray(4, 8).toString('latin1'), 'ftyp');
  await pb.getByTestId('playback-export-done').waitFor({ timeout: WAIT });
  if (haveFfmpeg) {
    const out = spawnSync('ffmpeg', ['-v', 'error', '-xerror', '-i', file, '-f', 'null', '-'], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    assert.equal(out.stderr, '', out.stderr);
  } else {
    console.warn('ffmpeg not found: the export is not decoded');
  }

  // Refusals are text on the page, which keeps working.
  const clockAgo = (minutes) => page.evaluate((m) => {
    const d = new Date(Date.now() - m * 60_000);
    return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
  }, minutes);
  await from.fill(await clockAgo(90));
  await to.fill(await clockAgo(1));
  await pb.getByTestId('playback-export').click();
  await pb.getByTestId('playback-export-status').getByText('一次最多导出一小时').waitFor({ timeout: WAIT });
  await from.fill(await clockAgo(1));
  await to.fill(await clockAgo(2));
  await pb.getByTestId('playback-export').click();
  await pb.getByTestId('playback-export-status').getByText('结束时间须晚于开始时间').waitFor({ timeout: WAIT });
  const empty = [await clockAgo(50), await clockAgo(49)];
  await from.fill(empty[0]);
  await to.fill(empty[1]);
  await pb.getByTestId('playback-export').click();
  const refused = pb.getByTestId('playback-export-error');
  await refused.waitFor({ timeout: WAIT });
  assert.match(await refused.textContent(), /导出失败：该时段没有录像/);
  assert.equal(await pb.getByTestId('playback-video').isVisible(), true);

  // 存储 lists the camera.
  await page.getByTestId('storage-toggle').click();
  const storageRow = page.locator(`[data-testid="storage-row"][data-camera-id="${GATE}"]`);
  await storageRow.waitFor({ timeout: WAIT });
  assert.match(await storageRow.textContent(), /南门|摄像机|\d/);

  const wide = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(wide <= 0, `no horizontal scroll at 1366×768 (${wide})`);
  await page.screenshot({ path: path.join(outDir, 'playback-devices.png'), fullPage: true });
  await pb.screenshot({ path: path.join(outDir, 'playback.png') });

  // A phone: the same view without horizontal scroll.
  const phone = await loginAs(browser, server.url, 'operator', PHONE, errors);
  const ppb = await openPlayback(phone.page);
  await closedSpans(ppb);
  await phone.page.getByTestId('storage-toggle').click();
  await phone.page.locator(`[data-testid="storage-row"][data-camera-id="${GATE}"]`).waitFor({ timeout: WAIT });
  const pwide = await phone.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(pwide <= 0, `no horizontal scroll on a phone (${pwide})`);
  await phone.page.screenshot({ path: path.join(outDir, 'playback-phone.png'), fullPage: true });

  assert.deepEqual(errors, []);
  for (const c of [op, phone]) await c.context.close();
});
