//! `xiaoan bench all`: the alarm-path benchmarks one after another — the disk's fsync floor,
//! one-key press → console, DC-09 flat out and at a steady rate, GB/T 28181 devices supervised,
//! streams recorded (simulated 2 Mbit/s GB/T 28181 cameras through the ingest) — each printing its own detail, then one summary table with the fsync floor beside the figures
//! it bounds. A measurement, not a test: nothing is asserted beyond each benchmark's own checks.

use std::io::Write;
use std::time::Instant;

use clap::Args;

use super::record::{self, RecordArgs};
use super::{Dc09Args, GbArgs, PressArgs};

/// Flags of `bench all`.
#[derive(Debug, Args)]
pub struct AllArgs {
    /// Seconds each measured phase runs (press, DC-09 flat out, DC-09 at 1,000/s, keepalives).
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Simulated GB/T 28181 devices registered and kept alive (keepalive every 5 s).
    #[arg(long, default_value_t = 10_000)]
    pub gb_devices: usize,
    /// fsync samples for the floor.
    #[arg(long, default_value_t = 300)]
    pub fsyncs: usize,
    /// Simulated 2 Mbit/s cameras recorded at once (0 skips the recording benchmark; it writes
    /// about 15 MB per stream per minute and checks free disk first).
    #[arg(long, default_value_t = 200)]
    pub record_streams: usize,
    /// Seconds the recording benchmark measures.
    #[arg(long, default_value_t = 30)]
    pub record_seconds: u64,
}

/// p50 and p99 of `samples` in milliseconds (nearest rank).
fn p50_p99(mut samples: Vec<f64>) -> (f64, f64) {
    if samples.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let rank = ((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
        samples[rank - 1]
    };
    (at(0.50), at(0.99))
}

/// The floor under every durable acknowledgement: a 100-byte append followed by `fsync`, `n`
/// times, in a fresh file under the system's temporary directory (where the benchmarks keep
/// their data directories).
fn fsync_floor(n: usize) -> anyhow::Result<(f64, f64)> {
    let dir = tempfile::Builder::new()
        .prefix("xiaoan-bench-fsync-")
        .tempdir()?;
    let mut file = std::fs::File::create(dir.path().join("floor"))?;
    let record = [b'x'; 100];
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n.max(1) {
        let t = Instant::now();
        file.write_all(&record)?;
        file.sync_all()?;
        samples.push(t.elapsed().as_secs_f64() * 1e3);
    }
    Ok(p50_p99(samples))
}

fn section(title: &str) {
    println!();
    println!("## {title}");
    println!();
}

/// Runs `bench all`.
pub async fn run(args: AllArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let secs = args.seconds.max(1);
    let mut rows: Vec<[String; 3]> = Vec::new();

    section("fsync floor");
    let (f50, f99) = fsync_floor(args.fsyncs)?;
    println!(
        "100-byte write + fsync, {} times: p50 {f50:.3} ms, p99 {f99:.3} ms",
        args.fsyncs
    );
    rows.push([
        "fsync floor (100-byte write + fsync)".into(),
        format!("p50 {f50:.2} ms, p99 {f99:.2} ms"),
        format!("{} samples", args.fsyncs),
    ]);

    section("one-key press → console");
    let press = super::press(PressArgs {
        rate: 100.0,
        seconds: secs,
        schools: 100,
        url: None,
    })
    .await?;
    rows.push([
        "press → operator's console (SSE)".into(),
        format!(
            "p50 {:.2} ms, p99 {:.2} ms",
            press.to_console.p50, press.to_console.p99
        ),
        format!("{} presses at 100/s", press.to_console.count),
    ]);
    rows.push([
        "press → 201 (stored)".into(),
        format!(
            "p50 {:.2} ms, p99 {:.2} ms",
            press.to_ack.p50, press.to_ack.p99
        ),
        format!("{} failed", press.failed),
    ]);

    section("SIA DC-09, flat out");
    let flat = super::dc09(dc09_args(secs, 0.0)).await?;
    rows.push([
        "DC-09 durable frames/s (flat out)".into(),
        format!("{:.0} frames/s", flat.report.throughput()),
        match flat.server_us_per_ack {
            Some(us) => format!("{us:.0} µs server CPU per ACK"),
            None => "server CPU n/a".into(),
        },
    ]);

    section("SIA DC-09, 1,000 frames/s");
    let steady = super::dc09(dc09_args(secs, 1000.0)).await?;
    rows.push([
        "DC-09 send → ACK at 1,000/s".into(),
        format!(
            "p50 {:.2} ms, p99 {:.2} ms",
            steady.report.latency.p50, steady.report.latency.p99
        ),
        format!(
            "{} ACK, {} unanswered",
            steady.report.acked, steady.report.unanswered
        ),
    ]);

    section("GB/T 28181 devices supervised");
    let gb = super::gb28181(GbArgs {
        devices: args.gb_devices.max(1),
        keepalive: 5,
        seconds: secs,
        sockets: 4,
        window: 200,
        to: None,
        pid: None,
        password: "bench-gb28181".into(),
    })
    .await?;
    rows.push([
        "GB/T 28181 devices registered".into(),
        format!(
            "{}/{} in {:.2} s",
            gb.registered, gb.devices, gb.register_secs
        ),
        format!(
            "{:.0} registrations/s",
            gb.registered as f64 / gb.register_secs
        ),
    ]);
    rows.push([
        "GB/T 28181 keepalives supervised".into(),
        format!("{:.0} keepalives/s", gb.keepalives_per_sec),
        format!(
            "{} server CPU, RSS max {}",
            gb.keepalive_cpu_percent
                .map_or("n/a".into(), |c| format!("{c:.0}% of a core")),
            gb.rss_max_kib
                .map_or("n/a".into(), |k| format!("{:.0} MiB", k as f64 / 1024.0))
        ),
    ]);

    if args.record_streams > 0 {
        section("streams recorded");
        let rec = record::run_record(&RecordArgs {
            streams: args.record_streams,
            seconds: args.record_seconds.clamp(1, record::MAX_SECONDS),
            ..RecordArgs::default()
        })
        .await?;
        rec.print();
        rows.push([
            format!(
                "streams recorded ({:.1} Mbit/s each, through the ingest)",
                rec.stream_bps / 1e6
            ),
            format!(
                "{}/{} streams, {} missing frames",
                rec.recording, rec.streams, rec.frames_missing
            ),
            format!(
                "{} per stream, {} written, {} RSS per stream",
                rec.cpu_per_stream()
                    .map_or("n/a".into(), |c| format!("{c:.2}% of a core")),
                rec.write_mb_s()
                    .map_or("n/a".into(), |m| format!("{m:.1} MB/s")),
                rec.rss_per_stream_mib()
                    .map_or("n/a".into(), |m| format!("{m:.1} MiB"))
            ),
        ]);
    }

    section("summary");
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    println!(
        "xiaoan bench all --seconds {secs} --gb-devices {} --record-streams {} --record-seconds {}: {} CPU(s), load average {}, {:.0} s in all",
        args.gb_devices,
        args.record_streams,
        args.record_seconds,
        std::thread::available_parallelism().map_or(0, usize::from),
        load.join(" "),
        started.elapsed().as_secs_f64()
    );
    println!();
    println!("| measure | result | detail |");
    println!("|---|---|---|");
    for [m, r, d] in &rows {
        println!("| {m} | {r} | {d} |");
    }
    Ok(())
}

fn dc09_args(seconds: u64, rate: f64) -> Dc09Args {
    Dc09Args {
        connections: 100,
        rate,
        seconds,
        window: 1,
        panic_percent: 90,
        schools: 100,
        to: None,
        pid: None,
    }
}

#[cfg(test)]
mod tests {
    use super::p50_p99;

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(p50_p99(samples), (50.0, 99.0));
        assert_eq!(p50_p99(vec![3.0]), (3.0, 3.0));
        assert!(p50_p99(Vec::new()).0.is_nan());
    }
}
