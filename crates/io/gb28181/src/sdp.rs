//! The SDP of GB/T 28181 live video: the platform's offer (`s=Play`, PS/H.264/MPEG-4 payload
//! types, `recvonly`, `y=` SSRC, UDP or TCP passive/active) and reading the device's answer (its
//! address and port, transport, SSRC). Sans-IO text in, text out; tolerant of the usual device
//! quirks (LF-only lines, spaces, missing `c=` at session level, upper-case keys). No imports:
//! the fuzz target `gb_sdp` (`fuzz/`) compiles this file on its own.

/// How the media travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaTransport {
    /// RTP over UDP (`RTP/AVP`).
    Udp,
    /// RTP over TCP, the platform listens and the device connects (`a=setup:passive` in the
    /// platform's offer).
    TcpPassive,
    /// RTP over TCP, the platform connects to the port in the device's answer (`a=setup:active`).
    TcpActive,
}

impl MediaTransport {
    /// The name used in configuration and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Udp => "udp",
            Self::TcpPassive => "tcp-passive",
            Self::TcpActive => "tcp-active",
        }
    }

    /// Parses [`as_str`](Self::as_str).
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Udp, Self::TcpPassive, Self::TcpActive]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

/// The platform's offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub platform_id: String,
    /// The address the device sends media to (or, TCP active, the platform's own address).
    pub media_ip: String,
    pub media_port: u16,
    pub transport: MediaTransport,
    /// The 10-digit `y=` SSRC.
    pub ssrc: String,
    /// `Play` (live), `Playback` or `Download`.
    pub session: String,
}

impl Offer {
    /// The SDP text.
    pub fn to_sdp(&self) -> String {
        let (proto, setup) = match self.transport {
            MediaTransport::Udp => ("RTP/AVP", None),
            MediaTransport::TcpPassive => ("TCP/RTP/AVP", Some("passive")),
            MediaTransport::TcpActive => ("TCP/RTP/AVP", Some("active")),
        };
        let mut s = format!(
            "v=0\r\no={} 0 0 IN IP4 {}\r\ns={}\r\nc=IN IP4 {}\r\nt=0 0\r\n\
             m=video {} {proto} 96 98 97\r\na=recvonly\r\n\
             a=rtpmap:96 PS/90000\r\na=rtpmap:98 H264/90000\r\na=rtpmap:97 MPEG4/90000\r\n",
            self.platform_id, self.media_ip, self.session, self.media_ip, self.media_port
        );
        if let Some(setup) = setup {
            s.push_str(&format!("a=setup:{setup}\r\na=connection:new\r\n"));
        }
        s.push_str(&format!("y={}\r\n", self.ssrc));
        s
    }
}

/// What the device's answer says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Answer {
    /// Where the device sends from, or (TCP active) where the platform connects to.
    pub ip: Option<String>,
    pub port: Option<u16>,
    /// `RTP/AVP` or `TCP/RTP/AVP`.
    pub proto: Option<String>,
    /// Payload types in the `m=` line.
    pub payload_types: Vec<u8>,
    /// `a=setup:` of the answer.
    pub setup: Option<String>,
    /// `y=` (the device may change it; media is matched by it).
    pub ssrc: Option<String>,
    /// `a=rtpmap:` entries, e.g. `(96, "PS/90000")`.
    pub rtpmap: Vec<(u8, String)>,
}

impl Answer {
    /// Reads an answer leniently; lines it does not know are ignored.
    pub fn parse(text: &str) -> Answer {
        let mut a = Answer::default();
        let mut media_c = None;
        let mut session_c = None;
        let mut in_media = false;
        for line in text.lines() {
            let line = line.trim();
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let value = value.trim();
            match key.trim().to_ascii_lowercase().as_str() {
                "c" => {
                    let ip = value.split_whitespace().nth(2).map(str::to_owned);
                    if in_media {
                        media_c = ip;
                    } else {
                        session_c = ip;
                    }
                }
                "m" => {
                    in_media = true;
                    let mut parts = value.split_whitespace();
                    let _kind = parts.next();
                    a.port = parts.next().and_then(|p| p.parse().ok());
                    a.proto = parts.next().map(str::to_owned);
                    a.payload_types = parts.filter_map(|p| p.parse().ok()).collect();
                }
                "a" => {
                    if let Some(setup) = value.strip_prefix("setup:") {
                        a.setup = Some(setup.trim().to_owned());
                    } else if let Some(map) = value.strip_prefix("rtpmap:") {
                        let mut it = map.splitn(2, ' ');
                        if let (Some(pt), Some(name)) =
                            (it.next().and_then(|p| p.trim().parse().ok()), it.next())
                        {
                            a.rtpmap.push((pt, name.trim().to_owned()));
                        }
                    }
                }
                "y" => a.ssrc = Some(value.to_owned()),
                _ => {}
            }
        }
        a.ip = media_c.or(session_c);
        a
    }

    /// Media over TCP?
    pub fn is_tcp(&self) -> bool {
        self.proto
            .as_deref()
            .is_some_and(|p| p.to_ascii_uppercase().starts_with("TCP"))
    }
}

/// The `y=` SSRC of a live (`0`) or playback (`1`) stream: the flag, digits 4–8 of the domain
/// ID, and a 4-digit serial (Hikvision devices refuse anything but 10 digits).
pub fn ssrc(live: bool, domain: &str, serial: u32) -> String {
    let middle: String = domain
        .get(3..8)
        .unwrap_or("00000")
        .chars()
        .map(|c| if c.is_ascii_digit() { c } else { '0' })
        .collect();
    format!("{}{middle:0>5}{:04}", u8::from(!live), serial % 10_000)
}

/// The `Subject` header of an INVITE: `channel:stream,platform:0`.
pub fn subject(channel_id: &str, ssrc: &str, platform_id: &str) -> String {
    format!("{channel_id}:{ssrc},{platform_id}:0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssrc_follows_the_rule_and_is_ten_digits() {
        assert_eq!(ssrc(true, "4228010000", 1), "0801000001");
        assert_eq!(ssrc(false, "3402000000", 12_345), "1200002345");
        assert_eq!(ssrc(true, "x", 7).len(), 10);
    }

    #[test]
    fn offers_for_each_transport() {
        let mut o = Offer {
            platform_id: "42280100002000000001".into(),
            media_ip: "192.0.2.1".into(),
            media_port: 30000,
            transport: MediaTransport::Udp,
            ssrc: "0801000001".into(),
            session: "Play".into(),
        };
        let udp = o.to_sdp();
        assert!(udp.contains("m=video 30000 RTP/AVP 96 98 97\r\n"));
        assert!(udp.contains("a=rtpmap:96 PS/90000\r\n"));
        assert!(udp.ends_with("y=0801000001\r\n"));
        assert!(!udp.contains("setup"));
        o.transport = MediaTransport::TcpPassive;
        let tcp = o.to_sdp();
        assert!(tcp.contains("TCP/RTP/AVP") && tcp.contains("a=setup:passive"));
    }

    #[test]
    fn reads_a_device_answer_leniently() {
        let text = "v=0\no=34020000001320000001 0 0 IN IP4 192.0.2.7\ns=Play\n\
                    c=IN IP4 192.0.2.7\nt=0 0\nm=video 15060 TCP/RTP/AVP 96\n\
                    a=sendonly\na=rtpmap:96 PS/90000\na=setup:active\ny=0801000001\nf=\n";
        let a = Answer::parse(text);
        assert_eq!(a.ip.as_deref(), Some("192.0.2.7"));
        assert_eq!(a.port, Some(15060));
        assert!(a.is_tcp());
        assert_eq!(a.setup.as_deref(), Some("active"));
        assert_eq!(a.ssrc.as_deref(), Some("0801000001"));
        assert_eq!(a.rtpmap, vec![(96, "PS/90000".into())]);
        assert_eq!(Answer::parse("garbage\n=\nm=video x"), Answer::default());
    }
}
