//! The sockets: SIP over UDP and TCP on one port. UDP datagrams and TCP messages (framed by
//! `Content-Length`, size-limited, idle connections closed) are handed to the platform; each
//! TCP connection has a writer queue so requests reach devices behind NAT over the connection
//! they registered on.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use xiaoan_hub::Hub;
use xiaoan_hub::cameras::Cameras;
use xiaoan_sip::{StreamReader, Transport, is_keepalive, parse_datagram};

use crate::config::GbConfig;
use crate::media::{MediaSettings, Sessions};
use crate::peer::{Outbound, Peer};
use crate::platform::Platform;

/// Why the platform could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("gb28181: cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("gb28181: {0}")]
    Config(String),
    #[error("gb28181: {0}")]
    Store(#[from] xiaoan_store::StoreError),
}

/// A started platform.
pub struct Started {
    pub addr: SocketAddr,
    pub platform: Arc<Platform>,
    pub tasks: Vec<JoinHandle<()>>,
}

const IDLE: Duration = Duration::from_secs(600);

/// Binds UDP and TCP on one address. With port 0 the kernel picks the UDP port, which may be
/// taken for TCP by another program: then another port is tried (a few times).
async fn bind_pair(addr: &str) -> std::io::Result<(UdpSocket, TcpListener, SocketAddr)> {
    let mut attempts = 0;
    loop {
        let udp = UdpSocket::bind(addr).await?;
        let local = udp.local_addr()?;
        match TcpListener::bind(local).await {
            Ok(tcp) => return Ok((udp, tcp, local)),
            Err(e)
                if e.kind() == std::io::ErrorKind::AddrInUse
                    && addr.ends_with(":0")
                    && attempts < 16 =>
            {
                attempts += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Binds UDP and TCP on `config.addr` and runs the platform until `shutdown`; the GB/T 28181
/// cameras among `cameras` are invited as their sessions manager decides.
pub async fn start(
    config: GbConfig,
    hub: Arc<Hub>,
    cameras: Arc<Cameras>,
    shutdown: CancellationToken,
) -> Result<Started, StartError> {
    let bind_err = |source| StartError::Bind {
        addr: config.addr.clone(),
        source,
    };
    let (udp, tcp, addr) = bind_pair(&config.addr).await.map_err(bind_err)?;
    let udp = Arc::new(udp);
    let advertise = if !config.advertise.trim().is_empty() {
        config.advertise.trim().to_owned()
    } else if addr.ip().is_unspecified() {
        "127.0.0.1".to_owned()
    } else {
        addr.ip().to_string()
    };
    for (what, id, len) in [
        ("platform_id", &config.platform_id, 20),
        ("domain", &config.domain, 10),
    ] {
        if id.len() != len || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(StartError::Config(format!("{what} must be {len} digits")));
        }
    }
    let media =
        MediaSettings::from_config(&config, addr, &advertise).map_err(StartError::Config)?;
    let out = Outbound::new(Some(udp.clone()));
    let max_len = config.max_message_len;
    let platform = Platform::new(hub.clone(), config, out.clone(), advertise, addr.port())
        .map_err(StartError::Config)?;
    platform.load_bindings().await?;
    let restored = platform.restore_registrations().await?;
    tracing::info!(%addr, restored, "GB/T 28181 platform listening (UDP and TCP)");
    let mut tasks = vec![
        tokio::spawn(run_udp(udp, platform.clone(), max_len, shutdown.clone())),
        tokio::spawn(run_tcp(
            tcp,
            platform.clone(),
            out,
            max_len,
            shutdown.clone(),
        )),
        tokio::spawn(run_maintenance(platform.clone(), shutdown.clone())),
    ];
    tasks.extend(Sessions::new(platform.clone(), cameras, hub, media).spawn(&shutdown));
    Ok(Started {
        addr,
        platform,
        tasks,
    })
}

async fn run_udp(
    socket: Arc<UdpSocket>,
    platform: Arc<Platform>,
    max_len: usize,
    shutdown: CancellationToken,
) {
    let mut buf = vec![0u8; max_len.clamp(1500, 65_535)];
    loop {
        let (n, from) = tokio::select! {
            _ = shutdown.cancelled() => return,
            r = socket.recv_from(&mut buf) => match r {
                Ok(v) => v,
                Err(e) => {
                    tracing::debug!(error = %e, "gb28181 udp receive");
                    continue;
                }
            },
        };
        let Some(data) = buf.get(..n) else { continue };
        if is_keepalive(data) {
            continue;
        }
        let peer = Peer {
            transport: Transport::Udp,
            addr: from,
            conn: None,
        };
        match parse_datagram(data) {
            Ok(msg) => {
                let p = platform.clone();
                tokio::spawn(async move { p.on_message(msg, peer).await });
            }
            Err(e) => tracing::warn!(%from, error = %e, "gb28181: unreadable datagram dropped"),
        }
    }
}

async fn run_tcp(
    listener: TcpListener,
    platform: Arc<Platform>,
    out: Outbound,
    max_len: usize,
    shutdown: CancellationToken,
) {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    loop {
        let (stream, from) = tokio::select! {
            _ = shutdown.cancelled() => return,
            r = listener.accept() => match r {
                Ok(v) => v,
                Err(e) => {
                    tracing::debug!(error = %e, "gb28181 tcp accept");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        let (p, out, stop) = (platform.clone(), out.clone(), shutdown.clone());
        tokio::spawn(async move {
            connection(stream, from, id, p, out.clone(), max_len, stop).await;
            out.remove_conn(id);
        });
    }
}

async fn connection(
    stream: TcpStream,
    from: SocketAddr,
    id: u64,
    platform: Arc<Platform>,
    out: Outbound,
    max_len: usize,
    shutdown: CancellationToken,
) {
    let (mut rd, mut wr) = stream.into_split();
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(64);
    out.add_conn(id, tx);
    let writer = tokio::spawn(async move {
        while let Some(bytes) = rx.recv().await {
            if wr.write_all(&bytes).await.is_err() {
                break;
            }
        }
    });
    let peer = Peer {
        transport: Transport::Tcp,
        addr: from,
        conn: Some(id),
    };
    let mut reader = StreamReader::new(max_len);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = tokio::select! {
            _ = shutdown.cancelled() => break,
            r = tokio::time::timeout(IDLE, rd.read(&mut buf)) => match r {
                Ok(Ok(0)) | Err(_) => break,
                Ok(Ok(n)) => n,
                Ok(Err(_)) => break,
            },
        };
        reader.feed(buf.get(..n).unwrap_or_default());
        while let Some(next) = reader.next_message() {
            match next {
                Ok(msg) => {
                    let p = platform.clone();
                    tokio::spawn(async move { p.on_message(msg, peer).await });
                }
                Err(xiaoan_sip::ParseError::TooLong { max }) => {
                    tracing::warn!(%from, max, "gb28181: oversized message, connection closed");
                    writer.abort();
                    return;
                }
                Err(e) => tracing::warn!(%from, error = %e, "gb28181: unreadable message skipped"),
            }
        }
    }
    writer.abort();
}

async fn run_maintenance(platform: Arc<Platform>, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => platform.maintain().await,
        }
    }
}
