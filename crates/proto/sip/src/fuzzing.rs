//! The bodies of the fuzz targets `sip_message`, `sip_stream` and `sip_digest` (in the
//! repository's `fuzz/` crate), shared with the corpus-replay test and the no-panic property
//! tests: every parser, every typed accessor, digest parsing and checking, and the transaction
//! tables, with the properties they must keep. Hidden from the docs; not an API.

use std::time::{Duration, Instant};

use crate::text::is_token;
use crate::{
    Challenge, ClientTransaction, Credentials, Message, ServerTransactions, StreamReader, Timers,
    Transport, answer, parse_datagram,
};

/// Runs `data` through everything that reads outside bytes (all three targets). Must never
/// panic.
pub fn exercise(data: &[u8]) {
    message(data);
    stream(data);
    digest(data);
}

/// Target `sip_message`: `data` as a datagram and as the front of a stream. What parses is
/// touched through every accessor and the transaction tables, and re-encodes to bytes that
/// parse again and encode to the same bytes (encoding is a fixed point after one parse).
pub fn message(data: &[u8]) {
    if let Ok(m) = parse_datagram(data) {
        touch(&m);
        let bytes = m.encode();
        let again = Message::parse(&bytes).expect("an encoded message parses");
        assert_eq!(
            again.encode(),
            bytes,
            "encode(parse(encode(m))) == encode(m)"
        );
    }
    if let Ok((m, used)) = Message::parse_prefix(data) {
        assert!(used >= 1 && used <= data.len(), "consumed {used}");
        touch(&m);
    }
}

/// Target `sip_stream`: `data` as a TCP byte stream through the framer (512-byte limit). The
/// messages it yields do not depend on how the bytes were split, and messages that parsed
/// re-encoded back to back come out again one by one.
pub fn stream(data: &[u8]) {
    let pieces = read_stream(data, 7);
    let whole = read_stream(data, data.len().max(1));
    assert_eq!(pieces, whole, "the framer depends on chunking");
    let ok: Vec<Vec<u8>> = whole.iter().filter_map(|r| r.clone().ok()).collect();
    let joined: Vec<u8> = ok.concat();
    let again = read_stream_with(&joined, 5, joined.len().max(512));
    let again: Vec<Vec<u8>> = again.into_iter().filter_map(Result::ok).collect();
    assert_eq!(again, ok, "re-encoded messages frame again");
}

fn read_stream(data: &[u8], chunk: usize) -> Vec<Result<Vec<u8>, String>> {
    read_stream_with(data, chunk, 512)
}

/// The framer's output for `data` fed in `chunk`-byte pieces: each message encoded, or the
/// error text.
fn read_stream_with(data: &[u8], chunk: usize, max: usize) -> Vec<Result<Vec<u8>, String>> {
    let mut reader = StreamReader::new(max);
    let mut out = Vec::new();
    for piece in data.chunks(chunk) {
        reader.feed(piece);
        while let Some(res) = reader.next_message() {
            out.push(match res {
                Ok(m) => {
                    touch(&m);
                    Ok(m.encode())
                }
                Err(e) => Err(e.to_string()),
            });
        }
    }
    out
}

/// Target `sip_digest`: `data` as a `WWW-Authenticate` and an `Authorization` header value.
/// A parsed challenge or answer prints to a header that parses to the same value; answering
/// a parsed challenge yields credentials that check against the same password.
pub fn digest(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Some(c) = Challenge::parse(&text) {
        if c.algorithm.as_deref().is_none_or(is_token) {
            assert_eq!(
                Challenge::parse(&c.to_string()),
                Some(c.clone()),
                "challenge"
            );
        }
        let creds = answer(
            &c,
            "REGISTER",
            "sip:34020000002000000001@3402000000",
            "34020000001320000001",
            "12345678",
            "0a4f113b",
            1,
        );
        assert!(
            creds.check_password("REGISTER", "12345678"),
            "own answer checks"
        );
        assert!(
            !creds.check_password("REGISTER", "12345679"),
            "wrong password fails"
        );
        assert_eq!(
            Credentials::parse(&creds.to_string()),
            Some(creds),
            "answer prints"
        );
    }
    if let Some(c) = Credentials::parse(&text) {
        let _ = c.check_password("REGISTER", "123456");
        let _ = c.nonce_count();
        let plain = [&c.algorithm, &c.qop, &c.nc];
        if plain.iter().all(|v| v.as_deref().is_none_or(is_token)) {
            assert_eq!(
                Credentials::parse(&c.to_string()),
                Some(c.clone()),
                "credentials"
            );
        }
    }
}

/// Calls every accessor of a parsed message and runs it through the transaction tables.
pub fn touch(m: &Message) {
    let h = m.headers();
    let _ = (
        h.vias(),
        h.top_via(),
        h.from(),
        h.to(),
        h.call_id(),
        h.cseq(),
    );
    let _ = (
        h.contacts(),
        h.expires(),
        h.content_type(),
        h.content_length(),
    );
    let _ = (
        h.max_forwards(),
        h.www_authenticate(),
        h.subject(),
        h.date(),
        h.event(),
    );
    let _ = (
        h.subscription_state(),
        h.user_agent(),
        h.contact_is_wildcard(),
    );
    if let Some(c) = h.authorization() {
        let _ = c.check_password("REGISTER", "123456");
    }
    let now = Instant::now();
    match m {
        Message::Request(r) => {
            let _ = r.parsed_uri();
            let mut st = ServerTransactions::new(Timers::default());
            let _ = st.on_request(now, r, Transport::Udp);
            let resp = r.response(486, "t");
            let _ = st.record_response(now, &resp);
            let _ = st.on_request(now, r, Transport::Udp);
            let _ = st.poll(now + Duration::from_secs(1));
            if let Ok(mut tx) =
                ClientTransaction::new(now, r.clone(), Transport::Udp, Timers::default())
            {
                let _ = tx.on_response(now, &resp);
                let _ = tx.poll(now + Duration::from_secs(40));
            }
        }
        Message::Response(resp) => {
            let mut st = ServerTransactions::new(Timers::default());
            let _ = st.record_response(now, resp);
        }
    }
}
