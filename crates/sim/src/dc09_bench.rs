//! The DC-09 benchmark client: N TCP connections, each a panel concentrator cycling through its
//! share of the accounts and sending `SIA-DCS` frames (panic `PA` or periodic test `RP`) at a
//! target total rate or as fast as possible, with at most `window` frames waiting for their
//! reply (1 = like a real panel, which waits for each ACK). Reports the acknowledged (durably
//! stored) frames per second, the send → ACK latency and NAK/DUH/error counts. Works against any
//! DC-09 receiver whose accounts are [`bench_account`]`(0..n)` (plain).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use chrono::Utc;
use thiserror::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::sleep_until;
use xiaoan_sia::{Content, Decoder, FrameReader, Header, Request, Token};

use crate::press_bench::Percentiles;

/// The account number of bench account `i` (`B00000`, `B00001`, …).
pub fn bench_account(i: usize) -> String {
    format!("B{i:05X}")
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Dc09Bench {
    pub to: SocketAddr,
    pub connections: usize,
    /// Bench accounts `0..accounts`, shared out between the connections.
    pub accounts: usize,
    /// Total frames per second; `None`: as fast as the receiver answers.
    pub rate: Option<f64>,
    pub duration: Duration,
    /// Frames in flight per connection (1: wait for each ACK).
    pub window: usize,
    /// Share of panic (`PA`) frames in percent; the rest are periodic tests (`RP`).
    pub panic_percent: u32,
    /// How long to wait for the last replies after the sending time is over.
    pub grace: Duration,
}

/// What the run measured.
#[derive(Debug, Clone, Default)]
pub struct Dc09Report {
    pub sent: u64,
    pub acked: u64,
    pub nak: u64,
    pub duh: u64,
    /// Replies that were not DC-09 frames, or out of order.
    pub bad_replies: u64,
    /// Frames still unanswered at the end.
    pub unanswered: u64,
    /// Connections that failed (connect, read or write error).
    pub connection_errors: u64,
    /// From the first send to the last reply.
    pub elapsed: Duration,
    /// Send → ACK, milliseconds.
    pub latency: Percentiles,
}

impl Dc09Report {
    /// Acknowledged frames per second.
    pub fn throughput(&self) -> f64 {
        self.acked as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Why the benchmark could not run.
#[derive(Debug, Error)]
pub enum Dc09BenchError {
    #[error("connect to {0}: {1}")]
    Connect(SocketAddr, std::io::Error),
    #[error("{0}")]
    Setup(String),
}

#[derive(Default)]
struct ConnResult {
    sent: u64,
    acked: u64,
    nak: u64,
    duh: u64,
    bad: u64,
    unanswered: u64,
    failed: bool,
    last_reply: Option<Instant>,
    latencies_ms: Vec<f64>,
}

/// One connection's panels.
struct Sender {
    accounts: Vec<String>,
    next_account: usize,
    seq: Vec<u16>,
    panic_percent: u32,
    count: u64,
}

impl Sender {
    fn frame(&mut self) -> Result<(u16, Vec<u8>), String> {
        let i = self.next_account;
        self.next_account = (i + 1) % self.accounts.len();
        let seq = self.seq[i] % 9999 + 1;
        self.seq[i] = seq;
        // Deterministic mix: out of every 100 frames, `panic_percent` are panics.
        let panic = (self.count % 100) < u64::from(self.panic_percent);
        self.count += 1;
        let account = &self.accounts[i];
        let code = if panic { "PA" } else { "RP" };
        let request = Request {
            token: Token::SiaDcs,
            header: Header {
                seq,
                receiver: Some("1".into()),
                line: "1".into(),
                account: account.clone(),
            },
            content: Content {
                data: format!("#{account}|Nri1/{code}001"),
                xdata: Vec::new(),
                // A timestamp makes every frame distinct even when a sequence number comes back.
                timestamp: Some(Utc::now().naive_utc()),
            },
        };
        request
            .encode()
            .map(|bytes| (seq, bytes))
            .map_err(|e| e.to_string())
    }
}

async fn connection(
    cfg: Dc09Bench,
    mut stream: TcpStream,
    mut sender: Sender,
    start: Instant,
    offset: Duration,
) -> ConnResult {
    let mut out = ConnResult::default();
    let end = start + cfg.duration;
    let give_up = end + cfg.grace;
    let interval = cfg
        .rate
        .map(|r| Duration::from_secs_f64(cfg.connections as f64 / r.max(1e-3)));
    let mut next_send = start + offset;
    let mut in_flight: VecDeque<(u16, Instant)> = VecDeque::with_capacity(cfg.window);
    let mut reader = FrameReader::new(Decoder::new());
    let mut buf = vec![0u8; 16 * 1024];
    let window = cfg.window.max(1);
    loop {
        let now = Instant::now();
        if now >= end && in_flight.is_empty() {
            break;
        }
        let can_send = now < end && in_flight.len() < window;
        tokio::select! {
            biased;
            r = stream.read(&mut buf) => {
                let n = match r {
                    Ok(0) | Err(_) => { out.failed = true; break; }
                    Ok(n) => n,
                };
                let at = Instant::now();
                reader.feed(buf.get(..n).unwrap_or_default());
                while let Some(next) = reader.next_frame() {
                    let Some((seq, sent_at)) = in_flight.pop_front() else {
                        out.bad += 1;
                        continue;
                    };
                    match next {
                        Ok(f) if f.header.seq != seq && f.token != Token::Nak => out.bad += 1,
                        Ok(f) => match f.token {
                            Token::Ack => {
                                out.acked += 1;
                                out.latencies_ms.push(at.duration_since(sent_at).as_secs_f64() * 1000.0);
                            }
                            Token::Nak => out.nak += 1,
                            Token::Duh => out.duh += 1,
                            _ => out.bad += 1,
                        },
                        Err(_) => out.bad += 1,
                    }
                    out.last_reply = Some(at);
                }
            }
            _ = sleep_until(next_send.into()), if can_send => {
                let (seq, bytes) = match sender.frame() {
                    Ok(f) => f,
                    Err(_) => { out.failed = true; break; }
                };
                let at = Instant::now();
                if stream.write_all(&bytes).await.is_err() {
                    out.failed = true;
                    break;
                }
                in_flight.push_back((seq, at));
                out.sent += 1;
                next_send = match interval {
                    Some(i) => next_send + i,
                    None => at,
                };
            }
            _ = sleep_until(give_up.into()) => break,
        }
    }
    out.unanswered = in_flight.len() as u64;
    out
}

/// Runs the benchmark.
pub async fn run(cfg: &Dc09Bench) -> Result<Dc09Report, Dc09BenchError> {
    if cfg.connections == 0 || cfg.accounts == 0 {
        return Err(Dc09BenchError::Setup(
            "need at least one connection and one account".into(),
        ));
    }
    let connections = cfg.connections.min(cfg.accounts);
    let cfg = Dc09Bench {
        connections,
        ..cfg.clone()
    };
    let mut streams = Vec::with_capacity(connections);
    for _ in 0..connections {
        let s = TcpStream::connect(cfg.to)
            .await
            .map_err(|e| Dc09BenchError::Connect(cfg.to, e))?;
        let _ = s.set_nodelay(true);
        streams.push(s);
    }
    let start = Instant::now() + Duration::from_millis(50);
    let spread = cfg
        .rate
        .map(|r| connections as f64 / r.max(1e-3))
        .unwrap_or(0.0);
    let tasks: Vec<_> = streams
        .into_iter()
        .enumerate()
        .map(|(c, stream)| {
            let accounts: Vec<String> = (c..cfg.accounts)
                .step_by(connections)
                .map(bench_account)
                .collect();
            let sender = Sender {
                seq: vec![0; accounts.len()],
                accounts,
                next_account: 0,
                panic_percent: cfg.panic_percent.min(100),
                count: c as u64,
            };
            let offset = Duration::from_secs_f64(spread * c as f64 / connections as f64);
            tokio::spawn(connection(cfg.clone(), stream, sender, start, offset))
        })
        .collect();
    let mut report = Dc09Report::default();
    let mut latencies = Vec::new();
    let mut last = start;
    for t in tasks {
        let r = t.await.unwrap_or_else(|_| ConnResult {
            failed: true,
            ..Default::default()
        });
        report.sent += r.sent;
        report.acked += r.acked;
        report.nak += r.nak;
        report.duh += r.duh;
        report.bad_replies += r.bad;
        report.unanswered += r.unanswered;
        report.connection_errors += u64::from(r.failed);
        if let Some(l) = r.last_reply {
            last = last.max(l);
        }
        latencies.extend(r.latencies_ms);
    }
    report.elapsed = last.saturating_duration_since(start);
    report.latency = Percentiles::of(latencies);
    Ok(report)
}
