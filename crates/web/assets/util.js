// util.js — small DOM and time helpers shared by every page: the `h` element builder,
// clock and age formatting, the one-second ticker that keeps ages and colours fresh, map links
// (WGS-84 → GCJ-02 for Amap) and the http(s)-only check for links that come from devices.

/** Builds an element: h('div', {class: 'x', 'data-testid': 'y', onclick: fn}, child, ...). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.className = v;
      else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
      else if (k === 'value') el.value = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/** An SVG element (no text children). */
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }

/** Replaces the children of `el`. */
export function fill(el, ...children) { clear(el); append(el, children); return el; }

const pad = (n) => String(n).padStart(2, '0');

/** "14:03:07" in local time. */
export function clock(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** "11-29 14:03" in local time, or just the clock when it is today. */
export function stamp(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  const now = new Date();
  if (d.toDateString() === now.toDateString()) return clock(iso);
  return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Whole seconds since `iso` (never negative). */
export function ageSecs(iso) {
  if (!iso) return 0;
  return Math.max(0, Math.floor((Date.now() - new Date(iso).getTime()) / 1000));
}

const tickers = new Set();
let tickTimer = null;
/** Calls fn every second until the returned function is called. */
export function everySecond(fn) {
  tickers.add(fn);
  if (!tickTimer) tickTimer = setInterval(() => { for (const f of [...tickers]) { try { f(); } catch (e) { console.error(e); } } }, 1000);
  return () => tickers.delete(fn);
}

/** A fresh random key for Idempotency-Key. */
export function freshKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Queue order: priority (1 first), then oldest first. */
export function queueOrder(a, b) {
  return (a.priority - b.priority) || (new Date(a.received_at || a.raised_at) - new Date(b.received_at || b.raised_at)) || (a.id - b.id);
}

/** Keeps the newest copy of an incident: true when `next` is not older than `prev`. */
export function isNewer(next, prev) {
  if (!prev) return true;
  return new Date(next.updated_at || 0) >= new Date(prev.updated_at || 0);
}

/** Amap marker link for a school (GCJ-02 coordinates; just a link, nothing is loaded). */
export function amapLink(school) {
  const g = school.gcj02 || { lat: school.lat, lon: school.lon };
  return `https://uri.amap.com/marker?position=${g.lon.toFixed(6)},${g.lat.toFixed(6)}&name=${encodeURIComponent(school.name)}`;
}

/** Amap marker link for any WGS-84 position (converted to GCJ-02 here). */
export function amapPointLink(lat, lon, name) {
  const g = wgsToGcj(lat, lon);
  return `https://uri.amap.com/marker?position=${g.lon.toFixed(6)},${g.lat.toFixed(6)}&name=${encodeURIComponent(name || '')}`;
}

/** A link only when it is http(s): device data is never trusted with other schemes. */
export function safeUrl(u) {
  if (typeof u !== 'string') return null;
  try {
    const url = new URL(u.trim());
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

/** A finite number from a number or numeric string, else null. */
export function num(v) {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : null;
}

/** WGS-84 → GCJ-02 (the published offset formula; outside China it returns the input). */
export function wgsToGcj(lat, lon) {
  if (lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271) return { lat, lon };
  const a = 6378245.0;
  const ee = 0.00669342162296594323;
  const x = lon - 105.0;
  const y = lat - 35.0;
  const s = (v) => Math.sin(v * Math.PI);
  let dLat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  dLat += ((20.0 * s(6.0 * x) + 20.0 * s(2.0 * x)) * 2.0) / 3.0;
  dLat += ((20.0 * s(y) + 40.0 * s(y / 3.0)) * 2.0) / 3.0;
  dLat += ((160.0 * s(y / 12.0) + 320 * s(y / 30.0)) * 2.0) / 3.0;
  let dLon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  dLon += ((20.0 * s(6.0 * x) + 20.0 * s(2.0 * x)) * 2.0) / 3.0;
  dLon += ((20.0 * s(x) + 40.0 * s(x / 3.0)) * 2.0) / 3.0;
  dLon += ((150.0 * s(x / 12.0) + 300.0 * s(x / 30.0)) * 2.0) / 3.0;
  const radLat = (lat / 180.0) * Math.PI;
  let magic = Math.sin(radLat);
  magic = 1 - ee * magic * magic;
  const sqrtMagic = Math.sqrt(magic);
  dLat = (dLat * 180.0) / (((a * (1 - ee)) / (magic * sqrtMagic)) * Math.PI);
  dLon = (dLon * 180.0) / ((a / sqrtMagic) * Math.cos(radLat) * Math.PI);
  return { lat: lat + dLat, lon: lon + dLon };
}
