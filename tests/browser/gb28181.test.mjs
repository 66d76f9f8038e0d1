// gb28181.test.mjs — GB/T 28181 devices end to end: the device simulator (`xiaoan sim gb28181`)
// registers the demo's one-key alarm input 42280100001340000001 with the demo's platform and
// sends an alarm; the operator's console shows the incident live with the device's Chinese text
// and details; the 设备管理 page lists the device 在线 with its channels, arm and alarm-reset
// commands succeed, and the gate camera's PTZ moves while pressed and stops on release. A device
// no configuration knows alerts the supervisor, who binds its channel to an alarm point; once the
// device has gone a command fails with 设备离线, and its next alarm opens an incident at that point.
// No page scrolls sideways at 1366×768 or on a phone.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { startServer, launch, loginAs, textOf, outDir, repo, DESKTOP, PHONE, WAIT } from './harness.mjs';

const BIN = process.env.XIAOAN_BIN || path.join(repo, 'target', 'debug', 'xiaoan');
const DEVICE = '42280100001340000001';
const CHANNEL = '42280100001340000101'; // the simulator's first alarm-input channel
const CAMERA = '42280100001320000001'; // the demo's gate camera (registered by the demo itself)
const NEW_DEVICE = '42280100001340000002'; // an alarm input no configuration knows
const NEW_CHANNEL = '42280100001340000201';
const SIM_WAIT = 20_000;
const DEVICE_WAIT = 10_000; // waits on a device round trip (registration, alarm, unregistration) on a busy machine

let server;
let browser;
const errors = [];
const sims = new Set();

before(async () => {
  server = await startServer();
  assert.ok(server.sip, 'the demo prints its GB/T 28181 platform address');
  browser = await launch();
});

after(async () => {
  for (const s of sims) await s.stop();
  await browser?.close();
  await server?.stop();
});

/** Starts the device simulator; `waitFor(re)` resolves once its output matches, `stop()` unregisters and ends it. */
function startSim(...args) {
  const dev = args.includes('--device-id') ? [] : ['--device-id', DEVICE];
  const child = spawn(BIN, ['sim', 'gb28181', '--to', server.sip, ...dev, '--password', '12345678', '--run-secs', '300', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RUST_LOG: 'warn' } });
  let out = '';
  const waiters = new Set();
  const check = () => { for (const w of [...waiters]) if (w.re.test(out)) { waiters.delete(w); clearTimeout(w.timer); w.resolve(out); } };
  child.stdout.on('data', (c) => { out += c; check(); });
  child.stderr.on('data', (c) => { out += c; check(); });
  const exited = new Promise((r) => child.once('exit', (code) => {
    for (const w of [...waiters]) { waiters.delete(w); clearTimeout(w.timer); w.reject(new Error(`the simulator exited (${code}) before printing ${w.re}:\n${out}`)); }
    r(code);
  }));
  const sim = {
    output: () => out,
    waitFor(re, ms = SIM_WAIT) {
      if (re.test(out)) return Promise.resolve(out);
      if (child.exitCode !== null) return Promise.reject(new Error(`the simulator has exited:\n${out}`));
      return new Promise((resolve, reject) => {
        const w = { re, resolve, reject, timer: setTimeout(() => { waiters.delete(w); reject(new Error(`the simulator did not print ${re} within ${ms} ms:\n${out}`)); }, ms) };
        waiters.add(w);
      });
    },
    /** Ctrl-C: the simulator unregisters its device, then exits. */
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      sims.delete(sim);
      return out;
    },
  };
  sims.add(sim);
  return sim;
}

const incidents = (page) => page.evaluate(() => fetch('/api/v1/incidents?state=active').then((r) => r.json()).then((d) => d.incidents));
const channels = (page) => page.evaluate(() => fetch('/api/v1/gb/channels').then((r) => r.json()).then((d) => d.channels));
const noScroll = () => document.documentElement.scrollWidth <= document.documentElement.clientWidth;
const deviceCard = (page, id) => page.locator(`[data-testid="gb-device"][data-device-id="${id}"]`);
const channelRow = (page, id) => page.locator(`[data-testid="gb-channel"][data-channel-id="${id}"]`);

/**
 * Waits until the platform has stored the device's catalog with channel `id` (the catalog is asked
 * for after each registration; no event announces it, so the page shows it on its next load).
 */
async function catalogHas(page, id) {
  const until = Date.now() + SIM_WAIT;
  while (!(await channels(page)).some((c) => c.id === id)) {
    if (Date.now() > until) throw new Error(`channel ${id} not in the catalog within ${SIM_WAIT} ms`);
    await page.waitForTimeout(200);
  }
}

/** Opens 设备管理 from the top bar and waits for the list. */
async function openDevices(page) {
  await page.getByTestId('nav-devices').click();
  await page.waitForFunction(() => document.body.dataset.page === 'devices', null, { timeout: WAIT });
  await page.locator('[data-testid="devices-page"][data-loaded="true"]').waitFor({ timeout: WAIT });
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

test('a GB/T 28181 alarm reaches the console with its Chinese text; 设备管理 lists the device online and sends commands', async () => {
  const op = await loginAs(browser, server.url, 'operator', DESKTOP, errors);
  const page = op.page;
  await page.getByTestId('start-shift').click();
  await page.getByTestId('queue-empty').waitFor({ timeout: WAIT });

  const sim = startSim('--alarm', '--alarm-description', '南门一键报警柱被按下');
  await sim.waitFor(/registered for \d+ s/);
  await sim.waitFor(/alarms: 1 sent, 1 answered 200/);

  // The incident, live: the alarm input is bound (through its device) to 南门门卫室, a one-key point.
  const item = page.locator('[data-testid="queue-item"][data-state="received"]', { hasText: '恩施市实验小学' });
  await item.waitFor({ timeout: DEVICE_WAIT });
  assert.equal(await item.getByTestId('kind').textContent(), '设备报警输入');
  assert.equal(await item.getByTestId('kind').getAttribute('data-kind'), 'device_alarm');
  assert.equal(await textOf(item, '[data-testid="queue-gb"]'), `国标设备 ${CHANNEL}`);
  await page.waitForFunction(() => document.body.dataset.alerting === 'true', null, { timeout: WAIT });
  const id = await item.getAttribute('data-incident-id');
  await page.waitForSelector(`[data-testid="card"][data-incident-id="${id}"]`, { timeout: WAIT });
  assert.equal(await textOf(page, '.card-head [data-testid="kind"]'), '设备报警输入');
  assert.equal(await textOf(page, '[data-testid="card-source"]'), '国标设备（GB/T 28181）');
  assert.match(await textOf(page, '[data-testid="card-point"]'), /南门门卫室/);
  assert.equal(await textOf(page, '[data-testid="card-gb"] [data-testid="card-event"]'), '设备报警输入');
  assert.equal(await textOf(page, '[data-testid="card-gb-device"]'), DEVICE);
  assert.equal(await textOf(page, '[data-testid="card-gb-channel"]'), CHANNEL);
  assert.equal(await textOf(page, '[data-testid="card-gb-desc"]'), '南门一键报警柱被按下');
  assert.match(await textOf(page, '[data-testid="card-gb-time"]'), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  assert.match(await textOf(page, '[data-testid="card-gb-method"]'), /2 设备报警/);
  const raised = page.locator('[data-testid="timeline"] li[data-kind="raised"]');
  await raised.waitFor({ timeout: WAIT });
  assert.match(await raised.textContent(), /发起报警：设备报警输入/);
  assert.match(await raised.textContent(), new RegExp(`国标设备 ${CHANNEL}`));
  await page.screenshot({ path: path.join(outDir, 'console-gb28181.png') });

  // In English.
  await page.getByTestId('lang-en').click();
  assert.equal(await textOf(page, '.card-head [data-testid="kind"]'), 'Device alarm input');
  assert.equal(await textOf(page, '[data-testid="card-source"]'), 'GB/T 28181 device');
  assert.match(await page.getByTestId('card').textContent(), new RegExp(`GB/T 28181 device ${CHANNEL}`));
  await page.getByTestId('lang-zh').click();

  // 设备管理: the device is online, with school, last heard, connection and model.
  await sim.waitFor(/Query Catalog → 200/);
  await openDevices(page);
  const dev = deviceCard(page, DEVICE);
  await dev.waitFor({ timeout: WAIT });
  assert.equal(await dev.getAttribute('data-online'), 'true');
  assert.equal(await textOf(dev, '[data-testid="gb-online"]'), '在线');
  assert.equal(await textOf(dev, '[data-testid="gb-device-school"]'), '恩施市实验小学');
  assert.match(await textOf(dev, '[data-testid="gb-transport"]'), /^UDP · 127\.0\.0\.1:\d+$/);
  assert.match(await dev.textContent(), /SIM-ALARM-CTRL/);
  assert.match(await textOf(dev, '[data-testid="gb-lastseen"]'), /\d\d:\d\d:\d\d/);
  // The demo's gate camera is online too.
  const cam = deviceCard(page, CAMERA);
  await page.locator(`[data-testid="gb-device"][data-device-id="${CAMERA}"][data-online="true"]`).waitFor({ timeout: DEVICE_WAIT });
  assert.equal(await textOf(cam, '[data-testid="gb-online"]'), '在线');
  // The console keeps running underneath: the unclaimed alarm calls the operator back.
  await page.getByTestId('alarm-strip').waitFor({ timeout: WAIT });
  assert.match(await page.getByTestId('nav-console').getAttribute('class'), /alerting/);
  assert.equal(await page.locator('body').getAttribute('data-alerting'), 'true');

  // Its channels an operator may see: the device itself, bound to 南门门卫室 (the simulator's own
  // alarm-input channel is bound nowhere, so only supervisors see it).
  await dev.getByTestId('gb-expand').click();
  const self = channelRow(page, DEVICE);
  await self.waitFor({ timeout: WAIT });
  assert.equal(await textOf(self, '[data-testid="gb-channel-kind"]'), '报警输入');
  assert.match(await textOf(self, '[data-testid="gb-channel-point"]'), /恩施市实验小学 · 南门门卫室/);
  assert.equal(await channelRow(page, CHANNEL).count(), 0);
  assert.equal(await page.getByTestId('gb-bind-select').count(), 0, 'an operator does not bind channels');
  await page.screenshot({ path: path.join(outDir, 'devices-gb28181.png'), fullPage: true });
  assert.ok(await page.evaluate(noScroll), '设备管理 at 1366×768 scrolls sideways');

  // 布防 on the device: the simulator answers the DeviceControl.
  await dev.locator('.gbd-ops [data-testid="gb-cmd-arm"]').click();
  const devMsg = dev.locator('.gbd-ops [data-testid="gb-msg"][data-kind="ok"]');
  await devMsg.waitFor({ timeout: DEVICE_WAIT });
  assert.match(await devMsg.textContent(), /布防：设备已执行/);
  await sim.waitFor(/GuardCmd SetGuard/, WAIT);
  // 报警复位.
  await dev.locator('.gbd-ops [data-testid="gb-cmd-reset_alarm"]').click();
  await dev.locator('.gbd-ops [data-testid="gb-msg"][data-kind="ok"]', { hasText: '报警复位：设备已执行' }).waitFor({ timeout: DEVICE_WAIT });
  await sim.waitFor(/AlarmCmd ResetAlarm/, WAIT);

  // PTZ on the gate camera: `ptz` while ◀ is held, `ptz_stop` on release.
  const sent = [];
  page.on('request', (r) => { if (r.method() === 'POST' && r.url().includes(`/api/v1/gb/devices/${CAMERA}/control`)) sent.push(r.postDataJSON()); });
  await cam.getByTestId('gb-expand').click();
  const left = channelRow(page, CAMERA).getByTestId('ptz-left');
  await left.waitFor({ timeout: WAIT });
  const box = await left.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.waitForFunction((id) => document.querySelector(`[data-testid="gb-channel"][data-channel-id="${id}"] [data-testid="gb-msg"]`)?.dataset.kind === 'busy', CAMERA, { timeout: DEVICE_WAIT });
  assert.match(await left.getAttribute('class'), /pressed/);
  await page.mouse.up();
  await page.locator('[data-testid="devices-page"][data-ptz="stopped"]').waitFor({ timeout: DEVICE_WAIT });
  const ptzMsg = channelRow(page, CAMERA).locator('[data-testid="gb-msg"]');
  assert.equal(await ptzMsg.getAttribute('data-kind'), 'ok', await ptzMsg.textContent());
  assert.match(await ptzMsg.textContent(), /云台已停止/);
  assert.deepEqual(sent.map((b) => [b.command, b.channel_id, b.pan ?? 0, b.tilt ?? 0, b.zoom ?? 0]), [
    ['ptz', CAMERA, -1, 0, 0],
    ['ptz_stop', CAMERA, 0, 0, 0],
  ]);
  await page.screenshot({ path: path.join(outDir, 'devices-gb28181-ptz.png'), fullPage: true });
  await sim.stop();

  // Back to the console: still on shift, the incident still selected.
  await page.getByTestId('alarm-strip-back').click();
  await page.waitForFunction(() => document.body.dataset.page === 'console', null, { timeout: WAIT });
  assert.equal(await page.getByTestId('shift-panel').isHidden(), true, 'still on shift');
  assert.equal(await page.getByTestId('alarm-strip').count(), 0);
  await closeIncident(page, id);
  await page.waitForFunction(() => document.body.dataset.alerting === 'false', null, { timeout: WAIT });
  assert.ok(await page.evaluate(noScroll), 'console with the tabs at 1366×768 scrolls sideways');
  assert.deepEqual(errors, []);
  await op.context.close();
});

test('an unbound device alerts the supervisor, who binds its channel; the next alarm opens an incident there; offline commands say so', async () => {
  const sup = await loginAs(browser, server.url, 'supervisor', DESKTOP, errors);
  const op = await loginAs(browser, server.url, 'operator', DESKTOP, errors);
  const page = sup.page;

  // A device nobody has bound yet: its alarm is an alert signal for the supervisor only.
  const sim = startSim('--device-id', NEW_DEVICE, '--channel', NEW_CHANNEL, '--alarm', '--alarm-description', '周界报警');
  await sim.waitFor(/alarms: 1 sent, 1 answered 200/);
  const sig = page.locator('[data-testid="signal-item"][data-kind="unbound_alarm"]');
  await sig.waitFor({ timeout: DEVICE_WAIT });
  assert.equal(await sig.getAttribute('data-severity'), 'alert');
  assert.match(await sig.textContent(), /未绑定通道报警/);
  assert.match(await sig.textContent(), new RegExp(`国标设备 ${NEW_DEVICE}`));
  assert.equal((await incidents(op.page)).length, 0, 'an unbound alarm opens no incident');

  await catalogHas(page, NEW_CHANNEL);
  await openDevices(page);
  const dev = deviceCard(page, NEW_DEVICE);
  await page.locator(`[data-testid="gb-device"][data-device-id="${NEW_DEVICE}"][data-online="true"]`).waitFor({ timeout: DEVICE_WAIT });
  assert.equal(await textOf(dev, '[data-testid="gb-device-school"]'), '未关联学校');
  await dev.getByTestId('gb-expand').click();
  const ch = channelRow(page, NEW_CHANNEL);
  await ch.waitFor({ timeout: WAIT });
  assert.match(await textOf(ch, '[data-testid="gb-channel-point"]'), /未绑定/);

  // Bind the alarm input to 安防监控室 (alarm point 3).
  await ch.getByTestId('gb-bind-select').selectOption('3');
  await ch.getByTestId('gb-bind-save').click();
  const msg = ch.locator('[data-testid="gb-msg"][data-kind="ok"]');
  await msg.waitFor({ timeout: DEVICE_WAIT });
  assert.match(await msg.textContent(), /已绑定到 恩施市实验小学 · 安防监控室/);
  assert.match(await textOf(ch, '[data-testid="gb-channel-point"]'), /恩施市实验小学 · 安防监控室/);
  assert.equal((await channels(page)).find((c) => c.id === NEW_CHANNEL).alarm_point_id, 3);
  await page.locator(`[data-testid="gb-device"][data-device-id="${NEW_DEVICE}"] [data-testid="gb-device-school"]`, { hasText: '恩施市实验小学' }).waitFor({ timeout: WAIT });
  await page.screenshot({ path: path.join(outDir, 'devices-gb28181-bound.png'), fullPage: true });

  // The device goes away: the page turns it 离线 by itself, and a command says why it failed.
  await sim.stop();
  await page.locator(`[data-testid="gb-device"][data-device-id="${NEW_DEVICE}"][data-online="false"]`).waitFor({ timeout: DEVICE_WAIT });
  assert.equal(await textOf(deviceCard(page, NEW_DEVICE), '[data-testid="gb-online"]'), '离线');
  await deviceCard(page, NEW_DEVICE).locator('.gbd-ops [data-testid="gb-cmd-disarm"]').click();
  const offMsg = deviceCard(page, NEW_DEVICE).locator('.gbd-ops [data-testid="gb-msg"][data-kind="error"]');
  await offMsg.waitFor({ timeout: DEVICE_WAIT });
  assert.match(await offMsg.textContent(), /撤防：设备离线，指令未能下发/);
  await page.screenshot({ path: path.join(outDir, 'devices-gb28181-offline.png'), fullPage: true });

  // Back again, an intrusion alarm from the channel opens an incident at 安防监控室.
  const sim2 = startSim('--device-id', NEW_DEVICE, '--channel', NEW_CHANNEL, '--alarm', '--alarm-method', '5', '--alarm-type', '6', '--alarm-description', '围墙入侵');
  await sim2.waitFor(/alarms: 1 sent, 1 answered 200/);
  const item = op.page.locator('[data-testid="queue-item"][data-state="received"]', { hasText: '安防监控室' });
  await item.waitFor({ timeout: DEVICE_WAIT });
  assert.equal(await item.getByTestId('kind').textContent(), '入侵检测');
  await page.locator(`[data-testid="gb-device"][data-device-id="${NEW_DEVICE}"][data-online="true"]`).waitFor({ timeout: DEVICE_WAIT });

  // Unbinding shows 未绑定 again.
  await ch.getByTestId('gb-unbind').click();
  await ch.locator('[data-testid="gb-msg"][data-kind="ok"]', { hasText: '已解除绑定' }).waitFor({ timeout: DEVICE_WAIT });
  assert.match(await textOf(ch, '[data-testid="gb-channel-point"]'), /未绑定/);
  assert.equal((await channels(page)).find((c) => c.id === NEW_CHANNEL).alarm_point_id, null);
  await sim2.stop();

  // No sideways scrolling on a phone, on the console and on 设备管理.
  const phone = await loginAs(browser, server.url, 'supervisor', PHONE, errors);
  assert.ok(await phone.page.evaluate(noScroll), 'console on a phone scrolls sideways');
  await openDevices(phone.page);
  await deviceCard(phone.page, CAMERA).getByTestId('gb-expand').click();
  await channelRow(phone.page, CAMERA).getByTestId('gb-ptz').waitFor({ timeout: WAIT });
  assert.ok(await phone.page.evaluate(noScroll), '设备管理 on a phone scrolls sideways');
  await phone.page.screenshot({ path: path.join(outDir, 'devices-gb28181-phone.png'), fullPage: true });

  // Close what the alarm opened.
  await closeIncident(op.page, await item.getAttribute('data-incident-id'));
  assert.deepEqual(errors, []);
  for (const c of [sup, op, phone]) await c.context.close();
});
