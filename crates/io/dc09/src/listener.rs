//! The DC-09 sockets. TCP: one task per connection (capped), frames read through the sans-IO
//! [`FrameReader`], an idle timeout and a buffer limit so a slow or hostile peer holds up no one
//! else. UDP: one datagram, one frame. For each frame the [`policy`](crate::policy) decides; the
//! effects are committed through the hub (alarms share group commits); only then does the reply
//! leave. If storing fails, no reply is sent, so the panel retries or fails over.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use xiaoan_core::signal::{HealthState, Signal};
use xiaoan_hub::{DeviceRef, Hub};
use xiaoan_sia::{DecodeError, Decoder, Frame, FrameReader, TimeWindow};
use xiaoan_store::{RaiseOutcome, RaiseRequest, StoreError};

use crate::accounts::Accounts;
use crate::policy::{self, Decision};

/// Listener settings.
#[derive(Debug, Clone)]
pub struct Dc09Settings {
    /// Accepted timestamp window for encrypted frames.
    pub window: TimeWindow,
    /// A TCP connection with nothing received for this long is closed.
    pub idle_timeout: Duration,
    /// Most TCP connections at once (more wait to be accepted).
    pub max_connections: usize,
    /// Largest frame accepted.
    pub max_frame_len: usize,
}

impl Default for Dc09Settings {
    fn default() -> Self {
        Self {
            window: TimeWindow::default(),
            idle_timeout: Duration::from_secs(300),
            max_connections: 2000,
            max_frame_len: xiaoan_sia::DEFAULT_MAX_FRAME_LEN,
        }
    }
}

/// What a listener shares with its connections.
struct Ctx {
    hub: Arc<Hub>,
    accounts: Arc<Accounts>,
    settings: Dc09Settings,
}

/// Carries out a decision's effects through the hub; `Err` means something was not stored.
/// Takes the decision's alarms and signals by value: they move into the hub's queues without a
/// copy of their `details`.
async fn execute(
    hub: &Hub,
    alarms: Vec<RaiseRequest>,
    signals: Vec<Signal>,
    seen: Option<&DeviceRef>,
    condition: Option<&(HealthState, String)>,
) -> Result<(), StoreError> {
    // Raised together so they share one group commit (one frame usually carries one alarm).
    if alarms.len() == 1 {
        for request in alarms {
            log_outcome(&hub.raise_request(request).await?);
        }
    } else {
        for result in join_all(alarms.into_iter().map(|r| hub.raise_request(r))).await {
            log_outcome(&result?);
        }
    }
    for s in signals {
        hub.record_signal(s).await?;
    }
    if let Some(dev) = seen {
        hub.device_seen(dev).await?;
        if let Some((state, detail)) = condition {
            hub.set_device_condition(dev, *state, detail).await?;
        }
    }
    Ok(())
}

/// A new incident is logged; presses joining it (a flood) only at debug level.
fn log_outcome(outcome: &RaiseOutcome) {
    if !outcome.replayed && !outcome.joined {
        tracing::warn!(incident = outcome.incident.id, kind = %outcome.incident.kind, school = outcome.incident.school_id, "DC-09 alarm: new incident");
    } else if !outcome.replayed {
        tracing::debug!(incident = outcome.incident.id, kind = %outcome.incident.kind, "DC-09 alarm joined");
    }
}

/// Handles one frame: decide, commit, and return the reply bytes (None: send nothing).
async fn handle(ctx: &Ctx, frame: &Frame, peer: &str) -> Option<Vec<u8>> {
    let now = ctx.hub.clock().now();
    let decision = policy::decide(frame, &ctx.accounts, &ctx.settings.window, peer, now);
    if let Some(reason) = &decision.refusal {
        tracing::warn!(%peer, account = %frame.header.account, seq = frame.header.seq, %reason, "DC-09 frame refused");
    }
    if !frame.length_ok {
        tracing::info!(%peer, account = %frame.header.account, declared = frame.declared_length, "DC-09 length field does not match; accepted");
    }
    let Decision {
        reply,
        alarms,
        signals,
        seen,
        condition,
        ..
    } = decision;
    if let Err(e) = execute(&ctx.hub, alarms, signals, seen.as_ref(), condition.as_ref()).await {
        // No reply at all (not NAK, which asks for a clock correction, nor DUH, which says the
        // message is unusable): the panel times out and retransmits or fails over to its
        // back-up receiver. A failing disk is logged once per episode by the hub.
        if matches!(e, StoreError::Unavailable(_)) {
            tracing::debug!(%peer, account = %frame.header.account, seq = frame.header.seq, error = %e, "DC-09 frame NOT stored (storage failing): no ACK, the panel will retry");
        } else {
            tracing::error!(%peer, account = %frame.header.account, seq = frame.header.seq, error = %e, "DC-09 frame NOT stored: no ACK, the panel will retry");
        }
        return None;
    }
    let encoded = reply.encode(frame, now);
    match encoded {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            tracing::error!(%peer, error = %e, "DC-09 reply could not be encoded");
            None
        }
    }
}

fn log_decode_error(peer: &str, e: &DecodeError) {
    if e.is_bad_crc() {
        tracing::warn!(%peer, error = %e, "DC-09 frame with a bad CRC: no ACK");
    } else {
        tracing::warn!(%peer, error = %e, "DC-09 invalid frame skipped");
    }
}

/// Serves DC-09 over TCP until `shutdown`.
pub async fn run_tcp(
    listener: TcpListener,
    hub: Arc<Hub>,
    accounts: Arc<Accounts>,
    settings: Dc09Settings,
    shutdown: CancellationToken,
) {
    let limit = Arc::new(Semaphore::new(settings.max_connections.max(1)));
    let ctx = Arc::new(Ctx {
        hub,
        accounts,
        settings,
    });
    loop {
        let permit = tokio::select! {
            _ = shutdown.cancelled() => return,
            p = limit.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => return },
        };
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => return,
            a = listener.accept() => a,
        };
        match accepted {
            Ok((stream, peer)) => {
                let ctx = ctx.clone();
                let shutdown = shutdown.clone();
                tokio::spawn(async move {
                    let _permit = permit;
                    connection(ctx, stream, peer, shutdown).await;
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "DC-09 accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn connection(
    ctx: Arc<Ctx>,
    mut stream: TcpStream,
    peer: SocketAddr,
    shutdown: CancellationToken,
) {
    let _ = stream.set_nodelay(true);
    let peer_s = peer.to_string();
    let mut reader = FrameReader::new(Decoder::with_max_frame_len(ctx.settings.max_frame_len));
    let mut buf = vec![0u8; 4096];
    tracing::debug!(peer = %peer_s, "DC-09 connection");
    loop {
        let read = tokio::select! {
            _ = shutdown.cancelled() => return,
            r = tokio::time::timeout(ctx.settings.idle_timeout, stream.read(&mut buf)) => r,
        };
        let n = match read {
            Err(_) => {
                tracing::debug!(peer = %peer_s, "DC-09 connection idle: closed");
                return;
            }
            Ok(Ok(0)) => return,
            Ok(Ok(n)) => n,
            Ok(Err(e)) => {
                tracing::debug!(peer = %peer_s, error = %e, "DC-09 read failed");
                return;
            }
        };
        reader.feed(buf.get(..n).unwrap_or_default());
        while let Some(next) = reader.next_frame() {
            match next {
                Ok(frame) => {
                    if let Some(bytes) = handle(&ctx, &frame, &peer_s).await
                        && stream.write_all(&bytes).await.is_err()
                    {
                        return;
                    }
                }
                Err(e @ DecodeError::TooLong { .. }) => {
                    log_decode_error(&peer_s, &e);
                    return;
                }
                Err(e) => log_decode_error(&peer_s, &e),
            }
        }
    }
}

/// Serves DC-09 over UDP until `shutdown`: one frame per datagram, each handled in its own task
/// (capped) so one slow commit does not hold up the socket.
pub async fn run_udp(
    socket: UdpSocket,
    hub: Arc<Hub>,
    accounts: Arc<Accounts>,
    settings: Dc09Settings,
    shutdown: CancellationToken,
) {
    let socket = Arc::new(socket);
    let limit = Arc::new(Semaphore::new(settings.max_connections.max(1)));
    let decoder = Decoder::with_max_frame_len(settings.max_frame_len);
    let ctx = Arc::new(Ctx {
        hub,
        accounts,
        settings,
    });
    let mut buf = vec![0u8; 65_536];
    loop {
        let received = tokio::select! {
            _ = shutdown.cancelled() => return,
            r = socket.recv_from(&mut buf) => r,
        };
        let (n, peer) = match received {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(error = %e, "DC-09 UDP receive failed");
                continue;
            }
        };
        let frame = match decoder.parse_datagram(buf.get(..n).unwrap_or_default()) {
            Ok(f) => f,
            Err(e) => {
                log_decode_error(&peer.to_string(), &e);
                continue;
            }
        };
        let Ok(permit) = limit.clone().acquire_owned().await else {
            return;
        };
        let (ctx, socket) = (ctx.clone(), socket.clone());
        tokio::spawn(async move {
            let _permit = permit;
            if let Some(bytes) = handle(&ctx, &frame, &peer.to_string()).await {
                let _ = socket.send_to(&bytes, peer).await;
            }
        });
    }
}
