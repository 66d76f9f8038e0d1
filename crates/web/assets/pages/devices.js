// pages/devices.js — 设备管理, the GB/T 28181 devices (police operators, supervisors, sysadmins):
// each device with its online state (在线 / 离线 / 未注册), school, last heard, connection and
// model, expanding to its channels (kind from the type code, status, bound alarm point).
// Supervisors and sysadmins bind a channel to an alarm point of their schools or unbind it; police
// roles arm / disarm / reset alarm devices and channels and move cameras (PTZ while a direction is
// held, stop on release). Reloaded on GB/T 28181 device news, after a reconnect, every minute and
// with the refresh button; a failed load keeps the last list and says so. The role's own page
// (console or bureau) stays mounted underneath and shows the connection banner. Above them, 摄像机:
// every camera of the user's schools with its link state, opening live (video.js) on request,
// 录像回放 (playback.js: the last hour's segments, play, 导出) and a 存储 summary.

import * as api from '../api.js';
import { h, fill, stamp, ageSecs, everySecond } from '../util.js';
import { t, dur, errText, getLang } from '../i18n.js';
import { healthPill, detailText } from './common.js';
import { ptzControl, gbErr } from '../ptz.js';
import { cameraList, LiveVideo, linkLabel } from '../video.js';
import { Playback, storageSummary } from '../playback.js';

const CAMERA = [131, 132];
const ALARM = [117, 134, 135];
const ALARM_COMMANDS = ['arm', 'disarm', 'reset_alarm'];

/** The type code in a 20-digit GB/T 28181 ID (digits 11–13), or null. */
export function typeOf(id) {
  const s = String(id || '');
  return /^\d{20}$/.test(s) ? Number(s.slice(10, 13)) : null;
}

function typeLabel(code) {
  if (code == null) return '—';
  const k = `gb.type.${code}`;
  const s = t(k);
  return s === k ? String(code) : s;
}

export function mount(root, { me }) {
  const role = me.user.role;
  const canBind = role === 'police_supervisor' || role === 'sysadmin';
  const canControl = role.startsWith('police');
  const canReplay = role.startsWith('police') || role === 'school_guard' || role === 'school_admin';
  const canExport = role.startsWith('police') || role === 'school_admin';
  const canStorage = canReplay || role === 'sysadmin';
  const schools = me.schools || [];
  const schoolName = new Map(schools.map((s) => [s.id, s.name]));
  const points = new Map();
  for (const s of schools) for (const p of s.alarm_points || []) points.set(p.id, { ...p, school: s.name });

  const st = {
    devices: [],
    channels: [],
    loaded: false,
    loading: false,
    error: null,
    at: null,
    filter: '',
    live: 'connecting',
    open: new Set(), // expanded device ids
    msgs: new Map(), // 'd:<device>' | 'c:<channel>' → {kind: 'ok'|'error'|'busy', text, title}
    busy: new Set(), // keys of commands in flight
    picks: new Map(), // channel id → chosen alarm point id (string) not yet saved
    ptz: null, // {device, key, failed}
  };
  const cards = new Map(); // device id → {el, sig}

  const head = h('header', { class: 'gb-head' });
  const filter = h('input', { type: 'search', class: 'input gb-filter', 'data-testid': 'devices-filter', autocomplete: 'off', spellcheck: 'false' });
  filter.addEventListener('input', () => { st.filter = filter.value.trim().toLowerCase(); renderList(); });
  const errBox = h('div', { class: 'notice notice-err', role: 'alert', 'data-testid': 'devices-error', hidden: true });
  const list = h('div', { class: 'gb-list', 'data-testid': 'gb-devices' });
  const empty = h('p', { class: 'muted gb-empty', 'data-testid': 'devices-empty', hidden: true });
  const camBox = h('section', { class: 'cam-list-box', 'data-testid': 'camera-list', hidden: true });
  const page = h('div', { class: 'devices-page', 'data-testid': 'devices-page', 'data-loaded': 'false' },
    head, camBox, h('div', { class: 'gb-tools' }, filter), errBox, list, empty);
  fill(root, page);

  // ---- data -----------------------------------------------------------------------------
  let seq = 0;
  async function load() {
    const my = ++seq;
    st.loading = true;
    renderHead();
    try {
      const [devices, channels] = await Promise.all([api.gbDevices(), api.gbChannels()]);
      if (my !== seq) return;
      st.devices = devices;
      st.channels = channels;
      st.loaded = true;
      st.error = null;
      st.at = new Date().toISOString();
    } catch (e) {
      if (my !== seq) return;
      console.warn('gb device load failed', e);
      st.error = e;
    }
    st.loading = false;
    page.dataset.loaded = String(st.loaded);
    render();
  }

  // ---- cameras --------------------------------------------------------------------------
  const cams = { list: [], players: new Map(), replays: new Map(), storage: null }; // players/replays: camera id → LiveVideo/Playback

  async function loadCams() {
    try {
      cams.list = await cameraList();
    } catch (e) {
      console.warn('camera load failed', e);
    }
    renderCams();
  }

  function toggleCam(c) {
    const p = cams.players.get(c.id);
    if (p) { p.destroy(); cams.players.delete(c.id); } else cams.players.set(c.id, new LiveVideo(c));
    renderCams();
  }

  function toggleReplay(c) {
    const p = cams.replays.get(c.id);
    if (p) { p.destroy(); cams.replays.delete(c.id); } else cams.replays.set(c.id, new Playback(c, { canExport }));
    renderCams();
  }

  async function toggleStorage() {
    if (cams.storage) cams.storage = null;
    else {
      cams.storage = h('p', { class: 'muted small' }, t('loading'));
      renderCams();
      const box = await storageSummary();
      if (!cams.storage) return;
      cams.storage = box;
    }
    renderCams();
  }

  function renderCams() {
    camBox.hidden = !cams.list.length;
    const rows = [...cams.list].sort((a, b) => String(a.school_name || '').localeCompare(String(b.school_name || ''), 'zh-CN') || a.name.localeCompare(b.name, 'zh-CN'));
    const open = new Set();
    const replaying = new Set();
    fill(camBox,
      h('div', { class: 'cam-list-head' },
        h('h2', { class: 'cam-list-title' }, t('cam.list.title'), h('span', { class: 'muted small' }, ` · ${t('cam.list.count', { n: rows.length })}`)),
        canStorage ? h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'storage-toggle', 'aria-expanded': String(!!cams.storage), onclick: toggleStorage }, t('st.title')) : null),
      cams.storage,
      h('div', { class: 'cam-rows' }, rows.map((c) => {
        const p = cams.players.get(c.id);
        const r = cams.replays.get(c.id);
        if (p) open.add(c.id);
        if (r) replaying.add(c.id);
        const res = c.width && c.height ? `${c.width}×${c.height}` : '';
        const codec = [c.codec ? c.codec.toUpperCase() : '', res].filter(Boolean).join(' · ');
        return h('div', { class: 'cam-row', 'data-testid': 'camera-row', 'data-camera-id': c.id, 'data-link': c.link || 'idle' },
          h('div', { class: 'cam-row-main' },
            h('span', { class: `gb-pill cam-link cam-link-${c.link || 'idle'}`, 'data-testid': 'camera-link' }, linkLabel(c.link)),
            h('div', { class: 'cam-row-name' },
              h('strong', null, c.name),
              h('span', { class: 'muted small' }, [c.school_name, c.alarm_point_name].filter(Boolean).join(' · ') || '—')),
            h('span', { class: 'cam-row-meta muted small' }, [c.kind === 'gb28181' ? 'GB/T 28181' : 'RTSP', codec, c.viewers ? t('cam.viewers', { n: c.viewers }) : ''].filter(Boolean).join(' · ')),
            h('button', { type: 'button', class: `btn btn-small${p ? '' : ' btn-primary'}`, 'data-testid': 'camera-open', onclick: () => toggleCam(c) }, p ? t('cam.close') : t('cam.open')),
            canReplay ? h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'camera-replay', 'aria-expanded': String(!!r), onclick: () => toggleReplay(c) }, r ? t('pb.close') : t('pb.open')) : null),
          c.error && c.link === 'down' ? h('div', { class: 'cam-row-err small' }, c.error) : null,
          p ? p.el : null,
          r ? r.el : null);
      })));
    for (const [id, p] of cams.players) if (!open.has(id)) { p.destroy(); cams.players.delete(id); }
    for (const [id, r] of cams.replays) if (!replaying.has(id)) { r.destroy(); cams.replays.delete(id); }
  }

  let soonTimer = null;
  function soon() { clearTimeout(soonTimer); soonTimer = setTimeout(load, 400); }

  /** Registered devices, plus devices known only from configured channel bindings. */
  function deviceList() {
    const byDev = new Map();
    for (const c of st.channels) {
      if (!byDev.has(c.device_id)) byDev.set(c.device_id, []);
      byDev.get(c.device_id).push(c);
    }
    const out = st.devices.map((d) => ({ ...d, never: false }));
    const known = new Set(out.map((d) => d.id));
    for (const [id, chans] of byDev) {
      if (known.has(id)) continue;
      out.push({ id, name: '', online: false, never: true, school_id: chans.find((c) => c.school_id != null)?.school_id ?? null, channels: chans.length, health: null });
    }
    const rank = (d) => (d.online ? (d.health && d.health.state !== 'ok' ? 1 : 2) : 0);
    out.sort((a, b) => rank(a) - rank(b)
      || String(schoolName.get(a.school_id) || '~').localeCompare(String(schoolName.get(b.school_id) || '~'), 'zh-CN')
      || a.id.localeCompare(b.id));
    return { list: out, byDev };
  }

  function matches(d, chans) {
    if (!st.filter) return true;
    const hay = [d.id, d.name, d.model, d.manufacturer, d.remote, schoolName.get(d.school_id),
      ...chans.flatMap((c) => [c.id, c.name, points.get(c.alarm_point_id)?.name])].filter(Boolean).join(' ').toLowerCase();
    return hay.includes(st.filter);
  }

  // ---- rendering ------------------------------------------------------------------------
  function render() {
    renderHead();
    renderList();
  }

  function renderHead() {
    const online = st.devices.filter((d) => d.online).length;
    const offline = deviceList().list.length - online;
    const b = h('button', { type: 'button', class: 'btn', 'data-testid': 'devices-refresh', disabled: st.loading, onclick: load }, st.loading ? t('gb.refreshing') : `⟳ ${t('gb.refresh')}`);
    fill(head,
      h('div', { class: 'gb-title' },
        h('h1', { class: 'page-title' }, t('page.devices')),
        h('p', { class: 'muted' }, `${t('gb.title')} · ${t('gb.sub')}`)),
      h('div', { class: 'gb-head-right' },
        st.loaded ? h('span', { class: 'gb-count on', 'data-testid': 'devices-online' }, t('gb.count.online', { n: online })) : null,
        st.loaded ? h('span', { class: `gb-count ${offline ? 'off' : 'none'}`, 'data-testid': 'devices-offline' }, t('gb.count.offline', { n: offline })) : null,
        h('span', { class: `conn-dot ${st.live === 'open' ? 'ok' : 'bad'}`, 'data-testid': 'devices-live' }, st.live === 'open' ? t('conn.live') : t('conn.down')),
        st.at ? h('span', { class: 'muted small', title: st.at }, t('gb.loaded', { t: stamp(st.at) })) : null,
        b));
    filter.placeholder = t('gb.filter');
    filter.setAttribute('aria-label', t('gb.filter'));
    errBox.hidden = !st.error;
    if (st.error) {
      fill(errBox, h('span', null, t('gb.loaderr', { e: errText(st.error) }), st.loaded ? ` ${t('gb.loaderr.stale')}` : ''), ' ',
        h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'devices-retry', onclick: load }, t('gb.retry')));
    }
  }

  function renderList() {
    const { list: all, byDev } = deviceList();
    const shown = all.filter((d) => matches(d, byDev.get(d.id) || []));
    const seen = new Set();
    shown.forEach((d, idx) => {
      seen.add(d.id);
      const chans = sortChannels(d, byDev.get(d.id) || []);
      let card = cards.get(d.id);
      const sig = JSON.stringify([d, chans, st.open.has(d.id), getLang(), [...st.msgs].filter(([k]) => k === `d:${d.id}` || chans.some((c) => k === `c:${c.id}`)),
        [...st.busy].filter((k) => k.startsWith(`d:${d.id}:`) || chans.some((c) => k.startsWith(`c:${c.id}:`))), chans.map((c) => st.picks.get(c.id) ?? null)]);
      if (!card) { card = { el: null, sig: '' }; cards.set(d.id, card); }
      // Never rebuild a card under a held PTZ button: the release would be lost.
      if (card.sig !== sig && st.ptz?.device !== d.id) {
        const el = deviceCard(d, chans);
        if (card.el) card.el.replaceWith(el);
        card.el = el;
        card.sig = sig;
      }
      if (list.children[idx] !== card.el) list.insertBefore(card.el, list.children[idx] || null);
    });
    for (const [id, card] of cards) if (!seen.has(id)) { card.el?.remove(); cards.delete(id); }
    empty.hidden = shown.length > 0 || (!st.loaded && !!st.error);
    empty.textContent = !st.loaded ? t('loading') : all.length ? t('gb.nomatch') : t('gb.empty');
  }

  /** The device's own channel first, then by ID. */
  function sortChannels(d, chans) {
    return [...chans].sort((a, b) => (a.id === d.id ? -1 : b.id === d.id ? 1 : a.id.localeCompare(b.id)));
  }

  function state(d) { return d.never ? 'never' : d.online ? 'online' : 'offline'; }

  function fact(label, ...value) {
    return h('div', { class: 'fact' }, h('dt', null, label), h('dd', null, ...value));
  }

  function deviceCard(d, chans) {
    const s = state(d);
    const code = typeOf(d.id);
    const alarmCapable = ALARM.includes(code) || chans.some((c) => ALARM.includes(c.type_code ?? typeOf(c.id)));
    const open = st.open.has(d.id);
    const school = d.school_id != null ? (schoolName.get(d.school_id) || `#${d.school_id}`) : t('gb.school.none');
    const health = d.health && d.health.state !== 'ok' && !(s === 'offline' && d.health.state === 'comm_failure' && !d.health.detail) ? d.health : null;
    const model = [d.manufacturer, d.model].filter(Boolean).join(' ');
    const chBox = h('div', { class: 'gbd-channels', 'data-testid': 'gb-channels', hidden: !open },
      chans.length ? chans.map((c) => channelRow(d, c)) : h('p', { class: 'muted' }, t('gb.channels.none')));
    return h('article', { class: `gbd gbd-${s}`, 'data-testid': 'gb-device', 'data-device-id': d.id, 'data-online': String(!!d.online), 'data-state': s },
      h('div', { class: 'gbd-head' },
        h('span', { class: `gb-pill gb-${s}`, 'data-testid': 'gb-online', 'data-state': s }, t(s === 'never' ? 'gb.never' : s === 'online' ? 'gb.online' : 'gb.offline')),
        h('div', { class: 'gbd-title' },
          h('strong', { class: 'gbd-name', 'data-testid': 'gb-device-name' }, d.name || typeLabel(code)),
          h('code', { class: 'gb-id' }, d.id)),
        h('span', { class: 'gbd-school', 'data-testid': 'gb-device-school' }, school)),
      h('dl', { class: 'facts gbd-facts' },
        fact(t('gb.kind'), typeLabel(code)),
        fact(t('gb.lastseen'), d.last_seen
          ? h('span', { 'data-testid': 'gb-lastseen', title: d.last_seen }, stamp(d.last_seen), h('span', { class: 'muted', 'data-age-of': d.last_seen }, ` · ${t('age', { t: dur(ageSecs(d.last_seen)) })}`))
          : h('span', { class: 'muted', 'data-testid': 'gb-lastseen' }, t('gb.lastseen.never'))),
        d.never ? null : fact(t('gb.transport'), h('span', { 'data-testid': 'gb-transport' }, [String(d.transport || '').toUpperCase(), d.remote].filter(Boolean).join(' · ') || '—')),
        d.never ? null : fact(t('gb.model'), [model, d.firmware ? t('gb.firmware', { v: d.firmware }) : null].filter(Boolean).join(' · ') || '—'),
        d.online && d.expires_at ? fact(t('gb.expires'), stamp(d.expires_at)) : null,
        health ? fact(t('gb.health'), h('span', { class: 'gbd-health', 'data-testid': 'gb-health' }, healthPill(health.state), health.detail ? ` ${detailText(health)}` : '')) : null),
      d.never ? h('p', { class: 'notice gbd-note', 'data-testid': 'gb-never' }, t('gb.never.note')) : null,
      canControl && !d.never && alarmCapable
        ? h('div', { class: 'gbd-ops' }, h('span', { class: 'gbd-ops-label' }, t('gb.cmd.device')), alarmButtons(d, null), msgLine(`d:${d.id}`))
        : null,
      h('button', {
        type: 'button', class: 'gbd-toggle', 'data-testid': 'gb-expand', 'aria-expanded': String(open),
        onclick: () => { if (st.open.has(d.id)) st.open.delete(d.id); else st.open.add(d.id); renderList(); },
      }, h('span', { class: 'gbd-caret', 'aria-hidden': 'true' }, open ? '▾' : '▸'), open ? t('gb.channels.hide') : t('gb.channels.show', { n: chans.length })),
      chBox);
  }

  function pointLabel(id) {
    if (id == null) return null;
    const p = points.get(id);
    return p ? `${p.school} · ${p.name}` : `#${id}`;
  }

  function channelRow(d, c) {
    const code = c.type_code ?? typeOf(c.id);
    const self = c.id === d.id;
    const status = c.status === 'ON' ? 'on' : c.status === 'OFF' ? 'off' : 'unknown';
    const bound = pointLabel(c.alarm_point_id);
    const live = canControl && !d.never;
    return h('div', { class: `gbc${c.alarm_point_id != null ? ' bound' : ''}`, 'data-testid': 'gb-channel', 'data-channel-id': c.id, 'data-type': code ?? '', 'data-status': status, 'data-point-id': c.alarm_point_id ?? '' },
      h('div', { class: 'gbc-main' },
        h('div', { class: 'gbc-name' }, h('strong', null, c.name || (self ? t('gb.ch.self') : typeLabel(code))), h('code', { class: 'gb-id' }, c.id)),
        h('span', { class: 'gbc-kind', 'data-testid': 'gb-channel-kind' }, typeLabel(code)),
        h('span', { class: `gb-pill gb-small gb-ch-${status}`, 'data-testid': 'gb-channel-status' }, t(`gb.ch.${status}`)),
        h('span', { class: `gbc-point${bound ? '' : ' muted'}`, 'data-testid': 'gb-channel-point' }, '⟶ ', bound || t('gb.unbound'))),
      canBind ? bindForm(c) : null,
      live && !self && ALARM.includes(code) ? h('div', { class: 'gbc-ops' }, alarmButtons(d, c)) : null,
      live && CAMERA.includes(code) ? ptzPad(d, c) : null,
      msgLine(`c:${c.id}`));
  }

  // ---- binding --------------------------------------------------------------------------
  function bindForm(c) {
    const pick = st.picks.get(c.id) ?? (c.alarm_point_id != null ? String(c.alarm_point_id) : '');
    const id = `bind-${c.id}`;
    const select = h('select', { class: 'input', id, 'data-testid': 'gb-bind-select', 'aria-label': t('gb.bind.label') },
      h('option', { value: '' }, t('gb.bind.pick')),
      schools.filter((s) => s.alarm_points?.length).map((s) => h('optgroup', { label: s.name },
        s.alarm_points.map((p) => h('option', { value: String(p.id) }, `${p.name}${p.one_key ? ' ★' : ''}`)))));
    select.value = pick;
    select.addEventListener('change', () => { st.picks.set(c.id, select.value); });
    const save = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'gb-bind-save' }, t('gb.bind.save'));
    const form = h('form', { class: 'gbc-bind' }, h('label', { for: id, class: 'gbc-bind-label' }, t('gb.bind.label')), select, save,
      c.alarm_point_id != null ? h('button', { type: 'button', class: 'btn', 'data-testid': 'gb-unbind', onclick: () => bind(c, null) }, t('gb.bind.unbind')) : null);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!select.value) { select.focus(); return; }
      const p = Number(select.value);
      if (p === c.alarm_point_id) { setMsg(`c:${c.id}`, { kind: 'ok', text: t('gb.bind.same') }); renderList(); return; }
      bind(c, p);
    });
    return form;
  }

  async function bind(c, pointId) {
    const key = `c:${c.id}`;
    if (st.busy.has(`${key}:bind`)) return;
    st.busy.add(`${key}:bind`);
    setMsg(key, { kind: 'busy', text: t('gb.cmd.busy') });
    renderList();
    try {
      const ch = await api.gbBind(c.id, pointId);
      const i = st.channels.findIndex((x) => x.id === c.id);
      if (ch && i >= 0) st.channels[i] = ch;
      st.picks.delete(c.id);
      setMsg(key, { kind: 'ok', text: pointId == null ? t('gb.bind.undone') : t('gb.bind.done', { p: pointLabel(pointId) }) });
      soon();
    } catch (e) {
      setMsg(key, { kind: 'error', text: gbErr(e), title: e.body?.error });
    } finally {
      st.busy.delete(`${key}:bind`);
      render();
    }
  }

  // ---- commands -------------------------------------------------------------------------

  const msgTimers = new Map();
  function setMsg(key, m) {
    clearTimeout(msgTimers.get(key));
    if (m) st.msgs.set(key, m); else st.msgs.delete(key);
    for (const el of page.querySelectorAll('[data-msg-key]')) if (el.dataset.msgKey === key) paintMsg(el, m);
    if (m?.kind === 'ok') msgTimers.set(key, setTimeout(() => { if (st.msgs.get(key) === m) { st.msgs.delete(key); renderList(); } }, 10_000));
  }

  function paintMsg(el, m) {
    el.hidden = !m;
    el.className = `gb-msg ${m?.kind || ''}`;
    el.dataset.kind = m?.kind || '';
    el.textContent = m ? `${m.kind === 'ok' ? '✓ ' : m.kind === 'error' ? '✕ ' : ''}${m.text}` : '';
    if (m?.title) el.title = m.title; else el.removeAttribute('title');
  }

  function msgLine(key) {
    const el = h('div', { class: 'gb-msg', role: 'status', 'aria-live': 'polite', 'data-testid': 'gb-msg', 'data-msg-key': key });
    paintMsg(el, st.msgs.get(key));
    return el;
  }

  function alarmButtons(d, c) {
    const key = c ? `c:${c.id}` : `d:${d.id}`;
    return h('div', { class: 'gb-cmds' }, ALARM_COMMANDS.map((cmd) => h('button', {
      type: 'button',
      class: `btn gb-cmd gb-cmd-${cmd}`,
      'data-testid': `gb-cmd-${cmd}`,
      disabled: st.busy.has(`${key}:${cmd}`),
      onclick: () => command(d, c, cmd),
    }, st.busy.has(`${key}:${cmd}`) ? t('gb.cmd.busy') : t(`gb.cmd.${cmd}`))));
  }

  async function command(d, c, cmd) {
    const key = c ? `c:${c.id}` : `d:${d.id}`;
    if (st.busy.has(`${key}:${cmd}`)) return;
    st.busy.add(`${key}:${cmd}`);
    setMsg(key, { kind: 'busy', text: `${t(`gb.cmd.${cmd}`)} · ${t('gb.cmd.busy')}` });
    renderList();
    try {
      await api.gbControl(d.id, c ? { command: cmd, channel_id: c.id } : { command: cmd });
      setMsg(key, { kind: 'ok', text: t('gb.cmd.ok', { c: t(`gb.cmd.${cmd}`) }) });
    } catch (e) {
      setMsg(key, { kind: 'error', text: `${t(`gb.cmd.${cmd}`)}${t('colon')}${gbErr(e)}`, title: e.body?.error });
      if (e.code === 'device_offline') soon();
    } finally {
      st.busy.delete(`${key}:${cmd}`);
      renderList();
    }
  }

  // ---- PTZ: move while pressed, stop on release (ptz.js) ---------------------------------
  const ptzs = new Map(); // 'device/channel' → controller, kept across re-renders

  function ptzFor(d, c) {
    const k = `${d.id}/${c.id}`;
    let p = ptzs.get(k);
    if (!p) {
      const key = `c:${c.id}`;
      p = ptzControl({
        device: d.id,
        channel: c.id,
        onMsg: (m) => setMsg(key, m),
        onMove: (moving) => {
          if (moving) {
            st.ptz = { device: d.id };
            page.dataset.ptz = 'moving';
          } else {
            if (st.ptz?.device === d.id) st.ptz = null;
            page.dataset.ptz = 'stopped';
            renderList();
          }
        },
      });
      ptzs.set(k, p);
    }
    return p;
  }

  function ptzPad(d, c) {
    return h('div', { class: 'gbc-ptz' }, h('span', { class: 'gbc-ptz-label' }, t('gb.ptz')), ptzFor(d, c).pad());
  }

  // ---- live -----------------------------------------------------------------------------
  const live = new api.Live({
    onEvent: () => {},
    onDevice: (ev) => {
      const src = ev.signal?.source || ev.health?.source;
      if (src === 'gb28181') soon();
      if (src === 'camera') loadCams();
    },
    onOpen: () => { load(); loadCams(); },
    onState: (s) => {
      st.live = s;
      page.dataset.live = s;
      renderHead();
    },
  });
  const every = setInterval(() => { if (!st.loading) load(); loadCams(); }, 60_000);
  const offTick = everySecond(() => {
    for (const el of list.querySelectorAll('[data-age-of]')) el.textContent = ` · ${t('age', { t: dur(ageSecs(el.dataset.ageOf)) })}`;
  });

  render();

  return {
    relabel() {
      for (const card of cards.values()) card.sig = '';
      for (const p of cams.players.values()) p.relabel();
      render();
      renderCams();
    },
    destroy() {
      for (const p of ptzs.values()) p.destroy();
      for (const p of cams.players.values()) p.destroy();
      live.stop();
      offTick();
      clearInterval(every);
      clearTimeout(soonTimer);
      for (const tm of msgTimers.values()) clearTimeout(tm);
    },
  };
}
