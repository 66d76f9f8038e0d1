// dc09.test.mjs — alarms from alarm panels over SIA DC-09, end to end: the panel simulator
// (`xiaoan sim dc09`) fires a panic at the demo's receiver and the operator's console shows it
// live (kind, decoded event, account, alert on); an encrypted Contact ID silent panic joins it and
// another account makes a second incident at 北门; a periodic test is only a signal (school page
// and console, no incident); an unregistered account is an alert for the supervisor only; a frame
// with position and a verification link shows both on the card; a lost panel (通信中断) is shown
// against its school on the console, the school page and the bureau page.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import net from 'node:net';
import { execFile } from 'node:child_process';
import { startServer, launch, loginAs, textOf, outDir, repo, DESKTOP, PHONE, WAIT } from './harness.mjs';

const BIN = process.env.XIAOAN_BIN || path.join(repo, 'target', 'debug', 'xiaoan');
const KEY_3333 = '000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F';

let server;
let browser;
const errors = [];

before(async () => {
  server = await startServer();
  assert.ok(server.dc09, 'the demo prints its DC-09 receiver address');
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Runs the panel simulator once; resolves to its output after checking the receiver ACKed. */
function sim(...args) {
  return new Promise((resolve, reject) => {
    execFile(BIN, ['sim', 'dc09', '--to', server.dc09, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) { reject(new Error(`sim ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`)); return; }
      try {
        assert.match(stdout, /→ ACK /, `sim ${args.join(' ')}: no ACK:\n${stdout}`);
      } catch (e) { reject(e); return; }
      resolve(stdout);
    });
  });
}

/** CRC-16/ARC, the DC-09 frame checksum. */
function crc16(buf) {
  let crc = 0;
  for (const b of buf) {
    crc ^= b;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/**
 * Sends one plain SIA-DCS frame with extended data (the simulator has no flags for it) over TCP
 * and resolves to the receiver's reply, e.g. `…"ACK"0007R1L1#1111[]`.
 */
function sendPlain(account, seq, data, xdata) {
  const span = Buffer.from(`"SIA-DCS"${String(seq).padStart(4, '0')}R1L1#${account}[${data}]${xdata.map((x) => `[${x}]`).join('')}`, 'latin1');
  const head = `\n${crc16(span).toString(16).toUpperCase().padStart(4, '0')}${span.length.toString(16).toUpperCase().padStart(4, '0')}`;
  const frame = Buffer.concat([Buffer.from(head, 'latin1'), span, Buffer.from('\r', 'latin1')]);
  const [host, port] = server.dc09.split(':');
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(port), host, () => sock.write(frame));
    let got = '';
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`no reply to the frame: ${got}`)); }, 10_000);
    sock.on('data', (c) => {
      got += c.toString('latin1');
      if (got.includes('\r')) { clearTimeout(timer); sock.end(); resolve(got.trim()); }
    });
    sock.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

/** Claims, resolves (as a test) and closes incident `id` on the operator's console. */
async function closeIncident(page, id) {
  await page.locator(`[data-testid="queue-item"][data-incident-id="${id}"]`).click();
  await page.waitForSelector(`[data-testid="card"][data-incident-id="${id}"]`, { timeout: WAIT });
  // Each step waits for the card to show the state it made: the card is drawn again on every
  // change, and a choice made on the card before that would be lost.
  const card = (state) => page.waitForSelector(`[data-testid="card"][data-incident-id="${id}"][data-state="${state}"]`, { timeout: WAIT });
  await page.getByTestId('act-claim').click();
  await card('claimed');
  await page.getByTestId('resolve-disposition').selectOption('test');
  await page.getByTestId('act-resolve').click();
  await card('resolved');
  await page.getByTestId('act-close').click();
  await card('closed');
}

const incidents = (page) => page.evaluate(() => fetch('/api/v1/incidents?state=active').then((r) => r.json()).then((d) => d.incidents));

test('DC-09 alarms reach the console live; signals are not incidents; unregistered senders only alert supervisors', async () => {
  const op = await loginAs(browser, server.url, 'operator', DESKTOP, errors);
  const opPage = op.page;
  await opPage.getByTestId('start-shift').click();
  await opPage.getByTestId('queue-empty').waitFor({ timeout: WAIT });
  assert.equal(await opPage.locator('body').getAttribute('data-alerting'), 'false');
  const sup = await loginAs(browser, server.url, 'supervisor', DESKTOP, errors);
  const guard = await loginAs(browser, server.url, 'guard1', PHONE, errors);

  // A panic (SIA PA) from account 1111 at 南门门卫室.
  await sim('--account', '1111', '--event', 'PA');
  const item = opPage.locator('[data-testid="queue-item"][data-state="received"]', { hasText: '恩施市实验小学' });
  await item.waitFor({ timeout: WAIT });
  assert.equal(await item.getByTestId('kind').textContent(), '紧急求助');
  assert.match(await item.textContent(), /1111/);
  await opPage.waitForFunction(() => document.body.dataset.alerting === 'true', null, { timeout: WAIT });
  assert.equal(await opPage.getByTestId('queue').getAttribute('data-alerting'), 'true');
  const id = await item.getAttribute('data-incident-id');

  // The card (selected by itself, the first unclaimed one): the panel's account of the alarm.
  await opPage.waitForSelector(`[data-testid="card"][data-incident-id="${id}"]`, { timeout: WAIT });
  assert.equal(await textOf(opPage, '[data-testid="card-school"]'), '恩施市实验小学');
  assert.equal(await textOf(opPage, '.card-head [data-testid="kind"]'), '紧急求助');
  assert.equal(await textOf(opPage, '[data-testid="card-source"]'), 'DC-09 报警主机');
  assert.equal(await textOf(opPage, '[data-testid="card-event"]'), '紧急求助（SIA PA）');
  assert.match(await textOf(opPage, '[data-testid="card-account"]'), /^1111/);
  assert.match(await textOf(opPage, '[data-testid="card-zone"]'), /防区 001/);
  assert.equal(await opPage.getByTestId('card-encrypted').getAttribute('data-encrypted'), 'false');
  assert.match(await textOf(opPage, '[data-testid="card-raw"]'), /#1111\|Nri1\/PA001/);
  assert.match(await textOf(opPage, '[data-testid="card-point"]'), /南门门卫室/);
  await opPage.locator('[data-testid="timeline"] li[data-kind="raised"]', { hasText: '紧急求助（SIA PA）' }).waitFor({ timeout: WAIT });
  await opPage.screenshot({ path: path.join(outDir, 'console-dc09.png') });

  // An encrypted Contact ID silent panic from 2222 (same alarm point) joins the open incident.
  await sim('--account', '2222', '--key', 'AAAAAAAAAAAAAAAA', '--cid', '1122');
  await opPage.waitForFunction(() => document.querySelector('[data-testid="card-presses"]')?.textContent === '2', null, { timeout: WAIT });
  const joined = opPage.locator('[data-testid="timeline"] li[data-kind="joined"]');
  await joined.waitFor({ timeout: WAIT });
  assert.match(await joined.textContent(), /无声求助（CID 1122）/);
  assert.match(await joined.textContent(), /加密传输/);
  assert.match(await joined.textContent(), /DC-09 账号 2222/);

  // Account 3333 (AES-256) at 北门门卫室: a second incident, 无声求助.
  await sim('--account', '3333', '--key-hex', KEY_3333, '--cid', '1122');
  const north = opPage.locator('[data-testid="queue-item"][data-state="received"]', { hasText: '北门门卫室' });
  await north.waitFor({ timeout: WAIT });
  assert.equal(await north.getByTestId('kind').textContent(), '无声求助');
  assert.equal(await north.getByTestId('kind').getAttribute('data-kind'), 'silent_panic');
  await north.click();
  const northId = await north.getAttribute('data-incident-id');
  await opPage.waitForSelector(`[data-testid="card"][data-incident-id="${northId}"]`, { timeout: WAIT });
  assert.equal(await textOf(opPage, '[data-testid="card-event"]'), '无声求助（CID 1122）');
  assert.equal(await opPage.getByTestId('card-encrypted').getAttribute('data-encrypted'), 'true');
  assert.match(await textOf(opPage, '[data-testid="card-encrypted"]'), /ADM-CID · 🔒 加密传输/);
  assert.match(await textOf(opPage, '[data-testid="card-silent"]'), /是/);
  assert.equal((await incidents(opPage)).length, 2);

  // The guard's school page lists both, with their kinds.
  const kinds = guard.page.locator('[data-testid="recent-item"] [data-testid="kind"]');
  await guard.page.waitForFunction(() => document.querySelectorAll('[data-testid="recent-item"]').length === 2, null, { timeout: WAIT });
  assert.deepEqual((await kinds.allTextContents()).sort(), ['无声求助', '紧急求助']);

  // A periodic test: a signal on the school page and the console, no incident.
  await sim('--account', '1111', '--event', 'RP');
  const opSig = opPage.locator('[data-testid="signals"] [data-testid="signal-item"][data-kind="periodic_test"]');
  await opSig.waitFor({ timeout: WAIT });
  assert.equal(await opSig.getAttribute('data-severity'), 'info');
  assert.match(await opSig.textContent(), /定时测试/);
  assert.match(await opSig.textContent(), /恩施市实验小学/);
  const gSig = guard.page.locator('[data-testid="school-devices"] [data-testid="signal-item"][data-kind="periodic_test"]');
  await gSig.waitFor({ timeout: WAIT });
  assert.match(await gSig.textContent(), /定时测试（账号 1111，防区 001）/);
  await guard.page.locator('[data-testid="school-devices"] [data-testid="device"][data-device="1111"][data-state="ok"]').waitFor({ timeout: WAIT });
  assert.match(await guard.page.locator('[data-testid="device"][data-device="1111"]').textContent(), /正常/);
  assert.equal(await opPage.getByTestId('signals-badge').count(), 0, 'an info signal is no alert');
  await opPage.waitForTimeout(300);
  assert.equal((await incidents(opPage)).length, 2, 'a periodic test makes no incident');
  assert.equal(await opPage.locator('[data-testid="queue-item"]').count(), 2);
  await guard.page.screenshot({ path: path.join(outDir, 'guard-dc09.png'), fullPage: true });

  // An unregistered account: an alert on the supervisor's console only, no incident.
  await sim('--account', '9999', '--event', 'PA');
  const supSig = sup.page.locator('[data-testid="signal-item"][data-kind="unregistered_account"]');
  await supSig.waitFor({ timeout: WAIT });
  assert.equal(await supSig.getAttribute('data-severity'), 'alert');
  assert.match(await supSig.textContent(), /未登记/);
  assert.match(await supSig.textContent(), /9999/);
  await sup.page.getByTestId('signals-badge').waitFor({ timeout: WAIT });
  assert.equal(await textOf(sup.page, '[data-testid="signals-badge"]'), '1');
  await sup.page.screenshot({ path: path.join(outDir, 'console-dc09-supervisor.png') });
  await opPage.waitForTimeout(500);
  assert.equal(await opPage.locator('[data-testid="signal-item"][data-kind="unregistered_account"]').count(), 0);
  assert.equal(await opPage.getByTestId('signals-badge').count(), 0);
  assert.equal((await incidents(opPage)).length, 2, 'an unregistered sender makes no incident');
  // 已阅 clears the count, and it stays cleared after a reload.
  await sup.page.getByTestId('signals-markread').click();
  assert.equal(await sup.page.getByTestId('signals-badge').count(), 0);
  await sup.page.reload();
  await sup.page.waitForFunction(() => document.body.dataset.devicesLoaded === 'true', null, { timeout: WAIT });
  await sup.page.locator('[data-testid="signal-item"][data-kind="unregistered_account"]').waitFor({ timeout: WAIT });
  assert.equal(await sup.page.getByTestId('signals-badge').count(), 0);

  // In English the event reads in English.
  await opPage.getByTestId('lang-en').click();
  assert.equal(await textOf(opPage, '[data-testid="card-event"]'), 'Silent panic (CID 1122)');
  assert.equal(await textOf(opPage, '.card-head [data-testid="kind"]'), 'Silent panic');
  await opPage.getByTestId('lang-zh').click();

  // The bureau sees the kinds too.
  const insp = await loginAs(browser, server.url, 'inspector', DESKTOP, errors);
  await insp.page.locator('[data-testid="bureau-row"] [data-testid="kind"]', { hasText: '无声求助' }).waitFor({ timeout: WAIT });

  // Close both; the alert stops.
  for (const incId of [id, northId]) await closeIncident(opPage, incId);
  await opPage.waitForFunction(() => document.body.dataset.alerting === 'false', null, { timeout: WAIT });

  // A panic with position (xdata X/Y) and a verification link (V): both on the card and the map.
  const reply = await sendPlain('1111', 7, '#1111|Nri1/PA002', ['X109.4801', 'Y30.2950', 'Vhttps://cam.example.cn/verify/1111?ch=2']);
  assert.match(reply, /"ACK"0007/);
  const pos = opPage.locator('[data-testid="queue-item"][data-state="received"]', { hasText: '恩施市实验小学' });
  await pos.waitFor({ timeout: WAIT });
  await pos.click();
  const posId = await pos.getAttribute('data-incident-id');
  await opPage.waitForSelector(`[data-testid="card"][data-incident-id="${posId}"]`, { timeout: WAIT });
  assert.match(await textOf(opPage, '[data-testid="card-position"]'), /WGS-84 30\.295000, 109\.480100/);
  assert.match(await opPage.getByTestId('position-link').getAttribute('href'), /^https:\/\/uri\.amap\.com\/marker\?position=109\.48\d+,30\.29\d+&/);
  assert.equal(await opPage.getByTestId('card-verify').getAttribute('href'), 'https://cam.example.cn/verify/1111?ch=2');
  assert.match(await textOf(opPage, '[data-testid="card-verify"]'), /查看核验视频/);
  assert.match(await textOf(opPage, '[data-testid="card-zone"]'), /防区 002/);
  await opPage.locator('[data-testid="minimap"] [data-testid="minimap-mark"]').waitFor({ timeout: WAIT });
  await opPage.screenshot({ path: path.join(outDir, 'console-dc09-position.png') });
  // Links that come from a device are only ever http(s).
  assert.deepEqual(await opPage.evaluate(() => import('/assets/util.js').then((m) => [m.safeUrl('javascript:alert(1)'), m.safeUrl('data:text/html,x'), m.safeUrl('http://a/b')])),
    [null, null, 'http://a/b']);

  // An unknown event code shows the code itself, prominently.
  await sim('--account', '3333', '--key-hex', KEY_3333, '--event', 'XZ', '--seq', '9');
  const unk = opPage.locator('[data-testid="queue-item"][data-state="received"]', { hasText: '北门门卫室' });
  await unk.waitFor({ timeout: WAIT });
  assert.equal(await unk.getByTestId('kind').textContent(), '未识别事件 XZ');
  await unk.click();
  await opPage.getByTestId('card-unknown-code').waitFor({ timeout: WAIT });
  assert.match(await textOf(opPage, '[data-testid="card-unknown-code"]'), /未识别事件代码：XZ/);

  const noScroll = () => document.documentElement.scrollWidth <= document.documentElement.clientWidth;
  assert.ok(await opPage.evaluate(noScroll), 'console at 1366×768 scrolls sideways');
  const phone = await loginAs(browser, server.url, 'operator', PHONE, errors);
  await phone.page.getByTestId('card-dc09').waitFor({ timeout: WAIT });
  assert.ok(await phone.page.evaluate(noScroll), 'console on a phone scrolls sideways');
  await phone.page.screenshot({ path: path.join(outDir, 'console-dc09-phone.png'), fullPage: true });

  for (const incId of [posId, await unk.getAttribute('data-incident-id')]) await closeIncident(opPage, incId);
  await opPage.waitForFunction(() => document.body.dataset.alerting === 'false', null, { timeout: WAIT });
  assert.deepEqual(errors, []);
  for (const c of [op, sup, guard, insp, phone]) await c.context.close();
});

test('a panel out of contact (通信中断) shows against its school on the console, school page and bureau page', async () => {
  // Supervision takes 90 s in the demo, so the health answer is replaced here with one where
  // account 1111 has gone silent; the live update path is the same render.
  const fake = (devices) => async (route) => {
    const res = await route.fetch();
    const body = await res.json();
    const now = new Date().toISOString();
    const rest = body.devices.filter((d) => d.device !== '1111');
    body.devices = [...rest, { source: 'dc09', device: '1111', school_id: 1, alarm_point_id: 1, state: 'comm_failure', detail: '90秒未收到设备信号（通信中断）', last_seen: new Date(Date.now() - 95_000).toISOString(), supervision_secs: 90, updated_at: now }, ...devices];
    await route.fulfill({ response: res, json: body });
  };
  const pages = [];
  for (const [user, opts] of [['operator', DESKTOP], ['guard1', PHONE], ['inspector', DESKTOP], ['bureau', PHONE]]) {
    const context = await browser.newContext({ baseURL: server.url, ...opts });
    await context.route('**/api/v1/devices/health', fake([]));
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(`${user}: ${e.message}`));
    await page.goto('/');
    await page.getByTestId('login-username').fill(user);
    await page.getByTestId('login-password').fill('demo');
    await page.getByTestId('login-submit').click();
    await page.waitForFunction(() => document.body.dataset.live === 'open' && document.body.dataset.loaded === 'true', null, { timeout: WAIT });
    pages.push({ user, context, page });
  }
  const [op, guard, insp, bureau] = pages.map((p) => p.page);

  const problem = op.locator('[data-testid="device-problems"] [data-testid="device"][data-device="1111"][data-state="comm_failure"]');
  await problem.waitFor({ timeout: WAIT });
  assert.match(await problem.textContent(), /通信中断/);
  assert.match(await problem.textContent(), /恩施市实验小学/);
  assert.match(await textOf(op, '[data-testid="signals-problems"]'), /设备异常/);
  assert.equal(await op.locator('body').getAttribute('data-alerting'), 'false', 'a lost panel is no siren');
  await op.screenshot({ path: path.join(outDir, 'console-comm-failure.png') });

  const alert = guard.getByTestId('device-comm-alert');
  await alert.waitFor({ timeout: WAIT });
  assert.match(await alert.textContent(), /报警主机通信中断/);
  assert.match(await alert.textContent(), /南门门卫室 账号 1111/);
  await guard.locator('[data-testid="school-devices"] [data-testid="device"][data-device="1111"][data-state="comm_failure"]').waitFor({ timeout: WAIT });
  await guard.screenshot({ path: path.join(outDir, 'guard-comm-failure.png'), fullPage: true });

  for (const p of [insp, bureau]) {
    const row = p.locator('[data-testid="bureau-device"][data-device="1111"][data-state="comm_failure"]');
    await row.waitFor({ timeout: WAIT });
    assert.match(await row.textContent(), /恩施市实验小学/);
    assert.match(await row.textContent(), /通信中断/);
    assert.match(await p.getByTestId('stat-devices').getAttribute('class'), /hot/);
  }
  await insp.screenshot({ path: path.join(outDir, 'bureau-devices.png'), fullPage: true });
  await bureau.screenshot({ path: path.join(outDir, 'bureau-devices-phone.png'), fullPage: true });
  assert.deepEqual(errors, []);
  for (const p of pages) await p.context.close();
});
