// pages/school.js — 一键报警, the school guard's page (school_guard, school_admin): the big round
// button that raises an alarm only after a deliberate ~2 s press-and-hold (mouse, touch or
// Space/Enter), the audible/silent choice, the alarm point, the alarm POST retried with the same
// Idempotency-Key until it is stored, the live status of the alarm (公安已接警 → … → 已结案), the
// "call 110" prompt when nobody claims it in time, the accidental-press report, recent incidents
// (web presses and the school's alarm panels alike, with their kind), and the school's alarm
// devices: each panel account's health (正常 / 告警 / 通信中断) and its recent signals.

import * as api from '../api.js';
import { h, svg, fill, ageSecs, clock, stamp, everySecond, freshKey, sleep, queueOrder } from '../util.js';
import { t, dur, errText } from '../i18n.js';
import { badge, connBanner, IncidentStore, kindChip, DeviceStore, places, signalItem, deviceLine, deviceName } from './common.js';

const HOLD_MS = 2000;
const STEPS = ['received', 'claimed', 'dispatched', 'on_scene', 'resolved', 'closed'];
const OPEN = ['received', 'claimed', 'dispatched', 'on_scene'];
const RING_R = 46;
const RING_LEN = 2 * Math.PI * RING_R;

export function mount(root, { me, banners }) {
  const schools = me.schools || [];
  const call110After = me.settings?.call_110_after_secs ?? 60;
  const trackKey = `xiaoan.tracked.${me.user.id}`;
  const store = new IncidentStore();
  const devices = new DeviceStore(50);
  const where = places(schools);
  const st = {
    devLoaded: false,
    silent: false,
    pointId: me.user.post_alarm_point_id ?? firstPoint(schools)?.id ?? null,
    tracked: null, // incident id shown in the status view
    joined: false,
    sending: false,
    attempt: 0,
    pressMsg: null, // {kind, text}
    confirmAccidental: false,
    accBusy: false,
    accError: null,
    loaded: false,
  };
  try { const v = Number(localStorage.getItem(trackKey)); if (v) st.tracked = v; } catch { /* ignore */ }

  const conn = connBanner(banners);
  const status = h('section', { class: 'status-card', 'data-testid': 'alarm-status', hidden: true, 'aria-live': 'polite' });
  const ring = svg('circle', { cx: 60, cy: 60, r: RING_R, class: 'ring-fill', 'stroke-dasharray': RING_LEN, 'stroke-dashoffset': RING_LEN, transform: 'rotate(-90 60 60)' });
  const ringSvg = svg('svg', { viewBox: '0 0 120 120', class: 'ring', 'aria-hidden': 'true' }, svg('circle', { cx: 60, cy: 60, r: RING_R, class: 'ring-track' }), ring);
  const btnLabel = h('span', { class: 'big-label' });
  const btnSub = h('span', { class: 'big-sub' });
  const button = h('button', { type: 'button', class: 'big-button', 'data-testid': 'alarm-button', 'data-holding': 'false' }, ringSvg, h('span', { class: 'big-text' }, btnLabel, btnSub));
  const pressMsg = h('div', { class: 'press-msg', role: 'status', 'data-testid': 'press-msg', hidden: true });
  const help = h('p', { class: 'press-help' });
  const options = h('div', { class: 'press-options' });
  const recent = h('section', { class: 'recent', 'data-testid': 'school-recent' });
  const schoolHead = h('div', { class: 'school-head' });
  const devAlert = h('div', { class: 'dev-alert', role: 'alert', 'data-testid': 'device-comm-alert', hidden: true });
  const devSection = h('section', { class: 'recent devices', 'data-testid': 'school-devices' });
  const pressCard = h('section', { class: 'press-card' }, schoolHead, devAlert, help, h('div', { class: 'big-wrap' }, button), pressMsg, options);
  fill(root, h('div', { class: 'school-page' }, status, pressCard, recent, devSection));

  // ---- press and hold -------------------------------------------------------------------
  let holdTimer = null;
  let holdStart = 0;

  function setRing(p) { ring.setAttribute('stroke-dashoffset', String(RING_LEN * (1 - p))); }

  function beginHold() {
    if (st.sending || holdTimer || !st.pointId) return;
    holdStart = performance.now();
    button.dataset.holding = 'true';
    btnSub.textContent = t('school.holding');
    holdTimer = setInterval(() => {
      const p = Math.min(1, (performance.now() - holdStart) / HOLD_MS);
      setRing(p);
      if (p >= 1) { stopHold(); raise(); }
    }, 30);
  }

  function stopHold() {
    clearInterval(holdTimer);
    holdTimer = null;
    button.dataset.holding = 'false';
  }

  function cancelHold() {
    if (!holdTimer) return;
    stopHold();
    setRing(0);
    renderButton();
  }

  button.addEventListener('pointerdown', (e) => {
    if (e.pointerType === 'mouse' && e.button !== 0) return;
    e.preventDefault();
    try { button.setPointerCapture(e.pointerId); } catch { /* ignore */ }
    button.focus({ preventScroll: true });
    beginHold();
  });
  for (const ev of ['pointerup', 'pointercancel', 'lostpointercapture']) button.addEventListener(ev, cancelHold);
  button.addEventListener('contextmenu', (e) => e.preventDefault());
  button.addEventListener('keydown', (e) => {
    if (e.key !== ' ' && e.key !== 'Enter') return;
    e.preventDefault();
    if (!e.repeat) beginHold();
  });
  button.addEventListener('keyup', (e) => { if (e.key === ' ' || e.key === 'Enter') { e.preventDefault(); cancelHold(); } });
  button.addEventListener('blur', cancelHold);
  button.addEventListener('click', (e) => e.preventDefault());

  // ---- raising --------------------------------------------------------------------------
  function warnLeave(e) { e.preventDefault(); e.returnValue = ''; }

  async function raise() {
    if (st.sending) return;
    st.sending = true;
    st.attempt = 0;
    st.pressMsg = { kind: 'info', key: 'school.sending' };
    if (navigator.vibrate) navigator.vibrate(200);
    window.addEventListener('beforeunload', warnLeave);
    renderButton();
    const key = freshKey();
    const body = { alarm_point_id: st.pointId, silent: st.silent };
    for (;;) {
      st.attempt++;
      try {
        const r = await api.post('/api/v1/alarms', body, { 'Idempotency-Key': key });
        store.put(r.incident);
        track(r.incident_id);
        st.joined = !!r.joined;
        st.pressMsg = { kind: 'ok', key: 'school.sent' };
        break;
      } catch (e) {
        const retry = e.code === 'network' || e.status >= 500 || e.status === 408 || e.status === 429;
        if (retry) {
          st.pressMsg = { kind: 'warn', key: 'school.retry', vars: { n: st.attempt } };
          renderButton();
          await sleep(Math.min(1000 * st.attempt, 5000));
          continue;
        }
        st.pressMsg = { kind: 'error', err: e, call110: true };
        break;
      }
    }
    st.sending = false;
    window.removeEventListener('beforeunload', warnLeave);
    setRing(0);
    renderButton();
    renderStatus();
    renderRecent();
    if (st.tracked) status.scrollIntoView({ behavior: 'smooth', block: 'start' });
  }

  function track(id) {
    st.tracked = id;
    st.confirmAccidental = false;
    st.accError = null;
    try { localStorage.setItem(trackKey, String(id)); } catch { /* ignore */ }
  }

  // ---- status view ----------------------------------------------------------------------
  function stepTime(inc, s) {
    switch (s) {
      case 'received': return inc.received_at || inc.raised_at;
      case 'claimed': return inc.claimed_at;
      case 'dispatched': return inc.dispatches?.[0]?.at;
      case 'on_scene': return inc.on_scene_at;
      case 'resolved': return inc.resolved_at;
      case 'closed': return inc.closed_at;
      default: return null;
    }
  }

  function subText(inc) {
    const last = inc.dispatches?.[inc.dispatches.length - 1];
    switch (inc.state) {
      case 'received': return t('school.status.sub.received', { police: inc.school?.police_region?.name || '110' });
      case 'claimed': return t('school.status.sub.claimed', { name: inc.claimed_by?.name || '' });
      case 'dispatched': return t('school.status.sub.dispatched', { unit: [last?.unit, last?.officer_name].filter(Boolean).join(' / ') });
      case 'on_scene': return t('school.status.sub.on_scene', { t: clock(inc.on_scene_at) });
      case 'resolved': return t('school.status.sub.resolved', { disp: inc.disposition ? t(`disp.${inc.disposition}`) : '' }) + (inc.resolution_note ? `（${inc.resolution_note}）` : '');
      case 'closed': return t('school.status.sub.closed') + (inc.disposition ? ` ${t('school.status.sub.resolved', { disp: t(`disp.${inc.disposition}`) })}` : '');
      default: return '';
    }
  }

  function renderStatus() {
    const inc = st.tracked ? store.get(st.tracked) : null;
    if (!inc) { status.hidden = true; status.removeAttribute('data-state'); return; }
    status.hidden = false;
    status.dataset.state = inc.state;
    status.dataset.incidentId = inc.id;
    status.className = `status-card st-${inc.state}`;
    const cur = STEPS.indexOf(inc.state);
    const need110 = inc.state === 'received' && ageSecs(inc.raised_at) >= call110After;
    const canAccidental = OPEN.includes(inc.state) && !inc.accidental_reported_at;
    fill(status,
      h('div', { class: 'status-head' },
        h('div', { class: 'status-icon', 'aria-hidden': 'true' }, inc.state === 'received' ? '!' : '✓'),
        h('div', null,
          h('h2', { class: 'status-title', 'data-testid': 'status-title' }, t(`school.status.${inc.state}`)),
          h('p', { class: 'status-sub', 'data-testid': 'status-sub' }, subText(inc)),
          h('p', { class: 'status-meta muted' }, kindChip(inc), ` #${inc.id} · ${inc.school?.name || ''} · ${inc.alarm_point?.name || ''} · ${stamp(inc.raised_at)}`, inc.silent ? ` · ${t('school.silent')}` : '', h('span', { class: 'status-age', 'data-age-of': inc.raised_at }, ` · ${t('age', { t: dur(ageSecs(inc.raised_at)) })}`)))),
      st.joined ? h('p', { class: 'notice' }, t('school.joined')) : null,
      h('div', { class: 'call110', 'data-testid': 'call-110', hidden: !need110 },
        h('div', null, h('strong', null, t('school.call110')), h('p', null, t('school.call110.sub', { t: dur(ageSecs(inc.raised_at)) }))),
        h('a', { class: 'btn btn-110', href: 'tel:110', 'data-testid': 'call-110-link' }, '☎ ', t('school.call110.button'))),
      h('ol', { class: 'steps', 'data-testid': 'status-steps' },
        STEPS.map((s, i) => {
          const at = stepTime(inc, s);
          const cls = i < cur ? (at ? 'done' : 'skipped') : i === cur ? (s === 'closed' ? 'done current' : 'current') : 'todo';
          return h('li', { class: `step ${cls}`, 'data-step': s },
            h('span', { class: 'step-dot', 'aria-hidden': 'true' }),
            h('span', { class: 'step-name' }, t(`school.step.${s}`)),
            h('span', { class: 'step-time' }, at && i <= cur ? clock(at) : ''));
        })),
      inc.accidental_reported_at
        ? h('p', { class: 'notice notice-acc', 'data-testid': 'accidental-done' }, t('school.accidental.done', { t: clock(inc.accidental_reported_at) }))
        : null,
      canAccidental ? accidentalBox(inc) : null);
  }

  function accidentalBox(inc) {
    if (!st.confirmAccidental) {
      return h('div', { class: 'acc-box' },
        h('button', { type: 'button', class: 'btn btn-ghost', 'data-testid': 'btn-accidental', onclick: () => { st.confirmAccidental = true; renderStatus(); } }, t('school.accidental')));
    }
    return h('div', { class: 'acc-box confirm' },
      h('p', null, t('school.accidental.confirm')),
      st.accError ? h('p', { class: 'form-error' }, st.accError) : null,
      h('div', { class: 'row' },
        h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'accidental-yes', disabled: st.accBusy, onclick: () => reportAccidental(inc.id) }, t('school.accidental.yes')),
        h('button', { type: 'button', class: 'btn btn-ghost', 'data-testid': 'accidental-no', onclick: () => { st.confirmAccidental = false; renderStatus(); } }, t('school.accidental.no'))));
  }

  async function reportAccidental(id) {
    st.accBusy = true;
    st.accError = null;
    renderStatus();
    try {
      const d = await api.act(id, 'accidental', {});
      store.put(d);
      st.confirmAccidental = false;
    } catch (e) {
      st.accError = errText(e);
    }
    st.accBusy = false;
    renderStatus();
    renderRecent();
  }

  // ---- button, options, recent ----------------------------------------------------------
  function renderButton() {
    btnLabel.textContent = t('page.school');
    btnSub.textContent = st.sending ? t('school.sending') : holdTimer ? t('school.holding') : t('school.hold');
    button.dataset.sending = String(st.sending);
    button.disabled = !st.pointId;
    button.setAttribute('aria-label', `${t('page.school')}${t('colon')}${t('school.hold')}`);
    pressMsg.hidden = !st.pressMsg;
    if (st.pressMsg) {
      pressMsg.className = `press-msg ${st.pressMsg.kind}`;
      fill(pressMsg, st.pressMsg.err ? `${errText(st.pressMsg.err)} — ${t('school.call110')}` : t(st.pressMsg.key, st.pressMsg.vars), st.pressMsg.call110 ? h('a', { class: 'btn btn-110', href: 'tel:110' }, '☎ 110') : null);
    }
  }

  function renderOptions() {
    const seg = (silent, key, testid) => h('button', {
      type: 'button', class: `seg${st.silent === silent ? ' on' : ''}`, 'data-testid': testid, 'aria-pressed': String(st.silent === silent),
      onclick: () => { st.silent = silent; renderOptions(); },
    }, t(key));
    const select = h('select', { class: 'input', id: 'alarm-point', 'data-testid': 'alarm-point' },
      schools.map((s) => h('optgroup', { label: s.name },
        (s.alarm_points || []).map((p) => h('option', { value: p.id, selected: p.id === st.pointId }, `${p.name}（${p.location}）`)))));
    select.onchange = () => { st.pointId = Number(select.value); };
    fill(options,
      h('div', { class: 'opt' }, h('span', { class: 'opt-label' }, t('school.mode')),
        h('div', { class: 'segmented', role: 'group' }, seg(false, 'school.audible', 'mode-audible'), seg(true, 'school.silent', 'mode-silent'))),
      st.silent ? h('p', { class: 'muted small' }, t('school.silent.help')) : null,
      h('div', { class: 'opt' }, h('label', { class: 'opt-label', for: 'alarm-point' }, t('school.point')), select));
  }

  function renderHead() {
    if (!schools.length) {
      fill(schoolHead, h('p', { class: 'form-error' }, t('school.noschool')));
      return;
    }
    const s = schools[0];
    fill(schoolHead,
      h('h1', { 'data-testid': 'school-name' }, schools.map((x) => x.name).join('、')),
      h('p', { class: 'muted' }, s.police_region ? `${t('card.police')}${t('colon')}${s.police_region.name}` : '', s.police_region?.phone ? h('span', null, ` · ${t('card.duty')} `, h('a', { class: 'tel', href: `tel:${s.police_region.phone}` }, s.police_region.phone)) : null));
    help.textContent = t('school.help');
  }

  function renderRecent() {
    const list = store.all().filter((i) => i.state !== 'closed' || i.id === st.tracked).sort(queueOrder).reverse();
    fill(recent,
      h('h2', null, t('school.recent')),
      list.length
        ? h('ul', { class: 'recent-list' }, list.map((inc) => h('li', null,
          h('button', {
            type: 'button', class: `recent-item${inc.id === st.tracked ? ' on' : ''}`, 'data-testid': 'recent-item', 'data-incident-id': inc.id, 'data-state': inc.state,
            onclick: () => { track(inc.id); st.joined = false; renderStatus(); renderRecent(); status.scrollIntoView({ behavior: 'smooth' }); },
          },
          badge(inc.state),
          kindChip(inc),
          h('span', { class: 'ri-main' }, `${inc.alarm_point?.name || ''}`, h('span', { class: 'muted' }, ` · ${inc.school?.name || ''}`)),
          h('span', { class: 'ri-time muted' }, stamp(inc.raised_at))))))
        : h('p', { class: 'muted', 'data-testid': 'recent-empty' }, st.loaded ? t('school.recent.empty') : t('loading')));
  }

  // ---- alarm devices --------------------------------------------------------------------
  function renderDevices() {
    const devs = devices.devices();
    const sigs = devices.signalList().slice(0, 20);
    const down = devs.filter((d) => d.state === 'comm_failure');
    devAlert.hidden = !down.length;
    fill(devAlert, down.length ? [h('span', { 'aria-hidden': 'true' }, '⚠'), h('span', null, t('dev.banner', { what: down.map((d) => [where.point(d.alarm_point_id), deviceName(d)].filter(Boolean).join(' ')).join('、') }))] : []);
    devSection.hidden = !devs.length && !sigs.length;
    fill(devSection,
      h('h2', null, t('dev.title')),
      devs.length
        ? h('div', { class: 'dev-list', 'data-testid': 'device-list' }, devs.map((d) => deviceLine(d, where, { school: schools.length > 1 })))
        : h('p', { class: 'muted' }, st.devLoaded ? t('dev.none') : t('loading')),
      h('h3', null, t('dev.signals')),
      sigs.length
        ? h('ol', { class: 'sig-list', 'data-testid': 'signal-list' }, sigs.map((x) => signalItem(x, where)))
        : h('p', { class: 'muted', 'data-testid': 'signals-empty' }, t('sig.empty')));
  }

  async function loadDevices() {
    try {
      const [sigs, health] = await Promise.all([api.signals(50), api.deviceHealth()]);
      devices.loadSignals(sigs);
      devices.loadHealth(health);
      st.devLoaded = true;
    } catch (e) {
      console.warn('device load failed', e);
    }
    renderDevices();
  }

  // ---- data -----------------------------------------------------------------------------
  async function load() {
    const started = Date.now();
    try {
      const list = await api.listIncidents('active');
      store.load(list, (inc) => new Date(inc.updated_at) >= started - 1000);
      if (st.tracked && !store.get(st.tracked)) {
        try {
          const d = await api.incident(st.tracked);
          // Keep a closed alarm on screen for a while so the guard sees how it ended.
          if (d.state !== 'closed' || ageSecs(d.closed_at) < 1800) store.put(d);
          else st.tracked = null;
        } catch { st.tracked = null; }
      }
      st.loaded = true;
      document.body.dataset.loaded = 'true';
    } catch (e) {
      console.warn('load failed', e);
    }
    renderStatus();
    renderRecent();
  }

  const live = new api.Live({
    onEvent: (ev) => {
      if (store.put(ev.incident)) { renderStatus(); renderRecent(); }
    },
    onDevice: (ev) => {
      const changed = ev.type === 'signal' ? devices.putSignal(ev.signal) : devices.putHealth(ev.health);
      if (changed) renderDevices();
    },
    onOpen: () => { load(); loadDevices(); },
    onState: (s) => { conn.show(s === 'down'); document.body.dataset.live = s; },
  });

  const offTick = everySecond(() => {
    const inc = st.tracked ? store.get(st.tracked) : null;
    if (!inc) return;
    const need = inc.state === 'received' && ageSecs(inc.raised_at) >= call110After;
    const box = status.querySelector('[data-testid="call-110"]');
    if (box && box.hidden === need) renderStatus();
    const age = status.querySelector('.status-age');
    if (age) age.textContent = ` · ${t('age', { t: dur(ageSecs(inc.raised_at)) })}`;
  });

  function relabel() {
    conn.relabel();
    renderHead();
    renderButton();
    renderOptions();
    renderStatus();
    renderRecent();
    renderDevices();
  }
  relabel();

  return {
    relabel,
    destroy() { live.stop(); offTick(); cancelHold(); window.removeEventListener('beforeunload', warnLeave); },
  };
}

function firstPoint(schools) {
  for (const s of schools) {
    const p = (s.alarm_points || []).find((x) => x.one_key) || s.alarm_points?.[0];
    if (p) return p;
  }
  return null;
}
