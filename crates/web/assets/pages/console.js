// pages/console.js — 接处警台, the police alarm-centre console (police_operator, police_supervisor):
// the start-shift step that unlocks sound, the sound/connection warning banners, the live queue
// (priority, then age; unclaimed ones red and deepening with age, with a repeating siren), the
// device-signal panel (recent signals by severity, an unread-alert count with a chime instead of
// the siren, and devices in trouble or out of contact against their school), and the incident card
// with the kind, the alarm panel's event (DC-09) or the GB/T 28181 device's alarm, the school, coordinates, mini-map, people,
// timeline and the state's actions; the cameras linked to the incident's alarm point play live at
// the top of the card (video.js), and under them the clips from before the press (clips.js).

import * as api from '../api.js';
import * as sound from '../sound.js';
import { h, svg, fill, ageSecs, clock, stamp, everySecond, queueOrder, amapLink, amapPointLink, safeUrl, num } from '../util.js';
import { t, dur, errText } from '../i18n.js';
import { miniMap } from '../map.js';
import { pointCameras } from '../video.js';
import { incidentClips } from '../clips.js';
import { auditList } from '../audit.js';
import {
  badge, peopleList, timeline, telLink, connBanner, IncidentStore, kindChip, eventLabel, sourceLabel,
  DeviceStore, places, signalItem, deviceLine, pad3, isGbDetails, actorName,
} from './common.js';

const DISPOSITIONS = ['genuine', 'false_alarm', 'test', 'malicious', 'other'];

export function mount(root, { me, banners }) {
  const settings = me.settings || {};
  const escalateAfter = settings.escalate_after_secs || 30;
  const store = new IncidentStore();
  const devices = new DeviceStore();
  const where = places(me.schools);
  const seenKey = `xiaoan.signals.seen.${me.user.id}`;
  const st = {
    sigSeen: (() => { try { return Number(localStorage.getItem(seenKey)) || 0; } catch { return 0; } })(),
    sigOpen: true,
    onShift: false,
    selected: null, // incident id
    detail: null, // GET /incidents/{id} answer for `selected`
    officers: null,
    live: 'connecting',
    actionsKey: '',
    actionMsg: null, // {kind: 'error'|'ok', text}
    loaded: false,
  };

  // ---- skeleton -------------------------------------------------------------------------
  const soundBanner = h('div', { class: 'banner banner-sound', role: 'alert', 'data-testid': 'sound-banner' });
  banners.appendChild(soundBanner);
  const conn = connBanner(banners);
  const shiftPanel = h('section', { class: 'shift-panel', 'data-testid': 'shift-panel' });
  const qCounts = h('span', { class: 'q-counts', 'data-testid': 'queue-counts' });
  const connDot = h('span', { class: 'conn-dot', 'data-testid': 'conn-state' });
  const qTitle = h('h2', null);
  const qList = h('div', { class: 'q-list', role: 'list' });
  const queue = h('aside', { class: 'queue-pane', 'data-testid': 'queue', 'data-alerting': 'false' },
    h('header', { class: 'pane-head' }, qTitle, qCounts, connDot), qList);
  const card = h('section', { class: 'card-pane', 'data-testid': 'card', tabindex: '-1' });
  const sigHead = h('header', { class: 'pane-head sig-head' });
  const sigProblems = h('div', { class: 'sig-problems', 'data-testid': 'device-problems' });
  const sigList = h('ol', { class: 'sig-list', 'data-testid': 'signal-list' });
  const sigBody = h('div', { class: 'sig-body' }, sigProblems, sigList);
  const sigPane = h('aside', { class: 'sig-pane', 'data-testid': 'signals', 'data-unread': '0' }, sigHead, sigBody);
  const view = h('div', { class: 'console' }, shiftPanel, h('div', { class: 'console-grid' }, queue, sigPane, card));
  fill(root, view);

  // ---- shift and sound ------------------------------------------------------------------
  async function startShift() {
    const s = await sound.unlock();
    st.onShift = true;
    if (s === 'on') sound.chime();
    renderShift();
    updateAlerting();
  }

  function renderShift() {
    const on = sound.state() === 'on';
    shiftPanel.hidden = st.onShift && on;
    if (!shiftPanel.hidden) {
      fill(shiftPanel,
        h('div', { class: 'shift-text' }, h('h2', null, t('shift.title')), h('p', null, t('shift.text'))),
        h('button', { type: 'button', class: 'btn btn-shift', 'data-testid': 'start-shift', onclick: startShift }, t('shift.button')));
    }
    soundBanner.hidden = on;
    fill(soundBanner,
      mutedIcon(),
      h('span', { class: 'banner-text' }, t('banner.sound')),
      h('button', { type: 'button', class: 'btn btn-banner', 'data-testid': 'banner-start-shift', onclick: startShift }, t('banner.sound.button')));
    document.body.dataset.sound = on ? 'on' : 'blocked';
  }
  const offSound = sound.onChange(() => { renderShift(); updateAlerting(); });

  // ---- queue ----------------------------------------------------------------------------
  const items = new Map(); // id -> element

  function ageLevel(inc) {
    const a = ageSecs(inc.received_at || inc.raised_at);
    if (a < 10) return 1;
    if (a < escalateAfter) return 2;
    if (a < escalateAfter * 3) return 3;
    return 4;
  }

  function queueList() {
    return store.all().filter((i) => i.state !== 'closed').sort(queueOrder);
  }

  function itemContent(inc) {
    const flags = [];
    if (inc.press_count > 1) flags.push(h('span', { class: 'flag' }, t('queue.press', { n: inc.press_count })));
    if (inc.silent) flags.push(h('span', { class: 'flag flag-silent' }, t('queue.silent')));
    if (inc.accidental_reported_at) flags.push(h('span', { class: 'flag flag-acc' }, t('queue.accidental')));
    if (inc.source === 'dc09' && inc.details?.account) flags.push(h('span', { class: 'flag flag-dc' }, `DC-09 ${inc.details.account}`));
    if (isGbDetails(inc.details)) flags.push(h('span', { class: 'flag flag-dc', 'data-testid': 'queue-gb' }, t('gb.device.v', { id: inc.details.channel_id })));
    if (devices.ofSchool(inc.school?.id).some((d) => d.state === 'comm_failure')) flags.push(h('span', { class: 'flag flag-comm', 'data-testid': 'queue-comm' }, t('dev.state.comm_failure')));
    return [
      h('div', { class: 'q-top' },
        badge(inc.state),
        kindChip(inc),
        h('span', { class: 'q-id' }, `#${inc.id}`),
        h('span', { class: 'q-age', 'data-age-of': inc.received_at || inc.raised_at }, t('age', { t: dur(ageSecs(inc.received_at || inc.raised_at)) }))),
      h('div', { class: 'q-school', 'data-testid': 'queue-school' }, inc.school?.name || ''),
      h('div', { class: 'q-point' }, `${inc.alarm_point?.name || ''}`, h('span', { class: 'q-time' }, ` · ${clock(inc.raised_at)}`)),
      flags.length ? h('div', { class: 'q-flags' }, flags) : null,
      inc.escalated_at && inc.state === 'received'
        ? h('div', { class: 'q-esc', 'data-testid': 'escalated' }, '⚠ ', t('queue.escalated')) : null,
    ];
  }

  function renderQueue() {
    const list = queueList();
    const seen = new Set();
    list.forEach((inc, idx) => {
      seen.add(inc.id);
      let el = items.get(inc.id);
      if (!el) {
        el = h('button', { type: 'button', class: 'q-item', role: 'listitem', 'data-testid': 'queue-item', onclick: () => select(inc.id) });
        items.set(inc.id, el);
      }
      const unclaimed = inc.state === 'received';
      el.className = `q-item st-${inc.state}${unclaimed ? ` unclaimed age-${ageLevel(inc)}` : ''}${inc.escalated_at && unclaimed ? ' escalated' : ''}${st.selected === inc.id ? ' selected' : ''}`;
      el.dataset.incidentId = inc.id;
      el.dataset.state = inc.state;
      el.dataset.unclaimed = String(unclaimed);
      el.setAttribute('aria-current', st.selected === inc.id ? 'true' : 'false');
      fill(el, itemContent(inc));
      if (qList.children[idx] !== el) qList.insertBefore(el, qList.children[idx] || null);
    });
    for (const [id, el] of items) if (!seen.has(id)) { el.remove(); items.delete(id); }
    const empty = qList.querySelector('.q-empty');
    if (!list.length && !empty) qList.appendChild(h('div', { class: 'q-empty', 'data-testid': 'queue-empty' }, st.loaded ? t('queue.empty') : t('loading')));
    if (list.length && empty) empty.remove();
    if (!list.length && empty) empty.textContent = st.loaded ? t('queue.empty') : t('loading');
    const unclaimed = list.filter((i) => i.state === 'received').length;
    fill(qCounts, unclaimed ? h('span', { class: 'q-unclaimed' }, t('queue.unclaimed', { n: unclaimed })) : null, h('span', null, t('queue.count', { n: list.length })));
    updateAlerting();
  }

  function tickQueue() {
    for (const inc of queueList()) {
      const el = items.get(inc.id);
      if (!el) continue;
      const age = el.querySelector('.q-age');
      if (age) age.textContent = t('age', { t: dur(ageSecs(inc.received_at || inc.raised_at)) });
      if (inc.state === 'received') {
        for (let l = 1; l <= 4; l++) el.classList.toggle(`age-${l}`, l === ageLevel(inc));
      }
    }
    const a = card.querySelector('[data-card-age]');
    if (a) a.textContent = t('age', { t: dur(ageSecs(a.dataset.cardAge)) });
  }

  function updateAlerting() {
    const any = queueList().some((i) => i.state === 'received');
    document.body.dataset.alerting = String(any);
    queue.dataset.alerting = String(any);
    sound.alerting(any && sound.state() === 'on');
    document.title = `${any ? `【${t('state.received')}】` : ''}${t('page.console')} · ${t('app.name')}`;
  }

  // ---- device signals -------------------------------------------------------------------
  function unreadAlerts() {
    return devices.signalList().filter((x) => x.severity === 'alert' && x.id > st.sigSeen).length;
  }

  function markRead() {
    st.sigSeen = devices.signalList().reduce((m, x) => Math.max(m, x.id), st.sigSeen);
    try { localStorage.setItem(seenKey, String(st.sigSeen)); } catch { /* ignore */ }
    renderSignals();
  }

  function renderSignals() {
    const list = devices.signalList().slice(0, 100);
    const unread = unreadAlerts();
    const problems = devices.problems();
    const comm = problems.filter((x) => x.state === 'comm_failure').length;
    sigPane.dataset.unread = String(unread);
    sigPane.dataset.comm = String(comm);
    sigPane.classList.toggle('collapsed', !st.sigOpen);
    fill(sigHead,
      h('button', { type: 'button', class: 'sig-toggle', 'aria-expanded': String(st.sigOpen), 'data-testid': 'signals-toggle', onclick: () => { st.sigOpen = !st.sigOpen; renderSignals(); } },
        h('span', { class: 'sig-caret', 'aria-hidden': 'true' }, st.sigOpen ? '▾' : '▸'),
        h('h2', null, t('sig.title'))),
      unread ? h('span', { class: 'sig-badge', 'data-testid': 'signals-badge', title: t('sig.unread', { n: unread }), 'aria-label': t('sig.unread', { n: unread }) }, String(unread)) : null,
      problems.length ? h('span', { class: `sig-prob${comm ? ' comm' : ''}`, 'data-testid': 'signals-problems' }, `${t('sig.problems')} ${problems.length}`) : null,
      unread ? h('button', { type: 'button', class: 'btn btn-ghost btn-small', 'data-testid': 'signals-markread', onclick: markRead }, t('sig.markread')) : null);
    fill(sigProblems, problems.map((x) => deviceLine(x, where)));
    sigProblems.hidden = !problems.length;
    fill(sigList, list.length
      ? list.map((x) => {
        const li = signalItem(x, where);
        if (x.severity === 'alert' && x.id > st.sigSeen) li.classList.add('unread');
        return li;
      })
      : h('li', { class: 'sig-empty muted', 'data-testid': 'signals-empty' }, t('sig.empty')));
  }

  async function loadDevices() {
    try {
      const [sigs, health] = await Promise.all([api.signals(200), api.deviceHealth()]);
      devices.loadSignals(sigs);
      devices.loadHealth(health);
      document.body.dataset.devicesLoaded = 'true';
    } catch (e) {
      console.warn('device load failed', e);
    }
    renderSignals();
    renderQueue();
    if (parts) renderCard();
  }

  function onDevice(ev) {
    if (ev.type === 'signal') {
      if (!devices.putSignal(ev.signal)) return;
      if (ev.signal.severity === 'alert' && sound.state() === 'on' && !queueList().some((i) => i.state === 'received')) sound.chime();
      renderSignals();
    } else if (ev.type === 'device_health') {
      const prev = devices.health.get(`${ev.health.source}:${ev.health.device}`);
      if (!devices.putHealth(ev.health)) return;
      renderSignals();
      // A link test only moves last_seen: leave the queue and the card alone then.
      if (prev && prev.state === ev.health.state && prev.detail === ev.health.detail) return;
      renderQueue();
      const inc = currentIncident();
      if (inc && inc.school?.id === ev.health.school_id) renderCard();
    }
  }

  // ---- card -----------------------------------------------------------------------------
  async function select(id) {
    if (st.selected !== id) {
      st.selected = id;
      st.detail = null;
      st.actionsKey = '';
      st.actionMsg = null;
    }
    renderQueue();
    renderCard();
    if (window.matchMedia('(max-width: 900px)').matches) card.scrollIntoView({ behavior: 'smooth', block: 'start' });
    await loadDetail(id);
  }

  let detailSeq = 0;
  async function loadDetail(id) {
    const seq = ++detailSeq;
    try {
      const d = await api.incident(id);
      if (seq !== detailSeq || st.selected !== id) return;
      st.detail = d;
      store.put(d);
      renderQueue();
      renderCard();
    } catch (e) {
      if (seq !== detailSeq) return;
      if (e.status === 404) { st.actionMsg = { kind: 'error', text: errText(e) }; renderCard(); }
    }
  }

  function currentIncident() {
    if (st.selected == null) return null;
    const inc = store.get(st.selected) || st.detail;
    if (!inc) return null;
    const d = st.detail && st.detail.id === inc.id ? st.detail : null;
    return { ...inc, people: d?.people, timeline: d?.timeline };
  }

  function fact(label, ...value) {
    return h('div', { class: 'fact' }, h('dt', null, label), h('dd', null, ...value));
  }

  function renderInfo(inc) {
    const s = inc.school || {};
    const g = s.gcj02 || {};
    const region = s.police_region;
    const allSchools = [...(me.schools || [])];
    if (s.id && !allSchools.some((x) => x.id === s.id)) allSchools.push(s);
    const d = inc.details || null;
    const pos = d ? position(d) : null;
    const devs = devices.ofSchool(s.id);
    return h('div', { class: 'card-info' },
      h('dl', { class: 'facts' },
        fact(t('dc.source'), h('span', { 'data-testid': 'card-source', 'data-source': inc.source || 'web' }, sourceLabel(inc))),
        fact(t('card.point'), h('strong', { 'data-testid': 'card-point' }, inc.alarm_point?.name || '—')),
        fact(t('card.location'), inc.alarm_point?.location || '—'),
        fact(t('card.raisedat'), `${stamp(inc.raised_at)}`),
        fact(t('card.raisedby'), actorName(inc.raised_by) || '—'),
        fact(t('card.presses'), h('span', { 'data-testid': 'card-presses' }, String(inc.press_count ?? 1))),
        fact(t('card.silent'), h('span', { 'data-testid': 'card-silent', class: inc.silent ? 'warn-text' : '' }, inc.silent ? t('card.silent.yes') : t('card.silent.no')))),
      inc.accidental_reported_at ? h('div', { class: 'notice notice-acc', 'data-testid': 'card-accidental' }, t('card.accidental', { t: stamp(inc.accidental_reported_at) })) : null,
      d ? (isGbDetails(d) ? gbBox(inc, d, pos) : panelBox(inc, d, pos)) : null,
      h('h3', null, t('card.people')),
      inc.people ? peopleList(inc.people) : h('p', { class: 'muted' }, t('loading')),
      h('h3', null, t('card.school')),
      h('dl', { class: 'facts' },
        fact(t('card.address'), h('span', { 'data-testid': 'card-address' }, s.address || '—')),
        fact(t('card.coords'),
          h('span', { class: 'coords', 'data-testid': 'card-coords' },
            h('span', null, `${t('card.wgs')} ${fmtCoord(s.lat)}, ${fmtCoord(s.lon)}`),
            h('span', null, `${t('card.gcj')} ${fmtCoord(g.lat)}, ${fmtCoord(g.lon)}`))),
        fact(t('card.profile'), [t(`kind.${s.kind}`), t('card.pupils', { n: s.pupils ?? '—' }), s.boarders ? t('card.boarders', { n: s.boarders }) : null].filter(Boolean).join(' · ')),
        region ? fact(t('card.police'), h('div', null, region.name), region.phone ? h('div', { class: 'duty' }, `${t('card.duty')} `, telLink(region.phone)) : null) : null,
        devs.length ? fact(t('dev.title'), h('div', { class: 'card-devs', 'data-testid': 'card-devices' }, devs.map((x) => deviceLine(x, where, { school: false })))) : null),
      h('div', { class: 'map-box' },
        h('div', { class: 'map-head' }, h('h3', null, t('card.map')),
          h('a', { href: amapLink(s), target: '_blank', rel: 'noopener noreferrer', 'data-testid': 'amap-link' }, t('card.map.open'), ' ↗')),
        miniMap(allSchools, s.id, { marks: pos ? [{ ...pos, label: t('dc.map.mark') }] : [] })));
  }

  /** WGS-84 position reported by the panel (xdata X/Y), when both are numbers. */
  function position(d) {
    const lat = num(d.lat), lon = num(d.lon);
    return lat != null && lon != null && Math.abs(lat) <= 90 && Math.abs(lon) <= 180 ? { lat, lon } : null;
  }

  /** The alarm panel's own account of the alarm (DC-09 details). */
  function panelBox(inc, d, pos) {
    const unknown = inc.kind === 'unknown';
    const zoneUser = [
      d.zone != null ? t('dc.zone.v', { z: pad3(d.zone) }) : null,
      d.user != null ? t('dc.user.v', { u: d.user }) : null,
      d.area != null ? t('dc.area.v', { a: d.area }) : null,
    ].filter(Boolean).join(' · ');
    const link = safeUrl(d.verify_url);
    const rawBits = [d.raw, d.mac ? `MAC ${d.mac}` : null, d.peer ? `← ${d.peer}` : null].filter(Boolean).join('  ');
    return h('section', { class: `dc-box${unknown ? ' dc-unknown' : ''}`, 'data-testid': 'card-dc09' },
      h('h3', null, t('dc.title')),
      unknown ? h('div', { class: 'dc-code', 'data-testid': 'card-unknown-code' }, `${t('dc.unknown')}${t('colon')}`, h('strong', null, d.code || '?')) : null,
      h('dl', { class: 'facts' },
        fact(t('dc.event'), h('strong', { class: 'dc-event', 'data-testid': 'card-event' }, eventLabel(d, inc.kind))),
        fact(t('dc.account'), h('span', { 'data-testid': 'card-account' }, h('strong', null, d.account || '—'),
          h('span', { class: 'muted small' }, ` · ${t('dc.line', { r: d.receiver ?? '—', l: d.line ?? '—', s: d.sequence != null ? String(d.sequence).padStart(4, '0') : '—' })}`))),
        zoneUser ? fact(t('dc.zone'), h('span', { 'data-testid': 'card-zone' }, zoneUser)) : null,
        fact(t('dc.transport'), h('span', { 'data-testid': 'card-encrypted', 'data-encrypted': String(!!d.encrypted), class: d.encrypted ? 'enc-yes' : 'enc-no' },
          `${d.protocol || ''} · `, d.encrypted ? `🔒 ${t('dc.encrypted')}` : t('dc.plain'))),
        pos ? fact(t('dc.position'), h('span', { class: 'coords', 'data-testid': 'card-position' },
          h('span', null, `${t('card.wgs')} ${pos.lat.toFixed(6)}, ${pos.lon.toFixed(6)}`),
          h('a', { href: amapPointLink(pos.lat, pos.lon, `${inc.school?.name || ''} ${t('dc.map.mark')}`), target: '_blank', rel: 'noopener noreferrer', 'data-testid': 'position-link' }, t('dc.position.open'), ' ↗'))) : null,
        !pos && (d.lat != null || d.lon != null) ? fact(t('dc.position'), h('span', { 'data-testid': 'card-position' }, [d.lat, d.lon].filter((v) => v != null).join(', '))) : null,
        d.verify_url ? fact(t('dc.verify'), link
          ? h('a', { href: link, target: '_blank', rel: 'noopener noreferrer', class: 'verify-link', 'data-testid': 'card-verify' }, '▶ ', t('dc.verify.open'), ' ↗')
          : h('span', { class: 'muted', 'data-testid': 'card-verify-text' }, String(d.verify_url))) : null,
        d.text ? fact(t('dc.text'), h('span', { 'data-testid': 'card-text' }, d.text)) : null),
      rawBits ? h('div', { class: 'dc-raw', 'data-testid': 'card-raw' }, `${t('dc.raw')}${t('colon')}`, h('code', null, rawBits)) : null);
  }

  /** The GB/T 28181 device's account of the alarm: event, device and channel IDs, description, time. */
  function gbBox(inc, d, pos) {
    const method = String(d.alarm_method || '').split('').filter((c) => c >= '1' && c <= '7').map((c) => t(`gb.method.${c}`)).join('、');
    return h('section', { class: `dc-box gb-box${inc.kind === 'unknown' ? ' dc-unknown' : ''}`, 'data-testid': 'card-gb' },
      h('h3', null, t('gb.card.title')),
      h('dl', { class: 'facts' },
        fact(t('dc.event'), h('strong', { class: 'dc-event', 'data-testid': 'card-event' }, eventLabel(d, inc.kind))),
        d.description ? fact(t('gb.card.desc'), h('span', { class: 'gb-desc', 'data-testid': 'card-gb-desc' }, d.description)) : null,
        fact(t('gb.card.device'), h('code', { class: 'gb-id', 'data-testid': 'card-gb-device' }, d.device_id)),
        d.channel_id !== d.device_id ? fact(t('gb.card.channel'), h('code', { class: 'gb-id', 'data-testid': 'card-gb-channel' }, d.channel_id)) : null,
        d.alarm_time ? fact(t('gb.card.time'), h('span', { 'data-testid': 'card-gb-time' }, String(d.alarm_time).replace('T', ' ').replace(/\.\d+$/, ''))) : null,
        method ? fact(t('gb.card.method'), h('span', { 'data-testid': 'card-gb-method' }, method, d.alarm_type != null ? ` · ${t('gb.card.type', { t: d.alarm_type })}` : '')) : null,
        d.alarm_priority != null ? fact(t('gb.card.level'), t('gb.card.level.v', { n: d.alarm_priority })) : null,
        pos ? fact(t('dc.position'), h('span', { class: 'coords', 'data-testid': 'card-position' },
          h('span', null, `${t('card.wgs')} ${pos.lat.toFixed(6)}, ${pos.lon.toFixed(6)}`),
          h('a', { href: amapPointLink(pos.lat, pos.lon, `${inc.school?.name || ''} ${t('dc.map.mark')}`), target: '_blank', rel: 'noopener noreferrer', 'data-testid': 'position-link' }, t('dc.position.open'), ' ↗'))) : null),
      d.peer || d.sn != null ? h('div', { class: 'dc-raw', 'data-testid': 'card-raw' }, [d.sn != null ? `SN ${d.sn}` : null, d.peer ? `${t('gb.card.peer')} ${d.peer}` : null].filter(Boolean).join(' · ')) : null);
  }

  let parts = null; // the card's persistent containers for the selected incident

  /** Closes the live video of the card being replaced. */
  function dropCams() {
    parts?.cams?.destroy();
    parts?.clips?.destroy();
    if (parts) { parts.cams = null; parts.clips = null; }
  }

  function renderCard() {
    const inc = currentIncident();
    if (!inc) {
      dropCams();
      parts = null;
      st.actionsKey = '';
      card.dataset.incidentId = '';
      card.dataset.state = '';
      card.classList.add('is-empty');
      fill(card, h('div', { class: 'card-empty' }, h('div', { class: 'card-empty-mark', 'aria-hidden': 'true' }, '◎'), h('p', null, t('card.none'))));
      return;
    }
    if (!parts || parts.id !== inc.id) {
      dropCams();
      parts = {
        id: inc.id,
        head: h('header', { class: 'card-head' }),
        info: h('div', { class: 'card-info-slot' }),
        msg: h('div', { class: 'action-msg', role: 'status', 'data-testid': 'action-error', hidden: true }),
        actions: h('div', { class: 'actions-slot' }),
        tlTitle: h('h3', null),
        tl: h('div', { class: 'tl-slot' }),
      };
      st.actionsKey = '';
      parts.cams = inc.alarm_point?.id != null ? pointCameras(inc.alarm_point.id) : null;
      parts.clips = incidentClips(inc.id, me);
      parts.audit = auditList(inc.id);
      fill(card, parts.head, h('div', { class: 'card-body' }, h('div', { class: 'card-main' }, parts.cams?.el, parts.clips.el, parts.info), h('div', { class: 'card-side' }, parts.msg, parts.actions, parts.tlTitle, parts.tl, parts.audit.el)));
      card.scrollTop = 0;
    }
    card.dataset.incidentId = inc.id;
    card.dataset.state = inc.state;
    card.classList.remove('is-empty');
    const unclaimed = inc.state === 'received';
    parts.head.className = `card-head${unclaimed ? ' hot' : ''}`;
    fill(parts.head,
      h('div', { class: 'card-title' },
        h('h2', { 'data-testid': 'card-school' }, inc.school?.name || ''),
        kindChip(inc, 'kind-big'),
        badge(inc.state),
        h('span', { class: 'card-id' }, t('card.title', { id: inc.id })),
        h('span', { class: 'card-age', 'data-card-age': inc.received_at || inc.raised_at }, t('age', { t: dur(ageSecs(inc.received_at || inc.raised_at)) }))),
      inc.escalated_at ? h('div', { class: 'card-esc', 'data-testid': 'card-escalated' }, '⚠ ', t('card.escalated', { t: clock(inc.escalated_at) })) : null,
      inc.claimed_by ? h('div', { class: 'card-sub' }, `${t('card.claimedby')}${t('colon')}${inc.claimed_by.name}`, inc.dispatches?.length ? ` · ${t('card.dispatches')}${t('colon')}${inc.dispatches.map((d) => [d.unit, d.officer_name].filter(Boolean).join(' / ')).join('；')}` : '') : null,
      inc.disposition ? h('div', { class: 'card-sub' }, `${t('card.disposition')}${t('colon')}${t(`disp.${inc.disposition}`)}${inc.resolution_note ? `（${inc.resolution_note}）` : ''}`) : null);
    fill(parts.info, renderInfo(inc));
    parts.msg.hidden = !st.actionMsg;
    parts.msg.className = `action-msg ${st.actionMsg?.kind || ''}`;
    parts.msg.textContent = st.actionMsg?.text || '';
    const keyNow = `${inc.id}|${inc.state}|${inc.claimed_by?.user_id ?? ''}|${inc.accidental_reported_at ? 1 : 0}|${st.officers ? st.officers.length : 'x'}`;
    if (st.actionsKey !== keyNow) {
      fill(parts.actions, renderActions(inc));
      st.actionsKey = keyNow;
    }
    parts.tlTitle.textContent = t('card.timeline');
    fill(parts.tl, inc.timeline ? timeline(inc.timeline) : h('p', { class: 'muted' }, t('loading')));
    parts.audit.update(inc);
  }

  function showMsg(kind, text) {
    st.actionMsg = { kind, text };
    if (parts) { parts.msg.textContent = text; parts.msg.className = `action-msg ${kind}`; parts.msg.hidden = false; }
  }

  // ---- actions --------------------------------------------------------------------------
  async function run(action, body, button) {
    const id = st.selected;
    const all = card.querySelectorAll('.actions button');
    all.forEach((b) => { b.disabled = true; });
    const label = button?.textContent;
    if (button) button.textContent = t('act.busy');
    st.actionMsg = null;
    try {
      const d = await api.act(id, action, body);
      if (st.selected === id) st.detail = d;
      store.put(d);
      if (d.state === 'closed') store.delete(d.id);
      st.actionsKey = '';
      renderQueue();
      renderCard();
      return true;
    } catch (e) {
      if (button) button.textContent = label;
      all.forEach((b) => { b.disabled = false; });
      showMsg('error', errText(e));
      if (['already_claimed', 'claimed_by_other', 'wrong_state', 'not_found'].includes(e.code)) loadDetail(id);
      return false;
    }
  }

  function noteField(testid) {
    return h('input', { type: 'text', class: 'input', maxlength: 500, placeholder: t('act.notefield'), 'data-testid': testid, 'aria-label': t('act.notefield') });
  }

  function renderActions(inc) {
    const box = h('div', { class: 'actions', 'data-testid': 'actions' });
    const s = inc.state;
    if (s === 'received') {
      const b = h('button', { type: 'button', class: 'btn btn-claim', 'data-testid': 'act-claim' }, t('act.claim'));
      b.onclick = () => run('claim', {}, b);
      box.appendChild(b);
    }
    const mine = !inc.claimed_by || inc.claimed_by.user_id === me.user.id || me.user.role === 'police_supervisor';
    if (!mine && s !== 'closed') {
      box.appendChild(h('p', { class: 'notice', 'data-testid': 'claimed-by-other' }, t('act.others', { who: inc.claimed_by.name })));
    }
    if (s === 'dispatched' && mine) {
      const b = h('button', { type: 'button', class: 'btn btn-primary btn-big', 'data-testid': 'act-arrive' }, t('act.arrive'));
      b.onclick = () => run('arrive', {}, b);
      box.appendChild(b);
    }
    if (['claimed', 'dispatched', 'on_scene'].includes(s) && mine) {
      const region = inc.school?.police_region?.name || '';
      const unit = h('input', { type: 'text', class: 'input', maxlength: 120, 'data-testid': 'dispatch-unit', id: 'dispatch-unit', value: region ? `${region}${t('act.dispatch.unitsuffix')}` : '' });
      const officer = h('select', { class: 'input', 'data-testid': 'dispatch-officer', id: 'dispatch-officer' },
        h('option', { value: '' }, t('act.dispatch.nobody')),
        (st.officers || []).map((o) => h('option', { value: o.id }, `${o.display_name}${o.phone ? ` (${o.phone})` : ''}`)));
      const note = noteField('dispatch-note');
      const b = h('button', { type: 'submit', class: `btn ${s === 'claimed' ? 'btn-primary btn-big' : ''}`, 'data-testid': 'act-dispatch' }, s === 'claimed' ? t('act.dispatch') : t('act.dispatch.again'));
      const form = h('form', { class: 'act-form', 'data-testid': 'dispatch-form' },
        h('h4', null, s === 'claimed' ? t('act.dispatch') : t('act.dispatch.again')),
        h('label', { for: 'dispatch-unit' }, t('act.dispatch.unit')), unit,
        h('label', { for: 'dispatch-officer' }, t('act.dispatch.officer')), officer,
        note, b);
      form.onsubmit = (e) => {
        e.preventDefault();
        const body = { unit: unit.value.trim() };
        if (officer.value) body.officer_user_id = Number(officer.value);
        if (note.value.trim()) body.note = note.value.trim();
        run('dispatch', body, b);
      };
      box.appendChild(form);

      const disp = h('select', { class: 'input', 'data-testid': 'resolve-disposition', id: 'resolve-disposition', required: true },
        h('option', { value: '' }, t('act.pick')),
        DISPOSITIONS.map((d) => h('option', { value: d }, t(`disp.${d}`))));
      if (inc.accidental_reported_at) disp.value = 'false_alarm';
      const rnote = noteField('resolve-note');
      const rb = h('button', { type: 'submit', class: 'btn', 'data-testid': 'act-resolve' }, t('act.resolve'));
      const rform = h('form', { class: 'act-form', 'data-testid': 'resolve-form' },
        h('h4', null, t('act.resolve')),
        h('label', { for: 'resolve-disposition' }, t('act.resolve.disp')), disp, rnote, rb);
      rform.onsubmit = (e) => {
        e.preventDefault();
        if (!disp.value) { disp.focus(); showMsg('error', t('act.pick')); return; }
        const body = { disposition: disp.value };
        if (rnote.value.trim()) body.note = rnote.value.trim();
        run('resolve', body, rb);
      };
      box.appendChild(rform);
    }
    if (s === 'resolved' && mine) {
      const note = noteField('close-note');
      const b = h('button', { type: 'submit', class: 'btn btn-primary btn-big', 'data-testid': 'act-close' }, t('act.close'));
      const form = h('form', { class: 'act-form' }, h('h4', null, t('act.close')), note, b);
      form.onsubmit = (e) => { e.preventDefault(); run('close', note.value.trim() ? { note: note.value.trim() } : {}, b); };
      box.appendChild(form);
    }
    if (s === 'closed') box.appendChild(h('p', { class: 'muted' }, t('act.closed')));
    if (s !== 'closed') {
      const text = h('input', { type: 'text', class: 'input', maxlength: 1000, placeholder: t('act.note.placeholder'), 'data-testid': 'note-text', 'aria-label': t('act.note') });
      const b = h('button', { type: 'submit', class: 'btn', 'data-testid': 'act-note' }, t('act.note.submit'));
      const form = h('form', { class: 'act-form act-note' }, h('h4', null, t('act.note')), h('div', { class: 'row' }, text, b));
      form.onsubmit = async (e) => { e.preventDefault(); if (!text.value.trim()) return; if (await run('notes', { text: text.value.trim() }, b)) text.value = ''; };
      box.appendChild(form);
    }
    return box;
  }

  // ---- data -----------------------------------------------------------------------------
  async function loadQueue() {
    const started = Date.now();
    try {
      const list = await api.listIncidents('active');
      store.load(list, (inc) => inc.state !== 'closed' && new Date(inc.updated_at) >= started - 1000);
      st.loaded = true;
      document.body.dataset.loaded = 'true';
      renderQueue();
      if (st.selected == null) {
        const first = queueList().find((i) => i.state === 'received');
        if (first) select(first.id);
      } else {
        renderCard();
        loadDetail(st.selected);
      }
    } catch (e) {
      console.warn('queue load failed', e);
    }
  }

  let detailTimer = null;
  function onEvent(ev) {
    const inc = ev.incident;
    const changed = store.put(inc);
    if (inc.state === 'closed' && st.selected !== inc.id) store.delete(inc.id);
    if (!changed) return;
    renderQueue();
    if (st.selected === inc.id) {
      renderCard();
      clearTimeout(detailTimer);
      detailTimer = setTimeout(() => loadDetail(inc.id), 150);
    } else if (st.selected == null && inc.state === 'received') {
      select(inc.id);
    }
  }

  const live = new api.Live({
    onEvent,
    onDevice,
    onOpen: () => { loadQueue(); loadDevices(); },
    onState: (s) => {
      st.live = s;
      conn.show(s === 'down');
      connDot.className = `conn-dot ${s === 'open' ? 'ok' : 'bad'}`;
      connDot.textContent = s === 'open' ? t('conn.live') : t('conn.down');
      document.body.dataset.live = s;
    },
  });

  api.officers().then((o) => { st.officers = o; st.actionsKey = ''; renderCard(); }).catch(() => { st.officers = []; });

  function relabel() {
    qTitle.textContent = t('queue.title');
    connDot.textContent = st.live === 'open' ? t('conn.live') : t('conn.down');
    conn.relabel();
    renderShift();
    renderSignals();
    for (const el of items.values()) el.remove();
    items.clear();
    dropCams();
    parts = null;
    renderQueue();
    renderCard();
  }

  relabel();
  const offTick = everySecond(tickQueue);

  return {
    relabel,
    destroy() {
      dropCams();
      live.stop();
      offTick();
      offSound();
      sound.alerting(false);
      clearTimeout(detailTimer);
    },
  };
}

/** A crossed-out speaker, drawn inline (no icon font or emoji needed). */
function mutedIcon() {
  return svg('svg', { viewBox: '0 0 24 24', width: 26, height: 26, class: 'banner-icon', 'aria-hidden': 'true' },
    svg('path', { d: 'M3 9h4l5-4v14l-5-4H3z', fill: 'currentColor' }),
    svg('path', { d: 'M16 9l6 6M22 9l-6 6', stroke: 'currentColor', 'stroke-width': 2.2, 'stroke-linecap': 'round', fill: 'none' }));
}

function fmtCoord(v) {
  return Number.isFinite(v) ? v.toFixed(6) : '—';
}
