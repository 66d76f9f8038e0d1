//! Transactions on simulated time: server-side retransmission absorption (RFC 3261 branches and
//! Call-ID + CSeq for old devices), ACK handling and Timer G/H; client-side Timer A/E, B/F,
//! provisional responses, response matching and TCP.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};
use xiaoan_sip::{
    ClientOutput, ClientTransaction, ClientTransactions, Incoming, Method, Request, ResponseAction,
    ServerOutput, ServerTransactions, Timers, TransactionError, Transport,
};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn capture(name: &str) -> Request {
    Request::parse(&common::capture(name)).unwrap()
}

#[test]
fn retransmitted_register_gets_the_stored_response() {
    let t0 = Instant::now();
    let mut st = ServerTransactions::new(Timers::default());
    let req = capture("sipp-register.sip");
    assert_eq!(st.on_request(t0, &req, Transport::Udp), Incoming::New);
    // Retransmitted before the application answered: nothing to send.
    assert_eq!(
        st.on_request(t0 + ms(500), &req, Transport::Udp),
        Incoming::Retransmission(None)
    );
    let resp = req.response(401, "4711");
    assert!(st.record_response(t0 + ms(600), &resp));
    assert_eq!(
        st.on_request(t0 + ms(1500), &req, Transport::Udp),
        Incoming::Retransmission(Some(resp.clone()))
    );
    // The authenticated REGISTER has a new branch: a new transaction.
    let auth = capture("sipp-register-auth.sip");
    assert_eq!(
        st.on_request(t0 + ms(1600), &auth, Transport::Udp),
        Incoming::New
    );
    // Timer J (64·T1) ends the first transaction; a late copy is new again.
    assert!(st.poll(t0 + ms(600) + ms(32_000)).is_empty());
    assert_eq!(st.len(), 1);
    assert_eq!(
        st.on_request(t0 + ms(40_000), &req, Transport::Udp),
        Incoming::New
    );
}

#[test]
fn legacy_branch_matches_by_call_id_and_cseq() {
    let t0 = Instant::now();
    let mut st = ServerTransactions::new(Timers::default());
    let raw = String::from_utf8(common::capture("mfbz-hikvision-alarm.sip")).unwrap();
    let legacy = raw.replace("branch=z9hG4bK1187302405", "branch=1187302405");
    let req = Request::parse(legacy.as_bytes()).unwrap();
    assert_eq!(st.on_request(t0, &req, Transport::Udp), Incoming::New);
    let ok = req.response(200, "99");
    assert!(st.record_response(t0, &ok));
    // Same Call-ID and CSeq, even with another branch value: a retransmission.
    let again =
        Request::parse(legacy.replace("branch=1187302405", "branch=555").as_bytes()).unwrap();
    assert_eq!(
        st.on_request(t0 + ms(500), &again, Transport::Udp),
        Incoming::Retransmission(Some(ok))
    );
    // The next CSeq is a new request.
    let next = Request::parse(legacy.replace("CSeq: 20", "CSeq: 21").as_bytes()).unwrap();
    assert_eq!(
        st.on_request(t0 + ms(600), &next, Transport::Udp),
        Incoming::New
    );
}

#[test]
fn invite_provisional_final_ack_and_timer_g() {
    let t0 = Instant::now();
    let mut st = ServerTransactions::new(Timers::default());
    let invite = capture("sipp-invite.sip");
    assert_eq!(st.on_request(t0, &invite, Transport::Udp), Incoming::New);
    let trying = invite.response(100, "");
    assert!(st.record_response(t0, &trying));
    assert_eq!(
        st.on_request(t0 + ms(500), &invite, Transport::Udp),
        Incoming::Retransmission(Some(trying))
    );
    let busy = invite.response(486, "t1");
    assert!(st.record_response(t0 + ms(600), &busy));
    assert_eq!(
        st.on_request(t0 + ms(700), &invite, Transport::Udp),
        Incoming::Retransmission(Some(busy.clone()))
    );
    // Timer G: T1, 2·T1, ... until the ACK.
    assert_eq!(st.next_deadline(), Some(t0 + ms(1100)));
    assert_eq!(
        st.poll(t0 + ms(1100)),
        vec![ServerOutput::Retransmit(busy.clone())]
    );
    assert!(st.poll(t0 + ms(1200)).is_empty());
    assert_eq!(st.poll(t0 + ms(2100)), vec![ServerOutput::Retransmit(busy)]);
    // ACK for the non-2xx final (same branch) is absorbed, also when retransmitted.
    let mut ack = invite.clone();
    ack.method = Method::Ack;
    ack.headers.set("CSeq", "1 ACK");
    assert_eq!(
        st.on_request(t0 + ms(2200), &ack, Transport::Udp),
        Incoming::AckAbsorbed
    );
    assert_eq!(
        st.on_request(t0 + ms(2300), &ack, Transport::Udp),
        Incoming::AckAbsorbed
    );
    assert!(st.poll(t0 + ms(5000)).is_empty());
    // Timer I (T4) ends it.
    assert!(st.poll(t0 + ms(7300)).is_empty());
    assert!(st.is_empty());
}

#[test]
fn invite_without_ack_times_out() {
    let t0 = Instant::now();
    let mut st = ServerTransactions::new(Timers::default());
    let invite = capture("d1-invite.sip");
    st.on_request(t0, &invite, Transport::Udp);
    st.record_response(t0, &invite.response(404, "x"));
    let mut retransmits = 0;
    let mut timeout = false;
    let mut now = t0;
    while now < t0 + ms(40_000) {
        now += ms(100);
        for o in st.poll(now) {
            match o {
                ServerOutput::Retransmit(_) => retransmits += 1,
                ServerOutput::AckTimeout(_) => timeout = true,
            }
        }
    }
    assert!(timeout);
    // 0.5, 1.5, 3.5, 7.5, then every 4 s until 32 s.
    assert_eq!(retransmits, 10);
    assert!(st.is_empty());
}

#[test]
fn invite_2xx_is_replayed_and_its_ack_reaches_the_application() {
    let t0 = Instant::now();
    let mut st = ServerTransactions::new(Timers::default());
    let invite = capture("sipp-invite.sip");
    st.on_request(t0, &invite, Transport::Udp);
    let ok = invite.response(200, "4711");
    assert!(st.record_response(t0, &ok));
    assert_eq!(
        st.on_request(t0 + ms(500), &invite, Transport::Udp),
        Incoming::Retransmission(Some(ok))
    );
    let ack = capture("sipp-ack.sip");
    assert_eq!(
        st.on_request(t0 + ms(600), &ack, Transport::Udp),
        Incoming::New
    );
}

#[test]
fn tcp_server_transactions_end_at_once() {
    let t0 = Instant::now();
    let mut st = ServerTransactions::new(Timers::default());
    let req = capture("sipp-message-alarm.sip");
    st.on_request(t0, &req, Transport::Tcp);
    st.record_response(t0, &req.response(200, "a"));
    assert!(st.poll(t0).is_empty());
    assert!(st.is_empty());
}

fn message_request() -> Request {
    capture("sipp-message-alarm.sip")
}

#[test]
fn non_invite_client_timer_e_and_f() {
    let t0 = Instant::now();
    let mut tx =
        ClientTransaction::new(t0, message_request(), Transport::Udp, Timers::default()).unwrap();
    let mut sent = Vec::new();
    let mut now = t0;
    let end = loop {
        now += ms(50);
        match tx.poll(now) {
            Some(ClientOutput::Retransmit(_)) => sent.push(now - t0),
            Some(other) => break (other, now - t0),
            None => {}
        }
    };
    assert_eq!(end, (ClientOutput::Timeout, ms(32_000)));
    // T1 doubling to T2 = 4 s: 0.5, 1.5, 3.5, 7.5, 11.5, ...
    assert_eq!(
        &sent[..5],
        &[ms(500), ms(1500), ms(3500), ms(7500), ms(11500)]
    );
    assert!(sent.windows(2).all(|w| w[1] - w[0] <= ms(4000)));
    assert_eq!(sent.len(), 10);
    assert_eq!(tx.poll(now + ms(1)), None);
}

#[test]
fn non_invite_client_final_response_and_absorption() {
    let t0 = Instant::now();
    let req = message_request();
    let mut tx =
        ClientTransaction::new(t0, req.clone(), Transport::Udp, Timers::default()).unwrap();
    assert!(matches!(
        tx.poll(t0 + ms(500)),
        Some(ClientOutput::Retransmit(_))
    ));
    let ok = req.response(200, "x");
    assert_eq!(tx.on_response(t0 + ms(600), &ok), ResponseAction::Deliver);
    assert_eq!(tx.on_response(t0 + ms(700), &ok), ResponseAction::Absorb);
    // No more retransmissions; Timer K (T4) ends it.
    assert_eq!(tx.poll(t0 + ms(5000)), None);
    assert_eq!(tx.poll(t0 + ms(5600)), Some(ClientOutput::Terminated));
    // A response with another branch does not match.
    let mut other = ok.clone();
    other
        .headers
        .set("Via", "SIP/2.0/UDP 127.0.0.1:25061;branch=z9hG4bK-other");
    assert_eq!(tx.on_response(t0, &other), ResponseAction::NotMatched);
}

#[test]
fn non_invite_provisional_moves_to_t2() {
    let t0 = Instant::now();
    let req = message_request();
    let mut tx =
        ClientTransaction::new(t0, req.clone(), Transport::Udp, Timers::default()).unwrap();
    assert_eq!(
        tx.on_response(t0 + ms(100), &req.response(100, "")),
        ResponseAction::Deliver
    );
    assert_eq!(tx.poll(t0 + ms(500)), None);
    assert!(matches!(
        tx.poll(t0 + ms(4100)),
        Some(ClientOutput::Retransmit(_))
    ));
    assert_eq!(tx.next_deadline(), Some(t0 + ms(8100)));
}

#[test]
fn invite_client_timer_a_stops_on_provisional() {
    let t0 = Instant::now();
    let invite = capture("d1-invite.sip");
    let mut tx =
        ClientTransaction::new(t0, invite.clone(), Transport::Udp, Timers::default()).unwrap();
    assert!(matches!(
        tx.poll(t0 + ms(500)),
        Some(ClientOutput::Retransmit(_))
    ));
    assert!(matches!(
        tx.poll(t0 + ms(1500)),
        Some(ClientOutput::Retransmit(_))
    ));
    assert_eq!(tx.next_deadline(), Some(t0 + ms(3500)));
    assert_eq!(
        tx.on_response(t0 + ms(2000), &invite.response(100, "")),
        ResponseAction::Deliver
    );
    assert_eq!(tx.next_deadline(), None);
    assert_eq!(tx.poll(t0 + ms(60_000)), None);
    // 200 goes to the application (which sends its own ACK); retransmitted 200s too.
    let ok = invite.response(200, "dev");
    assert_eq!(tx.on_response(t0 + ms(3000), &ok), ResponseAction::Deliver);
    assert_eq!(tx.on_response(t0 + ms(3500), &ok), ResponseAction::Deliver);
}

#[test]
fn invite_client_timer_a_doubles_until_timer_b() {
    let t0 = Instant::now();
    let mut tx = ClientTransaction::new(
        t0,
        capture("d1-invite.sip"),
        Transport::Udp,
        Timers::default(),
    )
    .unwrap();
    let mut sent = Vec::new();
    let mut now = t0;
    let end = loop {
        now += ms(50);
        match tx.poll(now) {
            Some(ClientOutput::Retransmit(_)) => sent.push(now - t0),
            Some(other) => break other,
            None => {}
        }
    };
    assert_eq!(end, ClientOutput::Timeout);
    assert_eq!(now - t0, ms(32_000));
    assert_eq!(
        sent,
        vec![ms(500), ms(1500), ms(3500), ms(7500), ms(15500), ms(31500)]
    );
}

#[test]
fn invite_client_error_response_builds_the_ack() {
    let t0 = Instant::now();
    let invite = capture("d1-invite.sip");
    let mut tx =
        ClientTransaction::new(t0, invite.clone(), Transport::Udp, Timers::default()).unwrap();
    let busy = invite.response(486, "dev7");
    let ResponseAction::DeliverAndAck(ack) = tx.on_response(t0 + ms(100), &busy) else {
        panic!("expected an ACK");
    };
    assert_eq!(ack.method, Method::Ack);
    assert_eq!(ack.uri, invite.uri);
    assert_eq!(ack.headers.cseq().unwrap().to_string(), "20 ACK");
    assert_eq!(ack.headers.to().unwrap().tag(), Some("dev7"));
    assert_eq!(
        ack.headers.top_via().unwrap().branch(),
        invite.headers.top_via().unwrap().branch()
    );
    assert_eq!(
        tx.on_response(t0 + ms(600), &busy),
        ResponseAction::Ack(ack)
    );
    // Timer D (32 s over UDP).
    assert_eq!(tx.poll(t0 + ms(32_000)), None);
    assert_eq!(tx.poll(t0 + ms(32_100)), Some(ClientOutput::Terminated));
}

#[test]
fn tcp_client_never_retransmits_but_still_times_out() {
    let t0 = Instant::now();
    let mut tx =
        ClientTransaction::new(t0, message_request(), Transport::Tcp, Timers::default()).unwrap();
    assert_eq!(tx.next_deadline(), Some(t0 + ms(32_000)));
    assert_eq!(tx.poll(t0 + ms(31_999)), None);
    assert_eq!(tx.poll(t0 + ms(32_000)), Some(ClientOutput::Timeout));
}

#[test]
fn client_table_routes_responses_by_branch() {
    let t0 = Instant::now();
    let mut table = ClientTransactions::new(Timers::default());
    let a = message_request();
    let mut b = message_request();
    b.headers
        .set("Via", "SIP/2.0/UDP 127.0.0.1:25061;rport;branch=z9hG4bK-b");
    let ka = table.start(t0, a.clone(), Transport::Udp).unwrap();
    let kb = table.start(t0, b.clone(), Transport::Udp).unwrap();
    assert_eq!(
        table.start(t0, a.clone(), Transport::Udp),
        Err(TransactionError::Duplicate(ka.branch.clone()))
    );
    let mut ack = a.clone();
    ack.method = Method::Ack;
    assert_eq!(
        table.start(t0, ack, Transport::Udp),
        Err(TransactionError::AckNotAllowed)
    );
    let (k, action) = table
        .on_response(t0 + ms(10), &b.response(200, "t"))
        .unwrap();
    assert_eq!((k, action), (kb.clone(), ResponseAction::Deliver));
    let out = table.poll(t0 + ms(500));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0, ka);
    assert!(matches!(out[0].1, ClientOutput::Retransmit(_)));
    // b ends after T4; a times out after 64·T1.
    table.poll(t0 + ms(5_100));
    assert_eq!(table.len(), 1);
    let out = table.poll(t0 + ms(32_000));
    assert!(out.contains(&(ka, ClientOutput::Timeout)));
    assert!(table.is_empty());
    let mut no_branch = message_request();
    no_branch.headers.remove("Via");
    assert_eq!(
        table.start(t0, no_branch, Transport::Udp),
        Err(TransactionError::NoBranch)
    );
}
