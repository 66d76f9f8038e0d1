// audit.js — the incident card's 审计记录 (audit trail): a collapsible list of the incident's
// entries from GET /api/v1/incidents/{id}/audit, one line each: time, who (name and role, or
// the device / the system) and what, e.g. `09:01:02 接警员 李娜（接警员） 认领警情`. Loaded when
// opened, and again when the incident changes while it is open.

import * as api from './api.js';
import { h, fill, clock } from './util.js';
import { t, errText } from './i18n.js';

/** Who did it, as the console shows people and devices. */
function who(actor) {
  const name = actor?.name || '';
  if (actor?.role) return `${name}${t('audit.role', { r: t(`role.${actor.role}`) })}`;
  if (name === 'system') return t('audit.system');
  const dc = /^dc09:(.+)$/.exec(name);
  if (dc) return t('audit.dc09', { a: dc[1] });
  const gb = /^gb:(.+)$/.exec(name);
  if (gb) return t('gb.device.v', { id: gb[1] });
  return name;
}

function what(e) {
  const key = `audit.${e.action}`;
  const s = t(key);
  return s === key ? e.action : s;
}

function row(e) {
  return h('li', { 'data-testid': 'audit-entry', 'data-action': e.action, 'data-seq': String(e.seq) },
    h('time', { datetime: e.at, title: e.at }, clock(e.at)),
    h('span', { class: 'audit-who' }, who(e.actor)),
    h('span', { class: 'audit-what' }, what(e)));
}

/** The audit list of incident `id`: `{ el, update(incident) }`. */
export function auditList(id) {
  const list = h('div', { class: 'audit-body' });
  const summary = h('summary', null, t('audit.title'));
  const el = h('details', { class: 'audit', 'data-testid': 'audit' }, summary, list);
  let version = null;
  let loadedFor = null;
  let seq = 0;

  async function load() {
    const mine = ++seq;
    loadedFor = version;
    try {
      const body = await api.get(`/api/v1/incidents/${id}/audit`);
      if (mine !== seq) return;
      const entries = body?.entries || [];
      fill(list, entries.length
        ? h('ol', { class: 'audit-list' }, entries.map(row))
        : h('p', { class: 'muted' }, t('audit.empty')));
    } catch (e) {
      if (mine !== seq) return;
      loadedFor = null;
      fill(list, h('p', { class: 'muted' }, errText(e)));
    }
  }

  el.addEventListener('toggle', () => {
    if (el.open && loadedFor !== version) load();
  });

  return {
    el,
    /** Called on every render of the card; reloads an open list when the incident changed. */
    update(inc) {
      summary.textContent = t('audit.title');
      version = `${inc.state}|${inc.updated_at || ''}|${inc.press_count ?? ''}`;
      if (el.open && loadedFor !== version) load();
    },
  };
}
