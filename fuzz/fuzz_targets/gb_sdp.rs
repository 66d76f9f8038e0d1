//! The GB/T 28181 SDP answer parser (`xiaoan_gb28181::sdp`): arbitrary bytes as a device's
//! answer. What it reads (address, port, transport, SSRC) put into the platform's own offer
//! reads back the same.
//!
//! `sdp.rs` has no imports; it is compiled here on its own so that the fuzz build does not pull
//! in the platform's storage and runtime.
#![no_main]

#[path = "../../crates/io/gb28181/src/sdp.rs"]
#[allow(dead_code)]
mod sdp;

use libfuzzer_sys::fuzz_target;
use sdp::{Answer, MediaTransport, Offer};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let answer = Answer::parse(&text);
    let _ = answer.is_tcp();
    if let Some(t) = answer.setup.as_deref() {
        if let Some(parsed) = MediaTransport::parse(t) {
            assert_eq!(MediaTransport::parse(parsed.as_str()), Some(parsed));
        }
    }
    let (Some(ip), Some(port)) = (answer.ip.clone(), answer.port) else {
        return;
    };
    let offer = Offer {
        platform_id: "34020000002000000001".into(),
        media_ip: ip,
        media_port: port,
        transport: if answer.is_tcp() {
            MediaTransport::TcpPassive
        } else {
            MediaTransport::Udp
        },
        ssrc: answer.ssrc.clone().unwrap_or_else(|| "0".into()),
        session: "Play".into(),
    };
    let again = Answer::parse(&offer.to_sdp());
    assert_eq!(again.ip, answer.ip, "address");
    assert_eq!(again.port, answer.port, "port");
    assert_eq!(again.is_tcp(), answer.is_tcp(), "transport");
    assert_eq!(again.ssrc.as_deref(), Some(offer.ssrc.as_str()), "ssrc");
    assert_eq!(again.payload_types, [96, 98, 97]);
});
