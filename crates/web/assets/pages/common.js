// pages/common.js — pieces several pages draw the same way: state badges, the responsible-people
// list with tel: links, the timeline, the live-connection banner, and the incident store that
// merges list loads with SSE events (newest copy wins).

import { h, stamp, clock, isNewer } from '../util.js';
import { t } from '../i18n.js';

export function badge(state) {
  return h('span', { class: `badge st-${state}`, 'data-testid': 'state-badge', 'data-state': state }, t(`state.${state}`));
}

export function telLink(phone, label) {
  return h('a', { class: 'tel', href: `tel:${String(phone).replace(/[^\d+]/g, '')}` }, label || phone);
}

export function peopleList(people) {
  if (!people?.length) return h('p', { class: 'muted' }, '—');
  return h('ul', { class: 'people', 'data-testid': 'people' },
    people.map((p) => h('li', null,
      h('span', { class: 'p-role' }, t(`person.${p.role}`)),
      h('span', { class: 'p-name' }, p.name),
      telLink(p.phone))));
}

function entryText(e) {
  let s = t(`tl.${e.kind}`);
  const d = e.data || {};
  if (e.kind === 'dispatched') s += `${t('colon')}${[d.unit, d.officer_name].filter(Boolean).join(' / ')}`;
  if (e.kind === 'resolved' && d.disposition) s += `${t('colon')}${t(`disp.${d.disposition}`)}`;
  if (e.kind === 'raised' && d.silent) s += `（${t('queue.silent')}）`;
  return s;
}

export function timeline(entries) {
  return h('ol', { class: 'timeline', 'data-testid': 'timeline' },
    (entries || []).map((e) => h('li', { class: `tl-${e.kind}`, 'data-kind': e.kind },
      h('time', { datetime: e.at, title: e.at }, stamp(e.at)),
      h('div', { class: 'tl-body' },
        h('div', { class: 'tl-what' }, entryText(e)),
        h('div', { class: 'tl-who muted' }, e.actor?.name === 'system' ? '' : (e.actor?.name || '')),
        e.note && h('div', { class: 'tl-note' }, e.note)))));
}

/** The "connection lost" banner, added to / removed from `banners`. */
export function connBanner(banners) {
  let el = null;
  return {
    show(down) {
      if (down && !el) {
        el = h('div', { class: 'banner banner-conn', role: 'alert', 'data-testid': 'conn-banner' }, h('span', { class: 'spinner' }), h('span', { class: 'banner-text' }, t('banner.conn')));
        banners.appendChild(el);
      } else if (!down && el) {
        el.remove();
        el = null;
      }
    },
    relabel() { if (el) el.querySelector('.banner-text').textContent = t('banner.conn'); },
  };
}

/** Incidents by id; `put` keeps the newest copy and says whether anything changed. */
export class IncidentStore {
  constructor() { this.map = new Map(); }
  put(inc) {
    const prev = this.map.get(inc.id);
    if (!isNewer(inc, prev)) return false;
    this.map.set(inc.id, prev ? { ...prev, ...inc } : inc);
    return true;
  }
  /** Replaces everything with a fresh list, keeping fresher SSE copies. */
  load(list, keep = () => false) {
    const next = new Map();
    for (const inc of list) {
      const prev = this.map.get(inc.id);
      next.set(inc.id, prev && !isNewer(inc, prev) ? prev : inc);
    }
    for (const [id, inc] of this.map) if (!next.has(id) && keep(inc)) next.set(id, inc);
    this.map = next;
  }
  get(id) { return this.map.get(id); }
  delete(id) { this.map.delete(id); }
  all() { return [...this.map.values()]; }
}

export function dispatchSummary(inc) {
  return (inc.dispatches || []).map((d) => [d.unit, d.officer_name].filter(Boolean).join(' / ')).join('；');
}

export { clock };
