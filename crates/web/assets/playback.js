// playback.js — recorded video: `Playback` shows one camera's last hour of segments
// (`GET /api/v1/cameras/{id}/recordings`) as a timeline of clickable spans, plays the chosen
// segment file in a <video> (the browser seeks it with HTTP Range) and offers 导出 for it
// (`GET /api/v1/cameras/{id}/export`, one MP4 download) to roles that may export.
// `storageSummary` renders `GET /api/v1/storage`: per camera days, space, oldest footage, and the
// retention warning. Nothing here throws into the page when a request fails.

import * as api from './api.js';
import { h, fill, stamp, clock } from './util.js';
import { t, errText } from './i18n.js';

const HOUR_MS = 3600 * 1000;

/** "1.2 GB" style sizes. */
export function bytesText(n) {
  const v = Number(n) || 0;
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let x = v;
  while (x >= 1024 && i < units.length - 1) { x /= 1024; i += 1; }
  return `${i ? x.toFixed(1) : x} ${units[i]}`;
}

export class Playback {
  /** `camera`: an item of GET /api/v1/cameras; `canExport`: show 导出. */
  constructor(camera, { canExport = false } = {}) {
    this.camera = camera;
    this.canExport = canExport;
    this.closed = false;
    this.segments = [];
    this.selected = null;
    this.from = 0;
    this.to = 0;
    this.video = h('video', { controls: true, playsinline: true, preload: 'metadata', 'data-testid': 'playback-video', hidden: true });
    this.info = h('div', { class: 'pb-info small', 'data-testid': 'playback-info', role: 'status' });
    // A click anywhere on the line plays the segment nearest to that moment (spans of short
    // segments are thinner than a finger); the spans themselves are buttons for the keyboard.
    this.line = h('div', { class: 'pb-line', 'data-testid': 'playback-timeline', onclick: (e) => this.pick(e) });
    this.scale = h('div', { class: 'pb-scale muted small' });
    const refresh = h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'playback-refresh', onclick: () => this.load() }, t('pb.refresh'));
    this.el = h('section', { class: 'pb', 'data-testid': 'playback', 'data-camera-id': camera.id },
      h('div', { class: 'pb-head' }, h('strong', null, t('pb.title')), h('span', { class: 'muted small' }, t('pb.last_hour')), refresh),
      this.line, this.scale, this.info, h('div', { class: 'pb-screen' }, this.video));
    this.load();
  }

  async load() {
    this.to = Date.now();
    this.from = this.to - HOUR_MS;
    const id = encodeURIComponent(this.camera.id);
    try {
      const d = await api.get(`/api/v1/cameras/${id}/recordings?from=${this.from}&to=${this.to}`);
      if (this.closed) return;
      this.segments = Array.isArray(d?.segments) ? d.segments : [];
      this.error = null;
    } catch (e) {
      if (this.closed) return;
      this.error = e;
    }
    this.render();
  }

  render() {
    const span = this.to - this.from || 1;
    fill(this.line, this.segments.map((s) => {
      const a = Math.max(0, (s.start_ms - this.from) / span);
      const b = Math.min(1, (s.end_ms - this.from) / span);
      const label = `${clock(s.start)}–${clock(s.end)}`;
      return h('button', {
        type: 'button',
        class: `pb-span${this.selected && this.selected.id === s.id ? ' on' : ''}${s.open ? ' open' : ''}`,
        style: `left:${(a * 100).toFixed(3)}%;width:${(Math.max(b - a, 0) * 100).toFixed(3)}%`,
        title: label,
        'aria-label': label,
        'data-testid': 'playback-span',
        'data-recording-id': s.id,
        onclick: () => this.play(s),
      });
    }));
    fill(this.scale, h('span', null, clock(new Date(this.from).toISOString())), h('span', null, clock(new Date(this.to).toISOString())));
    if (this.error) {
      fill(this.info, h('span', { class: 'pb-err' }, `${t('pb.failed')}${t('colon')}${errText(this.error)}`));
    } else if (!this.segments.length) {
      fill(this.info, h('span', { class: 'muted' }, t('pb.empty')));
    } else if (!this.selected) {
      fill(this.info, h('span', { class: 'muted' }, t('pb.pick', { n: this.segments.length })));
    } else {
      const s = this.selected;
      const exportUrl = `/api/v1/cameras/${encodeURIComponent(this.camera.id)}/export?from=${s.start_ms}&to=${s.end_ms}`;
      fill(this.info,
        h('span', null, `${stamp(s.start)} – ${clock(s.end)}`),
        h('span', { class: 'muted' }, ` · ${bytesText(s.bytes)}`),
        this.canExport ? h('a', { class: 'btn btn-small', href: exportUrl, download: '', 'data-testid': 'playback-export' }, t('pb.export')) : null);
    }
  }

  pick(e) {
    if (!this.segments.length || e.target.closest('.pb-span')) return;
    const box = this.line.getBoundingClientRect();
    const at = this.from + ((e.clientX - box.left) / (box.width || 1)) * (this.to - this.from);
    const gap = (s) => (at < s.start_ms ? s.start_ms - at : at > s.end_ms ? at - s.end_ms : 0);
    this.play(this.segments.reduce((best, s) => (gap(s) < gap(best) ? s : best)));
  }

  play(s) {
    this.selected = s;
    this.video.hidden = false;
    this.video.src = s.url;
    this.video.play().catch(() => {});
    this.render();
  }

  destroy() {
    this.closed = true;
    this.video.pause();
    this.video.removeAttribute('src');
    this.video.load();
    this.el.remove();
  }
}

/** The 存储 summary: one line per camera, the retention warning first. */
export async function storageSummary() {
  const box = h('div', { class: 'pb-storage', 'data-testid': 'storage-summary' });
  try {
    const d = await api.get('/api/v1/storage');
    const cams = Array.isArray(d?.cameras) ? d.cameras : [];
    fill(box,
      d?.warning ? h('div', { class: 'notice notice-err', role: 'alert', 'data-testid': 'storage-warning' }, d.warning) : null,
      d?.retention_days ? h('p', { class: 'muted small' }, t('st.retention', { n: d.retention_days })) : null,
      cams.length
        ? cams.map((c) => h('div', { class: 'pb-st-row', 'data-testid': 'storage-row', 'data-camera-id': c.camera_id },
          h('strong', null, c.camera_name || c.camera_id),
          h('span', null, t('st.days', { n: c.days })),
          h('span', null, bytesText(c.bytes)),
          h('span', { class: 'muted' }, `${t('st.oldest')}${t('colon')}${stamp(c.oldest) || '—'}`)))
        : h('p', { class: 'muted' }, t('st.empty')));
  } catch (e) {
    fill(box, h('span', { class: 'pb-err' }, `${t('pb.failed')}${t('colon')}${errText(e)}`));
  }
  return box;
}
