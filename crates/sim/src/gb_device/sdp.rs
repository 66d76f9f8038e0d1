//! The device's side of live-video SDP, sans-IO: reading the platform's offer (address, port,
//! UDP or TCP with `a=setup`, `y=`) and writing the answer (`a=sendonly`, PS on payload type
//! 96, the offer's `y=`, and the opposite `a=setup` for TCP).

use std::net::{IpAddr, SocketAddr};

/// How the device sends its stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaMode {
    /// RTP over UDP to the offer's address.
    Udp,
    /// The platform listens (`a=setup:passive`): the device connects (answers `active`).
    Connect,
    /// The platform connects (`a=setup:active`): the device listens (answers `passive`).
    Listen,
}

/// What the platform's offer says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub ip: Option<IpAddr>,
    pub port: u16,
    pub mode: MediaMode,
    /// `y=` as written.
    pub ssrc: Option<String>,
}

impl Offer {
    /// Reads an offer; `None` without a usable `m=video` line.
    pub fn parse(text: &str) -> Option<Offer> {
        let mut ip = None;
        let mut port = None;
        let mut tcp = false;
        let mut setup = None;
        let mut ssrc = None;
        for line in text.lines() {
            let Some((key, value)) = line.trim().split_once('=') else {
                continue;
            };
            let value = value.trim();
            match key.trim() {
                "c" => {
                    if let Some(v) = value.split_whitespace().nth(2).and_then(|a| a.parse().ok()) {
                        ip = Some(v);
                    }
                }
                "m" => {
                    let mut parts = value.split_whitespace();
                    if parts.next() != Some("video") {
                        continue;
                    }
                    port = parts.next().and_then(|p| p.parse().ok());
                    tcp = parts
                        .next()
                        .is_some_and(|p| p.to_ascii_uppercase().starts_with("TCP"));
                }
                "a" => {
                    if let Some(s) = value.strip_prefix("setup:") {
                        setup = Some(s.trim().to_ascii_lowercase());
                    }
                }
                "y" => ssrc = Some(value.to_owned()),
                _ => {}
            }
        }
        let mode = match (tcp, setup.as_deref()) {
            (false, _) => MediaMode::Udp,
            (true, Some("active")) => MediaMode::Listen,
            (true, _) => MediaMode::Connect,
        };
        Some(Offer {
            ip,
            port: port?,
            mode,
            ssrc,
        })
    }

    /// Where the device sends to (UDP) or connects to (TCP passive offers).
    pub fn dest(&self) -> Option<SocketAddr> {
        Some(SocketAddr::new(self.ip?, self.port))
    }

    /// The RTP SSRC: the `y=` number, else `fallback`.
    pub fn ssrc_or(&self, fallback: u32) -> u32 {
        self.ssrc
            .as_deref()
            .and_then(|s| s.parse().ok())
            .unwrap_or(fallback)
    }
}

/// The answer of `channel` at `ip`, sending from (or listening on) `port`.
pub fn answer(channel: &str, ip: &str, port: u16, offer: &Offer) -> String {
    let (proto, setup) = match offer.mode {
        MediaMode::Udp => ("RTP/AVP", None),
        MediaMode::Connect => ("TCP/RTP/AVP", Some("active")),
        MediaMode::Listen => ("TCP/RTP/AVP", Some("passive")),
    };
    let mut s = format!(
        "v=0\r\no={channel} 0 0 IN IP4 {ip}\r\ns=Play\r\nc=IN IP4 {ip}\r\nt=0 0\r\n\
         m=video {port} {proto} 96\r\na=sendonly\r\na=rtpmap:96 PS/90000\r\n"
    );
    if let Some(setup) = setup {
        s.push_str(&format!("a=setup:{setup}\r\na=connection:new\r\n"));
    }
    if let Some(y) = &offer.ssrc {
        s.push_str(&format!("y={y}\r\n"));
    }
    s.push_str("f=\r\n");
    s
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn offers_of_each_transport_and_their_answers() {
        let udp = "v=0\r\no=4228 0 0 IN IP4 127.0.0.1\r\ns=Play\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
                   m=video 30000 RTP/AVP 96 98 97\r\na=recvonly\r\ny=0801000001\r\n";
        let o = Offer::parse(udp).unwrap();
        assert_eq!(o.mode, MediaMode::Udp);
        assert_eq!(o.dest(), Some("127.0.0.1:30000".parse().unwrap()));
        assert_eq!(o.ssrc_or(1), 801_000_001);
        let a = answer("42280100001320000001", "127.0.0.1", 40000, &o);
        assert!(a.contains("m=video 40000 RTP/AVP 96\r\n") && a.contains("a=sendonly"));
        assert!(a.contains("y=0801000001\r\n") && !a.contains("setup"));

        let passive = udp.replace("RTP/AVP", "TCP/RTP/AVP") + "a=setup:passive\r\n";
        let o = Offer::parse(&passive).unwrap();
        assert_eq!(o.mode, MediaMode::Connect);
        assert!(answer("c", "127.0.0.1", 1, &o).contains("a=setup:active"));
        let active = udp.replace("RTP/AVP", "TCP/RTP/AVP") + "a=setup:active\r\n";
        let o = Offer::parse(&active).unwrap();
        assert_eq!(o.mode, MediaMode::Listen);
        assert!(answer("c", "127.0.0.1", 1, &o).contains("a=setup:passive"));
        assert_eq!(Offer::parse("v=0\r\n"), None);
    }
}
