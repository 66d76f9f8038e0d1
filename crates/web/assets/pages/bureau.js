// pages/bureau.js — 校园安全态势, the education bureau's read-only view (bureau_inspector,
// bureau_admin, sysadmin): counts, the region's open incidents (escalated ones highlighted, each
// with its kind), alarm devices in trouble or out of contact per school, and the recently closed
// incidents, kept live from the event stream.

import * as api from '../api.js';
import { h, fill, ageSecs, stamp, everySecond, queueOrder } from '../util.js';
import { t, dur } from '../i18n.js';
import { badge, connBanner, IncidentStore, dispatchSummary, kindChip, DeviceStore, places, healthPill, detailText, deviceName } from './common.js';

export function mount(root, { me, banners }) {
  const store = new IncidentStore();
  const devices = new DeviceStore(50);
  const where = places(me.schools);
  let loaded = false;
  let devLoaded = false;
  const conn = connBanner(banners);
  const stats = h('div', { class: 'stats', 'data-testid': 'bureau-stats' });
  const active = h('section', { class: 'panel', 'data-testid': 'bureau-active' });
  const recent = h('section', { class: 'panel', 'data-testid': 'bureau-recent' });
  const devPanel = h('section', { class: 'panel', 'data-testid': 'bureau-devices' });
  const head = h('div', { class: 'bureau-head' });
  fill(root, h('div', { class: 'bureau-page' }, head, stats, active, devPanel, recent));

  function devTable() {
    const list = devices.problems().sort((a, b) => (a.school_id ?? 0) - (b.school_id ?? 0) || (a.state === 'comm_failure' ? 0 : 1) - (b.state === 'comm_failure' ? 0 : 1));
    if (!list.length) return h('p', { class: 'muted empty', 'data-testid': 'bureau-devices-none' }, devLoaded ? t('bureau.devices.none') : t('loading'));
    return h('table', { class: 'itable' },
      h('thead', null, h('tr', null,
        ['bureau.col.school', 'bureau.col.device', 'bureau.col.state', 'bureau.col.detail', 'bureau.col.lastseen'].map((k) => h('th', { scope: 'col' }, t(k))))),
      h('tbody', null, list.map((d) => h('tr', { class: `h-${d.state}`, 'data-testid': 'bureau-device', 'data-device': d.device, 'data-state': d.state, 'data-school-id': d.school_id ?? '' },
        h('td', { 'data-label': t('bureau.col.school') }, h('strong', null, where.school(d.school_id) || '—')),
        h('td', { 'data-label': t('bureau.col.device') }, [where.point(d.alarm_point_id), deviceName(d)].filter(Boolean).join(' · ')),
        h('td', { 'data-label': t('bureau.col.state') }, healthPill(d.state)),
        h('td', { 'data-label': t('bureau.col.detail') }, detailText(d) || '—'),
        h('td', { 'data-label': t('bureau.col.lastseen') }, stamp(d.last_seen))))));
  }

  function renderDevices() {
    fill(devPanel, h('h2', null, t('bureau.devices')), devTable());
  }

  function table(list, withAge) {
    if (!list.length) return h('p', { class: 'muted empty' }, loaded ? t('bureau.empty') : t('loading'));
    return h('table', { class: 'itable' },
      h('thead', null, h('tr', null,
        ['bureau.col.time', 'bureau.col.school', 'bureau.col.kind', 'bureau.col.point', 'bureau.col.state', 'bureau.col.police', 'bureau.col.result'].map((k) => h('th', { scope: 'col' }, t(k))))),
      h('tbody', null, list.map((inc) => {
        const esc = inc.escalated_at && inc.state !== 'closed';
        return h('tr', { class: `${esc ? 'escalated' : ''} st-${inc.state}`, 'data-testid': 'bureau-row', 'data-incident-id': inc.id, 'data-state': inc.state, 'data-escalated': String(!!inc.escalated_at) },
          h('td', { 'data-label': t('bureau.col.time') }, stamp(inc.raised_at), withAge ? h('span', { class: 'muted', 'data-age-of': inc.raised_at }, ` · ${t('age', { t: dur(ageSecs(inc.raised_at)) })}`) : null),
          h('td', { 'data-label': t('bureau.col.school') }, h('strong', null, inc.school?.name || '')),
          h('td', { 'data-label': t('bureau.col.kind') }, kindChip(inc)),
          h('td', { 'data-label': t('bureau.col.point') }, inc.alarm_point?.name || ''),
          h('td', { 'data-label': t('bureau.col.state') }, badge(inc.state), esc ? h('span', { class: 'esc-mark', 'data-testid': 'escalated' }, t('queue.escalated')) : null,
            inc.accidental_reported_at ? h('span', { class: 'flag flag-acc' }, t('queue.accidental')) : null),
          h('td', { 'data-label': t('bureau.col.police') }, [inc.school?.police_region?.name, dispatchSummary(inc)].filter(Boolean).join(' · ')),
          h('td', { 'data-label': t('bureau.col.result') }, inc.disposition ? t(`disp.${inc.disposition}`) : '—'));
      })));
  }

  function render() {
    const all = store.all();
    const open = all.filter((i) => i.state !== 'closed').sort(queueOrder);
    const closed = all.filter((i) => i.state === 'closed').sort((a, b) => new Date(b.closed_at || b.updated_at) - new Date(a.closed_at || a.updated_at)).slice(0, 30);
    fill(head, h('h1', { class: 'page-title' }, t('page.bureau')), h('span', { class: 'muted' }, t('bureau.readonly')));
    const stat = (k, n, hot) => h('div', { class: `stat${hot && n ? ' hot' : ''}` }, h('div', { class: 'stat-n' }, String(n)), h('div', { class: 'stat-k' }, t(k)));
    fill(stats,
      stat('bureau.stat.active', open.length),
      stat('bureau.stat.unclaimed', open.filter((i) => i.state === 'received').length, true),
      stat('bureau.stat.escalated', open.filter((i) => i.escalated_at).length, true),
      devStat(),
      stat('bureau.stat.schools', (me.schools || []).length));
    renderDevices();
    fill(active, h('h2', null, t('bureau.active')), table(open, true));
    fill(recent, h('h2', null, t('bureau.recent')), table(closed, false));
  }

  function devStat() {
    const p = devices.problems();
    const comm = p.some((d) => d.state === 'comm_failure');
    return h('div', { class: `stat${comm ? ' hot' : p.length ? ' warn' : ''}`, 'data-testid': 'stat-devices' }, h('div', { class: 'stat-n' }, String(p.length)), h('div', { class: 'stat-k' }, t('bureau.stat.devices')));
  }

  async function loadDevices() {
    try {
      devices.loadHealth(await api.deviceHealth());
      devLoaded = true;
    } catch (e) { console.warn(e); }
    render();
  }

  async function load() {
    const started = Date.now();
    try {
      const [open, closed] = await Promise.all([api.listIncidents('active', 500), api.listIncidents('closed', 500)]);
      store.load([...open, ...closed], (inc) => new Date(inc.updated_at) >= started - 1000);
      loaded = true;
      document.body.dataset.loaded = 'true';
    } catch (e) { console.warn(e); }
    render();
  }

  const live = new api.Live({
    onEvent: (ev) => { if (store.put(ev.incident)) render(); },
    onDevice: (ev) => { if (ev.type === 'device_health' && devices.putHealth(ev.health)) render(); },
    onOpen: () => { load(); loadDevices(); },
    onState: (s) => { conn.show(s === 'down'); document.body.dataset.live = s; },
  });
  const offTick = everySecond(() => {
    for (const el of active.querySelectorAll('[data-age-of]')) el.textContent = ` · ${t('age', { t: dur(ageSecs(el.dataset.ageOf)) })}`;
  });
  render();
  return {
    relabel() { conn.relabel(); render(); },
    destroy() { live.stop(); offTick(); },
  };
}
