//! Property tests: encode → parse gives the message back; arbitrary bytes never panic the
//! parsers, the stream reader, the typed accessors or the transaction table.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use xiaoan_sip::fuzzing::exercise;
use xiaoan_sip::{
    Headers, Message, Method, Request, Response, StreamReader, canonical_name, parse_datagram,
};

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::Register),
        Just(Method::Message),
        Just(Method::Invite),
        Just(Method::Ack),
        Just(Method::Bye),
        Just(Method::Cancel),
        Just(Method::Subscribe),
        Just(Method::Notify),
        Just(Method::Info),
        Just(Method::Options),
        "X-[A-Z]{1,8}".prop_map(Method::Other),
    ]
}

/// Header names that the parser keeps as written (no compact forms, no Content-Length).
fn header_name() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9-]{1,15}".prop_filter("canonical", |n| {
        canonical_name(n) == n.as_str() && !n.eq_ignore_ascii_case("Content-Length")
    })
}

/// Values as the parser returns them: trimmed, printable, possibly empty, possibly UTF-8.
fn header_value() -> impl Strategy<Value = String> {
    "[ -~\u{4e00}-\u{4e10}]{0,40}".prop_map(|s| s.trim().to_string())
}

fn headers() -> impl Strategy<Value = Headers> {
    prop::collection::vec((header_name(), header_value()), 0..8).prop_map(|v| {
        let mut h = Headers::new();
        for (n, val) in v {
            h.push(n, val);
        }
        h
    })
}

fn request() -> impl Strategy<Value = Request> {
    (
        method(),
        "sip:[0-9]{20}@[0-9]{10}(:[0-9]{1,4})?",
        headers(),
        prop::collection::vec(any::<u8>(), 0..200),
    )
        .prop_map(|(method, uri, headers, body)| Request {
            method,
            uri,
            headers,
            body,
        })
}

fn response() -> impl Strategy<Value = Response> {
    (
        100u16..700,
        "([A-Za-z][A-Za-z ]{0,20}[A-Za-z])?",
        headers(),
        prop::collection::vec(any::<u8>(), 0..200),
    )
        .prop_map(|(status, reason, headers, body)| Response {
            status,
            reason,
            headers,
            body,
        })
}

fn with_length(mut m: Message) -> Message {
    let n = m.body().len();
    m.headers_mut().push("Content-Length", n.to_string());
    m
}

proptest! {
    #[test]
    fn request_round_trip(r in request()) {
        let bytes = r.encode();
        let expected = with_length(Message::Request(r));
        prop_assert_eq!(parse_datagram(&bytes).unwrap(), expected.clone());
        let (m, used) = Message::parse_prefix(&bytes).unwrap();
        prop_assert_eq!(m, expected);
        prop_assert_eq!(used, bytes.len());
    }

    #[test]
    fn response_round_trip(r in response()) {
        let bytes = r.encode();
        prop_assert_eq!(parse_datagram(&bytes).unwrap(), with_length(Message::Response(r)));
    }

    #[test]
    fn stream_of_messages_any_chunking(
        msgs in prop::collection::vec(request(), 1..5),
        chunk in 1usize..64,
    ) {
        let mut bytes = Vec::new();
        for m in &msgs {
            bytes.extend_from_slice(b"\r\n");
            bytes.extend_from_slice(&m.encode());
        }
        let mut reader = StreamReader::default();
        let mut out = Vec::new();
        for c in bytes.chunks(chunk) {
            reader.feed(c);
            while let Some(m) = reader.next_message() {
                out.push(m.unwrap());
            }
        }
        let expected: Vec<Message> =
            msgs.into_iter().map(|r| with_length(Message::Request(r))).collect();
        prop_assert_eq!(out, expected);
        prop_assert_eq!(reader.buffered(), 0);
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..600)) {
        exercise(&data);
    }

    #[test]
    fn mutated_captures_never_panic(
        idx in 0usize..4,
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let base: [&[u8]; 4] = [
            include_bytes!("../testdata/sipp-register-auth.sip"),
            include_bytes!("../testdata/synthetic-compact-lf.sip"),
            include_bytes!("../testdata/d1-invite.sip"),
            include_bytes!("../testdata/synthetic-no-reason.sip"),
        ];
        let mut data = base[idx].to_vec();
        for (i, b) in flips {
            let at = i.index(data.len());
            data[at] = b;
        }
        exercise(&data);
    }
}
