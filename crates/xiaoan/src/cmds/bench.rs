//! `xiaoan bench press`: starts a server on a fresh temporary data directory with the benchmark
//! dataset (or uses `--url`), raises one-key alarms through the API at a steady rate and prints
//! press → console latency (p50, p99), the 201 latency and the throughput.
//!
//! `xiaoan bench dc09`: starts `xiaoan serve` as a child process on a fresh temporary data
//! directory with the benchmark dataset and one plain DC-09 account per alarm point (or uses
//! `--to`), floods it with SIA-DCS frames over many TCP connections and prints the acknowledged
//! (durable) frames per second, the ACK latency and the server's CPU time.
//!
//! `xiaoan bench gb28181`: starts `xiaoan serve` as a child process with only the GB/T 28181
//! platform on (or uses `--to`), registers N simulated devices from a few UDP sockets, reports
//! the time to register them all, then keeps them alive for a while and reports the server's
//! CPU, RSS and the keepalives handled per second. A measurement, not a test: nothing is asserted.
//!
//! `xiaoan bench live` ([`live`]): simulated GB/T 28181 cameras into a `xiaoan serve` child, then
//! live views over WebSockets: time to first frame, CPU per stream and per viewer, RSS.
//!
//! `xiaoan bench record` ([`record`]): N simulated 2 Mbit/s streams recorded at once (through
//! the ingest of a `xiaoan serve` child, or `--direct` into the recorder): CPU, disk writes, RSS.

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

use clap::{Args, Subcommand};
use xiaoan_sim::dc09_bench::{self, Dc09Bench, bench_account};
use xiaoan_sim::press_bench::{self, PressBench};
use xiaoan_store::Store;

use crate::config::Config;
use crate::server;

#[path = "bench_all.rs"]
mod all;
#[path = "bench_live.rs"]
mod live;
#[path = "bench_record.rs"]
pub mod record;

/// Flags of `bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub which: Which,
}

/// Which benchmark.
#[derive(Debug, Subcommand)]
pub enum Which {
    /// One-key presses through the API → events on an operator's live stream.
    Press(PressArgs),
    /// SIA DC-09 frames over many TCP connections → ACKs (each after its commit).
    Dc09(Dc09Args),
    /// GB/T 28181 devices registering from a few sockets, then keepalives.
    Gb28181(GbArgs),
    /// Simulated GB/T 28181 cameras → live video on operators' WebSockets.
    Live(live::LiveArgs),
    /// N simulated 2 Mbit/s streams recorded at once: CPU, disk writes, memory per stream.
    Record(record::RecordArgs),
    /// The alarm-path benchmarks one after another, summed up in one table beside the fsync floor.
    All(all::AllArgs),
}

/// Flags of `bench gb28181`.
#[derive(Debug, Args)]
pub struct GbArgs {
    /// Simulated devices (consecutive IDs from 34020000001170000001).
    #[arg(long, default_value_t = 1000)]
    pub devices: usize,
    /// Keepalive interval in seconds (the platform is configured to match).
    #[arg(long, default_value_t = 10)]
    pub keepalive: u64,
    /// Seconds of keepalives measured after every device has registered.
    #[arg(long, default_value_t = 30)]
    pub seconds: u64,
    /// UDP sockets the devices share.
    #[arg(long, default_value_t = 4)]
    pub sockets: usize,
    /// Registrations in progress at once.
    #[arg(long, default_value_t = 200)]
    pub window: usize,
    /// Use a running platform (its password must be `--password`) instead of starting one.
    #[arg(long)]
    pub to: Option<SocketAddr>,
    /// With `--to`: the platform's process id, to report its CPU time and RSS (Linux).
    #[arg(long)]
    pub pid: Option<u32>,
    /// The platform password.
    #[arg(long, default_value = "bench-gb28181")]
    pub password: String,
}

/// Flags of `bench dc09`.
#[derive(Debug, Args)]
pub struct Dc09Args {
    /// TCP connections (each one carries a share of the accounts, like a panel concentrator).
    #[arg(long, default_value_t = 100)]
    pub connections: usize,
    /// Total frames per second; 0 sends as fast as the receiver answers.
    #[arg(long, default_value_t = 0.0)]
    pub rate: f64,
    /// Seconds of sending.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Frames in flight per connection (1: wait for each ACK, like a real panel).
    #[arg(long, default_value_t = 1)]
    pub window: usize,
    /// Share of panic (`PA`) frames in percent; the rest are periodic tests (`RP`, signal log).
    #[arg(long, default_value_t = 90)]
    pub panic_percent: u32,
    /// Schools in the benchmark dataset (10 alarm points each, one DC-09 account per point).
    #[arg(long, default_value_t = 100)]
    pub schools: usize,
    /// Use a running receiver (with plain accounts B00000… for `--schools`×10 points) instead of
    /// starting one.
    #[arg(long)]
    pub to: Option<SocketAddr>,
    /// With `--to`: the receiver's process id, to report its CPU time (Linux).
    #[arg(long)]
    pub pid: Option<u32>,
}

/// Flags of `bench press`.
#[derive(Debug, Args)]
pub struct PressArgs {
    /// Presses per second.
    #[arg(long, default_value_t = 100.0)]
    pub rate: f64,
    /// Seconds to run.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Schools in the benchmark dataset (10 alarm points each).
    #[arg(long, default_value_t = 100)]
    pub schools: usize,
    /// Use a running server (seeded with the bench dataset, password `bench`) instead of starting one.
    #[arg(long)]
    pub url: Option<String>,
}

/// Runs the chosen benchmark.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.which {
        Which::Press(p) => press(p).await.map(drop),
        Which::Dc09(d) => dc09(d).await.map(drop),
        Which::Gb28181(g) => gb28181(g).await.map(drop),
        Which::Live(l) => live::run(l).await,
        Which::Record(r) => record::run(r).await,
        Which::All(a) => all::run(a).await,
    }
}

async fn press(args: PressArgs) -> anyhow::Result<press_bench::PressReport> {
    let points_per_school = 10;
    let mut running = None;
    let mut _temp = None;
    let base_url = match &args.url {
        Some(url) => url.clone(),
        None => {
            let temp = tempfile::Builder::new().prefix("xiaoan-bench-").tempdir()?;
            let store = server::open_store(temp.path()).await?;
            let hash = xiaoan_web::hash_password("bench").map_err(anyhow::Error::msg)?;
            store
                .seed_directory(&xiaoan_sim::dataset::bench(
                    args.schools,
                    points_per_school,
                    &hash,
                ))
                .await?;
            let listener = server::bind("127.0.0.1:0").await?;
            let mut config = Config::default();
            config.dc09.addr.clear();
            let r = server::start(
                &config,
                temp.path().to_path_buf(),
                Arc::new(store),
                listener,
            )
            .await?;
            let url = format!("http://{}", r.http_addr);
            running = Some(r);
            _temp = Some(temp);
            url
        }
    };
    let cfg = PressBench {
        base_url,
        rate: args.rate,
        duration: Duration::from_secs(args.seconds),
        points: (args.schools * points_per_school) as u64,
        password: "bench".into(),
    };
    let report = press_bench::run(&cfg).await?;
    println!(
        "press → console benchmark: {} presses/s for {} s, {} alarm points",
        args.rate, args.seconds, cfg.points
    );
    println!("| measure | count | p50 ms | p90 ms | p99 ms | max ms |");
    println!("|---|---|---|---|---|---|");
    for (name, p) in [
        ("press → SSE event (console)", &report.to_console),
        ("press → 201 (stored)", &report.to_ack),
    ] {
        println!(
            "| {name} | {} | {:.2} | {:.2} | {:.2} | {:.2} |",
            p.count, p.p50, p.p90, p.p99, p.max
        );
    }
    println!(
        "throughput: {:.1} acknowledged presses/s ({} sent, {} created, {} failed, {} events missing) in {:.2} s",
        report.throughput(),
        report.sent,
        report.created,
        report.failed,
        report.missing_events,
        report.elapsed.as_secs_f64()
    );
    if let Some(r) = running {
        r.stop().await;
    }
    anyhow::ensure!(
        report.failed == 0 && report.missing_events == 0,
        "some presses failed or never reached the console"
    );
    Ok(report)
}

/// CPU time (user + system) of a process so far, from `/proc` (Linux; `None` elsewhere).
fn cpu_time(pid: Option<u32>) -> Option<Duration> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    let stat = std::fs::read_to_string(path).ok()?;
    // Fields after the command name (which may contain spaces) start at field 3 (state).
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // USER_HZ is 100 on every Linux configuration in use.
    Some(Duration::from_millis((utime + stime) * 10))
}

/// A `xiaoan serve` child process on a temporary data directory.
struct Child {
    process: tokio::process::Child,
    dc09: SocketAddr,
    _temp: tempfile::TempDir,
}

async fn start_child(schools: usize) -> anyhow::Result<Child> {
    let points = schools * 10;
    let temp = tempfile::Builder::new()
        .prefix("xiaoan-bench-dc09-")
        .tempdir()?;
    let data = temp.path().join("data");
    {
        let store = server::open_store(&data).await?;
        let hash = xiaoan_web::hash_password("bench").map_err(anyhow::Error::msg)?;
        store
            .seed_directory(&xiaoan_sim::dataset::bench(schools, 10, &hash))
            .await?;
    }
    // A free port for the receiver (TCP; UDP is off in the benchmark).
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let dc09: SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let mut config = Config {
        data_dir: Some(data),
        ..Config::default()
    };
    config.http.addr = "127.0.0.1:0".into();
    config.dc09.addr = dc09.to_string();
    config.dc09.udp = false;
    config.dc09.max_connections = 20_000;
    config.dc09.accounts = (0..points)
        .map(|i| xiaoan_dc09::AccountConfig {
            account: bench_account(i),
            receiver: None,
            line: None,
            alarm_point_id: i as i64 + 1,
            ..Default::default()
        })
        .collect();
    let process = spawn_serve(temp.path(), &config, &[dc09.to_string()]).await?;
    Ok(Child {
        process,
        dc09,
        _temp: temp,
    })
}

/// Starts `xiaoan serve` with `config` (written into `dir`, the log beside it) and waits until
/// every address in `ready` accepts TCP connections.
pub(crate) async fn spawn_serve(
    dir: &std::path::Path,
    config: &crate::config::Config,
    ready: &[String],
) -> anyhow::Result<tokio::process::Child> {
    let config_path = dir.join("bench.toml");
    std::fs::write(&config_path, toml::to_string(config)?)?;
    let log_path = dir.join("server.log");
    let log = std::fs::File::create(&log_path)?;
    let process = tokio::process::Command::new(std::env::current_exe()?)
        .arg("serve")
        .arg("--config")
        .arg(&config_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .context("starting xiaoan serve")?;
    let deadline = Instant::now() + Duration::from_secs(30);
    for addr in ready {
        while tokio::net::TcpStream::connect(addr.as_str()).await.is_err() {
            anyhow::ensure!(
                Instant::now() < deadline,
                "the benchmark server did not start; see {}",
                log_path.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok(process)
}

/// What `bench dc09` measured: the client's report and the server's CPU time per ACK.
pub(crate) struct Dc09Figures {
    report: dc09_bench::Dc09Report,
    server_us_per_ack: Option<f64>,
}

async fn dc09(args: Dc09Args) -> anyhow::Result<Dc09Figures> {
    let mut child = None;
    let (to, pid) = match args.to {
        Some(to) => (to, args.pid),
        None => {
            let c = start_child(args.schools).await?;
            let out = (c.dc09, c.process.id());
            child = Some(c);
            out
        }
    };
    let cfg = Dc09Bench {
        to,
        connections: args.connections,
        accounts: args.schools * 10,
        rate: (args.rate > 0.0).then_some(args.rate),
        duration: Duration::from_secs(args.seconds),
        window: args.window.max(1),
        panic_percent: args.panic_percent,
        grace: Duration::from_secs(10),
    };
    let (server_cpu0, own_cpu0) = (cpu_time(pid), cpu_time(None));
    let report = dc09_bench::run(&cfg).await?;
    let (server_cpu1, own_cpu1) = (cpu_time(pid), cpu_time(None));
    if let Some(mut c) = child {
        let _ = c.process.start_kill();
        let _ = c.process.wait().await;
    }
    let rate = match cfg.rate {
        Some(r) => format!("{r} frames/s"),
        None => "flat out".into(),
    };
    println!(
        "DC-09 benchmark against {to}: {rate} for {} s, {} connections, window {}, {} accounts, {}% PA / {}% RP",
        args.seconds,
        cfg.connections.min(cfg.accounts),
        cfg.window,
        cfg.accounts,
        cfg.panic_percent.min(100),
        100 - cfg.panic_percent.min(100)
    );
    let p = &report.latency;
    println!("| measure | count | p50 ms | p90 ms | p99 ms | max ms |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| send → ACK | {} | {:.3} | {:.3} | {:.3} | {:.3} |",
        p.count, p.p50, p.p90, p.p99, p.max
    );
    println!(
        "throughput: {:.0} acknowledged frames/s ({} sent, {} ACK, {} NAK, {} DUH, {} bad replies, {} unanswered, {} connection errors) in {:.2} s",
        report.throughput(),
        report.sent,
        report.acked,
        report.nak,
        report.duh,
        report.bad_replies,
        report.unanswered,
        report.connection_errors,
        report.elapsed.as_secs_f64()
    );
    let secs = report.elapsed.as_secs_f64().max(1e-9);
    let mut server_us_per_ack = None;
    if let (Some(a), Some(b)) = (server_cpu0, server_cpu1) {
        let cpu = b.saturating_sub(a).as_secs_f64();
        let per_ack = cpu * 1e6 / (report.acked.max(1) as f64);
        server_us_per_ack = Some(per_ack);
        println!(
            "server CPU: {cpu:.2} s ({:.0}% of one core; {per_ack:.1} µs per ACK)",
            cpu / secs * 100.0,
        );
    }
    if let (Some(a), Some(b)) = (own_cpu0, own_cpu1) {
        let cpu = b.saturating_sub(a).as_secs_f64();
        println!(
            "client CPU: {cpu:.2} s ({:.0}% of one core)",
            cpu / secs * 100.0
        );
    }
    Ok(Dc09Figures {
        report,
        server_us_per_ack,
    })
}

/// Resident set size of a process in KiB, from `/proc/<pid>/status` (Linux).
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A `xiaoan serve` child process with only the GB/T 28181 platform on.
struct GbChild {
    process: tokio::process::Child,
    sip: SocketAddr,
    _temp: tempfile::TempDir,
}

/// Starts a [`GbChild`] on a temporary data directory.
async fn start_gb_child(args: &GbArgs) -> anyhow::Result<GbChild> {
    let temp = tempfile::Builder::new()
        .prefix("xiaoan-bench-gb28181-")
        .tempdir()?;
    // A port free for both TCP and UDP.
    let sip = loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
        if std::net::UdpSocket::bind(addr).is_ok() {
            break addr;
        }
    };
    let mut config = Config {
        data_dir: Some(temp.path().join("data")),
        ..Config::default()
    };
    config.http.addr = "127.0.0.1:0".into();
    config.dc09.addr.clear();
    config.gb28181.addr = sip.to_string();
    config.gb28181.password = args.password.clone();
    config.gb28181.keepalive_secs = u32::try_from(args.keepalive.max(1)).unwrap_or(u32::MAX);
    let process = spawn_serve(temp.path(), &config, &[sip.to_string()]).await?;
    Ok(GbChild {
        process,
        sip,
        _temp: temp,
    })
}

/// What `bench gb28181` measured.
pub(crate) struct GbFigures {
    devices: usize,
    registered: usize,
    register_secs: f64,
    keepalives_per_sec: f64,
    keepalive_cpu_percent: Option<f64>,
    rss_max_kib: Option<u64>,
}

async fn gb28181(args: GbArgs) -> anyhow::Result<GbFigures> {
    use xiaoan_sim::gb_device::{self, DeviceSpec, FleetConfig, Profile, Transport};

    let mut child = None;
    let (to, pid) = match args.to {
        Some(to) => (to, args.pid),
        None => {
            let c = start_gb_child(&args).await?;
            let out = (c.sip, c.process.id());
            child = Some(c);
            out
        }
    };
    let n = args.devices.max(1);
    let devices = gb_device::consecutive_ids("34020000001170000001", n)?
        .into_iter()
        .map(|id| DeviceSpec {
            channels: gb_device::channel_ids(&id, 1).unwrap_or_default(),
            id,
        })
        .collect();
    let cfg = FleetConfig {
        to,
        profile: Profile {
            password: args.password.clone(),
            keepalive: Duration::from_secs(args.keepalive.max(1)),
            expires: 3600,
            retry_after: Duration::from_secs(5),
            transport: Transport::Udp,
            spread_keepalives: true,
            ..Profile::default()
        },
        devices,
        sockets: args.sockets.max(1),
        register_window: args.window.max(1),
    };
    let sockets = cfg.sockets.min(n);
    let rss0 = pid.and_then(rss_kib);
    let (cpu_a, own_a) = (cpu_time(pid), cpu_time(None));
    let fleet = gb_device::start(cfg, None).await?;
    let register_timeout = Duration::from_secs(60).max(Duration::from_millis(n as u64 * 20));
    let (reg, all) = fleet
        .wait_until(register_timeout, |r| r.all_registered_at.is_some())
        .await?;
    let cpu_b = cpu_time(pid);
    let rss1 = pid.and_then(rss_kib);
    let reg_time = reg
        .time_to_register_all()
        .or_else(|| reg.started_at.map(|s| s.elapsed()))
        .unwrap_or_default();
    // Keepalive phase.
    let ka0 = reg.keepalives_ok();
    let t0 = Instant::now();
    let mut rss_max = rss1;
    let end = t0 + Duration::from_secs(args.seconds);
    while Instant::now() < end {
        tokio::time::sleep(
            Duration::from_secs(1).min(end.saturating_duration_since(Instant::now())),
        )
        .await;
        rss_max = rss_max.max(pid.and_then(rss_kib));
    }
    let report = fleet.report().await?;
    let elapsed = t0.elapsed().as_secs_f64().max(1e-9);
    let (cpu_c, own_c) = (cpu_time(pid), cpu_time(None));
    let rss2 = pid.and_then(rss_kib);
    fleet.shutdown().await;
    if let Some(mut c) = child {
        let _ = c.process.start_kill();
        let _ = c.process.wait().await;
    }

    let secs = |a: Option<Duration>, b: Option<Duration>| match (a, b) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a).as_secs_f64()),
        _ => None,
    };
    let cpu_cell = |cpu: Option<f64>, over: f64| match cpu {
        Some(c) => format!("{c:.2} s ({:.0}% of one core)", c / over.max(1e-9) * 100.0),
        None => "n/a".into(),
    };
    let mib = |k: Option<u64>| match k {
        Some(k) => format!("{:.1} MiB", k as f64 / 1024.0),
        None => "n/a".into(),
    };
    let reg_secs = reg_time.as_secs_f64().max(1e-9);
    let kas = report.keepalives_ok().saturating_sub(ka0);
    println!(
        "GB/T 28181 benchmark against {to}: {n} devices on {sockets} UDP socket(s), registration window {}, keepalive every {} s, {} s measured",
        args.window.max(1),
        args.keepalive.max(1),
        args.seconds
    );
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| registered | {}/{n}{} |",
        reg.registered(),
        if all { "" } else { " (timed out)" }
    );
    println!("| time to register all | {:.3} s |", reg_secs);
    println!(
        "| registrations/s | {:.0} |",
        reg.registered() as f64 / reg_secs
    );
    println!(
        "| register failures (401 retries excluded) | {} |",
        reg.register_failures()
    );
    println!(
        "| server CPU while registering | {} |",
        cpu_cell(secs(cpu_a, cpu_b), reg_secs)
    );
    println!(
        "| keepalives acknowledged/s | {:.1} ({kas} in {elapsed:.1} s) |",
        kas as f64 / elapsed
    );
    println!(
        "| keepalives failed (whole run) | {} |",
        report.keepalives_failed()
    );
    println!(
        "| server CPU while keeping alive | {} |",
        cpu_cell(secs(cpu_b, cpu_c), elapsed)
    );
    println!(
        "| server RSS before / registered / end (max) | {} / {} / {} ({}) |",
        mib(rss0),
        mib(rss1),
        mib(rss2),
        mib(rss_max)
    );
    println!(
        "| client CPU (whole run) | {} |",
        cpu_cell(secs(own_a, own_c), reg_secs + elapsed)
    );
    Ok(GbFigures {
        devices: n,
        registered: reg.registered(),
        register_secs: reg_secs,
        keepalives_per_sec: kas as f64 / elapsed,
        keepalive_cpu_percent: secs(cpu_b, cpu_c).map(|c| c / elapsed * 100.0),
        rss_max_kib: rss_max,
    })
}
