//! TCP framing: every split of every golden capture (and of a stream of all of them with
//! keep-alives and garbage in between) gives the same messages and errors; size limit and
//! resynchronisation.
#![allow(clippy::unwrap_used)]

mod common;

use xiaoan_sip::{Message, ParseError, StreamReader, is_keepalive, parse_datagram};

type Items = Vec<Result<Message, ParseError>>;

fn run<'a>(max: usize, chunks: impl IntoIterator<Item = &'a [u8]>) -> (Items, usize) {
    let mut r = StreamReader::new(max);
    let mut out = Vec::new();
    for c in chunks {
        r.feed(c);
        while let Some(item) = r.next_message() {
            out.push(item);
        }
    }
    (out, r.buffered())
}

fn assert_split_invariant(max: usize, bytes: &[u8], label: &str) -> Items {
    let whole = run(max, [bytes]);
    for cut in 0..=bytes.len() {
        let (a, b) = bytes.split_at(cut);
        assert_eq!(run(max, [a, b]), whole, "{label}: cut at {cut}");
    }
    let bytewise = run(max, bytes.chunks(1));
    assert_eq!(bytewise, whole, "{label}: byte by byte");
    whole.0
}

/// The captures that carry a Content-Length (over TCP, a missing one means no body).
fn framed_captures() -> Vec<(String, Vec<u8>)> {
    common::captures()
        .into_iter()
        .filter(|(_, b)| {
            parse_datagram(b)
                .unwrap()
                .headers()
                .content_length()
                .is_some()
        })
        .collect()
}

#[test]
fn every_split_of_every_capture() {
    for (name, bytes) in common::captures() {
        let items = assert_split_invariant(64 * 1024, &bytes, &name);
        assert!(!items.is_empty(), "{name}");
        assert!(items[0].is_ok(), "{name}: {:?}", items[0]);
    }
    for (name, bytes) in framed_captures() {
        let items = assert_split_invariant(64 * 1024, &bytes, &name);
        assert_eq!(items.len(), 1, "{name}");
        assert_eq!(
            items[0].as_ref().unwrap(),
            &parse_datagram(&bytes).unwrap(),
            "{name}"
        );
    }
}

fn big_stream() -> (Vec<u8>, usize) {
    let mut s = b"\r\n\r\n".to_vec();
    let mut n = 0;
    for (_, bytes) in framed_captures() {
        s.extend_from_slice(&bytes);
        s.extend_from_slice(b"\r\n\r\n");
        n += 1;
    }
    (s, n)
}

#[test]
fn stream_of_all_captures_with_keepalives() {
    let (s, n) = big_stream();
    let (items, left) = run(64 * 1024, [s.as_slice()]);
    assert_eq!(items.len(), n);
    assert!(items.iter().all(Result::is_ok));
    assert_eq!(left, 0);
    // Two-chunk splits of the whole stream.
    let whole = run(64 * 1024, [s.as_slice()]);
    for cut in (0..=s.len()).step_by(7) {
        let (a, b) = s.split_at(cut);
        assert_eq!(run(64 * 1024, [a, b]), whole, "cut at {cut}");
    }
}

#[test]
fn garbage_gives_one_error_then_resynchronises() {
    let (good, n) = big_stream();
    let mut s = b"junk line\r\nmore junk\r\n\x00\x01\x02\r\n".to_vec();
    s.extend_from_slice(&good);
    s.extend_from_slice(b"NOT SIP AT ALL\r\n");
    s.extend_from_slice(&good);
    let items = assert_split_invariant(64 * 1024, &s, "garbage");
    let errors: Vec<_> = items.iter().filter(|i| i.is_err()).collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(matches!(
        items[0],
        Err(ParseError::Invalid { position: 0, .. })
    ));
    assert_eq!(items.iter().filter(|i| i.is_ok()).count(), 2 * n);
}

#[test]
fn oversized_messages_are_rejected_and_skipped() {
    let small = common::capture("sipp-register.sip");
    let big = common::capture("d1-invite.sip");
    let max = small.len() + 10;
    assert!(big.len() > max);
    let mut s = small.clone();
    s.extend_from_slice(&big);
    s.extend_from_slice(&small);
    let items = assert_split_invariant(max, &s, "oversized");
    assert_eq!(items.len(), 3, "{items:?}");
    assert!(items[0].is_ok());
    assert_eq!(items[1], Err(ParseError::TooLong { max }));
    assert!(items[2].is_ok());

    // A head that never ends is cut off too.
    let mut endless = b"MESSAGE sip:a@b SIP/2.0\r\n".to_vec();
    while endless.len() < 3 * max {
        endless.extend_from_slice(b"X-Pad: 0123456789\r\n");
    }
    endless.extend_from_slice(b"\r\n");
    endless.extend_from_slice(&small);
    let items = assert_split_invariant(max, &endless, "endless head");
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!(items[0], Err(ParseError::TooLong { max }));
    assert!(items[1].is_ok());
}

#[test]
fn tcp_without_content_length_has_no_body() {
    let mut r = StreamReader::default();
    r.feed(b"OPTIONS sip:a@b SIP/2.0\r\nCall-ID: 1\r\n\r\nOPTIONS sip:a@b SIP/2.0\r\nCall-ID: 2\r\n\r\n");
    let a = r.next_message().unwrap().unwrap();
    let b = r.next_message().unwrap().unwrap();
    assert!(a.body().is_empty());
    assert_eq!(b.headers().call_id(), Some("2"));
    assert!(r.next_message().is_none());
}

#[test]
fn keepalive_datagrams() {
    assert!(is_keepalive(b"\r\n\r\n"));
    assert!(is_keepalive(b"\r\n"));
    assert!(!is_keepalive(b"OPTIONS"));
    assert_eq!(parse_datagram(b"\r\n\r\n"), Err(ParseError::Incomplete));
}
