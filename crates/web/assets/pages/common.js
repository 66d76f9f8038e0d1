// pages/common.js — pieces several pages draw the same way: state badges, incident kind labels
// (一键报警 / 紧急求助 / 无声求助 …, and the GB/T 28181 kinds 设备报警输入 / 入侵检测 …) and the
// DC-09 / GB/T 28181 event text, the responsible-people list with tel: links, the timeline, the
// live-connection banner, the incident store that merges list loads with SSE events (newest copy
// wins), and the device side: device names (账号 1111 / 国标设备 …), the signal/health store,
// signal rows and device-health lines.

import { h, stamp, clock, isNewer, safeUrl } from '../util.js';
import { t, getLang } from '../i18n.js';

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
  if ((e.kind === 'raised' || e.kind === 'joined') && d.details) s += `${t('colon')}${eventLabel(d.details, d.kind)}`;
  if ((e.kind === 'raised' || e.kind === 'joined') && d.silent) s += paren(t('queue.silent'));
  return s;
}

export function timeline(entries) {
  return h('ol', { class: 'timeline', 'data-testid': 'timeline' },
    (entries || []).map((e) => {
      const det = (e.kind === 'raised' || e.kind === 'joined') ? e.data?.details : null;
      const link = det && safeUrl(det.verify_url);
      return h('li', { class: `tl-${e.kind}`, 'data-kind': e.kind },
        h('time', { datetime: e.at, title: e.at }, stamp(e.at)),
        h('div', { class: 'tl-body' },
          h('div', { class: 'tl-what' }, entryText(e)),
          h('div', { class: 'tl-who muted' }, e.actor?.name === 'system' ? '' : actorName(e.actor),
            det?.zone != null ? ` · ${t('dc.zone.v', { z: pad3(det.zone) })}` : '',
            det?.encrypted ? ` · ${t('dc.encrypted')}` : ''),
          link ? h('a', { href: link, target: '_blank', rel: 'noopener noreferrer', class: 'tl-link' }, t('dc.verify.open'), ' ↗') : null,
          e.note && h('div', { class: 'tl-note' }, e.note)));
    }));
}

// ---- incident kinds and DC-09 events ------------------------------------------------------

const KINDS = ['panic', 'silent_panic', 'hold_up', 'duress', 'fire', 'medical', 'burglary', 'tamper', 'unknown'];

/** GB/T 28181 alarm kinds (crates/proto/manscdp/src/alarm.rs `AlarmKind::as_str`). */
export const GB_KINDS = ['telephone_alarm', 'device_alarm', 'video_loss', 'tamper', 'disk_full', 'high_temperature',
  'low_temperature', 'sms_alarm', 'gps_alarm', 'manual_video_alarm', 'motion_detection', 'abandoned_object',
  'object_removed', 'tripwire', 'intrusion', 'wrong_way', 'loitering', 'flow_count', 'crowd_density', 'video_anomaly',
  'fast_movement', 'video_alarm', 'disk_fault', 'fan_fault', 'device_fault', 'other_alarm', 'unknown'];

const isGb = (inc) => inc?.source === 'gb28181';

/** The i18n key suffix for an incident's kind: a web press is 一键报警, a panel's panic 紧急求助. */
export function kindKey(inc) {
  if (!inc) return 'web';
  if (isGb(inc)) return GB_KINDS.includes(inc.kind) ? inc.kind : 'unknown';
  if ((inc.kind || 'panic') === 'panic' && (inc.source || 'web') === 'web') return 'web';
  return KINDS.includes(inc.kind) ? inc.kind : 'unknown';
}

export function kindLabel(inc) {
  const k = kindKey(inc);
  if (isGb(inc)) return t(`gbkind.${k}`);
  const code = k === 'unknown' ? inc.details?.code : null;
  return code ? `${t('ikind.unknown')} ${code}` : t(`ikind.${k}`);
}

/** The kind as a small coloured label: data-testid="kind", data-kind = the API kind. */
export function kindChip(inc, extra = '') {
  const k = kindKey(inc);
  return h('span', { class: `kind-chip k-${k}${extra ? ` ${extra}` : ''}`, 'data-testid': 'kind', 'data-kind': inc?.kind || 'panic' }, kindLabel(inc));
}

/** "（…）" in Chinese, " (…)" in English. */
export function paren(s) {
  return getLang() === 'en' ? ` (${s})` : `（${s}）`;
}

export function pad3(n) {
  return typeof n === 'number' ? String(n).padStart(3, '0') : String(n);
}

/** GB/T 28181 details (device and channel IDs) rather than DC-09 ones. */
export function isGbDetails(d) {
  return !!d && typeof d.channel_id === 'string' && typeof d.device_id === 'string';
}

/** "紧急求助（SIA PA）", "无声求助（CID 1122）", "未识别事件（SIA XZ）"; GB/T 28181: "入侵检测（进入区域）". */
export function eventLabel(d, kind) {
  if (!d) return '';
  const en = getLang() === 'en';
  if (isGbDetails(d)) {
    const text = GB_KINDS.includes(kind) ? t(`gbkind.${kind}`) : (en ? d.text_en || d.text_zh : d.text_zh || d.text_en) || t('gbkind.unknown');
    const ev = d.event_type === 1 || d.event_type === 2 ? t(`gb.event.${d.event_type}`) : '';
    return `${text}${ev ? paren(ev) : ''}`;
  }
  const text = kind === 'unknown' || (!d.text_zh && !d.text_en)
    ? t('ikind.unknown')
    : (en ? d.text_en || d.text_zh : d.text_zh || d.text_en);
  const proto = d.protocol === 'ADM-CID' ? 'CID' : d.protocol === 'SIA-DCS' ? 'SIA' : (d.protocol || '');
  const code = [proto, d.code].filter(Boolean).join(' ');
  const q = d.qualifier === 'restore' ? t('dc.qualifier.restore') : d.qualifier === 'status' ? t('dc.qualifier.status') : '';
  return `${text}${q}${code ? paren(code) : ''}`;
}

export function sourceLabel(inc) {
  const s = inc?.source || 'web';
  return s === 'web' || s === 'dc09' || s === 'gb28181' ? t(`src.${s}`) : `${t('src.other')} ${s}`;
}

/** An actor's name; the server names GB/T 28181 senders "国标设备 {id}" in Chinese. */
export function actorName(a) {
  const n = a?.name || '';
  const m = /^国标设备 (\d+)$/.exec(n);
  return m && !a.user_id ? t('gb.device.v', { id: m[1] }) : n;
}

// ---- devices: signals and health ----------------------------------------------------------

/** School and alarm-point names by id, from `me.schools`. */
export function places(schools) {
  const school = new Map();
  const point = new Map();
  for (const s of schools || []) {
    school.set(s.id, s.name);
    for (const p of s.alarm_points || []) point.set(p.id, p.name);
  }
  return {
    school: (id) => (id == null ? null : school.get(id) || `#${id}`),
    point: (id) => (id == null ? null : point.get(id) || null),
  };
}

const devKey = (d) => `${d.source}:${d.device}`;

/** Recent signals (by id, newest first) and the health of each device. */
export class DeviceStore {
  constructor(limit = 200) { this.limit = limit; this.signals = new Map(); this.health = new Map(); }
  loadSignals(list) {
    const next = new Map(list.map((s) => [s.id, s]));
    const top = list.reduce((m, s) => Math.max(m, s.id), 0);
    for (const [id, s] of this.signals) if (id > top) next.set(id, s); // arrived during the load
    this.signals = next;
  }
  /** True when the signal is new. */
  putSignal(s) {
    if (this.signals.has(s.id)) return false;
    this.signals.set(s.id, s);
    if (this.signals.size > this.limit * 1.5) {
      const keep = this.signalList().slice(0, this.limit);
      this.signals = new Map(keep.map((x) => [x.id, x]));
    }
    return true;
  }
  signalList() { return [...this.signals.values()].sort((a, b) => b.id - a.id); }
  loadHealth(list) {
    const next = new Map(list.map((d) => [devKey(d), d]));
    this.health = next;
  }
  /** True when it changed anything. */
  putHealth(d) {
    const prev = this.health.get(devKey(d));
    if (prev && new Date(prev.updated_at) > new Date(d.updated_at)) return false;
    this.health.set(devKey(d), d);
    return true;
  }
  devices() { return [...this.health.values()].sort((a, b) => (a.school_id ?? 0) - (b.school_id ?? 0) || String(a.device).localeCompare(String(b.device))); }
  problems() { return this.devices().filter((d) => d.state !== 'ok').sort((a, b) => (a.state === 'comm_failure' ? 0 : 1) - (b.state === 'comm_failure' ? 0 : 1)); }
  ofSchool(id) { return this.devices().filter((d) => d.school_id === id); }
}

export function healthPill(state) {
  return h('span', { class: `hpill h-${state}`, 'data-testid': 'health-state', 'data-state': state }, t(`dev.state.${state}`));
}

/** "账号 1111" for a DC-09 account, "国标设备 4228…" for a GB/T 28181 device. */
export function deviceName(d) {
  if (d.source === 'dc09') return t('dc.account.v', { a: d.device });
  if (d.source === 'gb28181') return t('gb.device.v', { id: d.device });
  return `${d.source} ${d.device}`;
}

/** English for the health details the server writes in Chinese. */
const DETAIL_EN = {
  '交流电断电': 'AC power loss',
  '电池欠压': 'Low battery',
  '故障': 'Trouble',
  '收到未加密报文（未认证信号）': 'Unencrypted frame received (unauthenticated signal)',
  '设备已注销': 'Device unregistered',
  '注册已过期': 'Registration expired',
};

/** The English label of a GB/T 28181 kind from its Chinese label (health details carry the latter). */
function gbKindEn(zh) {
  const k = GB_KINDS.find((x) => t(`gbkind.${x}`) === zh);
  return k ? t(`gbkind.${k}`) : null;
}

export function detailText(d) {
  if (!d.detail || getLang() !== 'en') return d.detail;
  if (DETAIL_EN[d.detail]) return DETAIL_EN[d.detail];
  if (d.state === 'comm_failure') {
    const secs = /^(\d+)秒/.exec(d.detail)?.[1];
    return secs ? `No signal for ${secs} s (communication failure)` : 'Communication failure';
  }
  const faulty = /^设备报告故障通道：(.*)$/.exec(d.detail)?.[1];
  if (faulty) return `Faulty channels reported: ${faulty.split('、').join(', ')}`;
  return d.detail;
}

/** One device's health: pill, school/point, account, detail, last heard. */
export function deviceLine(d, where, { school = true } = {}) {
  const loc = [school ? where.school(d.school_id) : null, where.point(d.alarm_point_id), deviceName(d)].filter(Boolean).join(' · ');
  return h('div', { class: `dev h-${d.state}`, 'data-testid': 'device', 'data-device': d.device, 'data-state': d.state, 'data-school-id': d.school_id ?? '' },
    h('div', { class: 'dev-top' }, healthPill(d.state), h('strong', { class: 'dev-where' }, loc)),
    h('div', { class: 'dev-sub' },
      d.detail ? h('span', { class: 'dev-detail' }, detailText(d)) : null,
      h('span', { class: 'dev-seen muted', title: d.last_seen }, t('dev.lastseen', { t: stamp(d.last_seen) }))));
}

/** One signal: severity, kind, time, where (school · point · account, or unregistered) and summary. */
export function signalItem(s, where) {
  const d = s.data || {};
  const en = getLang() === 'en';
  const known = t(`sig.kind.${s.kind}`);
  const gbKind = s.source === 'gb28181' && GB_KINDS.includes(s.kind) ? t(`gbkind.${s.kind}`) : null;
  const kind = known !== `sig.kind.${s.kind}` ? known : gbKind || s.kind;
  const school = where.school(s.school_id);
  const loc = school
    ? [school, where.point(s.alarm_point_id), deviceName(s)].filter(Boolean).join(' · ')
    : [t('sig.unregistered'), deviceName(s), d.peer].filter(Boolean).join(' · ');
  const sum = en ? d.summary_en || gbSummaryEn(s, kind) || [d.text_en && d.text_en !== kind ? d.text_en : null, d.zone != null ? t('dc.zone.v', { z: pad3(d.zone) }) : null].filter(Boolean).join(' · ') : s.summary;
  return h('li', { class: `sig sev-${s.severity}`, 'data-testid': 'signal-item', 'data-kind': s.kind, 'data-severity': s.severity, 'data-signal-id': s.id, 'data-school-id': s.school_id ?? '' },
    h('div', { class: 'sig-top' },
      h('span', { class: 'sig-sev' }, t(`sig.sev.${s.severity}`)),
      h('strong', { class: 'sig-kind' }, kind),
      h('time', { class: 'sig-time', datetime: s.at, title: s.at }, stamp(s.at))),
    h('div', { class: 'sig-where' }, loc),
    sum ? h('div', { class: 'sig-sum' }, sum) : null);
}

/** English summary of a GB/T 28181 signal (the server writes `summary` in Chinese). */
function gbSummaryEn(s, kind) {
  if (s.source !== 'gb28181') return null;
  const d = s.data || {};
  const what = [d.text_en && d.text_en !== kind ? d.text_en : null, d.description].filter(Boolean).join(' · ');
  const ch = d.channel_id && d.channel_id !== s.device ? `channel ${d.channel_id}` : null;
  return [what, ch].filter(Boolean).join(', ') || null;
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
