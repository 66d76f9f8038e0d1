// pages/field.js — 出警任务, the field officer's phone page (police_officer): the incidents
// dispatched to me with kind, school, address, alarm point, the alarm panel's event and reported
// position (DC-09), navigation link and contacts, and a big
// 到达现场 button; kept live from the event stream.

import * as api from '../api.js';
import { h, fill, ageSecs, clock, stamp, everySecond, queueOrder, amapLink, amapPointLink, safeUrl, num } from '../util.js';
import { t, dur, errText } from '../i18n.js';
import { badge, peopleList, telLink, connBanner, IncidentStore, dispatchSummary, kindChip, eventLabel, isGbDetails } from './common.js';

const OPEN = ['received', 'claimed', 'dispatched', 'on_scene'];

export function mount(root, { me, banners }) {
  const store = new IncidentStore();
  const people = new Map(); // incident id -> people
  const errors = new Map(); // incident id -> message
  const busy = new Set();
  let loaded = false;
  const conn = connBanner(banners);
  const title = h('h1', { class: 'page-title' });
  const list = h('div', { class: 'field-list', 'data-testid': 'field-list' });
  fill(root, h('div', { class: 'field-page' }, title, list));

  async function loadPeople(id) {
    if (people.has(id)) return;
    people.set(id, null);
    try {
      const d = await api.incident(id);
      people.set(id, d.people || []);
      store.put(d);
      render();
    } catch { people.delete(id); }
  }

  async function arrive(id) {
    busy.add(id);
    errors.delete(id);
    render();
    try {
      const d = await api.act(id, 'arrive', {});
      store.put(d);
    } catch (e) {
      errors.set(id, errText(e));
      if (e.code === 'wrong_state') api.incident(id).then((d) => { store.put(d); render(); }).catch(() => {});
    }
    busy.delete(id);
    render();
  }

  function item(inc) {
    const s = inc.school || {};
    const ap = inc.alarm_point || {};
    const region = s.police_region;
    const d = inc.details || null;
    const lat = num(d?.lat), lon = num(d?.lon);
    const link = safeUrl(d?.verify_url);
    return h('article', { class: `field-item st-${inc.state}`, 'data-testid': 'field-item', 'data-incident-id': inc.id, 'data-state': inc.state },
      h('header', null,
        h('h2', null, s.name || ''),
        kindChip(inc),
        badge(inc.state)),
      h('p', { class: 'fi-point' }, h('strong', null, `${t('card.point')}${t('colon')}${ap.name || ''}`), ap.location ? ` · ${ap.location}` : ''),
      h('p', null, `${t('card.address')}${t('colon')}${s.address || ''}`, ' ', h('a', { href: amapLink(s), target: '_blank', rel: 'noopener noreferrer', class: 'nav-link' }, t('field.nav'), ' ↗')),
      d && isGbDetails(d) ? h('p', { class: 'fi-dc', 'data-testid': 'field-gb' }, `${t('src.gb28181')}${t('colon')}${eventLabel(d, inc.kind)} · ${t('gb.device.v', { id: d.channel_id })}`,
        d.description ? ` · ${d.description}` : '',
        lat != null && lon != null ? [' · ', h('a', { href: amapPointLink(lat, lon, t('dc.map.mark')), target: '_blank', rel: 'noopener noreferrer', class: 'nav-link' }, t('dc.map.mark'), ' ↗')] : null) : null,
      d && !isGbDetails(d) ? h('p', { class: 'fi-dc', 'data-testid': 'field-dc09' }, `${t('src.dc09')}${t('colon')}${eventLabel(d, inc.kind)} · ${t('dc.account.v', { a: d.account })}`,
        lat != null && lon != null ? [' · ', h('a', { href: amapPointLink(lat, lon, t('dc.map.mark')), target: '_blank', rel: 'noopener noreferrer', class: 'nav-link' }, t('dc.map.mark'), ' ↗')] : null,
        link ? [' · ', h('a', { href: link, target: '_blank', rel: 'noopener noreferrer' }, t('dc.verify.open'), ' ↗')] : null) : null,
      h('p', { class: 'muted' }, `${t('card.raisedat')} ${stamp(inc.raised_at)} · `, h('span', { 'data-age-of': inc.raised_at }, t('age', { t: dur(ageSecs(inc.raised_at)) })), inc.silent ? ` · ${t('queue.silent')}` : ''),
      inc.dispatches?.length ? h('p', null, `${t('field.unit')}${t('colon')}${dispatchSummary(inc)}`) : null,
      inc.accidental_reported_at ? h('p', { class: 'notice notice-acc' }, t('card.accidental', { t: clock(inc.accidental_reported_at) })) : null,
      inc.state === 'dispatched'
        ? h('button', { type: 'button', class: 'btn btn-primary btn-huge', 'data-testid': 'field-arrive', disabled: busy.has(inc.id), onclick: () => arrive(inc.id) }, busy.has(inc.id) ? t('act.busy') : t('field.arrive'))
        : inc.on_scene_at ? h('p', { class: 'arrived', 'data-testid': 'field-arrived' }, '✓ ', t('field.arrived', { t: clock(inc.on_scene_at) })) : null,
      errors.has(inc.id) ? h('p', { class: 'form-error', 'data-testid': 'field-error' }, errors.get(inc.id)) : null,
      h('h3', null, t('field.contacts')),
      people.get(inc.id) ? peopleList(people.get(inc.id)) : h('p', { class: 'muted' }, t('loading')),
      region?.phone ? h('p', { class: 'muted' }, `${region.name} ${t('card.duty')} `, telLink(region.phone)) : null);
  }

  function render() {
    title.textContent = t('field.title');
    const open = store.all().filter((i) => OPEN.includes(i.state)).sort(queueOrder);
    for (const inc of open) loadPeople(inc.id);
    fill(list, open.length ? open.map(item) : h('p', { class: 'empty', 'data-testid': 'field-empty' }, loaded ? t('field.empty') : t('loading')));
  }

  async function load() {
    const started = Date.now();
    try {
      store.load(await api.listIncidents('open'), (inc) => new Date(inc.updated_at) >= started - 1000);
      loaded = true;
      document.body.dataset.loaded = 'true';
    } catch (e) { console.warn(e); }
    render();
  }

  const live = new api.Live({
    onEvent: (ev) => { if (store.put(ev.incident)) render(); },
    onOpen: load,
    onState: (s) => { conn.show(s === 'down'); document.body.dataset.live = s; },
  });
  const offTick = everySecond(() => {
    for (const el of list.querySelectorAll('[data-age-of]')) el.textContent = t('age', { t: dur(ageSecs(el.dataset.ageOf)) });
  });
  render();
  return {
    relabel() { conn.relabel(); render(); },
    destroy() { live.stop(); offTick(); },
  };
}
