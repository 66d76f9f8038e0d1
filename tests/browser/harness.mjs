// harness.mjs — what the browser tests share: start `xiaoan demo` on a free port with a fresh
// data dir (and stop it), launch the system Chromium headless, and log a user in.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '..', '..');
export const outDir = path.join(here, 'output');
export const WAIT = 5000; // every UI wait, in ms

/**
 * Starts the demo server (extra environment in `env`, e.g. shorter timers; extra command-line
 * arguments in `args`, e.g. `['--config', file]`); resolves to {url, stop()}.
 */
export async function startServer(env = {}, { addr = '127.0.0.1:0', dataDir = null, args = [] } = {}) {
  const bin = process.env.XIAOAN_BIN || path.join(repo, 'target', 'debug', 'xiaoan');
  const ownDir = !dataDir;
  dataDir = dataDir || mkdtempSync(path.join(tmpdir(), 'xiaoan-browser-'));
  const child = spawn(bin, ['demo', '--http', addr, '--dc09', '127.0.0.1:0', '--sip', '127.0.0.1:0', '--data-dir', path.join(dataDir, 'data'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn', ...env },
  });
  let log = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server printed no URL within 60 s:\n${log}`)), 60_000);
    const onData = (chunk) => {
      log += chunk;
      const m = log.match(/http:\/\/127\.0\.0\.1:\d+/);
      if (m) { clearTimeout(timer); resolve(m[0]); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (c) => { log += c; });
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited (${code}) before printing its URL:\n${log}`)); });
  });
  child.stdout.resume();
  child.stderr.resume();
  const dc09 = (log.match(/DC-09 receiver: (127\.0\.0\.1:\d+)/) || [])[1] || null;
  const sip = (log.match(/GB\/T 28181 platform: (127\.0\.0\.1:\d+)/) || [])[1] || null;
  return {
    url,
    /** The DC-09 receiver's address (TCP and UDP). */
    dc09,
    /** The GB/T 28181 platform's SIP address (UDP and TCP). */
    sip,
    dataDir,
    /** Stops the process but keeps the data (for a restart on the same address). */
    async kill() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function launch() {
  mkdirSync(outDir, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
  });
}

export const DESKTOP = { viewport: { width: 1366, height: 768 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' };
export const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' };

/** A new context+page for `username`, logged in; resolves when the role's page is up. */
export async function loginAs(browser, base, username, options, errors) {
  const context = await browser.newContext({ baseURL: base, ...options });
  const page = await context.newPage();
  page.on('pageerror', (e) => errors?.push(`${username}: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource|net::ERR_/.test(m.text())) errors?.push(`${username}: console: ${m.text()}`); });
  await page.goto('/');
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill('demo');
  await page.getByTestId('login-submit').click();
  await page.waitForFunction(() => ['console', 'school', 'field', 'bureau'].includes(document.body.dataset.page), null, { timeout: WAIT });
  // The live stream is open and the first list has loaded once the page says so.
  await page.waitForFunction(() => document.body.dataset.live === 'open' && document.body.dataset.loaded === 'true', null, { timeout: WAIT });
  return { context, page };
}

/** Presses and holds the one-key alarm button for `ms`, with the mouse or a finger (`touch`). */
export async function holdButton(page, ms, how = 'mouse') {
  const btn = page.getByTestId('alarm-button');
  await btn.scrollIntoViewIfNeeded();
  const box = await btn.boundingBox();
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 2;
  if (how === 'touch') {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x, y }] });
    await page.waitForTimeout(ms);
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    await cdp.detach();
    return;
  }
  await page.mouse.move(x, y);
  await page.mouse.down();
  await page.waitForTimeout(ms);
  await page.mouse.up();
}

/** Waits for `selector` and returns its text. */
export async function textOf(page, selector) {
  const loc = page.locator(selector).first();
  await loc.waitFor({ state: 'visible', timeout: WAIT });
  return (await loc.textContent()).trim();
}
