//! `xiaoan bench press`: starts a server on a fresh temporary data directory with the benchmark
//! dataset (or uses `--url`), raises one-key alarms through the API at a steady rate and prints
//! press → console latency (p50, p99), the 201 latency and the throughput.

use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};
use xiaoan_sim::press_bench::{self, PressBench};
use xiaoan_store::Store;

use crate::config::Config;
use crate::server;

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
        Which::Press(p) => press(p).await,
    }
}

async fn press(args: PressArgs) -> anyhow::Result<()> {
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
    Ok(())
}
