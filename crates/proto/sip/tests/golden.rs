//! Every golden capture parses; the fields a GB/T 28181 platform needs read back correctly;
//! the digest answers in the captures verify with their passwords.
#![allow(clippy::unwrap_used)]

mod common;

use xiaoan_sip::{Message, Method, Request, Response, parse_datagram};

fn request(name: &str) -> Request {
    Request::parse(&common::capture(name)).unwrap()
}

fn response(name: &str) -> Response {
    Response::parse(&common::capture(name)).unwrap()
}

#[test]
fn every_capture_parses_and_round_trips() {
    let all = common::captures();
    assert!(all.len() >= 15, "{}", all.len());
    for (name, bytes) in all {
        let mut msg = parse_datagram(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        // Encoding and parsing again gives the same message, with a correct Content-Length.
        let mut again = Message::parse(&msg.encode()).unwrap();
        assert_eq!(
            again.headers().content_length(),
            Some(msg.body().len()),
            "{name}"
        );
        msg.headers_mut().remove("Content-Length");
        again.headers_mut().remove("Content-Length");
        assert_eq!(again, msg, "{name}");
    }
}

#[test]
fn d1_register() {
    let r = request("d1-register.sip");
    assert_eq!(r.method, Method::Register);
    assert_eq!(r.uri, "sip:34020000002000000001@3402000000:5060");
    let h = &r.headers;
    let from = h.from().unwrap();
    assert_eq!(from.user(), Some("34020000001320000001"));
    assert_eq!(from.tag(), Some("664773380"));
    assert_eq!(from.uri.host, "3402000000");
    assert_eq!(from.uri.port, Some(5060));
    assert_eq!(h.to().unwrap().tag(), None);
    assert_eq!(h.call_id(), Some("790171336"));
    let cseq = h.cseq().unwrap();
    assert_eq!((cseq.seq, cseq.method), (1, Method::Register));
    let contact = h.contact().unwrap();
    assert_eq!(contact.uri.host, "172.16.23.205");
    assert_eq!(h.expires(), Some(3600));
    assert_eq!(h.content_length(), Some(0));
    assert!(h.top_via().is_none());
}

#[test]
fn d1_challenge_and_answer() {
    let c = response("d1-register-401.sip");
    assert_eq!((c.status, c.reason.as_str()), (401, "Unauthorized"));
    let ch = c.headers.www_authenticate().unwrap();
    assert_eq!(ch.realm, "3402000000");
    assert_eq!(ch.nonce, "c98f6d56cb2ab8e6");
    assert!(!ch.offers_qop_auth());

    let r = request("d1-register-auth.sip");
    let cr = r.headers.authorization().unwrap();
    assert_eq!(cr.username, "34020000001320000001");
    assert_eq!(cr.uri, "sip:34020000002000000001@3402000000:5060");
    assert_eq!(cr.response, "79d8846430436131196c50746cd97fa5");
    assert!(cr.check_password("REGISTER", "123456"));
    assert!(!cr.check_password("REGISTER", "1234567"));

    let ok = response("d1-register-200.sip");
    assert_eq!(ok.status, 200);
    assert_eq!(ok.headers.expires(), Some(3600));
    assert_eq!(ok.headers.date(), Some("2020-04-21T10:52:55.103"));
}

#[test]
fn sipp_register_with_qop_uses_the_authorization_uri() {
    let r = request("sipp-register.sip");
    let via = r.headers.top_via().unwrap();
    assert_eq!(via.transport, "UDP");
    assert_eq!(via.sent_by.to_string(), "127.0.0.1:25061");
    assert!(via.has_rport());
    assert_eq!(via.rport(), None);
    assert!(via.has_rfc3261_branch());
    assert_eq!(r.headers.user_agent(), Some("SIPp"));
    assert_eq!(r.headers.max_forwards(), Some(70));

    let r = request("sipp-register-auth.sip");
    let cr = r.headers.authorization().unwrap();
    assert_eq!(cr.qop.as_deref(), Some("auth"));
    assert_eq!(cr.nc.as_deref(), Some("00000001"));
    assert_eq!(cr.nonce_count(), Some(1));
    assert_eq!(cr.cnonce.as_deref(), Some("6b8b4567"));
    assert_eq!(cr.uri, "sip:127.0.0.1:25060");
    assert_ne!(cr.uri, r.uri);
    assert!(cr.check_password("REGISTER", "12345678"));
    assert!(!cr.check_password("REGISTER", "123456"));
}

#[test]
fn alarm_messages() {
    let r = request("sipp-message-alarm.sip");
    assert_eq!(r.method, Method::Message);
    assert_eq!(r.headers.content_type(), Some("Application/MANSCDP+xml"));
    assert_eq!(r.headers.content_length(), Some(252));
    assert_eq!(r.body.len(), 252);
    assert!(r.body.starts_with(b"<?xml"));

    let r = request("mfbz-hikvision-alarm.sip");
    assert_eq!(
        r.headers.from().unwrap().user(),
        Some("31010000001340000001")
    );
    let via = r.headers.top_via().unwrap();
    assert!(via.has_rfc3261_branch());
    assert_eq!(via.branch(), Some("z9hG4bK1187302405"));
    assert_eq!(r.headers.call_id(), Some("1516417381"));
    assert!(r.body.ends_with(b"</Notify>\r\n"));
}

#[test]
fn keepalive_without_content_length_takes_the_rest_of_the_datagram() {
    let bytes = common::capture("csdn-keepalive.sip");
    let r = Request::parse(&bytes).unwrap();
    assert_eq!(r.headers.content_length(), None);
    assert_eq!(r.headers.call_id(), None);
    assert_eq!(r.headers.cseq().unwrap().seq, 20);
    assert_eq!(
        r.headers.from().unwrap().user(),
        Some("34020000001320000264")
    );
    assert!(r.body.starts_with(b"<?xml"));
    assert!(r.body.ends_with(b"</Notify>\r\n"));
}

#[test]
fn invites() {
    let r = request("d1-invite.sip");
    assert_eq!(r.method, Method::Invite);
    assert_eq!(
        r.headers.subject(),
        Some("34020000001320000001:0100000001,34020000002000000001:0")
    );
    assert!(r.body.ends_with(b"y=0100000001\r\nf=\r\n"));

    let r = request("sipp-invite.sip");
    let from = r.headers.from().unwrap();
    assert_eq!(from.display.as_deref(), Some("sipp"));
    assert_eq!(from.tag(), Some("12902SIPpTag001"));
    assert_eq!(r.headers.to().unwrap().user(), Some("34020000001320000001"));
    assert_eq!(
        r.headers.contact().unwrap().uri.user.as_deref(),
        Some("sipp")
    );
    assert_eq!(r.headers.content_type(), Some("application/sdp"));
    assert_eq!(r.body.len(), 129);

    let ack = request("sipp-ack.sip");
    assert_eq!(ack.method, Method::Ack);
    assert_eq!(ack.headers.to().unwrap().tag(), Some("4711"));
    let bye = request("sipp-bye.sip");
    assert_eq!(bye.headers.cseq().unwrap().method, Method::Bye);
}

#[test]
fn sloppy_device_forms() {
    let r = request("synthetic-compact-lf.sip");
    assert_eq!(r.method, Method::Message);
    assert_eq!(r.uri, "sip:34020000002000000001@3402000000");
    let vias = r.headers.vias().unwrap();
    assert_eq!(vias.len(), 3);
    assert_eq!(vias[0].sent_by.to_string(), "10.0.0.7:5060");
    assert_eq!(vias[1].transport, "TCP");
    assert_eq!(vias[1].sent_by.to_string(), "proxy.example:5070");
    assert_eq!(vias[1].branch(), Some("z9hG4bKp1"));
    assert_eq!(vias[2].received(), Some("1.2.3.4"));
    assert_eq!(vias[2].sent_by.port, None);
    assert_eq!(r.headers.from().unwrap().tag(), Some("77"));
    assert_eq!(r.headers.call_id(), Some("lf-only-1@10.0.0.7"));
    assert_eq!(r.headers.cseq().unwrap().seq, 21);
    assert_eq!(r.headers.content_type(), Some("Application/MANSCDP+xml"));
    assert_eq!(
        r.headers.get("X-Folded"),
        Some("first part second part third part")
    );
    assert_eq!(r.body, b"<Notify/>\r\n");

    let resp = response("synthetic-no-reason.sip");
    assert_eq!((resp.status, resp.reason.as_str()), (200, ""));
    let via = resp.headers.top_via().unwrap();
    assert_eq!(via.rport(), Some(5060));
    assert_eq!(via.received(), Some("10.1.1.9"));
    assert_eq!(resp.headers.contact().unwrap().expires(), Some(3600));
    assert_eq!(resp.headers.to().unwrap().tag(), Some("1234"));
}
