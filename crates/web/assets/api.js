// api.js — the HTTP API client (docs/ref/api.md): JSON requests with the session cookie,
// errors as ApiError {status, code, body}, and `Live`, the EventSource wrapper that reports
// its connection state and hands every incident event (and device news) to the page; the
// storage state goes to the storage banner (storage.js).

import { showStorage } from './storage.js';

export class ApiError extends Error {
  constructor(status, code, body) {
    super(body?.error || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.body = body || {};
  }
}

let onUnauthenticated = () => {};
/** Called when any request answers 401 (session gone): the app shows the login page. */
export function setUnauthenticatedHandler(fn) { onUnauthenticated = fn; }

/** One JSON request. Throws ApiError (code `network` when nothing came back). */
export async function api(method, path, body, headers = {}) {
  const init = { method, headers: { Accept: 'application/json', ...headers }, credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'network', { error: String(e) });
  }
  if (res.status === 204) return null;
  let data = null;
  const text = await res.text().catch(() => '');
  if (text) { try { data = JSON.parse(text); } catch { data = { error: text }; } }
  if (!res.ok) {
    const err = new ApiError(res.status, data?.code || `http_${res.status}`, data);
    if (res.status === 401 && path !== '/api/v1/login') onUnauthenticated(err);
    throw err;
  }
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body = {}, headers) => api('POST', path, body, headers);
export const put = (path, body = {}) => api('PUT', path, body);

export const login = (username, password) => post('/api/v1/login', { username, password });
export const logout = () => post('/api/v1/logout', {});
export const me = () => get('/api/v1/me');
export const listIncidents = (state, limit) => {
  const q = new URLSearchParams();
  if (state) q.set('state', state);
  if (limit) q.set('limit', String(limit));
  const s = q.toString();
  return get(`/api/v1/incidents${s ? `?${s}` : ''}`).then((d) => d.incidents);
};
export const incident = (id) => get(`/api/v1/incidents/${id}`);
export const act = (id, action, body = {}) => post(`/api/v1/incidents/${id}/${action}`, body);
export const officers = () => get('/api/v1/officers').then((d) => d.officers);
export const signals = (limit = 200) => get(`/api/v1/signals?limit=${limit}`).then((d) => d.signals || []);
export const deviceHealth = () => get('/api/v1/devices/health').then((d) => d.devices || []);
export const gbDevices = () => get('/api/v1/gb/devices').then((d) => (Array.isArray(d?.devices) ? d.devices : []));
export const gbChannels = () => get('/api/v1/gb/channels').then((d) => (Array.isArray(d?.channels) ? d.channels : []));
export const gbBind = (channelId, alarmPointId) => put(`/api/v1/gb/channels/${encodeURIComponent(channelId)}/binding`, { alarm_point_id: alarmPointId }).then((d) => d.channel);
export const gbControl = (deviceId, body) => post(`/api/v1/gb/devices/${encodeURIComponent(deviceId)}/control`, body);

/**
 * The live event stream. `onEvent(ev)` gets each parsed incident event ({type, incident, entry});
 * `onDevice(ev)` gets device news ({type: 'signal', signal} or {type: 'device_health', health});
 * `onState(state)` gets 'connecting' | 'open' | 'down'; `onOpen()` runs after every (re)connect,
 * where pages reload their lists so nothing missed while down is lost.
 */
export class Live {
  constructor({ onEvent, onDevice, onState, onOpen }) {
    this.onEvent = onEvent;
    this.onDevice = onDevice || (() => {});
    this.onState = onState || (() => {});
    this.onOpen = onOpen || (() => {});
    this.state = 'connecting';
    this.es = null;
    this.retry = null;
    this.stopped = false;
    this.connect();
  }

  set(state) {
    if (this.state === state) return;
    this.state = state;
    this.onState(state);
  }

  connect() {
    if (this.stopped) return;
    const es = new EventSource('/api/v1/events');
    this.es = es;
    es.onopen = () => { this.set('open'); this.onOpen(); };
    es.onmessage = (m) => {
      let ev;
      try { ev = JSON.parse(m.data); } catch { return; }
      if (ev && ev.incident) this.onEvent(ev);
      else if (ev && ((ev.type === 'signal' && ev.signal) || (ev.type === 'device_health' && ev.health))) this.onDevice(ev);
      else if (ev && ev.type === 'storage' && ev.storage) showStorage(ev.storage);
    };
    es.onerror = () => {
      this.set('down');
      if (es.readyState === EventSource.CLOSED) {
        // The browser gave up (e.g. an HTTP error answer): check the session, then try again.
        es.close();
        clearTimeout(this.retry);
        this.retry = setTimeout(() => { me().then(() => this.connect(), () => this.connect()); }, 3000);
      }
    };
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retry);
    if (this.es) this.es.close();
  }
}
