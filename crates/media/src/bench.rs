//! The media benchmark: N simulated cameras (the test clip padded to a bit rate, looped) pushed
//! through [`Track`] (parameter sets, fMP4 fragmenting, GOP cache, pre-roll) with M viewers
//! each, measuring CPU time, throughput and resident memory. `xiaoan bench` calls [`run`].

use std::time::{Duration, Instant};

use crate::clip;
use crate::error::Result;
use crate::frame::{Frame, TIMESCALE};
use crate::track::{Track, TrackConfig, ViewerItem};

/// What to simulate.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// Cameras.
    pub streams: usize,
    /// Viewers per camera.
    pub viewers_per_stream: usize,
    /// Seconds of video pushed per camera.
    pub video_seconds: u32,
    /// Bit rate each camera is padded to.
    pub bits_per_second: u64,
    /// Push at the cameras' pace (25 frames a second) instead of as fast as possible.
    pub realtime: bool,
    /// Track settings (GOP cache, pre-roll, viewer queues).
    pub track: TrackConfig,
}

impl Default for BenchConfig {
    fn default() -> Self {
        BenchConfig {
            streams: 8,
            viewers_per_stream: 4,
            video_seconds: 20,
            bits_per_second: 2_000_000,
            realtime: false,
            track: TrackConfig::default(),
        }
    }
}

/// One pass over all streams with a given number of viewers each.
#[derive(Debug, Clone, Default)]
pub struct PhaseReport {
    /// Viewers per stream in this pass.
    pub viewers_per_stream: usize,
    /// Wall time of the pass.
    pub wall: Duration,
    /// Process CPU time (user + system) during the pass.
    pub cpu: Duration,
    /// Frames pushed (all streams).
    pub frames: u64,
    /// Bytes of frame data pushed.
    pub bytes: u64,
    /// Fragments delivered to viewers.
    pub delivered: u64,
    /// Bytes (init segments and fragments) delivered to viewers.
    pub delivered_bytes: u64,
    /// Viewer skips to the next keyframe (viewers that fell behind).
    pub skips: u64,
    /// Resident memory at the end of the pass, before the tracks are dropped (KiB).
    pub rss_kib: Option<u64>,
}

impl PhaseReport {
    /// Frames pushed per second of wall time.
    pub fn frames_per_sec(&self) -> f64 {
        self.frames as f64 / self.wall.as_secs_f64().max(1e-9)
    }
}

/// The result of [`run`].
#[derive(Debug, Clone)]
pub struct BenchReport {
    /// The settings used.
    pub config: BenchConfig,
    /// Frames per second of each camera.
    pub fps: u32,
    /// Streams without viewers: the per-stream cost.
    pub ingest_only: PhaseReport,
    /// Streams with `viewers_per_stream` viewers.
    pub with_viewers: PhaseReport,
    /// Resident memory before anything was set up (KiB).
    pub rss_start_kib: Option<u64>,
    /// Peak resident memory of the process (KiB).
    pub rss_peak_kib: Option<u64>,
}

impl BenchReport {
    fn video_seconds(&self) -> f64 {
        f64::from(self.config.video_seconds)
    }

    /// CPU milliseconds per stream per second of video (ingest, fragmenting, caches).
    pub fn cpu_ms_per_stream_second(&self) -> f64 {
        let streams = self.config.streams.max(1) as f64;
        self.ingest_only.cpu.as_secs_f64() * 1000.0 / (streams * self.video_seconds())
    }

    /// CPU milliseconds per viewer per second of video (fan-out and draining the queue).
    pub fn cpu_ms_per_viewer_second(&self) -> Option<f64> {
        let viewers = self.config.streams * self.config.viewers_per_stream;
        if viewers == 0 {
            return None;
        }
        let extra = self.with_viewers.cpu.as_secs_f64() - self.ingest_only.cpu.as_secs_f64();
        Some(extra.max(0.0) * 1000.0 / (viewers as f64 * self.video_seconds()))
    }
}

fn kib(v: Option<u64>) -> String {
    v.map_or_else(|| "n/a".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}

impl std::fmt::Display for BenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = &self.config;
        writeln!(
            f,
            "media: {} streams × {} s at {:.1} Mbit/s, {} fps, {} viewers each, {}",
            c.streams,
            c.video_seconds,
            c.bits_per_second as f64 / 1e6,
            self.fps,
            c.viewers_per_stream,
            if c.realtime {
                "real time"
            } else {
                "as fast as possible"
            }
        )?;
        for (name, p) in [
            ("ingest only ", &self.ingest_only),
            ("with viewers", &self.with_viewers),
        ] {
            writeln!(
                f,
                "  {name}: wall {:.2} s, cpu {:.2} s, {:.0} frames/s, {:.1} MB in, {} fragments ({:.1} MB) out, {} skips, rss {}",
                p.wall.as_secs_f64(),
                p.cpu.as_secs_f64(),
                p.frames_per_sec(),
                p.bytes as f64 / 1e6,
                p.delivered,
                p.delivered_bytes as f64 / 1e6,
                p.skips,
                kib(p.rss_kib),
            )?;
        }
        let per_stream = self.cpu_ms_per_stream_second();
        writeln!(
            f,
            "  cpu per stream: {per_stream:.3} ms per second of video ({:.2} % of a core)",
            per_stream / 10.0
        )?;
        if let Some(per_viewer) = self.cpu_ms_per_viewer_second() {
            writeln!(
                f,
                "  cpu per viewer: {per_viewer:.3} ms per second of video ({:.3} % of a core)",
                per_viewer / 10.0
            )?;
        }
        write!(
            f,
            "  memory: rss at start {}, peak {}",
            kib(self.rss_start_kib),
            kib(self.rss_peak_kib)
        )
    }
}

/// A field of `/proc/self/status` in KiB (`VmRSS`, `VmHWM`); `None` off Linux.
pub fn proc_status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|l| {
        let rest = l.strip_prefix(field)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// Process CPU time (user + system) from `/proc/self/stat`, at the usual 100 ticks a second.
pub fn process_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start at state (field 3).
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

async fn phase(config: &BenchConfig, base: &[Frame], fps: u32, viewers: usize) -> PhaseReport {
    let tracks: Vec<Track> = (0..config.streams)
        .map(|_| Track::new(config.track.clone()))
        .collect();
    let mut tasks = Vec::new();
    for track in &tracks {
        for _ in 0..viewers {
            let mut viewer = track.subscribe();
            tasks.push(tokio::spawn(async move {
                let mut delivered = 0u64;
                let mut sent = 0u64;
                while let Some(item) = viewer.next().await {
                    match item {
                        ViewerItem::Frame(f) => {
                            delivered += 1;
                            sent += f.fragment.len() as u64;
                        }
                        ViewerItem::Init(b) => sent += b.len() as u64,
                    }
                }
                (delivered, sent, viewer.stats().skips)
            }));
        }
    }

    let total = u64::from(config.video_seconds) * u64::from(fps);
    let frame_ticks = i64::from(TIMESCALE / fps.max(1));
    let cpu0 = process_cpu_time();
    let t0 = Instant::now();
    let tick = Duration::from_secs(1) / fps.max(1);
    let mut report = PhaseReport {
        viewers_per_stream: viewers,
        ..PhaseReport::default()
    };
    for i in 0..total {
        if config.realtime {
            let due = t0 + tick * u32::try_from(i).unwrap_or(u32::MAX);
            tokio::time::sleep_until(due.into()).await;
        }
        let Some(src) = base.get((i % base.len().max(1) as u64) as usize) else {
            break;
        };
        let t = i as i64 * frame_ticks;
        for track in &tracks {
            // A fresh buffer per frame, as a depacketizer would hand over.
            let frame = Frame {
                pts: t,
                dts: t,
                data: bytes::Bytes::copy_from_slice(&src.data),
                ..src.clone()
            };
            report.bytes += frame.data.len() as u64;
            if track.push(frame).is_ok() {
                report.frames += 1;
            }
        }
        if !config.realtime {
            tokio::task::yield_now().await;
        }
    }
    report.rss_kib = proc_status_kib("VmRSS");
    drop(tracks);
    for task in tasks {
        if let Ok((delivered, sent, skips)) = task.await {
            report.delivered += delivered;
            report.delivered_bytes += sent;
            report.skips += skips;
        }
    }
    report.wall = t0.elapsed();
    report.cpu = match (cpu0, process_cpu_time()) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => Duration::ZERO,
    };
    report
}

/// Runs the benchmark: a pass with no viewers (per-stream cost), then one with
/// `viewers_per_stream` viewers (the difference is the per-viewer cost).
pub async fn run(config: BenchConfig) -> Result<BenchReport> {
    let fps = 25;
    let rss_start_kib = proc_status_kib("VmRSS");
    let base = clip::pad_to_bitrate(
        &clip::frames(clip::TESTSRC_H264, fps)?,
        config.bits_per_second,
        fps,
    );
    let ingest_only = phase(&config, &base, fps, 0).await;
    let with_viewers = phase(&config, &base, fps, config.viewers_per_stream).await;
    Ok(BenchReport {
        fps,
        ingest_only,
        with_viewers,
        rss_start_kib,
        rss_peak_kib: proc_status_kib("VmHWM"),
        config,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn small_run_reports() {
        let report = run(BenchConfig {
            streams: 2,
            viewers_per_stream: 2,
            video_seconds: 4,
            ..BenchConfig::default()
        })
        .await
        .unwrap();
        assert_eq!(report.ingest_only.frames, 2 * 100);
        assert_eq!(report.with_viewers.frames, 2 * 100);
        // Every viewer got every frame, or was skipped for falling behind.
        assert!(report.with_viewers.delivered > 0);
        assert!(report.with_viewers.delivered <= 4 * 100);
        assert_eq!(report.ingest_only.delivered, 0);
        let text = report.to_string();
        assert!(text.contains("cpu per stream"), "{text}");
        println!("{text}");
    }
}
