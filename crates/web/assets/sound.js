// sound.js — the alarm sound, synthesised with Web Audio (no audio files). Browsers only allow
// sound after a click, so `unlock()` must run inside a click handler ("开始值班"); `state()` tells
// the page whether sound can really be heard so it can warn when it cannot.

let ctx = null;
let loopTimer = null;
const listeners = new Set();

function notify() { for (const f of listeners) f(state()); }

/** 'on' when the audio context runs, otherwise 'blocked'. */
export function state() {
  return ctx && ctx.state === 'running' ? 'on' : 'blocked';
}

export function onChange(fn) { listeners.add(fn); return () => listeners.delete(fn); }

/** Creates/resumes the audio context; call from a user gesture. Resolves to state(). */
export async function unlock() {
  const AC = window.AudioContext || window.webkitAudioContext;
  if (!AC) return 'blocked';
  if (!ctx) {
    ctx = new AC();
    ctx.onstatechange = notify;
  }
  try { await ctx.resume(); } catch { /* stays blocked */ }
  notify();
  return state();
}

/** One siren sweep burst of `secs` seconds (two-tone police wail). */
export function siren(secs = 1.6, volume = 0.25) {
  if (state() !== 'on') return;
  const now = ctx.currentTime;
  const osc = ctx.createOscillator();
  const gain = ctx.createGain();
  osc.type = 'sawtooth';
  const sweep = 0.4;
  for (let t = 0; t < secs; t += sweep) {
    osc.frequency.setValueAtTime(660, now + t);
    osc.frequency.linearRampToValueAtTime(1320, now + t + sweep * 0.9);
  }
  gain.gain.setValueAtTime(0.0001, now);
  gain.gain.exponentialRampToValueAtTime(volume, now + 0.05);
  gain.gain.setValueAtTime(volume, now + secs - 0.1);
  gain.gain.exponentialRampToValueAtTime(0.0001, now + secs);
  const filter = ctx.createBiquadFilter();
  filter.type = 'lowpass';
  filter.frequency.value = 2600;
  osc.connect(filter).connect(gain).connect(ctx.destination);
  osc.start(now);
  osc.stop(now + secs + 0.05);
}

/** A short two-note chime (for state changes that need attention but not a siren). */
export function chime() {
  if (state() !== 'on') return;
  const now = ctx.currentTime;
  [880, 660].forEach((f, i) => {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = f;
    gain.gain.setValueAtTime(0.0001, now + i * 0.18);
    gain.gain.exponentialRampToValueAtTime(0.2, now + i * 0.18 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.18 + 0.35);
    osc.connect(gain).connect(ctx.destination);
    osc.start(now + i * 0.18);
    osc.stop(now + i * 0.18 + 0.4);
  });
}

/** Starts or stops the repeating alert (a siren burst every 3 s). */
export function alerting(on) {
  if (on && !loopTimer) {
    siren();
    loopTimer = setInterval(() => siren(), 3000);
  } else if (!on && loopTimer) {
    clearInterval(loopTimer);
    loopTimer = null;
  }
}
