// clips.js — the incident card's 报警前录像 (pre-alarm video): one player per clip of the incident
// (`clips` of GET /api/v1/incidents/{id}). The <video> plays the clip file as written so far, so
// the part before the press plays at once; while the clip is still recording the box polls and
// reloads the video (keeping the playhead) when it is complete. A bar under each video marks the
// press (the video starts `before` seconds earlier) and the current offset reads T−12.0 s /
// T+3.0 s. Download link for everyone who sees the incident; 解除保护 for police supervisors.

import * as api from './api.js';
import { h } from './util.js';
import { t, errText } from './i18n.js';

const POLL_MS = 2000;
const WAIT_FOR_ROWS_MS = 15000;

function secs(a, b) {
  const d = (Date.parse(b) - Date.parse(a)) / 1000;
  return Number.isFinite(d) ? d : 0;
}

function signed(x) {
  const v = Math.abs(x).toFixed(1);
  return x < 0 ? `T−${v} s` : `T+${v} s`;
}

class ClipPlayer {
  constructor(clip, me) {
    this.clip = clip;
    this.me = me;
    this.before = Math.max(0, secs(clip.start, clip.press_at));
    this.span = Math.max(1, secs(clip.start, clip.end));
    this.video = h('video', { controls: true, muted: true, playsinline: true, preload: 'auto', 'data-testid': 'clip-video' });
    this.video.muted = true;
    this.title = h('strong', null);
    this.stateEl = h('span', { class: 'clip-state', 'data-testid': 'clip-state' });
    this.offset = h('span', { class: 'clip-offset', 'data-testid': 'clip-offset' });
    this.marker = h('span', { class: 'clip-press', title: '' });
    this.head = h('span', { class: 'clip-head' });
    this.bar = h('div', { class: 'clip-bar', 'aria-hidden': 'true' }, this.marker, this.head);
    this.download = h('a', { class: 'clip-dl', 'data-testid': 'clip-download', download: '' });
    this.release = h('button', { type: 'button', class: 'btn btn-small clip-release', 'data-testid': 'clip-release', onclick: () => this.doRelease() });
    this.msg = h('span', { class: 'clip-msg', role: 'status' });
    this.reason = h('p', { class: 'clip-reason', 'data-testid': 'clip-reason' });
    this.screen = h('div', { class: 'cam-screen' }, this.video);
    this.el = h('figure', { class: 'cam clip', 'data-testid': 'clip', 'data-clip-id': String(clip.id) },
      this.screen, this.bar,
      h('figcaption', { class: 'cam-title' }, this.title, this.stateEl),
      h('div', { class: 'clip-tools' }, this.offset, this.download, this.release, this.msg),
      this.reason);
    this.marker.style.left = `${(100 * this.before) / this.span}%`;
    this.video.addEventListener('timeupdate', () => this.tick());
    this.video.addEventListener('loadedmetadata', () => this.tick());
    this.loaded = null;
    this.update(clip);
  }

  tick() {
    const cur = this.video.currentTime || 0;
    this.offset.textContent = signed(cur - this.before);
    this.head.style.left = `${Math.min(100, (100 * cur) / this.span)}%`;
  }

  update(clip) {
    this.clip = clip;
    this.el.dataset.state = clip.state;
    const playable = clip.state !== 'unavailable';
    this.screen.hidden = !playable;
    this.bar.hidden = !playable;
    this.download.hidden = !playable;
    this.release.hidden = !(playable && this.me?.user?.role === 'police_supervisor');
    this.reason.hidden = !clip.reason;
    this.reason.textContent = clip.reason || '';
    // Load once there is something written, and again when the clip is complete.
    const key = `${clip.state}`;
    if (playable && clip.bytes > 0 && this.loaded !== key) {
      const at = this.video.currentTime || 0;
      const wasPlaying = !this.video.paused;
      this.loaded = key;
      this.video.src = `${clip.url}?v=${encodeURIComponent(key)}`;
      this.video.addEventListener('loadedmetadata', () => {
        if (at > 0) this.video.currentTime = at;
        if (wasPlaying || at === 0) this.video.play().catch(() => {});
      }, { once: true });
    }
    this.download.href = clip.download_url || `${clip.url}`;
    this.relabel();
  }

  relabel() {
    const c = this.clip;
    this.title.textContent = c.camera_name || c.camera_id;
    this.stateEl.textContent = t(`clip.state.${c.state}`);
    this.stateEl.className = `clip-state clip-${c.state}`;
    this.marker.title = t('clip.press');
    this.download.textContent = t('clip.download');
    this.release.textContent = t('clip.release');
    if (!this.video.currentTime) this.offset.textContent = t('clip.starts', { s: Math.round(this.before) });
  }

  async doRelease() {
    if (!window.confirm(t('clip.release.confirm'))) return;
    this.release.disabled = true;
    try {
      await api.post(`/api/v1/clips/${this.clip.id}/release`, {});
      this.msg.textContent = t('clip.released');
    } catch (e) {
      this.msg.textContent = errText(e);
      this.release.disabled = false;
    }
  }

  destroy() {
    this.video.removeAttribute('src');
    this.video.load();
  }
}

/** The pre-alarm video box of incident `incidentId`; `me` is GET /api/v1/me. */
export function incidentClips(incidentId, me) {
  const heading = h('h3', null, t('clip.title'));
  const list = h('div', { class: 'cams clips' });
  const box = h('section', { class: 'cams-box clips-box', 'data-testid': 'card-clips', 'data-count': '0' }, heading, list);
  box.hidden = true;
  const players = new Map();
  const born = Date.now();
  let timer = null;
  let closed = false;

  async function refresh() {
    timer = null;
    if (closed) return;
    let clips = [];
    try {
      const d = await api.incident(incidentId);
      clips = Array.isArray(d?.clips) ? d.clips : [];
    } catch {
      clips = null;
    }
    if (closed) return;
    if (clips) {
      for (const c of clips) {
        const p = players.get(c.id);
        if (p) p.update(c);
        else {
          const np = new ClipPlayer(c, me);
          players.set(c.id, np);
          list.appendChild(np.el);
        }
      }
      box.dataset.count = String(players.size);
      box.hidden = players.size === 0;
    }
    const waiting = !clips || (clips.length === 0 && Date.now() - born < WAIT_FOR_ROWS_MS) || clips.some((c) => c.state === 'recording');
    if (waiting) timer = setTimeout(refresh, POLL_MS);
  }
  refresh();

  return {
    el: box,
    relabel() { heading.textContent = t('clip.title'); players.forEach((p) => p.relabel()); },
    destroy() {
      closed = true;
      if (timer) clearTimeout(timer);
      players.forEach((p) => p.destroy());
    },
  };
}
