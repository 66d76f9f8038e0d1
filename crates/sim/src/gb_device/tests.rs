//! Tests of the simulator without the real platform: the device state machine driven by hand
//! against a tiny fake platform built from xiaoan-sip (digest server, responses), and a whole
//! fleet on one UDP socket against the same fake platform on a real socket.

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::StdRng;
use xiaoan_manscdp::{Body, Charset, Payload, decode_with_charset};
use xiaoan_sip::{DigestServer, Message, Method, Request, Response, Verdict, parse_datagram};

use super::device::{Device, RegState};
use super::report::EventKind;
use super::*;

const DEVICE: &str = "34020000001170000001";
const PLATFORM: &str = "34020000002000000001";
const PASSWORD: &str = "12345678";

/// A fresh generator per call (branches must differ between calls, as with the fleet's one).
fn rng() -> StdRng {
    StdRng::from_os_rng()
}

fn profile() -> Profile {
    Profile {
        keepalive: Duration::from_secs(60),
        expires: 3600,
        retry_after: Duration::from_secs(60),
        ..Profile::default()
    }
}

fn device(channels: usize) -> Device {
    let spec = DeviceSpec {
        id: DEVICE.into(),
        channels: channel_ids(DEVICE, channels).unwrap(),
    };
    let local: SocketAddr = "127.0.0.1:15070".parse().unwrap();
    let remote: SocketAddr = "127.0.0.1:5060".parse().unwrap();
    Device::new(&spec, Arc::new(profile()), local, remote, &mut rng()).unwrap()
}

fn requests(d: &mut Device) -> (Vec<Request>, Vec<EventKind>) {
    let (out, events) = d.take_output();
    let reqs = out
        .iter()
        .filter_map(|b| match parse_datagram(b).unwrap() {
            Message::Request(r) => Some(r),
            Message::Response(_) => None,
        })
        .collect();
    (reqs, events)
}

fn messages(d: &mut Device) -> (Vec<Message>, Vec<Vec<u8>>, Vec<EventKind>) {
    let (out, events) = d.take_output();
    let msgs = out.iter().map(|b| parse_datagram(b).unwrap()).collect();
    (msgs, out, events)
}

/// A fake platform: digest challenges on REGISTER, 200 to everything else.
struct FakeUas {
    digest: DigestServer,
    password: String,
    rng: StdRng,
}

impl FakeUas {
    fn new() -> Self {
        FakeUas {
            digest: DigestServer::new("3402000000", false, Duration::from_secs(300)),
            password: PASSWORD.into(),
            rng: StdRng::seed_from_u64(99),
        }
    }

    fn challenge(&mut self, req: &Request, now: Instant, stale: bool) -> Response {
        let mut r = req.response(401, "uas");
        let ch = self.digest.challenge(now, stale, &mut self.rng);
        r.headers.push("WWW-Authenticate", ch.to_string());
        r
    }

    fn answer(&mut self, req: &Request, now: Instant) -> Response {
        if req.method == Method::Register {
            let Some(creds) = req.headers.authorization() else {
                return self.challenge(req, now, false);
            };
            match self.digest.verify(now, "REGISTER", &creds, &self.password) {
                Verdict::Ok => {
                    let mut r = req.response(200, "uas");
                    r.headers
                        .push("Expires", req.headers.expires().unwrap_or(3600).to_string());
                    r.headers.push("Date", "2026-11-29T10:52:55.103");
                    r
                }
                Verdict::Stale => self.challenge(req, now, true),
                Verdict::Rejected => self.challenge(req, now, false),
            }
        } else {
            req.response(200, "uas")
        }
    }
}

/// Registers `d` against `uas` by hand; returns the events.
fn register(d: &mut Device, uas: &mut FakeUas, now: Instant) -> Vec<EventKind> {
    let mut all = Vec::new();
    d.register(now, &mut rng());
    for _ in 0..4 {
        let (reqs, events) = requests(d);
        all.extend(events);
        if reqs.is_empty() {
            break;
        }
        for r in reqs {
            let resp = uas.answer(&r, now);
            d.on_response(now, &resp, &mut rng());
        }
    }
    all.extend(d.take_output().1);
    all
}

fn platform_message(body: &Body, cseq: u32) -> Request {
    let raw = format!(
        "MESSAGE sip:{DEVICE}@127.0.0.1:15070 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKplat{cseq}\r\n\
         From: <sip:{PLATFORM}@3402000000>;tag=p1\r\nTo: <sip:{DEVICE}@3402000000>\r\n\
         Call-ID: plat-{cseq}\r\nCSeq: {cseq} MESSAGE\r\n\
         Content-Type: Application/MANSCDP+xml\r\nContent-Length: 0\r\n\r\n"
    );
    let mut req = match parse_datagram(raw.as_bytes()).unwrap() {
        Message::Request(r) => r,
        Message::Response(_) => unreachable!(),
    };
    req.body = body.encode(Charset::Gb18030).unwrap();
    req
}

#[test]
fn ids_count_up_and_channels_are_distinct_alarm_inputs() {
    let ids = consecutive_ids("34020000001170999999", 3).unwrap();
    assert_eq!(
        ids,
        [
            "34020000001170999999",
            "34020000001170000000",
            "34020000001170000001"
        ]
    );
    let a = channel_ids("34020000001170000001", 3).unwrap();
    let b = channel_ids("34020000001170000002", 3).unwrap();
    assert_eq!(a[0], "34020000001340000101");
    assert!(a.iter().all(|c| !b.contains(c)));
    assert!(consecutive_ids("123", 1).is_err());
}

#[test]
fn register_answers_the_digest_challenge_and_records_the_lifetime() {
    let now = Instant::now();
    let mut d = device(1);
    let mut uas = FakeUas::new();
    let events = register(&mut d, &mut uas, now);
    assert!(d.is_registered(), "{events:?}");
    assert!(matches!(
        events[0],
        EventKind::Registering { refresh: false }
    ));
    assert!(matches!(&events[1], EventKind::Challenged { realm } if realm == "3402000000"));
    assert!(matches!(
        &events[2],
        EventKind::Registered {
            expires: 3600,
            date: Some(_)
        }
    ));
    assert_eq!(d.report().registrations, 1);
    // The refresh comes at 80 % of the lifetime; the first keepalive at once.
    let refresh = now + Duration::from_secs(2880);
    assert_eq!(d.next_deadline(), Some(now));
    d.poll(now, &mut rng());
    let (reqs, _) = requests(&mut d);
    assert_eq!(reqs.len(), 1);
    let body = xiaoan_manscdp::decode(&reqs[0].body).unwrap();
    assert_eq!(body.cmd_type(), "Keepalive");
    assert_eq!(body.device_id, DEVICE);
    d.on_response(now, &uas.answer(&reqs[0], now), &mut rng());
    assert_eq!(d.report().keepalives_ok, 1);
    assert!(d.next_deadline().unwrap() <= refresh);
}

#[test]
fn a_wrong_password_fails_once_and_retries_after_the_interval() {
    let now = Instant::now();
    let mut d = device(0);
    let mut uas = FakeUas::new();
    uas.password = "other".into();
    let events = register(&mut d, &mut uas, now);
    assert_eq!(d.state(), RegState::Failed);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, EventKind::RegisterFailed { status: Some(401) }))
    );
    // Completed transactions linger a little (Timer K); the retry is 60 s out.
    d.poll(now + Duration::from_secs(10), &mut rng());
    assert_eq!(
        d.next_deadline(),
        Some(now + Duration::from_secs(60)),
        "retry after the interval"
    );
    d.poll(now + Duration::from_secs(60), &mut rng());
    let (reqs, _) = requests(&mut d);
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].method, Method::Register);
    assert!(reqs[0].headers.authorization().is_none());
}

#[test]
fn a_stale_nonce_is_answered_again() {
    let now = Instant::now();
    let mut d = device(0);
    let mut uas = FakeUas::new();
    d.register(now, &mut rng());
    let (reqs, _) = requests(&mut d);
    // Challenge, then claim the nonce is stale whatever the answer.
    let first = uas.answer(&reqs[0], now);
    d.on_response(now, &first, &mut rng());
    let (reqs, _) = requests(&mut d);
    assert!(reqs[0].headers.authorization().is_some());
    let stale = uas.challenge(&reqs[0], now, true);
    d.on_response(now, &stale, &mut rng());
    let (reqs, _) = requests(&mut d);
    assert_eq!(reqs.len(), 1, "answered the stale challenge");
    let ok = uas.answer(&reqs[0], now);
    assert_eq!(ok.status, 200);
    d.on_response(now, &ok, &mut rng());
    assert!(d.is_registered());
    // CSeq went 1, 2, 3 on one Call-ID.
    assert_eq!(reqs[0].headers.cseq().unwrap().seq, 3);
}

#[test]
fn an_alarm_is_retransmitted_until_answered_then_the_platform_response_is_timed() {
    let now = Instant::now();
    let mut d = device(2);
    let mut uas = FakeUas::new();
    register(&mut d, &mut uas, now);
    let spec = AlarmSpec {
        channel: None,
        priority: 1,
        method: "2".into(),
        alarm_type: Some(1),
        description: Some("一键报警".into()),
        longitude: Some(109.4869),
        latitude: Some(30.2952),
    };
    let sn = d.send_alarm(now, &spec, &mut rng()).unwrap();
    let (reqs, _) = requests(&mut d);
    let alarm = reqs.last().unwrap().clone();
    let body = xiaoan_manscdp::decode(&alarm.body).unwrap();
    assert_eq!(
        body.device_id,
        d.channels()[0],
        "the first channel by default"
    );
    let Payload::Alarm(n) = &body.payload else {
        panic!("{body:?}")
    };
    assert_eq!(n.priority, Some(1));
    assert_eq!(n.description.as_deref(), Some("一键报警"));
    // Timer E: 500 ms, then 1 s later.
    let mut retransmits = 0;
    for ms in [499, 500, 1499, 1500] {
        d.poll(now + Duration::from_millis(ms), &mut rng());
        let (reqs, _) = requests(&mut d);
        for r in reqs.iter().filter(|r| r.body == alarm.body) {
            assert_eq!(r.headers.get("Via"), alarm.headers.get("Via"));
            retransmits += 1;
        }
    }
    assert_eq!(retransmits, 2);
    let at = now + Duration::from_millis(1600);
    d.on_response(at, &uas.answer(&alarm, at), &mut rng());
    let a = &d.report().alarms[0];
    assert_eq!(a.status, Some(200));
    assert_eq!(a.to_answer, Some(Duration::from_millis(1600)));
    // The platform's Response Alarm: 200, and the time is recorded.
    let ack = Body::alarm_ack(&body);
    let req = platform_message(&ack, 1);
    let later = now + Duration::from_millis(1700);
    d.on_request(later, &req, &mut rng());
    let (msgs, _, events) = messages(&mut d);
    assert!(matches!(&msgs[..], [Message::Response(r)] if r.status == 200));
    assert!(events.iter().any(|e| matches!(
        e,
        EventKind::AlarmResponse { sn: s, result, .. } if *s == sn && result == "OK"
    )));
    assert_eq!(
        d.report().alarms[0].to_response,
        Some(Duration::from_millis(1700))
    );
}

#[test]
fn an_alarm_without_answer_times_out_after_64_t1() {
    let now = Instant::now();
    let mut d = device(0);
    let mut uas = FakeUas::new();
    register(&mut d, &mut uas, now);
    d.send_alarm(now, &AlarmSpec::default(), &mut rng())
        .unwrap();
    d.take_output();
    d.poll(now + Duration::from_secs(32), &mut rng());
    let a = &d.report().alarms[0];
    assert!(a.timed_out);
    assert_eq!(a.status, None);
}

#[test]
fn the_catalog_is_split_into_messages_under_1300_bytes() {
    let now = Instant::now();
    let mut d = device(60);
    let mut uas = FakeUas::new();
    register(&mut d, &mut uas, now);
    d.take_output();
    let query = Body::catalog_query(248, DEVICE);
    d.on_request(now, &platform_message(&query, 1), &mut rng());
    let (msgs, raw, _) = messages(&mut d);
    assert!(matches!(&msgs[0], Message::Response(r) if r.status == 200));
    let mut ids = Vec::new();
    for (m, bytes) in msgs.iter().zip(&raw).skip(1) {
        assert!(bytes.len() <= MAX_UDP_REQUEST, "{} bytes", bytes.len());
        let Message::Request(r) = m else {
            panic!("a request")
        };
        let (body, charset) = decode_with_charset(&r.body).unwrap();
        assert_eq!(charset, Charset::Gb18030);
        assert_eq!(body.sn, 248);
        let Payload::Catalog(c) = body.payload else {
            panic!("catalog")
        };
        assert_eq!(c.sum_num, 60);
        assert_eq!(
            c.items[0]
                .name
                .as_deref()
                .map(|n| n.starts_with("报警输入")),
            Some(true)
        );
        ids.extend(c.items.into_iter().map(|i| i.device_id));
    }
    assert!(msgs.len() > 3, "split into several MESSAGEs");
    assert_eq!(ids, d.channels());
}

#[test]
fn queries_and_controls_get_200_then_their_response() {
    let now = Instant::now();
    let mut d = device(1);
    let mut uas = FakeUas::new();
    register(&mut d, &mut uas, now);
    d.take_output();
    let guard = Body::control(
        5,
        d.channels()[0].clone(),
        xiaoan_manscdp::ControlCmd::Guard(xiaoan_manscdp::Guard::Set),
    );
    for (i, body) in [
        Body::device_info_query(3, DEVICE),
        Body::device_status_query(4, DEVICE),
        guard,
    ]
    .iter()
    .enumerate()
    {
        d.on_request(now, &platform_message(body, i as u32 + 1), &mut rng());
        let (msgs, _, _) = messages(&mut d);
        assert_eq!(msgs.len(), 2);
        assert!(matches!(&msgs[0], Message::Response(r) if r.status == 200));
        let Message::Request(r) = &msgs[1] else {
            panic!("a request")
        };
        let reply = xiaoan_manscdp::decode(&r.body).unwrap();
        assert_eq!(reply.sn, body.sn);
        assert_eq!(reply.device_id, body.device_id);
        match (&body.payload, &reply.payload) {
            (Payload::DeviceInfoQuery, Payload::DeviceInfo(i)) => assert_eq!(i.channel, Some(1)),
            (Payload::DeviceStatusQuery, Payload::DeviceStatus(s)) => {
                assert_eq!(s.online, Some(true))
            }
            (Payload::DeviceControl(_), Payload::DeviceControlResponse { result }) => {
                assert_eq!(*result, Some(xiaoan_manscdp::Outcome::Ok))
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn a_retransmitted_query_gets_the_same_200_and_no_second_response() {
    let now = Instant::now();
    let mut d = device(1);
    let mut uas = FakeUas::new();
    register(&mut d, &mut uas, now);
    d.take_output();
    let req = platform_message(&Body::catalog_query(9, DEVICE), 7);
    d.on_request(now, &req, &mut rng());
    let (first, raw1, _) = messages(&mut d);
    assert_eq!(first.len(), 2);
    d.on_request(now, &req, &mut rng());
    let (second, raw2, _) = messages(&mut d);
    assert_eq!(second.len(), 1);
    assert_eq!(raw2[0], raw1[0]);
}

#[test]
fn a_keepalive_refused_by_the_platform_makes_the_device_register_again() {
    let now = Instant::now();
    let mut d = device(0);
    let mut uas = FakeUas::new();
    register(&mut d, &mut uas, now);
    d.poll(now, &mut rng());
    let (reqs, _) = requests(&mut d);
    let keepalive = &reqs[0];
    d.on_response(now, &keepalive.response(404, "uas"), &mut rng());
    assert!(!d.is_registered());
    assert_eq!(d.report().keepalives_failed, 1);
    d.poll(now, &mut rng());
    let (reqs, _) = requests(&mut d);
    assert_eq!(reqs[0].method, Method::Register);
}

#[test]
fn silence_stops_all_traffic_and_unregister_sends_expires_0() {
    let now = Instant::now();
    let mut d = device(0);
    let mut uas = FakeUas::new();
    register(&mut d, &mut uas, now);
    d.unregister(now, &mut rng());
    let (reqs, _) = requests(&mut d);
    assert_eq!(reqs[0].headers.expires(), Some(0));
    d.on_response(now, &uas.answer(&reqs[0], now), &mut rng());
    let (reqs, _) = requests(&mut d);
    assert!(reqs[0].headers.authorization().is_some());
    d.on_response(now, &uas.answer(&reqs[0], now), &mut rng());
    assert_eq!(d.state(), RegState::Unregistered);

    let mut e = device(0);
    register(&mut e, &mut uas, now);
    e.silence();
    e.poll(now + Duration::from_secs(3600), &mut rng());
    e.on_request(
        now,
        &platform_message(&Body::catalog_query(1, DEVICE), 1),
        &mut rng(),
    );
    assert!(e.take_output().0.is_empty());
    assert_eq!(e.next_deadline(), None);
}

/// The fake platform on a real UDP socket: answers as [`FakeUas`], and after each device's
/// first keepalive sends it a catalog query; after an alarm, a Response `Alarm`.
async fn serve_fake(socket: tokio::net::UdpSocket) {
    let mut uas = FakeUas::new();
    let mut buf = vec![0u8; 65_536];
    let mut queried = std::collections::HashSet::new();
    let mut cseq = 0;
    loop {
        let Ok((n, from)) = socket.recv_from(&mut buf).await else {
            return;
        };
        let Ok(Message::Request(req)) = parse_datagram(&buf[..n]) else {
            continue;
        };
        assert!(n <= MAX_UDP_REQUEST, "a request of {n} bytes");
        let now = Instant::now();
        let resp = uas.answer(&req, now);
        socket.send_to(&resp.encode(), from).await.unwrap();
        let Ok(body) = xiaoan_manscdp::decode(&req.body) else {
            continue;
        };
        let device = req.headers.from().unwrap().user().unwrap().to_owned();
        let reply = match &body.payload {
            Payload::Keepalive(_) if queried.insert(device.clone()) => {
                Some(Body::catalog_query(100, device.clone()))
            }
            Payload::Alarm(_) => Some(Body::alarm_ack(&body)),
            _ => None,
        };
        if let Some(b) = reply {
            cseq += 1;
            let mut r = platform_message(&b, cseq);
            r.uri = format!("sip:{device}@{from}");
            r.headers.set("To", format!("<sip:{device}@3402000000>"));
            socket.send_to(&r.encode(), from).await.unwrap();
        }
    }
}

#[tokio::test]
async fn a_fleet_shares_one_udp_socket_and_runs_the_whole_cycle() {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let to = socket.local_addr().unwrap();
    let server = tokio::spawn(serve_fake(socket));
    let ids = consecutive_ids(DEVICE, 5).unwrap();
    let cfg = FleetConfig {
        to,
        profile: Profile {
            keepalive: Duration::from_millis(200),
            spread_keepalives: true,
            ..profile()
        },
        devices: ids
            .iter()
            .map(|id| DeviceSpec {
                id: id.clone(),
                channels: channel_ids(id, 40).unwrap(),
            })
            .collect(),
        sockets: 1,
        register_window: 2,
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let fleet = start(cfg, Some(tx)).await.unwrap();
    let (r, ok) = fleet
        .wait_until(Duration::from_secs(10), |r| {
            r.registered() == 5
                && r.devices
                    .iter()
                    .all(|d| d.keepalives_ok >= 2 && d.catalog_messages_sent >= 2)
        })
        .await
        .unwrap();
    assert!(ok, "{r:?}");
    assert!(r.time_to_register_all().is_some());
    let sn = fleet.alarm(3, AlarmSpec::default()).await.unwrap();
    let (r, ok) = fleet
        .wait_until(Duration::from_secs(5), |r| {
            r.devices[3].alarms.iter().any(|a| a.to_response.is_some())
        })
        .await
        .unwrap();
    assert!(ok, "{r:?}");
    let a = &r.devices[3].alarms[0];
    assert_eq!((a.sn, a.status), (sn, Some(200)));
    fleet.stop(StopMode::Unregister).await.unwrap();
    let (r, ok) = fleet
        .wait_until(Duration::from_secs(5), |r| r.registered() == 0)
        .await
        .unwrap();
    assert!(ok, "{r:?}");
    fleet.shutdown().await;
    server.abort();
    let mut lines = Vec::new();
    while let Ok(e) = rx.try_recv() {
        lines.push(e.to_string());
    }
    assert!(
        lines.iter().any(|l| l.ends_with("unregistered")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("platform Query Catalog → 200 OK + "))
    );
}
