//! `xiaoan bench live`: live video from simulated GB/T 28181 cameras to operators' browsers.
//! Starts `xiaoan serve` as a child process on a temporary data directory with the benchmark
//! dataset, `[gb28181]` on a free port and N always-on cameras (each linked to an alarm point),
//! runs N simulated cameras in this process (the shipped clip padded to a bit rate, sent as PS
//! over RTP at real time), then measures in turn: the server idle, with N streams and no viewer,
//! the time to first frame of K live views opened one after another, and N×M viewers reading
//! every fragment. Prints the server's and this process's CPU, the server's RSS, the bytes
//! delivered and the frames viewers missed. A measurement, not a test: nothing is asserted.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use futures::StreamExt;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_util::sync::CancellationToken;
use xiaoan_core::camera::{Camera, CameraSource};
use xiaoan_sim::gb_device::{self, DeviceSpec, FleetConfig, Profile, Transport};
use xiaoan_store::Store;

use super::{cpu_time, rss_kib};
use crate::config::Config;
use crate::server;

const PASSWORD: &str = "bench";
const SIP_PASSWORD: &str = "bench-live";
/// How long one live view may take to show its first keyframe before it counts as failed.
const OPEN_TIMEOUT: Duration = Duration::from_secs(5);

/// Flags of `bench live`.
#[derive(Debug, Args)]
pub struct LiveArgs {
    /// Simulated GB/T 28181 cameras, all always on.
    #[arg(long, default_value_t = 20)]
    pub cameras: usize,
    /// Viewers per camera in the viewer phase.
    #[arg(long, default_value_t = 4)]
    pub viewers: usize,
    /// Seconds measured in the stream phase and again in the viewer phase.
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    /// Live views opened one after another (round robin over the cameras) for time to first
    /// frame.
    #[arg(long, default_value_t = 100)]
    pub opens: usize,
    /// Bit rate the clip is padded to (filler NAL units); 0 sends the clip as shipped.
    #[arg(long, default_value_t = 2_000_000)]
    pub bitrate: u64,
    /// How the platform asks cameras to send: udp, tcp-passive or tcp-active.
    #[arg(long, default_value = "udp")]
    pub transport: String,
}

/// A `xiaoan serve` child with the cameras configured.
struct LiveChild {
    process: tokio::process::Child,
    http: String,
    sip: SocketAddr,
    temp: tempfile::TempDir,
}

pub(super) fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

pub(super) fn camera_id(device_id: &str) -> String {
    format!("cam-{device_id}")
}

async fn start_child(args: &LiveArgs, device_ids: &[String]) -> anyhow::Result<LiveChild> {
    let n = device_ids.len();
    let schools = n.div_ceil(10).max(1);
    let temp = tempfile::Builder::new()
        .prefix("xiaoan-bench-live-")
        .tempdir()?;
    let data = temp.path().join("data");
    {
        let store = server::open_store(&data).await?;
        let hash = xiaoan_web::hash_password(PASSWORD).map_err(anyhow::Error::msg)?;
        store
            .seed_directory(&xiaoan_sim::dataset::bench(schools, 10, &hash))
            .await?;
    }
    let sip = loop {
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
        if std::net::UdpSocket::bind(addr).is_ok() {
            break addr;
        }
    };
    let http = format!("127.0.0.1:{}", free_port()?);
    let mut config = Config {
        data_dir: Some(data),
        ..Config::default()
    };
    config.http.addr = http.clone();
    config.dc09.addr.clear();
    config.gb28181.addr = sip.to_string();
    config.gb28181.password = SIP_PASSWORD.into();
    config.gb28181.media_transport = args.transport.clone();
    config.cameras = device_ids
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
    let process =
        crate::cmds::bench::spawn_serve(temp.path(), &config, &[http.to_string(), sip.to_string()])
            .await?;
    Ok(LiveChild {
        process,
        http: format!("http://{http}"),
        sip,
        temp,
    })
}

/// The simulated cameras of the video benchmarks: one channel each, over 4 UDP sockets, at most
/// 50 registrations in progress.
pub(super) fn camera_fleet(sip: SocketAddr, password: &str, ids: &[String]) -> FleetConfig {
    FleetConfig {
        to: sip,
        profile: Profile {
            password: password.into(),
            retry_after: Duration::from_secs(5),
            transport: Transport::Udp,
            ..Profile::default()
        },
        devices: ids
            .iter()
            .map(|id| DeviceSpec {
                id: id.clone(),
                channels: vec![id.clone()],
            })
            .collect(),
        sockets: 4,
        register_window: 50,
    }
}

pub(super) async fn login(client: &reqwest::Client, base: &str) -> anyhow::Result<String> {
    let res = client
        .post(format!("{base}/api/v1/login"))
        .json(&serde_json::json!({ "username": "benchop", "password": PASSWORD }))
        .send()
        .await?;
    anyhow::ensure!(res.status().is_success(), "login: HTTP {}", res.status());
    let body: serde_json::Value = res.json().await?;
    body["token"]
        .as_str()
        .map(str::to_owned)
        .context("the login answer has no token")
}

/// Cameras the operator sees whose link is `live`, of all they see.
pub(super) async fn cameras_live(
    client: &reqwest::Client,
    base: &str,
    token: &str,
) -> anyhow::Result<(usize, usize)> {
    let body: serde_json::Value = client
        .get(format!("{base}/api/v1/cameras"))
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let cams = body["cameras"].as_array().context("no camera list")?;
    let live = cams.iter().filter(|c| c["link"] == "live").count();
    Ok((live, cams.len()))
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(base: &str, token: &str, camera: &str) -> anyhow::Result<Ws> {
    let url = format!(
        "{}/api/v1/cameras/{camera}/live",
        base.replacen("http://", "ws://", 1)
    );
    let mut req = url.into_client_request()?;
    req.headers_mut()
        .insert("cookie", format!("xiaoan_session={token}").parse()?);
    let (ws, _) = tokio_tungstenite::connect_async(req).await?;
    Ok(ws)
}

/// Reads the description, the init segment and fragments until one starts with a keyframe.
async fn first_keyframe(ws: &mut Ws) -> anyhow::Result<Fragment> {
    let (mut header, mut init) = (false, false);
    while let Some(msg) = ws.next().await {
        match msg? {
            Message::Text(_) => header = true,
            Message::Binary(_) if header && !init => init = true,
            Message::Binary(b) if header => {
                if let Some(f) = fragment_info(&b).filter(|f| f.keyframe) {
                    return Ok(f);
                }
            }
            Message::Close(_) => anyhow::bail!("closed by the server"),
            _ => {}
        }
    }
    anyhow::bail!("the socket ended before a keyframe")
}

/// One live view: open, wait for the first keyframe fragment, close. Milliseconds to the
/// upgrade and to the keyframe.
async fn one_open(base: &str, token: &str, camera: &str) -> anyhow::Result<(f64, f64)> {
    let t0 = Instant::now();
    let mut ws = open(base, token, camera).await?;
    let upgraded = t0.elapsed();
    first_keyframe(&mut ws).await?;
    let shown = t0.elapsed();
    let _ = ws.close(None).await;
    Ok((upgraded.as_secs_f64() * 1e3, shown.as_secs_f64() * 1e3))
}

/// Counters every viewer adds to.
#[derive(Default)]
struct Counters {
    ready: AtomicU64,
    failed: AtomicU64,
    bytes: AtomicU64,
    fragments: AtomicU64,
    /// Jumps in the fragments' sequence numbers (the viewer was skipped forward).
    gaps: AtomicU64,
    missed_frames: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> [u64; 4] {
        [
            self.bytes.load(Ordering::Relaxed),
            self.fragments.load(Ordering::Relaxed),
            self.gaps.load(Ordering::Relaxed),
            self.missed_frames.load(Ordering::Relaxed),
        ]
    }
}

/// A viewer reading every message until cancelled.
async fn viewer(
    base: String,
    token: String,
    camera: String,
    c: Arc<Counters>,
    stop: CancellationToken,
) {
    let mut ws = match open(&base, &token, &camera).await {
        Ok(ws) => ws,
        Err(_) => {
            c.failed.fetch_add(1, Ordering::Relaxed);
            return;
        }
    };
    let mut last = match tokio::time::timeout(OPEN_TIMEOUT, first_keyframe(&mut ws)).await {
        Ok(Ok(f)) => f.sequence,
        _ => {
            c.failed.fetch_add(1, Ordering::Relaxed);
            return;
        }
    };
    c.ready.fetch_add(1, Ordering::Relaxed);
    loop {
        let msg = tokio::select! {
            () = stop.cancelled() => break,
            m = ws.next() => m,
        };
        let Some(Ok(msg)) = msg else { break };
        let Message::Binary(b) = msg else { continue };
        c.bytes.fetch_add(b.len() as u64, Ordering::Relaxed);
        let Some(f) = fragment_info(&b) else { continue };
        c.fragments.fetch_add(1, Ordering::Relaxed);
        let missed = f.sequence.wrapping_sub(last).wrapping_sub(1);
        if missed > 0 && missed < u32::MAX / 2 {
            c.gaps.fetch_add(1, Ordering::Relaxed);
            c.missed_frames
                .fetch_add(u64::from(missed), Ordering::Relaxed);
        }
        last = f.sequence;
    }
    let _ = ws.close(None).await;
}

fn percentiles(mut ms: Vec<f64>) -> String {
    if ms.is_empty() {
        return "| 0 | – | – | – | – |".into();
    }
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let i = ((ms.len() as f64 * q).ceil() as usize).clamp(1, ms.len()) - 1;
        ms.get(i).copied().unwrap_or_default()
    };
    format!(
        "| {} | {:.1} | {:.1} | {:.1} | {:.1} |",
        ms.len(),
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0)
    )
}

/// CPU seconds of a process between two readings.
fn cpu_between(a: Option<Duration>, b: Option<Duration>) -> Option<f64> {
    Some(b?.saturating_sub(a?).as_secs_f64())
}

fn mib(k: Option<u64>) -> String {
    k.map_or("n/a".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}

/// Sleeps `secs` seconds, sampling the server's RSS; the largest seen.
async fn hold(secs: u64, pid: Option<u32>) -> Option<u64> {
    let end = Instant::now() + Duration::from_secs(secs);
    let mut max = pid.and_then(rss_kib);
    while Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(500).min(end - Instant::now())).await;
        max = max.max(pid.and_then(rss_kib));
    }
    max
}

/// Runs `bench live`.
pub async fn run(args: LiveArgs) -> anyhow::Result<()> {
    let n = args.cameras.max(1);
    let secs = args.seconds.max(1);
    let ids = gb_device::consecutive_ids("34020000001320000001", n)?;
    let mut child = start_child(&args, &ids).await?;
    let pid = child.process.id();
    let client = reqwest::Client::new();
    let base = child.http.clone();
    let token = login(&client, &base).await?;

    // The clip the cameras send and its real bit rate.
    let shipped =
        xiaoan_media::clip::frames(xiaoan_media::clip::TESTSRC_H264, gb_device::media::FPS)?;
    let clip = (args.bitrate > 0).then(|| gb_device::media::padded_clip(args.bitrate));
    let frames: &[xiaoan_media::Frame] = clip.as_deref().unwrap_or(&shipped);
    let clip_bits = frames
        .iter()
        .map(|f| f.data.len() as f64 * 8.0)
        .sum::<f64>();
    let clip_bps = clip_bits * f64::from(gb_device::media::FPS) / frames.len().max(1) as f64;

    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_idle = pid.and_then(rss_kib);

    let fleet_cfg = camera_fleet(child.sip, SIP_PASSWORD, &ids);
    let fleet = gb_device::start_with_clip(fleet_cfg, None, clip.clone()).await?;
    let t_live = Instant::now();
    let live_deadline = t_live + Duration::from_secs(30) + Duration::from_millis(n as u64 * 200);
    let mut live = 0;
    while Instant::now() < live_deadline {
        let (l, seen) = cameras_live(&client, &base, &token).await?;
        anyhow::ensure!(seen == n, "the operator sees {seen} of {n} cameras");
        live = l;
        if live == n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let all_live = t_live.elapsed();
    // Let every GOP cache and pre-roll fill before measuring.
    tokio::time::sleep(Duration::from_secs(3)).await;

    // Phase 1: N streams, no viewer.
    let (s0, o0) = (cpu_time(pid), cpu_time(None));
    let t0 = Instant::now();
    let rss_streams = hold(secs, pid).await;
    let stream_wall = t0.elapsed().as_secs_f64();
    let (s1, o1) = (cpu_time(pid), cpu_time(None));

    // Phase 2: time to first frame, one view at a time, round robin over the cameras.
    let mut upgrade_ms = Vec::new();
    let mut ttff_ms = Vec::new();
    let mut open_failures = 0;
    for k in 0..args.opens {
        let cam = camera_id(ids.get(k % n).map(String::as_str).unwrap_or_default());
        match tokio::time::timeout(OPEN_TIMEOUT, one_open(&base, &token, &cam)).await {
            Ok(Ok((u, t))) => {
                upgrade_ms.push(u);
                ttff_ms.push(t);
            }
            _ => open_failures += 1,
        }
    }

    // Phase 3: N×M viewers reading every fragment.
    let counters = Arc::new(Counters::default());
    let stop = CancellationToken::new();
    let total_viewers = (n * args.viewers) as u64;
    let mut tasks = Vec::new();
    for _ in 0..args.viewers {
        for id in &ids {
            tasks.push(tokio::spawn(viewer(
                base.clone(),
                token.clone(),
                camera_id(id),
                counters.clone(),
                stop.clone(),
            )));
        }
    }
    let ready_deadline = Instant::now() + Duration::from_secs(30);
    while counters.ready.load(Ordering::Relaxed) + counters.failed.load(Ordering::Relaxed)
        < total_viewers
        && Instant::now() < ready_deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (s2, o2) = (cpu_time(pid), cpu_time(None));
    let c0 = counters.snapshot();
    let t2 = Instant::now();
    let rss_viewers = hold(secs, pid).await;
    let viewer_wall = t2.elapsed().as_secs_f64();
    let (s3, o3) = (cpu_time(pid), cpu_time(None));
    let c1 = counters.snapshot();
    let (live_end, _) = cameras_live(&client, &base, &token).await.unwrap_or((0, n));
    stop.cancel();
    for t in tasks {
        let _ = t.await;
    }
    fleet.shutdown().await;
    let _ = child.process.start_kill();
    let _ = child.process.wait().await;

    // The table.
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    println!(
        "live video benchmark: {n} GB/T 28181 cameras ({} over {}, clip at {:.2} Mbit/s), {} viewer(s) per camera, {secs} s per phase, {} opens; load average {}",
        if clip.is_some() {
            "padded"
        } else {
            "as shipped"
        },
        args.transport,
        clip_bps / 1e6,
        args.viewers,
        args.opens,
        load.join(" ")
    );
    println!("| measure | count | p50 ms | p90 ms | p99 ms | max ms |");
    println!("|---|---|---|---|---|---|");
    println!("| open → WebSocket upgraded {}", percentiles(upgrade_ms));
    println!(
        "| open → first keyframe fragment (time to first frame) {}",
        percentiles(ttff_ms)
    );
    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| cameras live | {live}/{n} after {:.1} s (at the end: {live_end}/{n}); {open_failures} opens failed |",
        all_live.as_secs_f64()
    );
    let per_core = |cpu: f64, wall: f64| cpu / wall.max(1e-9) * 100.0;
    if let Some(cpu) = cpu_between(s0, s1) {
        let pct = per_core(cpu, stream_wall);
        println!(
            "| server CPU, {n} streams, no viewer | {pct:.1}% of a core; per stream {:.2}% ({:.2} ms per second of video) |",
            pct / n as f64,
            cpu * 1e3 / (stream_wall * n as f64)
        );
    }
    let stream_rate = cpu_between(s0, s1).map(|c| c / stream_wall.max(1e-9));
    if let (Some(cpu), Some(base_rate)) = (cpu_between(s2, s3), stream_rate) {
        let rate = cpu / viewer_wall.max(1e-9);
        let extra = (rate - base_rate) * 1e3 / total_viewers.max(1) as f64;
        println!(
            "| server CPU, {total_viewers} viewers | {:.1}% of a core; per viewer {:.2}% ({extra:.2} ms/s) more than without viewers |",
            rate * 100.0,
            extra / 10.0
        );
    }
    let [b0, f0, g0, m0] = c0;
    let [b1, f1, g1, m1] = c1;
    let delivered = (b1 - b0) as f64 / viewer_wall.max(1e-9);
    println!(
        "| delivered to viewers | {:.1} Mbit/s ({:.2} Mbit/s per viewer), {:.0} fragments/s |",
        delivered * 8.0 / 1e6,
        delivered * 8.0 / 1e6 / total_viewers.max(1) as f64,
        (f1 - f0) as f64 / viewer_wall.max(1e-9)
    );
    println!(
        "| viewers ready / failed | {}/{total_viewers} / {} |",
        counters.ready.load(Ordering::Relaxed),
        counters.failed.load(Ordering::Relaxed)
    );
    println!(
        "| viewer skips (sequence jumps) / frames missed | {} / {} |",
        g1 - g0,
        m1 - m0
    );
    println!(
        "| server RSS idle / {n} streams / {total_viewers} viewers (max) | {} / {} / {} |",
        mib(rss_idle),
        mib(rss_streams),
        mib(rss_viewers)
    );
    if let (Some(a), Some(b)) = (cpu_between(o0, o1), cpu_between(o2, o3)) {
        println!(
            "| bench process CPU (simulated cameras; + viewers) | {:.1}% of a core; {:.1}% |",
            per_core(a, stream_wall),
            per_core(b, viewer_wall)
        );
    }
    if live < n {
        let kept = child.temp.keep();
        eprintln!(
            "not every camera went live; the server's log is kept in {}",
            kept.join("server.log").display()
        );
    }
    Ok(())
}

/// What a viewer needs from an fMP4 fragment (`moof`+`mdat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fragment {
    /// `mfhd` sequence number (the track's frame counter: a jump means frames were skipped).
    sequence: u32,
    /// The first sample is a sync sample.
    keyframe: bool,
}

/// The boxes in `data`: (type, body).
fn boxes(mut data: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    std::iter::from_fn(move || {
        let size = u32::from_be_bytes(data.get(..4)?.try_into().ok()?) as usize;
        let kind: [u8; 4] = data.get(4..8)?.try_into().ok()?;
        let (header, size) = match size {
            0 => (8, data.len()),
            1 => {
                let large = u64::from_be_bytes(data.get(8..16)?.try_into().ok()?);
                (16, usize::try_from(large).ok()?)
            }
            s => (8, s),
        };
        let body = data.get(header..size)?;
        data = data.get(size..)?;
        Some((kind, body))
    })
}

fn child<'a>(data: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    boxes(data).find(|(k, _)| k == kind).map(|(_, b)| b)
}

fn be32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

/// Reads a fragment's sequence number and whether its first sample is a keyframe (`trun` first
/// sample flags, the sample's own flags, or `tfhd` default flags; bit 16 is non-sync).
fn fragment_info(data: &[u8]) -> Option<Fragment> {
    let moof = child(data, b"moof")?;
    let sequence = be32(child(moof, b"mfhd")?, 4)?;
    let traf = child(moof, b"traf")?;
    let tfhd = child(traf, b"tfhd")?;
    let tf_flags = be32(tfhd, 0)? & 0x00ff_ffff;
    let mut at = 8;
    for (bit, len) in [(0x1, 8), (0x2, 4), (0x8, 4), (0x10, 4)] {
        if tf_flags & bit != 0 {
            at += len;
        }
    }
    let default_flags = (tf_flags & 0x20 != 0).then(|| be32(tfhd, at)).flatten();
    let trun = child(traf, b"trun")?;
    let tr_flags = be32(trun, 0)? & 0x00ff_ffff;
    let mut at = 8;
    if tr_flags & 0x1 != 0 {
        at += 4;
    }
    let flags = if tr_flags & 0x4 != 0 {
        be32(trun, at)
    } else {
        at += [0x100, 0x200]
            .iter()
            .filter(|&&b| tr_flags & b != 0)
            .count()
            * 4;
        if tr_flags & 0x400 != 0 {
            be32(trun, at)
        } else {
            default_flags
        }
    }?;
    Some(Fragment {
        sequence,
        keyframe: flags & 0x0001_0000 == 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sequence_and_sync_flag_of_fragments() {
        let clip =
            xiaoan_media::clip::frames(xiaoan_media::clip::TESTSRC_H264, 25).unwrap_or_default();
        let key = clip.iter().position(|f| f.is_keyframe).unwrap_or(0);
        let make = |seq, i: usize| {
            xiaoan_media::fmp4::fragment(seq, std::slice::from_ref(&clip[i]), 3600)
                .map(|b| fragment_info(&b))
        };
        assert_eq!(
            make(7, key).ok().flatten(),
            Some(Fragment {
                sequence: 7,
                keyframe: true
            })
        );
        assert_eq!(
            make(8, key + 1).ok().flatten(),
            Some(Fragment {
                sequence: 8,
                keyframe: false
            })
        );
        assert_eq!(fragment_info(b"garbage"), None);
    }
}
