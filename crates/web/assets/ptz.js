// ptz.js — the GB/T 28181 PTZ pad shared by the devices page and the live camera view: a
// direction moves the camera while it is held (pointer or Space/Enter) and `ptz_stop` follows on
// release, blur or page hide; requests go one after another so a stop never overtakes its move.

import * as api from './api.js';
import { h } from './util.js';
import { t, errText } from './i18n.js';

export const PTZ = [
  ['up', { tilt: 1 }, '▲'],
  ['left', { pan: -1 }, '◀'],
  ['right', { pan: 1 }, '▶'],
  ['down', { tilt: -1 }, '▼'],
  ['in', { zoom: 1 }, '＋'],
  ['out', { zoom: -1 }, '－'],
];

/** A command failure in words (device offline, unreachable, platform off…). */
export function gbErr(e) {
  if (['device_offline', 'device_unreachable', 'platform_off', 'not_found'].includes(e.code)) return t(`gb.err.${e.code}`);
  return errText(e);
}

/**
 * A PTZ controller for one device channel. `onMsg({kind, text, title})` reports progress
 * ('busy' | 'ok' | 'error'); `onMove(moving)` tells when a move starts and when its stop is done.
 * `pad()` builds the buttons; `stop()` releases a held direction; `destroy()` also unhooks the
 * window listeners.
 */
export function ptzControl({ device, channel, onMsg = () => {}, onMove = () => {} }) {
  let held = null; // {button, failed}
  let chain = Promise.resolve();

  function start(vec, button) {
    if (held) return;
    const p = { button, failed: false };
    held = p;
    button.classList.add('pressed');
    onMove(true);
    onMsg({ kind: 'busy', text: t('gb.ptz.moving') });
    chain = chain.then(() => api.gbControl(device, { command: 'ptz', channel_id: channel, pan: 0, tilt: 0, zoom: 0, ...vec }))
      .catch((e) => { p.failed = true; onMsg({ kind: 'error', text: `${t('gb.ptz.cmd')}${t('colon')}${gbErr(e)}`, title: e.body?.error }); });
  }

  function stop() {
    const p = held;
    if (!p) return;
    held = null;
    p.button.classList.remove('pressed');
    chain = chain.then(() => {
      if (p.failed) return null;
      return api.gbControl(device, { command: 'ptz_stop', channel_id: channel })
        .then(() => onMsg({ kind: 'ok', text: t('gb.ptz.stopped') }))
        .catch((e) => onMsg({ kind: 'error', text: `${t('gb.ptz.cmd')}${t('colon')}${gbErr(e)}`, title: e.body?.error }));
    }).finally(() => { if (!held) onMove(false); });
  }

  function pad(extraClass = '') {
    const box = h('div', { class: `ptz ${extraClass}`.trim(), role: 'group', 'aria-label': t('gb.ptz.cmd'), 'data-testid': 'gb-ptz' });
    for (const [dir, vec, glyph] of PTZ) {
      const b = h('button', { type: 'button', class: `btn ptz-btn ptz-${dir}`, 'data-testid': `ptz-${dir}`, 'aria-label': t(`gb.ptz.${dir}`), title: t(`gb.ptz.${dir}`) },
        h('span', { class: 'ptz-glyph', 'aria-hidden': 'true' }, glyph), h('span', { class: 'ptz-text' }, t(`gb.ptz.${dir}`)));
      b.addEventListener('pointerdown', (e) => {
        if (e.button !== 0) return;
        e.preventDefault();
        try { b.setPointerCapture(e.pointerId); } catch { /* not capturable */ }
        start(vec, b);
      });
      for (const ev of ['pointerup', 'pointercancel', 'lostpointercapture']) b.addEventListener(ev, stop);
      b.addEventListener('keydown', (e) => { if ((e.key === ' ' || e.key === 'Enter') && !e.repeat) { e.preventDefault(); start(vec, b); } });
      b.addEventListener('keyup', (e) => { if (e.key === ' ' || e.key === 'Enter') { e.preventDefault(); stop(); } });
      b.addEventListener('blur', stop);
      b.addEventListener('contextmenu', (e) => e.preventDefault());
      box.appendChild(b);
    }
    return box;
  }

  const onBlur = () => stop();
  window.addEventListener('blur', onBlur);
  document.addEventListener('visibilitychange', onBlur);

  return {
    pad,
    stop,
    get moving() { return !!held; },
    destroy() {
      stop();
      window.removeEventListener('blur', onBlur);
      document.removeEventListener('visibilitychange', onBlur);
    },
  };
}
