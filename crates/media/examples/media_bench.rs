//! Runs the media benchmark: `cargo run --release -p xiaoan-media --example media_bench --
//! [streams] [viewers per stream] [seconds] [realtime]`.

use xiaoan_media::bench::{BenchConfig, run};

#[tokio::main]
async fn main() -> Result<(), xiaoan_media::MediaError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num =
        |i: usize, default: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let config = BenchConfig {
        streams: num(0, 8),
        viewers_per_stream: num(1, 4),
        video_seconds: u32::try_from(num(2, 20)).unwrap_or(20),
        realtime: args.get(3).is_some_and(|a| a == "realtime"),
        ..BenchConfig::default()
    };
    println!("{}", run(config).await?);
    Ok(())
}
