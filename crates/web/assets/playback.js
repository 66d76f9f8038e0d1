// playback.js — recorded video: `Playback` shows one camera's last hour of segments
// (`GET /api/v1/cameras/{id}/recordings`) as a timeline of clickable spans, plays the chosen
// segment file in a <video> (the browser seeks it with HTTP Range) and, to roles that may
// export, exports a chosen span — start and end times prefilled from the played segment or
// dragged on the timeline — as one MP4 download (`GET /api/v1/cameras/{id}/export?from=&to=`);
// a refusal (span too long, footage that cannot make an MP4) is shown as text.
// `storageSummary` renders `GET /api/v1/storage`: per camera days, space, oldest footage, and the
// retention warning. Nothing here throws into the page when a request fails.

import * as api from './api.js';
import { h, fill, stamp, clock } from './util.js';
import { t, errText } from './i18n.js';

const HOUR_MS = 3600 * 1000;
/** The longest span one export covers (the API's limit). */
const EXPORT_MAX_MS = HOUR_MS;
/** A press on the timeline that moves less than this many pixels is a click, not a drag. */
const DRAG_PX = 4;

const pad = (n) => String(n).padStart(2, '0');

/** `HH:MM:SS` local time of unix ms, for <input type="time" step="1">. */
export function timeValue(ms) {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/**
 * Unix ms of an `HH:MM[:SS]` local time on the day of `ref` (unix ms), or the day before when
 * that would be more than a minute after `ref` (the view ends now, so a later clock time is
 * yesterday's). NaN when the value is not a time.
 */
export function timeToMs(value, ref) {
  const m = /^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$/.exec(String(value || '').trim());
  if (!m) return NaN;
  const d = new Date(ref);
  d.setHours(Number(m[1]), Number(m[2]), Number(m[3] || 0), 0);
  let ms = d.getTime();
  if (ms > ref + 60 * 1000) ms -= 24 * HOUR_MS;
  return ms;
}

/** The text for a failed export: the API's refusals in words, anything else as errText. */
function exportErrText(e) {
  const key = `pb.err.${e?.code}`;
  const text = t(key, { error: e?.body?.error ?? e?.message ?? '' });
  return text === key ? errText(e) : text;
}

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
    this.sel = null; // the span to export: {from, to} unix ms
    this.drag = null;
    this.dragged = false;
    this.from = 0;
    this.to = 0;
    this.video = h('video', { controls: true, playsinline: true, preload: 'metadata', 'data-testid': 'playback-video', hidden: true });
    this.info = h('div', { class: 'pb-info small', 'data-testid': 'playback-info', role: 'status' });
    // A click anywhere on the line plays the segment nearest to that moment (spans of short
    // segments are thinner than a finger); the spans themselves are buttons for the keyboard.
    // Dragging along it chooses a span to export.
    this.line = h('div', { class: 'pb-line', 'data-testid': 'playback-timeline', onclick: (e) => this.pick(e) });
    this.selBox = h('div', { class: 'pb-sel', 'data-testid': 'playback-selection', hidden: true });
    this.line.addEventListener('pointerdown', (e) => this.dragStart(e));
    this.line.addEventListener('pointermove', (e) => this.dragMove(e));
    this.line.addEventListener('pointerup', (e) => this.dragEnd(e));
    this.line.addEventListener('pointercancel', () => { this.drag = null; });
    this.scale = h('div', { class: 'pb-scale muted small' });
    this.exportBox = canExport ? this.exportForm() : null;
    const refresh = h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'playback-refresh', onclick: () => this.load() }, t('pb.refresh'));
    this.el = h('section', { class: 'pb', 'data-testid': 'playback', 'data-camera-id': camera.id },
      h('div', { class: 'pb-head' }, h('strong', null, t('pb.title')), h('span', { class: 'muted small' }, t('pb.last_hour')), refresh),
      this.line, this.scale, this.info, this.exportBox, h('div', { class: 'pb-screen' }, this.video));
    this.load();
  }

  /** 导出时段: start and end inputs, the button, and a status line for progress and errors. */
  exportForm() {
    const input = (testid, label) => h('input', { type: 'time', step: '1', class: 'pb-time', 'data-testid': testid, 'aria-label': label, oninput: () => this.inputsChanged() });
    this.fromInput = input('playback-export-from', t('pb.ex.from'));
    this.toInput = input('playback-export-to', t('pb.ex.to'));
    this.exportBtn = h('button', { type: 'button', class: 'btn btn-small btn-primary', 'data-testid': 'playback-export', onclick: () => this.exportSpan() }, t('pb.export'));
    this.exportStatus = h('span', { class: 'pb-ex-status small', 'data-testid': 'playback-export-status', role: 'status' });
    return h('div', { class: 'pb-export', 'data-testid': 'playback-export-form', hidden: true },
      h('div', { class: 'pb-ex-row' },
        h('strong', { class: 'small' }, t('pb.ex.title')),
        h('label', { class: 'pb-ex-field small' }, t('pb.ex.from'), this.fromInput),
        h('label', { class: 'pb-ex-field small' }, t('pb.ex.to'), this.toInput),
        this.exportBtn),
      h('p', { class: 'muted small pb-ex-hint' }, t('pb.ex.hint')),
      this.exportStatus);
  }

  /** Sets the export span (unix ms) and shows it in the inputs and on the timeline. */
  choose(from, to) {
    this.sel = { from: Math.floor(from / 1000) * 1000, to: Math.ceil(to / 1000) * 1000 };
    if (this.fromInput) {
      this.fromInput.value = timeValue(this.sel.from);
      this.toInput.value = timeValue(this.sel.to);
    }
    if (this.exportStatus) fill(this.exportStatus);
    this.drawSelection();
  }

  /** The span the inputs hold now, or an error text. */
  inputSpan() {
    const from = timeToMs(this.fromInput.value, this.to);
    const to = timeToMs(this.toInput.value, this.to);
    if (Number.isNaN(from) || Number.isNaN(to)) return { error: t('pb.ex.need') };
    if (to <= from) return { error: t('pb.ex.order') };
    if (to - from > EXPORT_MAX_MS) return { error: t('pb.ex.long') };
    return { from, to };
  }

  inputsChanged() {
    const span = this.inputSpan();
    if (!span.error) this.sel = span;
    this.drawSelection();
  }

  drawSelection() {
    const span = this.to - this.from || 1;
    if (!this.sel) { this.selBox.hidden = true; return; }
    const a = Math.max(0, Math.min(1, (this.sel.from - this.from) / span));
    const b = Math.max(0, Math.min(1, (this.sel.to - this.from) / span));
    this.selBox.hidden = b <= a;
    this.selBox.style.left = `${(a * 100).toFixed(3)}%`;
    this.selBox.style.width = `${((b - a) * 100).toFixed(3)}%`;
  }

  /** Unix ms at a pointer's position on the timeline. */
  atX(clientX) {
    const box = this.line.getBoundingClientRect();
    const f = Math.max(0, Math.min(1, (clientX - box.left) / (box.width || 1)));
    return this.from + f * (this.to - this.from);
  }

  dragStart(e) {
    if (!this.canExport || e.button !== 0) return;
    this.drag = { x: e.clientX, id: e.pointerId, moved: false };
  }

  dragMove(e) {
    const d = this.drag;
    if (!d || d.id !== e.pointerId) return;
    if (!d.moved && Math.abs(e.clientX - d.x) < DRAG_PX) return;
    if (!d.moved) {
      d.moved = true;
      try { this.line.setPointerCapture(e.pointerId); } catch { /* the pointer is gone */ }
    }
    const [a, b] = [this.atX(d.x), this.atX(e.clientX)].sort((x, y) => x - y);
    this.choose(a, b);
  }

  dragEnd(e) {
    const d = this.drag;
    this.drag = null;
    if (!d || !d.moved) return;
    // The click that follows a drag must not also pick a segment.
    this.dragged = true;
    setTimeout(() => { this.dragged = false; }, 0);
    const [a, b] = [this.atX(d.x), this.atX(e.clientX)].sort((x, y) => x - y);
    this.choose(a, b);
  }

  /** Downloads the chosen span as one MP4; refusals are shown beside the button. */
  async exportSpan() {
    const span = this.inputSpan();
    if (span.error) {
      fill(this.exportStatus, h('span', { class: 'pb-err' }, span.error));
      return;
    }
    this.sel = span;
    this.drawSelection();
    const url = `/api/v1/cameras/${encodeURIComponent(this.camera.id)}/export?from=${span.from}&to=${span.to}`;
    this.exportBtn.disabled = true;
    fill(this.exportStatus, h('span', { class: 'muted' }, t('pb.ex.busy')));
    try {
      let res;
      try {
        res = await fetch(url, { credentials: 'same-origin' });
      } catch (e) {
        throw new api.ApiError(0, 'network', { error: String(e) });
      }
      if (!res.ok) {
        const body = await res.json().catch(() => ({}));
        throw new api.ApiError(res.status, body?.code || `http_${res.status}`, body);
      }
      const blob = await res.blob();
      if (this.closed) return;
      const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') || '')?.[1] || 'export.mp4';
      const href = URL.createObjectURL(blob);
      const a = h('a', { href, download: name, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(href), 60 * 1000);
      fill(this.exportStatus, h('span', { class: 'pb-ok', 'data-testid': 'playback-export-done' },
        t('pb.ex.done', { from: timeValue(span.from), to: timeValue(span.to), size: bytesText(blob.size) })));
    } catch (e) {
      if (this.closed) return;
      fill(this.exportStatus, h('span', { class: 'pb-err', 'data-testid': 'playback-export-error' }, `${t('pb.ex.failed')}${t('colon')}${exportErrText(e)}`));
    } finally {
      this.exportBtn.disabled = false;
    }
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
    }), this.selBox);
    this.drawSelection();
    if (this.exportBox) this.exportBox.hidden = !this.segments.length;
    fill(this.scale, h('span', null, clock(new Date(this.from).toISOString())), h('span', null, clock(new Date(this.to).toISOString())));
    if (this.error) {
      fill(this.info, h('span', { class: 'pb-err' }, `${t('pb.failed')}${t('colon')}${errText(this.error)}`));
    } else if (!this.segments.length) {
      fill(this.info, h('span', { class: 'muted' }, t('pb.empty')));
    } else if (!this.selected) {
      fill(this.info, h('span', { class: 'muted' }, t('pb.pick', { n: this.segments.length })));
    } else {
      const s = this.selected;
      fill(this.info,
        h('span', null, `${stamp(s.start)} – ${clock(s.end)}`),
        h('span', { class: 'muted' }, ` · ${bytesText(s.bytes)}`));
    }
  }

  pick(e) {
    if (this.dragged || !this.segments.length || e.target.closest('.pb-span')) return;
    const box = this.line.getBoundingClientRect();
    const at = this.from + ((e.clientX - box.left) / (box.width || 1)) * (this.to - this.from);
    const gap = (s) => (at < s.start_ms ? s.start_ms - at : at > s.end_ms ? at - s.end_ms : 0);
    this.play(this.segments.reduce((best, s) => (gap(s) < gap(best) ? s : best)));
  }

  play(s) {
    if (this.dragged) return;
    this.selected = s;
    this.choose(s.start_ms, s.end_ms);
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
