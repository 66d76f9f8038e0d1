//! `xiaoan bench record`: N simulated 2 Mbit/s H.264 streams recorded at once.
//!
//! By default the streams go through the real ingest: a `xiaoan serve` child on a temporary data
//! directory with N always-on GB/T 28181 cameras (each linked to an alarm point, so recorded),
//! fed by N simulated cameras in this process (the shipped clip padded to the bit rate, PS over
//! RTP/UDP at real time); the figure is ingest + pre-roll + recording, measured on the child.
//! With `--direct` this process records N tracks itself (no network, no pre-roll): frames are
//! pushed into each camera's `Track` at 25 fps and the recorder of `xiaoan-record` writes them;
//! the figure is the track's fragmenting and the recorder alone.
//!
//! Reported: CPU per stream (% of one core, ms per second of video), disk write rate (the
//! process's `write_bytes` from `/proc/<pid>/io`, and the indexed segments' bytes), RSS (idle,
//! peak, per stream), segments written, frames missing from the recording (gaps against the
//! 25 fps timeline), and a sample of the segments run through `ffmpeg -v error -xerror` when
//! ffmpeg is on the PATH. The length is bounded and free disk is checked before starting.
//! [`run_record`] returns the figures for other commands; [`run`] prints them.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use tokio_util::sync::CancellationToken;
use xiaoan_core::camera::{Camera, CameraSource};
use xiaoan_media::{Frame, TIMESCALE, Track, TrackConfig};
use xiaoan_sim::gb_device;
use xiaoan_store::{Recording, RecordingFilter, Store};

use super::live::{camera_id, cameras_live, free_port, login};
use super::{cpu_time, rss_kib};
use crate::config::Config;
use crate::server;

/// The longest run accepted.
pub const MAX_SECONDS: u64 = 600;
/// Free disk asked for beyond the footage's estimate.
const DISK_MARGIN: f64 = 1.5;
const PASSWORD: &str = "bench";
const SIP_PASSWORD: &str = "bench-record";
/// Frames per second of the simulated streams.
const FPS: u32 = gb_device::media::FPS;

/// Flags of `bench record`.
#[derive(Debug, Clone, Args)]
pub struct RecordArgs {
    /// Streams recorded at once.
    #[arg(long, default_value_t = 50)]
    pub streams: usize,
    /// Seconds measured once every stream is being recorded (at most 600).
    #[arg(long, default_value_t = 30)]
    pub seconds: u64,
    /// Bit rate each stream's clip is padded to (filler NAL units).
    #[arg(long, default_value_t = 2_000_000)]
    pub bitrate: u64,
    /// `[video] segment_secs` of the recorder.
    #[arg(long, default_value_t = 10)]
    pub segment_secs: u32,
    /// Record in this process, frames pushed straight into the tracks (no ingest, no pre-roll).
    #[arg(long)]
    pub direct: bool,
    /// Keep the temporary data directory (its path is printed).
    #[arg(long)]
    pub keep: bool,
    /// Where the temporary data directory is made (default: the system's temporary directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Segments checked with ffmpeg (spread over the run; 0: none).
    #[arg(long, default_value_t = 6)]
    pub check: usize,
}

impl Default for RecordArgs {
    fn default() -> Self {
        RecordArgs {
            streams: 50,
            seconds: 30,
            bitrate: 2_000_000,
            segment_secs: 10,
            direct: false,
            keep: false,
            dir: None,
            check: 6,
        }
    }
}

/// What one run measured.
#[derive(Debug, Clone)]
pub struct RecordFigures {
    /// `ingest` (GB/T 28181 through a `xiaoan serve` child) or `direct`.
    pub mode: &'static str,
    pub streams: usize,
    /// Seconds measured.
    pub seconds: f64,
    /// The clip's real bit rate after padding, bits per second.
    pub stream_bps: f64,
    /// Streams being recorded when the measurement started.
    pub recording: usize,
    /// CPU of the recording process during the measurement, % of one core.
    pub cpu_percent: Option<f64>,
    /// CPU of this process (the simulated cameras) in ingest mode, % of one core.
    pub client_cpu_percent: Option<f64>,
    /// Bytes the recording process caused to be written to disk during the measurement.
    pub write_bytes: Option<u64>,
    /// RSS before the streams started and the most seen while measuring, KiB.
    pub rss_idle_kib: Option<u64>,
    pub rss_peak_kib: Option<u64>,
    /// Segments in the index at the end, their bytes and frames.
    pub segments: usize,
    pub segment_bytes: u64,
    pub frames: u64,
    /// Frames missing from the recorded timelines (frames the 25 fps timeline from each
    /// stream's first to its last recorded frame should hold, minus those recorded).
    pub frames_missing: u64,
    /// Segments still open in the index after a clean stop (should be 0).
    pub left_open: usize,
    /// Segments run through ffmpeg and how many failed; `None` without ffmpeg.
    pub checked: Option<(usize, usize)>,
    /// The data directory, when kept.
    pub kept: Option<PathBuf>,
}

impl RecordFigures {
    /// CPU per stream in % of one core.
    pub fn cpu_per_stream(&self) -> Option<f64> {
        self.cpu_percent.map(|c| c / self.streams.max(1) as f64)
    }

    /// CPU milliseconds per second of recorded video.
    pub fn ms_per_video_second(&self) -> Option<f64> {
        self.cpu_per_stream().map(|p| p * 10.0)
    }

    /// Disk write rate, MB/s (10^6 bytes), from `write_bytes`.
    pub fn write_mb_s(&self) -> Option<f64> {
        self.write_bytes
            .map(|b| b as f64 / 1e6 / self.seconds.max(1e-9))
    }

    /// RSS added per stream (peak − idle), MiB.
    pub fn rss_per_stream_mib(&self) -> Option<f64> {
        let (idle, peak) = (self.rss_idle_kib?, self.rss_peak_kib?);
        Some(peak.saturating_sub(idle) as f64 / 1024.0 / self.streams.max(1) as f64)
    }

    /// Prints the figures as a table.
    pub fn print(&self) {
        let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        let load: Vec<&str> = load.split_whitespace().take(3).collect();
        println!(
            "recording benchmark ({}): {} streams at {:.2} Mbit/s, {:.1} s measured; load average {}",
            self.mode,
            self.streams,
            self.stream_bps / 1e6,
            self.seconds,
            load.join(" ")
        );
        let opt = |v: Option<f64>, unit: &str| v.map_or("n/a".into(), |v| format!("{v:.2}{unit}"));
        let mib =
            |k: Option<u64>| k.map_or("n/a".into(), |k| format!("{:.0} MiB", k as f64 / 1024.0));
        println!("| measure | value |");
        println!("|---|---|");
        println!(
            "| streams recording | {}/{} |",
            self.recording, self.streams
        );
        println!(
            "| CPU, recording process | {} of a core; per stream {} ({} per second of video) |",
            opt(self.cpu_percent, " %"),
            opt(self.cpu_per_stream(), " %"),
            opt(self.ms_per_video_second(), " ms"),
        );
        if let Some(c) = self.client_cpu_percent {
            println!("| CPU, simulated cameras | {c:.1} % of a core |");
        }
        println!(
            "| disk writes (write_bytes) | {} MB/s ({} MB/s per stream; footage alone {:.2} MB/s) |",
            opt(self.write_mb_s(), ""),
            opt(
                self.write_mb_s().map(|w| w / self.streams.max(1) as f64),
                ""
            ),
            self.streams as f64 * self.stream_bps / 8e6
        );
        println!(
            "| RSS idle / peak | {} / {} ({} per stream) |",
            mib(self.rss_idle_kib),
            mib(self.rss_peak_kib),
            opt(self.rss_per_stream_mib(), " MiB")
        );
        println!(
            "| segments written | {} ({:.1} MB, {} frames; {} left open) |",
            self.segments,
            self.segment_bytes as f64 / 1e6,
            self.frames,
            self.left_open
        );
        println!(
            "| frames missing from the recording | {} |",
            self.frames_missing
        );
        match self.checked {
            Some((n, failed)) => {
                println!("| segments checked with ffmpeg -xerror | {n}, {failed} failed |")
            }
            None => println!("| segments checked with ffmpeg -xerror | ffmpeg not found |"),
        }
        if let Some(k) = &self.kept {
            println!("data directory kept: {}", k.display());
        }
    }
}

/// Runs `bench record` and prints the figures.
pub async fn run(args: RecordArgs) -> anyhow::Result<()> {
    let figures = run_record(&args).await?;
    figures.print();
    anyhow::ensure!(
        figures.checked.is_none_or(|(_, failed)| failed == 0),
        "some recorded segments do not decode"
    );
    Ok(())
}

/// Bytes the run is expected to write: streams × bit rate × seconds (plus the start-up), with
/// the margin.
fn disk_needed(args: &RecordArgs) -> u64 {
    let secs = args.seconds + 15 + u64::from(args.segment_secs);
    (args.streams as f64 * args.bitrate as f64 / 8.0 * secs as f64 * DISK_MARGIN) as u64
}

/// Runs the benchmark: checks its bounds and the free disk, records, measures, checks a sample
/// of the segments, removes the data directory unless `keep`.
pub async fn run_record(args: &RecordArgs) -> anyhow::Result<RecordFigures> {
    anyhow::ensure!(args.streams > 0, "--streams must be at least 1");
    anyhow::ensure!(
        (1..=MAX_SECONDS).contains(&args.seconds),
        "--seconds must be between 1 and {MAX_SECONDS}"
    );
    anyhow::ensure!(args.segment_secs > 0, "--segment-secs must be at least 1");
    let parent = args.dir.clone().unwrap_or_else(std::env::temp_dir);
    let free = xiaoan_record::free_bytes(&parent)
        .with_context(|| format!("cannot read the free space of {}", parent.display()))?;
    let needed = disk_needed(args);
    anyhow::ensure!(
        free >= needed,
        "not enough free disk in {}: {} streams at {:.1} Mbit/s for {} s need about {:.1} GB \
         (with a {DISK_MARGIN}× margin), {:.1} GB are free; record fewer streams, fewer seconds, \
         or choose another --dir",
        parent.display(),
        args.streams,
        args.bitrate as f64 / 1e6,
        args.seconds,
        needed as f64 / 1e9,
        free as f64 / 1e9
    );
    let temp = tempfile::Builder::new()
        .prefix("xiaoan-bench-record-")
        .tempdir_in(&parent)
        .with_context(|| format!("creating a data directory in {}", parent.display()))?;
    let data = temp.path().join("data");
    let mut figures = if args.direct {
        direct(args, &data).await?
    } else {
        ingest(args, temp.path(), &data).await?
    };
    let (rows, left_open) = index(&data).await?;
    tally(&mut figures, &rows);
    figures.left_open = left_open;
    figures.checked = check_sample(&data, &rows, args.check).await;
    if args.keep {
        figures.kept = Some(temp.keep());
    }
    Ok(figures)
}

/// The clip every stream sends: the shipped one padded to the bit rate.
fn clip(bitrate: u64) -> anyhow::Result<(Arc<[Frame]>, f64)> {
    let clip = gb_device::media::padded_clip(bitrate);
    anyhow::ensure!(!clip.is_empty(), "the shipped clip has no frames");
    let bits: f64 = clip.iter().map(|f| f.data.len() as f64 * 8.0).sum();
    Ok((clip.clone(), bits * f64::from(FPS) / clip.len() as f64))
}

/// The process's bytes written to storage so far (`/proc/<pid>/io` `write_bytes`; Linux).
fn write_bytes(pid: Option<u32>) -> Option<u64> {
    let path = pid.map_or_else(|| "/proc/self/io".into(), |p| format!("/proc/{p}/io"));
    let io = std::fs::read_to_string(path).ok()?;
    let line = io.lines().find(|l| l.starts_with("write_bytes:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A reading of a process's counters.
struct Reading {
    at: Instant,
    cpu: Option<Duration>,
    own_cpu: Option<Duration>,
    written: Option<u64>,
}

fn read(pid: Option<u32>) -> Reading {
    Reading {
        at: Instant::now(),
        cpu: cpu_time(pid),
        own_cpu: cpu_time(None),
        written: write_bytes(pid),
    }
}

/// Waits `secs` seconds sampling the RSS of `pid` (this process when `None`); the readings at
/// both ends and the largest RSS.
async fn measure(secs: u64, pid: Option<u32>) -> (Reading, Reading, Option<u64>) {
    let rss = || rss_kib(pid.unwrap_or_else(std::process::id));
    let start = read(pid);
    let end_at = start.at + Duration::from_secs(secs);
    let mut peak = rss();
    while Instant::now() < end_at {
        tokio::time::sleep(Duration::from_millis(500).min(end_at - Instant::now())).await;
        peak = peak.max(rss());
    }
    (start, read(pid), peak)
}

fn figures_from(
    mode: &'static str,
    args: &RecordArgs,
    stream_bps: f64,
    recording: usize,
    (a, b, peak): (Reading, Reading, Option<u64>),
    rss_idle_kib: Option<u64>,
) -> RecordFigures {
    let wall = b.at.duration_since(a.at).as_secs_f64().max(1e-9);
    let pct = |x: Option<Duration>, y: Option<Duration>| {
        Some(y?.saturating_sub(x?).as_secs_f64() / wall * 100.0)
    };
    RecordFigures {
        mode,
        streams: args.streams,
        seconds: wall,
        stream_bps,
        recording,
        cpu_percent: pct(a.cpu, b.cpu),
        client_cpu_percent: (mode == "ingest")
            .then(|| pct(a.own_cpu, b.own_cpu))
            .flatten(),
        write_bytes: a.written.zip(b.written).map(|(x, y)| y.saturating_sub(x)),
        rss_idle_kib,
        rss_peak_kib: peak,
        segments: 0,
        segment_bytes: 0,
        frames: 0,
        frames_missing: 0,
        left_open: 0,
        checked: None,
        kept: None,
    }
}

/// `--direct`: this process records N tracks fed from a timer.
async fn direct(args: &RecordArgs, data: &Path) -> anyhow::Result<RecordFigures> {
    let (frames, stream_bps) = clip(args.bitrate)?;
    let store: Arc<dyn Store> = Arc::new(server::open_store(data).await?);
    let mut config = xiaoan_record::RecordConfig::new(data.to_owned());
    config.segment_secs = args.segment_secs;
    config.min_free_bytes = 0;
    let config = Arc::new(config);
    let track_config = TrackConfig {
        preroll: None,
        ..TrackConfig::default()
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_idle = rss_kib(std::process::id());
    let shutdown = CancellationToken::new();
    let mut tracks = Vec::with_capacity(args.streams);
    let mut tasks = Vec::with_capacity(args.streams + 1);
    for i in 0..args.streams {
        let track = Arc::new(Track::new(track_config.clone()));
        tasks.push(tokio::spawn(xiaoan_record::recorder::run(
            config.clone(),
            format!("bench-{:04}", i + 1),
            track.clone(),
            store.clone(),
            shutdown.clone(),
        )));
        tracks.push(track);
    }
    // One timer feeds every track; each stream starts at another place in the clip so their
    // keyframes (and segment cuts) are spread out, as real cameras' are.
    let feeder = {
        let stop = shutdown.clone();
        tokio::spawn(async move {
            let step = i64::from(TIMESCALE / FPS);
            let mut tick = tokio::time::interval(Duration::from_secs(1) / FPS);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let len = frames.len();
            for n in 0usize.. {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tick.tick() => {}
                }
                let pts = 90_000 + n as i64 * step;
                for (i, track) in tracks.iter().enumerate() {
                    let Some(f) = frames.get((n + i * 7) % len) else {
                        continue;
                    };
                    let frame = Frame {
                        pts,
                        dts: pts,
                        ..f.clone()
                    };
                    if let Err(e) = track.push(frame) {
                        tracing::debug!(error = %e, "frame not pushed");
                    }
                }
            }
        })
    };
    // Every stream has had a keyframe (the clip's GOP is one second) and opened a segment.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let recording = open_segments(store.as_ref()).await?;
    let readings = measure(args.seconds, None).await;
    shutdown.cancel();
    let _ = feeder.await;
    for t in tasks {
        let _ = t.await;
    }
    Ok(figures_from(
        "direct", args, stream_bps, recording, readings, rss_idle,
    ))
}

/// Cameras with a segment open in the index.
async fn open_segments(store: &dyn Store) -> anyhow::Result<usize> {
    let rows = store.list_recordings(&RecordingFilter::default()).await?;
    let mut cams: Vec<&str> = rows
        .iter()
        .filter(|r| r.open)
        .map(|r| r.camera_id.as_str())
        .collect();
    cams.sort_unstable();
    cams.dedup();
    Ok(cams.len())
}

/// Ingest: a `xiaoan serve` child with N GB/T 28181 cameras, fed by simulated cameras here.
async fn ingest(args: &RecordArgs, dir: &Path, data: &Path) -> anyhow::Result<RecordFigures> {
    let n = args.streams;
    let (frames, stream_bps) = clip(args.bitrate)?;
    let ids = gb_device::consecutive_ids("34020000001320000001", n)?;
    {
        let store = server::open_store(data).await?;
        let hash = xiaoan_web::hash_password(PASSWORD).map_err(anyhow::Error::msg)?;
        store
            .seed_directory(&xiaoan_sim::dataset::bench(n.div_ceil(10), 10, &hash))
            .await?;
    }
    let sip = loop {
        let addr: std::net::SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
        if std::net::UdpSocket::bind(addr).is_ok() {
            break addr;
        }
    };
    let http = format!("127.0.0.1:{}", free_port()?);
    let mut config = Config {
        data_dir: Some(data.to_owned()),
        ..Config::default()
    };
    config.http.addr = http.clone();
    config.dc09.addr.clear();
    config.gb28181.addr = sip.to_string();
    config.gb28181.password = SIP_PASSWORD.into();
    config.video.segment_secs = args.segment_secs;
    config.video.min_free_gb = 0;
    config.cameras = ids
        .iter()
        .enumerate()
        .map(|(i, id)| Camera {
            id: camera_id(id),
            name: format!("基准摄像机{}", i + 1),
            school_id: (i / 10 + 1) as i64,
            alarm_point_id: Some(i as i64 + 1),
            source: CameraSource::Gb28181 {
                device_id: id.clone(),
                channel_id: id.clone(),
            },
        })
        .collect();
    let mut child = super::spawn_serve(dir, &config, &[http.clone(), sip.to_string()]).await?;
    let pid = child.id();
    let base = format!("http://{http}");
    let client = reqwest::Client::new();
    let token = login(&client, &base).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_idle = pid.and_then(rss_kib);

    let fleet = gb_device::start_with_clip(
        super::live::camera_fleet(sip, SIP_PASSWORD, &ids),
        None,
        Some(frames),
    )
    .await?;
    let deadline = Instant::now() + Duration::from_secs(30) + Duration::from_millis(n as u64 * 200);
    let mut live = 0;
    while Instant::now() < deadline {
        live = cameras_live(&client, &base, &token).await?.0;
        if live == n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Every recorder has seen a keyframe and opened its first segment (or the wait ran out).
    let deadline = Instant::now() + Duration::from_secs(15) + Duration::from_millis(n as u64 * 20);
    let mut recording = 0;
    while Instant::now() < deadline {
        recording = recording_cameras(&client, &base, &token).await?;
        if recording == n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let readings = measure(args.seconds, pid).await;
    // A clean stop: SIGTERM, so every recorder closes its segment.
    if let Some(pid) = pid {
        let _ = tokio::process::Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()
            .await;
    }
    fleet.shutdown().await;
    if tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .is_err()
    {
        let _ = child.start_kill();
        let _ = child.wait().await;
    }
    if live < n {
        eprintln!("only {live} of {n} simulated cameras went live");
    }
    Ok(figures_from(
        "ingest", args, stream_bps, recording, readings, rss_idle,
    ))
}

/// Cameras with footage in the index, from the storage view of the running server.
async fn recording_cameras(
    client: &reqwest::Client,
    base: &str,
    token: &str,
) -> anyhow::Result<usize> {
    let body: serde_json::Value = client
        .get(format!("{base}/api/v1/storage"))
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let cams = body["cameras"].as_array().context("no storage list")?;
    Ok(cams
        .iter()
        .filter(|c| c["segments"].as_i64().unwrap_or(0) > 0)
        .count())
}

/// The index at the end: every row, and how many are still open.
async fn index(data: &Path) -> anyhow::Result<(Vec<Recording>, usize)> {
    let store = server::open_store(data).await?;
    let rows = store.list_recordings(&RecordingFilter::default()).await?;
    let open = rows.iter().filter(|r| r.open).count();
    Ok((rows, open))
}

/// Segments, bytes, frames, and the frames missing from each camera's timeline.
fn tally(f: &mut RecordFigures, rows: &[Recording]) {
    f.segments = rows.len();
    f.segment_bytes = rows.iter().map(|r| r.bytes.max(0) as u64).sum();
    f.frames = rows.iter().map(|r| r.frames.max(0) as u64).sum();
    f.frames_missing = missing_frames(rows);
}

/// Frames missing from every camera's recorded timeline: from its first segment's start to its
/// last segment's end at 25 fps, minus the frames recorded. Open segments (end unknown) are
/// left out.
fn missing_frames(rows: &[Recording]) -> u64 {
    let step = i64::from(TIMESCALE / FPS);
    let mut by_camera: std::collections::BTreeMap<&str, (i64, i64, i64)> = Default::default();
    for r in rows.iter().filter(|r| !r.open) {
        let e = by_camera
            .entry(r.camera_id.as_str())
            .or_insert((r.start_pts, r.end_pts, 0));
        e.0 = e.0.min(r.start_pts);
        e.1 = e.1.max(r.end_pts);
        e.2 += r.frames;
    }
    by_camera
        .values()
        .map(|&(start, end, frames)| {
            let expected = (end - start + step / 2) / step;
            u64::try_from(expected - frames).unwrap_or(0)
        })
        .sum()
}

/// Runs `ffmpeg -v error -xerror` on up to `n` closed segments spread over the index; `None`
/// when ffmpeg is not on the PATH.
async fn check_sample(data: &Path, rows: &[Recording], n: usize) -> Option<(usize, usize)> {
    if n == 0 {
        return Some((0, 0));
    }
    let present = tokio::process::Command::new("ffmpeg")
        .arg("-version")
        .output()
        .await
        .is_ok_and(|o| o.status.success());
    if !present {
        return None;
    }
    let closed: Vec<&Recording> = rows.iter().filter(|r| !r.open).collect();
    let picks = n.min(closed.len());
    let mut failed = 0;
    for k in 0..picks {
        let Some(r) = closed.get(k * closed.len() / picks) else {
            continue;
        };
        let path = data.join(&r.path);
        let out = tokio::process::Command::new("ffmpeg")
            .args(["-v", "error", "-xerror", "-i"])
            .arg(&path)
            .args(["-f", "null", "-"])
            .output()
            .await;
        let ok = out.is_ok_and(|o| o.status.success() && o.stderr.is_empty());
        if !ok {
            eprintln!("segment {} does not decode cleanly", path.display());
            failed += 1;
        }
    }
    Some((picks, failed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(camera: &str, start: i64, end: i64, frames: i64) -> Recording {
        Recording {
            id: 0,
            camera_id: camera.into(),
            path: String::new(),
            start_ms: 0,
            end_ms: 0,
            start_pts: start,
            end_pts: end,
            frames,
            bytes: 0,
            codec: String::new(),
            width: 0,
            height: 0,
            open: false,
        }
    }

    #[test]
    fn missing_frames_counts_gaps_in_and_between_segments() {
        // 10 s at 25 fps in two segments: complete.
        let full = [row("a", 0, 450_000, 125), row("a", 450_000, 900_000, 125)];
        assert_eq!(missing_frames(&full), 0);
        // A GOP (25 frames) skipped inside a segment, and a 1 s gap between segments.
        let gaps = [
            row("a", 0, 450_000, 100),
            row("a", 540_000, 900_000, 100),
            row("b", 0, 90_000, 25),
        ];
        assert_eq!(missing_frames(&gaps), 25 + 25);
    }

    #[test]
    fn refuses_long_runs_and_full_disks() {
        let rt = tokio::runtime::Builder::new_current_thread().build().ok();
        let Some(rt) = rt else { return };
        let long = RecordArgs {
            seconds: MAX_SECONDS + 1,
            ..RecordArgs::default()
        };
        let err = rt.block_on(run_record(&long)).err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("--seconds")));
        let huge = RecordArgs {
            streams: 10_000_000,
            seconds: MAX_SECONDS,
            ..RecordArgs::default()
        };
        let err = rt.block_on(run_record(&huge)).err().map(|e| e.to_string());
        assert!(
            err.as_deref()
                .is_some_and(|e| e.contains("not enough free disk")),
            "{err:?}"
        );
        // 200 streams × 2 Mbit/s × 60 s is ~3 GB of footage; with margin ~5 GB.
        let minute = RecordArgs {
            streams: 200,
            seconds: 60,
            segment_secs: 10,
            ..RecordArgs::default()
        };
        let gb = disk_needed(&minute) as f64 / 1e9;
        assert!((4.5..7.0).contains(&gb), "{gb}");
    }
}
