//! The press → console benchmark client: logs in as an operator and holds the live event stream,
//! logs in as a guard and presses the one-key alarm at a steady rate across many alarm points,
//! then reports the latency from sending each press to its event arriving on the stream (p50,
//! p99), the `201` latency and the throughput. Runs against any xiaoan URL whose directory is
//! [`crate::dataset::bench`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};
use thiserror::Error;

/// What to run.
#[derive(Debug, Clone)]
pub struct PressBench {
    pub base_url: String,
    /// Presses per second.
    pub rate: f64,
    pub duration: Duration,
    /// Alarm points to cycle through (ids 1..=points).
    pub points: u64,
    pub password: String,
}

/// Latency figures in milliseconds.
#[derive(Debug, Clone, Default)]
pub struct Percentiles {
    pub count: usize,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Percentiles {
    pub(crate) fn of(mut ms: Vec<f64>) -> Self {
        if ms.is_empty() {
            return Self::default();
        }
        ms.sort_by(f64::total_cmp);
        let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
        Self {
            count: ms.len(),
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            max: ms[ms.len() - 1],
        }
    }
}

/// What the run measured.
#[derive(Debug, Clone, Default)]
pub struct PressReport {
    pub sent: usize,
    pub created: usize,
    pub failed: usize,
    pub elapsed: Duration,
    /// Send → event on the operator's stream.
    pub to_console: Percentiles,
    /// Send → `201` answer (stored durably).
    pub to_ack: Percentiles,
    /// Presses whose event never reached the stream.
    pub missing_events: usize,
}

impl PressReport {
    /// Acknowledged presses per second.
    pub fn throughput(&self) -> f64 {
        self.created as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Why the benchmark could not run.
#[derive(Debug, Error)]
pub enum BenchError {
    #[error("http: {0}")]
    Http(#[from] reqwest::Error),
    #[error("{0}")]
    Setup(String),
}

async fn login(
    client: &reqwest::Client,
    base: &str,
    user: &str,
    password: &str,
) -> Result<String, BenchError> {
    let res = client
        .post(format!("{base}/api/v1/login"))
        .json(&json!({ "username": user, "password": password }))
        .send()
        .await?;
    if !res.status().is_success() {
        return Err(BenchError::Setup(format!(
            "login as {user}: HTTP {}",
            res.status()
        )));
    }
    let body: Value = res.json().await?;
    body["token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| BenchError::Setup("login answer has no token".into()))
}

type Sent = Arc<Mutex<HashMap<String, Instant>>>;

/// Reads the SSE stream and records the arrival latency of each bench press.
async fn watch(res: reqwest::Response, sent: Sent, latencies: Arc<Mutex<Vec<f64>>>) {
    let mut body = res.bytes_stream();
    let mut buf = String::new();
    while let Some(Ok(chunk)) = body.next().await {
        let now = Instant::now();
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let event: String = buf.drain(..end + 2).collect();
            for line in event.lines() {
                let Some(data) = line.strip_prefix("data:") else {
                    continue;
                };
                let Ok(v) = serde_json::from_str::<Value>(data.trim()) else {
                    continue;
                };
                let kind = v["type"].as_str().unwrap_or_default();
                if kind != "incident.raised" && kind != "incident.joined" {
                    continue;
                }
                let Some(note) = v["entry"]["note"].as_str() else {
                    continue;
                };
                let start = sent.lock().unwrap_or_else(|e| e.into_inner()).remove(note);
                if let Some(start) = start {
                    let ms = now.duration_since(start).as_secs_f64() * 1000.0;
                    latencies.lock().unwrap_or_else(|e| e.into_inner()).push(ms);
                }
            }
        }
    }
}

/// Runs the benchmark.
pub async fn run(cfg: &PressBench) -> Result<PressReport, BenchError> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    let base = cfg.base_url.trim_end_matches('/').to_owned();
    let op = login(&client, &base, "benchop", &cfg.password).await?;
    let guard = login(&client, &base, "benchguard", &cfg.password).await?;
    let stream = client
        .get(format!("{base}/api/v1/events"))
        .bearer_auth(&op)
        .send()
        .await?;
    if !stream.status().is_success() {
        return Err(BenchError::Setup(format!(
            "event stream: HTTP {}",
            stream.status()
        )));
    }
    let sent: Sent = Arc::default();
    let console_ms: Arc<Mutex<Vec<f64>>> = Arc::default();
    let watcher = tokio::spawn(watch(stream, sent.clone(), console_ms.clone()));

    let total = (cfg.rate * cfg.duration.as_secs_f64()).round().max(1.0) as usize;
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / cfg.rate.max(0.001)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        tick.tick().await;
        let note = format!("bench-{i}");
        let point = (i as u64 % cfg.points.max(1)) + 1;
        let (client, url, guard, sent) = (
            client.clone(),
            format!("{base}/api/v1/alarms"),
            guard.clone(),
            sent.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let t = Instant::now();
            sent.lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(note.clone(), t);
            let res = client
                .post(url)
                .bearer_auth(guard)
                .header("Idempotency-Key", &note)
                .json(&json!({ "alarm_point_id": point, "note": note }))
                .send()
                .await;
            let ok = matches!(&res, Ok(r) if r.status().as_u16() == 201);
            (ok, t.elapsed().as_secs_f64() * 1000.0)
        }));
    }
    let mut ack_ms = Vec::with_capacity(total);
    let mut failed = 0;
    for task in tasks {
        match task.await {
            Ok((true, ms)) => ack_ms.push(ms),
            _ => failed += 1,
        }
    }
    let elapsed = started.elapsed();
    // Give the last events a moment to arrive.
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && !sent.lock().unwrap_or_else(|e| e.into_inner()).is_empty() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    watcher.abort();
    let missing = sent.lock().unwrap_or_else(|e| e.into_inner()).len();
    let console = std::mem::take(&mut *console_ms.lock().unwrap_or_else(|e| e.into_inner()));
    Ok(PressReport {
        sent: total,
        created: ack_ms.len(),
        failed,
        elapsed,
        to_console: Percentiles::of(console),
        to_ack: Percentiles::of(ack_ms),
        missing_events: missing,
    })
}
