//! Lenient parsing details, errors with positions, the encoder and the response builder.
#![allow(clippy::unwrap_used)]

use xiaoan_sip::{
    CSeq, Headers, Message, Method, NameAddr, ParseError, Request, Response, Uri, Via,
    parse_datagram,
};

#[test]
fn errors_carry_position_and_context() {
    assert_eq!(Message::parse(b""), Err(ParseError::Incomplete));
    let e = Message::parse(b"HELLO\r\n\r\n").unwrap_err();
    assert!(matches!(e, ParseError::Invalid { position: 0, .. }), "{e}");
    let e = Message::parse(b"OPTIONS sip:a@b SIP/2.0\r\nno colon here\r\n\r\n").unwrap_err();
    assert_eq!(
        e,
        ParseError::Invalid {
            position: 25,
            context: "header > missing colon"
        }
    );
    let e = Message::parse(b"SIP/2.0 99 Low\r\n\r\n").unwrap_err();
    assert!(matches!(
        e,
        ParseError::Invalid {
            context: "status line > status code",
            ..
        }
    ));
    let e = Message::parse(b"OPTIONS sip:a@b SIP/2.0\r\n folded first\r\n\r\n").unwrap_err();
    assert!(matches!(
        e,
        ParseError::Invalid {
            context: "header > folded line first",
            ..
        }
    ));
    let e = Message::parse(b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: x\r\n\r\n").unwrap_err();
    assert!(matches!(
        e,
        ParseError::Invalid {
            context: "header > Content-Length",
            ..
        }
    ));
    let e = Message::parse(b"OPTIONS sip:a@b SIP/2.0\r\nl: 1\r\nContent-Length: 2\r\n\r\nab")
        .unwrap_err();
    assert!(matches!(
        e,
        ParseError::Invalid {
            context: "header > Content-Length conflict",
            ..
        }
    ));
    // Body shorter than Content-Length.
    assert_eq!(
        Message::parse(b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 5\r\n\r\nab"),
        Err(ParseError::Incomplete)
    );
    assert_eq!(
        Message::parse_prefix(b"OPTIONS sip:a@b SIP/2.0\r\nCall-ID: 1\r\n"),
        Err(ParseError::Incomplete)
    );
}

#[test]
fn leading_line_ends_and_missing_blank_line_in_a_datagram() {
    let m = parse_datagram(b"\r\n\r\nOPTIONS sip:a@b SIP/2.0\r\nCall-ID: x").unwrap();
    assert_eq!(m.headers().call_id(), Some("x"));
    assert!(m.body().is_empty());
    let (m, used) = Message::parse_prefix(b"\r\nBYE sip:a@b SIP/2.0\r\n\r\nrest").unwrap();
    assert_eq!(m.as_request().unwrap().method, Method::Bye);
    assert_eq!(used, 25);
}

#[test]
fn methods_and_compact_names() {
    for (token, m) in [
        ("REGISTER", Method::Register),
        ("message", Method::Message),
        ("Invite", Method::Invite),
        ("ACK", Method::Ack),
        ("BYE", Method::Bye),
        ("CANCEL", Method::Cancel),
        ("SUBSCRIBE", Method::Subscribe),
        ("NOTIFY", Method::Notify),
        ("INFO", Method::Info),
        ("OPTIONS", Method::Options),
        ("PUBLISH", Method::Other("PUBLISH".into())),
    ] {
        assert_eq!(Method::from_token(token), m);
        assert!(m.as_str().eq_ignore_ascii_case(token));
    }
    let raw = b"NOTIFY sip:a@b SIP/2.0\r\no: presence\r\nk: 100rel\r\ns: hi\r\ne: gzip\r\nm: *\r\nSubscription-State: Terminated;reason=timeout;expires=0\r\n\r\n";
    let r = Request::parse(raw).unwrap();
    assert_eq!(r.headers.event(), Some("presence"));
    assert_eq!(r.headers.get("supported"), Some("100rel"));
    assert_eq!(r.headers.get("k"), Some("100rel"));
    assert_eq!(r.headers.subject(), Some("hi"));
    assert_eq!(r.headers.get("Content-Encoding"), Some("gzip"));
    assert!(r.headers.contact_is_wildcard());
    let ss = r.headers.subscription_state().unwrap();
    assert_eq!(ss.state, "terminated");
    assert_eq!(ss.reason(), Some("timeout"));
    assert_eq!(ss.expires(), Some(0));
}

#[test]
fn typed_values() {
    let u = Uri::parse("sip:34020000001320000001:pw@[::1]:5060;transport=tcp?subject=x").unwrap();
    assert_eq!(u.user.as_deref(), Some("34020000001320000001"));
    assert_eq!(u.password.as_deref(), Some("pw"));
    assert_eq!(u.host, "[::1]");
    assert_eq!(u.port, Some(5060));
    assert_eq!(u.params.get("transport"), Some("tcp"));
    assert_eq!(Uri::parse(&u.to_string()).unwrap(), u);
    assert!(Uri::parse("sip:a@b:99999").is_none());
    assert!(Uri::parse("nocolon").is_none());

    let n =
        NameAddr::parse(r#""Gate \"3\"" <sip:34020000001340000001@3402000000>;tag=9;expires=60"#)
            .unwrap();
    assert_eq!(n.display.as_deref(), Some(r#"Gate "3""#));
    assert_eq!(n.tag(), Some("9"));
    assert_eq!(n.expires(), Some(60));
    assert_eq!(NameAddr::parse(&n.to_string()).unwrap(), n);
    let bare = NameAddr::parse("sip:a@b;tag=1").unwrap();
    assert_eq!(bare.tag(), Some("1"));
    assert!(bare.uri.params.is_empty());

    let mut v = Via::parse("SIP/2.0/udp 192.168.1.2:5060;rport;branch=z9hG4bK1").unwrap();
    assert_eq!(v.transport, "UDP");
    v.set_source("10.0.0.9", 40000);
    assert_eq!(v.received(), Some("10.0.0.9"));
    assert_eq!(v.rport(), Some(40000));
    assert_eq!(Via::parse(&v.to_string()).unwrap(), v);
    assert!(Via::parse("garbage").is_none());

    assert_eq!(
        CSeq::parse(" 7   INVITE ").unwrap(),
        CSeq {
            seq: 7,
            method: Method::Invite
        }
    );
    assert!(CSeq::parse("x INVITE").is_none());
    assert!(CSeq::parse("1 INVITE extra").is_none());
}

#[test]
fn encoder_writes_the_real_content_length() {
    let mut r = Request::new(Method::Message, "sip:34020000001320000001@3402000000");
    r.headers = Headers::new()
        .with("Via", "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1")
        .with("Content-Length", "999")
        .with("X-Inject", "a\r\nEvil: 1");
    r.body = b"<Query/>".to_vec();
    let bytes = r.encode();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.starts_with("MESSAGE sip:34020000001320000001@3402000000 SIP/2.0\r\n"));
    assert!(text.contains("Content-Length: 8\r\n\r\n<Query/>"));
    assert!(!text.contains("999"));
    assert!(!text.contains("\nEvil"));
    let back = Request::parse(&bytes).unwrap();
    assert_eq!(back.body, b"<Query/>");
    assert_eq!(back.headers.get_all("Content-Length").count(), 1);

    let resp = Response::new(200);
    assert_eq!(
        resp.encode(),
        b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"
    );
    let mut bare = Response::new(299);
    bare.reason.clear();
    assert_eq!(bare.encode(), b"SIP/2.0 299\r\nContent-Length: 0\r\n\r\n");
}

#[test]
fn response_builder_copies_the_dialog_headers() {
    let raw = b"REGISTER sip:34020000002000000001@3402000000 SIP/2.0\r\nVia: SIP/2.0/UDP a:1;branch=z9hG4bK1\r\nVia: SIP/2.0/UDP b:2;branch=z9hG4bK2\r\nFrom: <sip:dev@d>;tag=f\r\nTo: <sip:dev@d>\r\nCall-ID: c1\r\nCSeq: 2 REGISTER\r\nExpires: 3600\r\n\r\n";
    let req = Request::parse(raw).unwrap();
    let mut resp = req.response(200, "srv1");
    resp.headers.push("Expires", "3600");
    resp.headers.push("Date", "2020-04-21T10:52:55.103");
    assert_eq!(resp.reason, "OK");
    let vias: Vec<_> = resp.headers.get_all("Via").collect();
    assert_eq!(
        vias,
        [
            "SIP/2.0/UDP a:1;branch=z9hG4bK1",
            "SIP/2.0/UDP b:2;branch=z9hG4bK2"
        ]
    );
    assert_eq!(resp.headers.from().unwrap().tag(), Some("f"));
    assert_eq!(resp.headers.to().unwrap().tag(), Some("srv1"));
    assert_eq!(resp.headers.call_id(), Some("c1"));
    assert_eq!(resp.headers.cseq().unwrap().seq, 2);
    // 100 Trying gets no tag; a To that has one keeps it.
    assert_eq!(req.response(100, "srv1").headers.to().unwrap().tag(), None);
    let mut tagged = req.clone();
    tagged.headers.set("To", "<sip:dev@d>;tag=old");
    assert_eq!(
        tagged.response(200, "new").headers.to().unwrap().tag(),
        Some("old")
    );
    let parsed = Response::parse(&resp.encode()).unwrap();
    assert_eq!(parsed.headers.date(), Some("2020-04-21T10:52:55.103"));
}

#[test]
fn headers_set_and_remove() {
    let mut h = Headers::new()
        .with("v", "x")
        .with("Via", "y")
        .with("To", "z");
    assert_eq!(h.get_all("VIA").count(), 2);
    h.set("Via", "only");
    assert_eq!(h.get_all("v").collect::<Vec<_>>(), ["only"]);
    assert_eq!(h.remove("t"), 1);
    assert_eq!(h.len(), 1);
}
