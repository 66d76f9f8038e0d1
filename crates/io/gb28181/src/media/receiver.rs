//! One session's receiving endpoint. It is opened before the INVITE (its port goes into the
//! offer) and run after the answer:
//!
//! * UDP: a socket on a port of the range; the first source address and SSRC are followed.
//! * TCP passive: a listener on a port of the range; the device's one connection is accepted
//!   (RFC 4571 framing), the listener is then closed.
//! * TCP active: a socket bound to a port of the range connects to the address of the answer.
//!
//! Limits: packets over `max_packet` bytes are dropped (UDP) or end the connection (TCP), the
//! reorder window and the demuxer's buffer are bounded, and no packet for `timeout` (from the
//! start, too) ends the session as dead.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpSocket, TcpStream, UdpSocket};
use xiaoan_media::Frame;
use xiaoan_ps::{Rfc4571Reader, RtpPacket};

use super::depacketize::{Depacketizer, Note};
use super::ports::PortCursor;
use crate::sdp::MediaTransport;

/// Why an endpoint could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("no free media port in {first}-{last}")]
    NoPort { first: u16, last: u16 },
    #[error("media socket: {0}")]
    Io(#[from] std::io::Error),
}

/// How a running endpoint ended.
#[derive(Debug, thiserror::Error)]
pub enum End {
    #[error("no media for {0:?}")]
    Dead(Duration),
    #[error("the device closed the media connection")]
    Closed,
    #[error("the answer has no usable media address")]
    NoAddress,
    #[error("media: {0}")]
    Io(#[from] std::io::Error),
    #[error("media: packet over {0} bytes on TCP")]
    TooLong(usize),
}

/// Bounds of one stream.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// No packet for this long: dead.
    pub timeout: Duration,
    /// Largest RTP packet.
    pub max_packet: usize,
    /// Reorder window in packets (UDP).
    pub reorder_window: usize,
    /// Largest pack the demuxer gathers.
    pub max_buffer: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            max_packet: 16 * 1024,
            reorder_window: 64,
            max_buffer: 4 << 20,
        }
    }
}

enum Socket {
    Udp(UdpSocket),
    Listen(TcpListener),
    Connect(TcpSocket),
}

/// An opened endpoint, not yet receiving.
pub struct MediaEndpoint {
    socket: Socket,
    /// The local port (for the offer).
    pub port: u16,
}

impl std::fmt::Debug for MediaEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaEndpoint")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

/// Receive buffer asked for on each RTP/UDP socket: about 8 s of a 2 Mbit/s stream. The
/// kernel's default (`net.core.rmem_default`, often 208 KiB, under a second) overflows when
/// hundreds of cameras send while the runtime threads are busy, and frames are lost before
/// xiaoan sees them. The kernel caps the request at `net.core.rmem_max`.
const UDP_RECV_BUFFER: usize = 2 * 1024 * 1024;

/// A non-blocking UDP socket bound to `addr` with [`UDP_RECV_BUFFER`] asked for.
fn bind_udp(addr: SocketAddr) -> std::io::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket as RawSocket, Type};
    let socket = RawSocket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if let Err(e) = socket.set_recv_buffer_size(UDP_RECV_BUFFER) {
        tracing::debug!(error = %e, "media socket keeps the default receive buffer");
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    UdpSocket::from_std(socket.into())
}

impl MediaEndpoint {
    /// Opens an endpoint for `transport` on `ip`, on the first free port the cursor offers.
    pub async fn open(
        transport: MediaTransport,
        ip: IpAddr,
        ports: &PortCursor,
    ) -> Result<Self, MediaError> {
        let mut last_err = None;
        for port in ports.candidates() {
            let addr = SocketAddr::new(ip, port);
            let socket = match transport {
                MediaTransport::Udp => bind_udp(addr).map(Socket::Udp),
                MediaTransport::TcpPassive => TcpListener::bind(addr).await.map(Socket::Listen),
                MediaTransport::TcpActive => {
                    let s = if ip.is_ipv4() {
                        TcpSocket::new_v4()
                    } else {
                        TcpSocket::new_v6()
                    };
                    s.and_then(|s| s.bind(addr).map(|()| Socket::Connect(s)))
                }
            };
            match socket {
                Ok(socket) => return Ok(Self { socket, port }),
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => last_err = None,
                Err(e) => last_err = Some(e),
            }
        }
        let range = ports.range();
        Err(match last_err {
            Some(e) => MediaError::Io(e),
            None => MediaError::NoPort {
                first: range.first,
                last: range.last,
            },
        })
    }

    /// Receives until the stream ends (the caller drops the future to stop it). `remote` is the
    /// device's address from the answer (needed for TCP active); `ssrc` the session's `y=`.
    /// Each frame goes to `sink`.
    pub async fn run(
        self,
        remote: Option<SocketAddr>,
        ssrc: Option<u32>,
        limits: Limits,
        label: &str,
        mut sink: impl FnMut(Frame),
    ) -> End {
        let timeout = limits.timeout;
        match self.socket {
            Socket::Udp(socket) => {
                let mut d = Depacketizer::new(limits.reorder_window, ssrc, limits.max_buffer);
                run_udp(socket, &mut d, limits, label, &mut sink).await
            }
            Socket::Listen(listener) => {
                let stream = match tokio::time::timeout(timeout, listener.accept()).await {
                    Err(_) => return End::Dead(timeout),
                    Ok(Err(e)) => return End::Io(e),
                    Ok(Ok((stream, from))) => {
                        tracing::debug!(%from, media = label, "gb28181 media connection accepted");
                        stream
                    }
                };
                drop(listener);
                let mut d = Depacketizer::new(0, ssrc, limits.max_buffer);
                run_tcp(stream, &mut d, limits, label, &mut sink).await
            }
            Socket::Connect(socket) => {
                let Some(remote) = remote else {
                    return End::NoAddress;
                };
                let stream = match tokio::time::timeout(timeout, socket.connect(remote)).await {
                    Err(_) => return End::Dead(timeout),
                    Ok(Err(e)) => return End::Io(e),
                    Ok(Ok(s)) => s,
                };
                let mut d = Depacketizer::new(0, ssrc, limits.max_buffer);
                run_tcp(stream, &mut d, limits, label, &mut sink).await
            }
        }
    }
}

async fn run_udp(
    socket: UdpSocket,
    d: &mut Depacketizer,
    limits: Limits,
    label: &str,
    sink: &mut impl FnMut(Frame),
) -> End {
    let mut buf = vec![0u8; limits.max_packet.clamp(1500, 65_535) + 1];
    let mut source: Option<SocketAddr> = None;
    let mut frames = Vec::new();
    loop {
        let (n, from) = match tokio::time::timeout(limits.timeout, socket.recv_from(&mut buf)).await
        {
            Err(_) => return End::Dead(limits.timeout),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => continue,
            Ok(Err(e)) => return End::Io(e),
            Ok(Ok(v)) => v,
        };
        match source {
            None => source = Some(from),
            Some(s) if s != from => continue,
            Some(_) => {}
        }
        if n > limits.max_packet {
            continue;
        }
        let Some(data) = buf.get(..n) else { continue };
        let Ok(packet) = RtpPacket::parse(Bytes::copy_from_slice(data)) else {
            continue;
        };
        d.push(packet, &mut frames);
        log_notes(d, label);
        for f in frames.drain(..) {
            sink(f);
        }
    }
}

async fn run_tcp(
    mut stream: TcpStream,
    d: &mut Depacketizer,
    limits: Limits,
    label: &str,
    sink: &mut impl FnMut(Frame),
) -> End {
    let _ = stream.set_nodelay(true);
    let mut reader = Rfc4571Reader::new(limits.max_packet);
    let mut buf = vec![0u8; 64 * 1024];
    let mut frames = Vec::new();
    loop {
        let n = match tokio::time::timeout(limits.timeout, stream.read(&mut buf)).await {
            Err(_) => return End::Dead(limits.timeout),
            Ok(Err(e)) => return End::Io(e),
            Ok(Ok(0)) => {
                d.finish(&mut frames);
                frames.drain(..).for_each(&mut *sink);
                return End::Closed;
            }
            Ok(Ok(n)) => n,
        };
        reader.feed(buf.get(..n).unwrap_or_default());
        while let Some(next) = reader.next_packet() {
            match next {
                Ok(packet) => d.push(packet, &mut frames),
                Err(xiaoan_ps::RtpError::TooLong { .. }) => return End::TooLong(limits.max_packet),
                Err(_) => continue,
            }
        }
        log_notes(d, label);
        for f in frames.drain(..) {
            sink(f);
        }
    }
}

fn log_notes(d: &mut Depacketizer, label: &str) {
    for note in d.take_notes() {
        match note {
            Note::SsrcDiffers { expected, got } => tracing::info!(
                media = label,
                expected = format!("{expected:010}"),
                got = format!("{got:010}"),
                "gb28181: the device sends another SSRC than y=; following it"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{UDP_RECV_BUFFER, bind_udp};

    /// The RTP socket gets the larger receive buffer whenever the kernel allows it
    /// (`net.core.rmem_max`; Linux reports twice what was granted).
    #[tokio::test]
    async fn rtp_sockets_ask_for_a_large_receive_buffer() {
        let socket = bind_udp("127.0.0.1:0".parse().expect("address")).expect("bind");
        let got = socket2::SockRef::from(&socket)
            .recv_buffer_size()
            .expect("SO_RCVBUF");
        let max = std::fs::read_to_string("/proc/sys/net/core/rmem_max")
            .ok()
            .and_then(|s| s.trim().parse::<usize>().ok());
        match max {
            Some(max) => assert!(
                got >= UDP_RECV_BUFFER.min(max),
                "receive buffer {got}, rmem_max {max}"
            ),
            None => assert!(got > 0),
        }
    }
}
