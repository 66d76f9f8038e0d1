//! The calls the fuzz target, the corpus-replay test and the no-panic property tests make on
//! arbitrary bytes: every parser, every typed accessor, digest parsing and checking, and the
//! transaction tables. Hidden from the docs; not an API.

use std::time::{Duration, Instant};

use crate::{
    Challenge, ClientTransaction, Credentials, Message, ServerTransactions, StreamReader, Timers,
    Transport, parse_datagram,
};

/// Runs `data` through everything that reads outside bytes. Must never panic.
pub fn exercise(data: &[u8]) {
    if let Ok(m) = parse_datagram(data) {
        touch(&m);
        let _ = Message::parse(&m.encode());
    }
    if let Ok((m, _)) = Message::parse_prefix(data) {
        touch(&m);
    }
    let mut reader = StreamReader::new(512);
    for chunk in data.chunks(7) {
        reader.feed(chunk);
        while let Some(res) = reader.next_message() {
            if let Ok(m) = res {
                touch(&m);
            }
        }
    }
    let text = String::from_utf8_lossy(data);
    let _ = Challenge::parse(&text);
    if let Some(c) = Credentials::parse(&text) {
        let _ = c.check_password("REGISTER", "123456");
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
