// video.js — live camera video in the browser: `LiveVideo` plays one camera's WebSocket stream
// (`GET /api/v1/cameras/{id}/live`: a JSON description, then the fMP4 init segment and one
// fragment per frame) through Media Source Extensions in a muted, autoplaying <video>. It opens
// at the cached keyframe, appends in order (queued while the SourceBuffer is busy), keeps about
// 20 s of buffer, jumps to the live edge when it falls behind, reconnects with backoff and always
// shows its state: 连接中 / 实时 / 视频中断 / 浏览器不支持H.265 / 无权限. GB/T 28181 cameras get the
// PTZ pad (ptz.js). Nothing here throws into the page when a camera is unreachable.

import * as api from './api.js';
import { h } from './util.js';
import { t } from './i18n.js';
import { ptzControl } from './ptz.js';

const STALL_MS = 5000; // no data this long: 视频中断
const BEHIND_S = 3; // further than this from the live edge: jump
const KEEP_S = 20; // buffer kept behind the playhead
const QUEUE_MAX = 300; // fragments waiting for the SourceBuffer before we start over

export const cameraList = (query = {}) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v != null) q.set(k, String(v));
  const s = q.toString();
  return api.get(`/api/v1/cameras${s ? `?${s}` : ''}`).then((d) => (Array.isArray(d?.cameras) ? d.cameras : []));
};

/** The camera's link state as a short label (for lists). */
export function linkLabel(link) {
  return t(`cam.link.${link || 'idle'}`);
}

export class LiveVideo {
  /** `camera`: an item of GET /api/v1/cameras. */
  constructor(camera, { ptz = true } = {}) {
    this.camera = camera;
    this.closed = false;
    this.attempt = 0;
    this.timer = null;
    this.ws = null;
    this.ms = null;
    this.sb = null;
    this.queue = [];
    this.lastData = 0;
    this.everLive = false;
    this.state = '';
    this.video = h('video', { muted: true, autoplay: true, playsinline: true, 'data-testid': 'camera-video' });
    this.video.muted = true;
    this.video.defaultMuted = true;
    this.video.setAttribute('muted', '');
    this.video.setAttribute('playsinline', '');
    this.label = h('span', { class: 'cam-state', 'data-testid': 'camera-state', role: 'status' });
    this.title = h('figcaption', { class: 'cam-title' }, h('strong', null, camera.name || camera.id), this.label);
    this.ptz = null;
    let ptzBox = null;
    if (ptz && camera.kind === 'gb28181' && camera.device_id && camera.channel_id) {
      const msg = h('div', { class: 'gb-msg', role: 'status', 'aria-live': 'polite', 'data-testid': 'gb-msg' });
      this.ptz = ptzControl({
        device: camera.device_id,
        channel: camera.channel_id,
        onMsg: (m) => {
          msg.className = `gb-msg ${m?.kind || ''}`;
          msg.dataset.kind = m?.kind || '';
          msg.textContent = m ? `${m.kind === 'ok' ? '✓ ' : m.kind === 'error' ? '✕ ' : ''}${m.text}` : '';
        },
        onMove: (moving) => { this.el.dataset.ptz = moving ? 'moving' : 'stopped'; },
      });
      ptzBox = h('div', { class: 'cam-ptz' }, this.ptz.pad('ptz-small'), msg);
    }
    this.el = h('figure', {
      class: 'cam', 'data-testid': 'camera-live', 'data-camera-id': camera.id, 'data-kind': camera.kind || '',
    }, h('div', { class: 'cam-screen' }, this.video), this.title, ptzBox);
    this.video.addEventListener('playing', () => this.setState('live'));
    this.watch = setInterval(() => this.tick(), 1000);
    this.setState('connecting');
    this.connect();
  }

  setState(s, extra) {
    if (this.closed) return;
    if (s === 'live') this.everLive = true;
    this.state = s;
    this.el.dataset.state = s;
    const key = s === 'unsupported' && extra !== 'h265' ? 'cam.state.unsupported_codec' : `cam.state.${s}`;
    this.label.textContent = t(key);
    this.label.className = `cam-state cam-${s}`;
  }

  relabel() { this.setState(this.state); }

  connect() {
    if (this.closed) return;
    this.resetMedia();
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    let ws;
    try {
      ws = new WebSocket(`${proto}://${location.host}/api/v1/cameras/${encodeURIComponent(this.camera.id)}/live`);
    } catch {
      this.retry();
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    let got = false;
    ws.onmessage = (ev) => {
      if (ws !== this.ws) return;
      got = true;
      this.lastData = Date.now();
      if (typeof ev.data === 'string') this.describe(ev.data);
      else this.push(ev.data);
    };
    ws.onclose = () => {
      if (ws !== this.ws || this.closed) return;
      this.ws = null;
      if (this.state === 'unsupported') return;
      if (got) this.attempt = 0;
      this.whyClosed(got);
    };
    ws.onerror = () => {};
  }

  /** A socket that failed at once may be a camera gone out of scope: ask the list. */
  async whyClosed(got) {
    if (!got) {
      try {
        const cams = await cameraList({ school_id: this.camera.school_id });
        if (!cams.some((c) => c.id === this.camera.id)) { this.setState('forbidden'); return; }
      } catch (e) {
        if (e.status === 401 || e.status === 403) { this.setState('forbidden'); return; }
      }
    }
    this.setState(this.everLive ? 'stalled' : 'connecting');
    this.retry();
  }

  retry() {
    if (this.closed) return;
    clearTimeout(this.timer);
    const delay = Math.min(15000, 1000 * 2 ** Math.min(this.attempt, 4)) + Math.random() * 300;
    this.attempt++;
    this.timer = setTimeout(() => this.connect(), delay);
  }

  describe(text) {
    let d;
    try { d = JSON.parse(text); } catch { return; }
    const mime = d.mime || (d.codec_string ? `video/mp4; codecs="${d.codec_string}"` : '');
    const ok = d.browser_playable && mime && window.MediaSource && MediaSource.isTypeSupported(mime);
    if (!ok) {
      this.setState('unsupported', d.codec === 'h265' || /^(hvc1|hev1)/.test(d.codec_string || '') ? 'h265' : '');
      this.stopSocket();
      return;
    }
    if (this.sb && this.mime !== mime) {
      try { this.sb.changeType(mime); this.mime = mime; } catch { this.connect(); }
      return;
    }
    if (this.ms) return;
    this.mime = mime;
    const ms = new MediaSource();
    this.ms = ms;
    this.video.src = URL.createObjectURL(ms);
    ms.addEventListener('sourceopen', () => {
      if (ms !== this.ms) return;
      URL.revokeObjectURL(this.video.src);
      try {
        this.sb = ms.addSourceBuffer(mime);
      } catch {
        this.setState('unsupported');
        this.stopSocket();
        return;
      }
      this.sb.addEventListener('updateend', () => this.pump());
      this.sb.addEventListener('error', () => {});
      this.pump();
    }, { once: true });
  }

  push(buf) {
    this.queue.push(buf);
    if (this.queue.length > QUEUE_MAX) {
      // Far behind (tab in the background): start over at the next cached keyframe.
      this.connect();
      return;
    }
    this.pump();
  }

  pump() {
    const sb = this.sb;
    if (!sb || sb.updating || this.closed || this.ms?.readyState !== 'open') return;
    const v = this.video;
    const b = v.buffered;
    if (b.length) {
      const start = b.start(0);
      const end = b.end(b.length - 1);
      if (v.currentTime < start || end - v.currentTime > BEHIND_S) {
        v.currentTime = Math.max(start, end - 0.5);
      }
      if (v.currentTime - start > KEEP_S + 10) {
        try { sb.remove(start, v.currentTime - KEEP_S); } catch { /* next time */ }
        return;
      }
    }
    const next = this.queue.shift();
    if (!next) return;
    try {
      sb.appendBuffer(next);
    } catch (e) {
      if (e.name === 'QuotaExceededError' && b.length) {
        this.queue.unshift(next);
        try { sb.remove(b.start(0), Math.max(b.start(0) + 1, v.currentTime - 2)); } catch { /* ignore */ }
        return;
      }
      this.connect();
      return;
    }
    if (v.paused) v.play().catch(() => {});
  }

  tick() {
    if (this.closed || !this.ws) return;
    const quiet = Date.now() - this.lastData > STALL_MS;
    if (quiet && this.state === 'live') this.setState('stalled');
    if (!quiet && this.state === 'stalled' && !this.video.paused) this.setState('live');
    if (!quiet && this.sb && !this.sb.updating) this.pump();
  }

  stopSocket() {
    const ws = this.ws;
    this.ws = null;
    if (ws) { ws.onclose = null; ws.onmessage = null; try { ws.close(); } catch { /* gone */ } }
  }

  resetMedia() {
    this.stopSocket();
    this.queue = [];
    this.sb = null;
    if (this.ms) {
      try { if (this.ms.readyState === 'open') this.ms.endOfStream(); } catch { /* ignore */ }
      this.ms = null;
      this.video.removeAttribute('src');
      try { this.video.load(); } catch { /* ignore */ }
    }
  }

  destroy() {
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.watch);
    this.ptz?.destroy();
    this.resetMedia();
  }
}

/**
 * The live cameras of an alarm point, for the incident card: a grid of `LiveVideo`s, or a quiet
 * line when the point has none. `destroy()` closes them all.
 */
export function pointCameras(alarmPointId) {
  const box = h('section', { class: 'cams-box', 'data-testid': 'card-cameras', 'data-count': '0' });
  const grid = h('div', { class: 'cams' });
  const heading = h('h3', null, t('cam.title'));
  box.append(heading, grid);
  box.hidden = true;
  const players = [];
  let closed = false;
  cameraList({ alarm_point_id: alarmPointId }).then((cams) => {
    if (closed) return;
    box.dataset.count = String(cams.length);
    box.hidden = !cams.length;
    for (const c of cams) {
      const p = new LiveVideo(c);
      players.push(p);
      grid.appendChild(p.el);
    }
  }).catch(() => { box.dataset.count = 'error'; });
  return {
    el: box,
    relabel() { heading.textContent = t('cam.title'); players.forEach((p) => p.relabel()); },
    destroy() { closed = true; players.forEach((p) => p.destroy()); },
  };
}
