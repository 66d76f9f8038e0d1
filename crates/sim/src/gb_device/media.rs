//! The I/O of a simulated camera's stream: the socket prepared when an INVITE arrives (its port
//! goes into the answer), and the sender started by the ACK: the shipped 640×360 H.264 clip
//! looped at real-time pace with continuous timestamps, muxed to PS (system header and PSM
//! before every keyframe, as cameras do), packetized to RTP (payload type 96, ≤ 1400-byte
//! payloads, marker on a frame's last packet) and sent over UDP or RFC 4571 TCP. Benchmarks
//! may send the clip padded to a bit rate instead ([`padded_clip`]).

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpSocket, UdpSocket};
use xiaoan_media::Frame;
use xiaoan_ps::{MuxConfig, PsMuxer, RtpPacketizer, write_frame};

use super::sdp::MediaMode;

/// Frames per second of the clip.
pub const FPS: u32 = 25;

/// How long a listening device waits for the platform's connection.
const ACCEPT_TIMEOUT: Duration = Duration::from_secs(10);

/// The clip's frames, split once.
fn clip() -> &'static [Frame] {
    static CLIP: OnceLock<Vec<Frame>> = OnceLock::new();
    CLIP.get_or_init(|| {
        xiaoan_media::clip::frames(xiaoan_media::clip::TESTSRC_H264, FPS).unwrap_or_default()
    })
}

/// The clip padded with filler NAL units to about `bits_per_second` (frames already larger
/// keep their size), for fleets that should load the platform like real cameras.
pub fn padded_clip(bits_per_second: u64) -> Arc<[Frame]> {
    xiaoan_media::clip::pad_to_bitrate(clip(), bits_per_second, FPS).into()
}

/// A socket opened for one session before answering.
#[derive(Debug)]
pub enum Prepared {
    Udp(UdpSocket),
    Connect(TcpSocket),
    Listen(TcpListener),
}

impl Prepared {
    /// Opens the socket `mode` needs on `ip` (any port).
    pub async fn open(mode: MediaMode, ip: IpAddr) -> std::io::Result<Prepared> {
        let any = SocketAddr::new(ip, 0);
        Ok(match mode {
            MediaMode::Udp => Prepared::Udp(UdpSocket::bind(any).await?),
            MediaMode::Listen => Prepared::Listen(TcpListener::bind(any).await?),
            MediaMode::Connect => {
                let s = if ip.is_ipv4() {
                    TcpSocket::new_v4()?
                } else {
                    TcpSocket::new_v6()?
                };
                s.bind(any)?;
                Prepared::Connect(s)
            }
        })
    }

    pub fn port(&self) -> u16 {
        match self {
            Prepared::Udp(s) => s.local_addr(),
            Prepared::Connect(s) => s.local_addr(),
            Prepared::Listen(s) => s.local_addr(),
        }
        .map(|a| a.port())
        .unwrap_or(0)
    }
}

/// Sends the looped clip (or `frames` instead) until the task is aborted or the connection
/// fails. `dest` is the offer's address (unused when listening).
pub async fn stream(
    prepared: Prepared,
    dest: Option<SocketAddr>,
    ssrc: u32,
    frames: Option<Arc<[Frame]>>,
) -> std::io::Result<()> {
    let frames: &[Frame] = match &frames {
        Some(f) => f,
        None => clip(),
    };
    if frames.is_empty() {
        return Err(std::io::Error::other("no clip"));
    }
    let no_dest = || std::io::Error::other("the offer has no address");
    enum Out {
        Udp(UdpSocket, SocketAddr),
        Tcp(tokio::net::TcpStream),
    }
    let mut out = match prepared {
        Prepared::Udp(s) => Out::Udp(s, dest.ok_or_else(no_dest)?),
        Prepared::Connect(s) => Out::Tcp(s.connect(dest.ok_or_else(no_dest)?).await?),
        Prepared::Listen(l) => {
            let (s, _) = tokio::time::timeout(ACCEPT_TIMEOUT, l.accept())
                .await
                .map_err(|_| std::io::Error::other("the platform did not connect"))??;
            Out::Tcp(s)
        }
    };
    if let Out::Tcp(s) = &out {
        s.set_nodelay(true)?;
    }
    let mut mux = PsMuxer::new(MuxConfig::new(xiaoan_ps::Codec::H264));
    let mut rtp = RtpPacketizer::new(ssrc, rand::random());
    let step = u64::from(xiaoan_media::TIMESCALE / FPS);
    let base = u64::from(rand::random::<u32>() >> 2);
    let mut tick = tokio::time::interval(Duration::from_secs(1) / FPS);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut buf = BytesMut::new();
    for n in 0u64.. {
        tick.tick().await;
        let Some(frame) = frames.get((n % frames.len() as u64) as usize) else {
            continue;
        };
        let pts = (base + n * step) & ((1 << 33) - 1);
        let pack = mux.mux_frame(&frame.data, pts, None, frame.is_keyframe);
        let packets = rtp.packetize(&pack, pts as u32);
        match &mut out {
            Out::Udp(s, to) => {
                for p in packets {
                    s.send_to(&p.to_bytes(), *to).await?;
                }
            }
            Out::Tcp(s) => {
                buf.clear();
                for p in packets {
                    write_frame(&p.to_bytes(), &mut buf).map_err(std::io::Error::other)?;
                }
                s.write_all(&buf).await?;
            }
        }
    }
    Ok(())
}
