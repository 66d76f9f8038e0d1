//! End-to-end DC-09 tests on a real server with the demo accounts (1111 plain, 2222 AES-128 with
//! key `AAAAAAAAAAAAAAAA`, both at 恩施市实验小学's 南门门卫室): frames from the simulated panel
//! over TCP and UDP, the replies, and what the console then shows.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::TestServer;
use serde_json::Value;
use tokio::net::TcpStream;
use xiaoan_sia::{Key, XData};
use xiaoan_sim::panel::{Panel, PanelEvent};

const WAIT: Duration = Duration::from_secs(5);

fn keyed(account: &str) -> Panel {
    let mut p = Panel::new(account);
    p.key = Some(Key::from_ascii("AAAAAAAAAAAAAAAA").unwrap());
    p
}

async fn incidents(s: &TestServer, token: &str) -> Vec<Value> {
    s.get(token, "/api/v1/incidents").await.1["incidents"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn a_plain_panic_is_acked_after_commit_and_a_retransmission_makes_no_second_incident() {
    let s = TestServer::start().await;
    let operator = s.login("operator").await;
    let mut stream = s.events(&operator, None).await;
    let panel = Panel::new("1111");
    let frame = panel.frame(&PanelEvent::Sia("PA".into()), 17).unwrap();
    let reply = panel.send_tcp(s.dc09(), &frame, WAIT).await.unwrap();
    assert_eq!(reply.kind(), "ACK");
    assert_eq!(reply.frame.header.seq, 17);
    assert_eq!(reply.frame.header.account, "1111");
    // The ACK came after the commit: the incident is already there.
    let list = incidents(&s, &operator).await;
    assert_eq!(list.len(), 1);
    let inc = &list[0];
    assert_eq!(inc["source"], "dc09");
    assert_eq!(inc["kind"], "panic");
    assert_eq!(inc["priority"], 1);
    assert_eq!(inc["details"]["account"], "1111");
    assert_eq!(inc["details"]["text_zh"], "紧急求助");
    assert_eq!(inc["details"]["zone"], 1);
    assert_eq!(inc["school"]["name"], "恩施市实验小学");
    let id = inc["id"].as_i64().unwrap();
    stream.expect("incident.raised", id).await;
    // The panel did not hear the ACK and sends the same frame again.
    let again = panel.send_tcp(s.dc09(), &frame, WAIT).await.unwrap();
    assert_eq!(again.kind(), "ACK");
    let list = incidents(&s, &operator).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["press_count"], 1);
    s.stop().await;
}

#[tokio::test]
async fn encrypted_frames_over_udp_get_an_encrypted_ack_and_stale_ones_a_nak() {
    let s = TestServer::start().await;
    let operator = s.login("operator").await;
    let panel = keyed("2222");
    let frame = panel
        .frame(&PanelEvent::ContactId("1122".into()), 3)
        .unwrap();
    let reply = panel.send_udp(s.dc09(), &frame, WAIT).await.unwrap();
    assert_eq!(reply.kind(), "ACK");
    assert!(reply.frame.encrypted, "an encrypted request gets *ACK");
    let ts = reply.content.and_then(|c| c.timestamp).unwrap();
    assert!((chrono::Utc::now().naive_utc() - ts).num_seconds().abs() < 5);
    let list = incidents(&s, &operator).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["kind"], "silent_panic");
    assert_eq!(list[0]["details"]["protocol"], "ADM-CID");

    let mut stale = keyed("2222");
    stale.clock_offset = chrono::Duration::seconds(-60);
    let frame = stale.frame(&PanelEvent::Sia("FA".into()), 4).unwrap();
    let reply = stale.send_tcp(s.dc09(), &frame, WAIT).await.unwrap();
    assert_eq!(reply.kind(), "NAK");
    assert!(matches!(&reply.frame.body, xiaoan_sia::Body::Plain(c) if c.timestamp.is_some()));
    assert_eq!(
        incidents(&s, &operator).await.len(),
        1,
        "a NAKed frame raises nothing"
    );
    s.stop().await;
}

#[tokio::test]
async fn position_and_verification_link_reach_the_card_and_a_key_request_gets_an_rsp() {
    let s = TestServer::start().await;
    let operator = s.login("operator").await;
    let mut panel = keyed("2222");
    panel.xdata = vec![
        XData::Longitude("109.486900".into()),
        XData::Latitude("30.295200".into()),
        XData::VerificationUrl("http://192.0.2.10/snap.jpg".into()),
        XData::NewKey(String::new()),
    ];
    let frame = panel.frame(&PanelEvent::Sia("PA".into()), 9).unwrap();
    let reply = panel.send_tcp(s.dc09(), &frame, WAIT).await.unwrap();
    // The demo account has no next key, so the panel is handed its current one, encrypted.
    assert_eq!(reply.kind(), "RSP");
    assert!(reply.frame.encrypted);
    let xdata = reply.content.map(|c| c.xdata).unwrap_or_default();
    let want = Key::from_ascii("AAAAAAAAAAAAAAAA").unwrap().to_hex();
    assert!(xdata.contains(&XData::NewKey(want)), "{xdata:?}");
    // The event itself was committed like any other.
    let list = incidents(&s, &operator).await;
    assert_eq!(list.len(), 1);
    let d = &list[0]["details"];
    assert_eq!(d["lon"], 109.4869);
    assert_eq!(d["lat"], 30.2952);
    assert_eq!(d["verify_url"], "http://192.0.2.10/snap.jpg");
    s.stop().await;
}

#[tokio::test]
async fn a_bad_crc_gets_no_reply_and_no_incident_and_the_connection_goes_on() {
    let s = TestServer::start().await;
    let operator = s.login("operator").await;
    let panel = Panel::new("1111");
    let mut frame = panel.frame(&PanelEvent::Sia("PA".into()), 5).unwrap();
    frame[1] = if frame[1] == b'0' { b'1' } else { b'0' };
    let mut conn = TcpStream::connect(s.dc09()).await.unwrap();
    let lost = panel
        .exchange_tcp(&mut conn, &frame, Duration::from_millis(700))
        .await;
    assert!(lost.is_err(), "no reply to a bad CRC: {lost:?}");
    assert!(incidents(&s, &operator).await.is_empty());
    let good = panel.frame(&PanelEvent::Sia("PA".into()), 6).unwrap();
    let reply = panel.exchange_tcp(&mut conn, &good, WAIT).await.unwrap();
    assert_eq!((reply.kind(), reply.frame.header.seq), ("ACK", 6));
    assert_eq!(incidents(&s, &operator).await.len(), 1);
    s.stop().await;
}

#[tokio::test]
async fn refused_and_unregistered_senders_reach_supervisors_not_operators() {
    let s = TestServer::start().await;
    // A plain frame for the keyed account: DUH and an unauthenticated alert.
    let plain = Panel::new("2222");
    let frame = plain.frame(&PanelEvent::Sia("PA".into()), 1).unwrap();
    assert_eq!(
        plain.send_tcp(s.dc09(), &frame, WAIT).await.unwrap().kind(),
        "DUH"
    );
    // An unregistered account: plain is acknowledged, encrypted refused.
    let stranger = Panel::new("9999");
    let frame = stranger.frame(&PanelEvent::Sia("PA".into()), 1).unwrap();
    assert_eq!(
        stranger
            .send_udp(s.dc09(), &frame, WAIT)
            .await
            .unwrap()
            .kind(),
        "ACK"
    );
    let frame = keyed("9999")
        .frame(&PanelEvent::Sia("PA".into()), 2)
        .unwrap();
    assert_eq!(
        keyed("9999")
            .send_tcp(s.dc09(), &frame, WAIT)
            .await
            .unwrap()
            .kind(),
        "DUH"
    );

    let supervisor = s.login("supervisor").await;
    let (_, signals) = s.get(&supervisor, "/api/v1/signals").await;
    let kinds: Vec<&str> = signals["signals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "unregistered_account",
            "unregistered_account",
            "unauthenticated"
        ]
    );
    let operator = s.login("operator").await;
    let (_, seen) = s.get(&operator, "/api/v1/signals").await;
    let kinds: Vec<&str> = seen["signals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["unauthenticated"],
        "operators see their schools' signals only"
    );
    assert!(incidents(&s, &operator).await.is_empty());
    let (_, health) = s.get(&supervisor, "/api/v1/devices/health").await;
    let dev = &health["devices"].as_array().unwrap()[0];
    assert_eq!(
        (dev["device"].as_str(), dev["state"].as_str()),
        (Some("2222"), Some("warning"))
    );
    s.stop().await;
}

#[tokio::test]
async fn tests_and_power_troubles_go_to_the_school_device_log() {
    let s = TestServer::start().await;
    let panel = Panel::new("1111");
    for (seq, code) in [(1, "RP"), (2, "AT"), (3, "AR")] {
        let frame = panel.frame(&PanelEvent::Sia(code.into()), seq).unwrap();
        assert_eq!(
            panel.send_tcp(s.dc09(), &frame, WAIT).await.unwrap().kind(),
            "ACK"
        );
    }
    let guard = s.login("guard1").await;
    let (_, signals) = s.get(&guard, "/api/v1/signals").await;
    let kinds: Vec<&str> = signals["signals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["restore", "ac_loss", "periodic_test"]);
    assert!(incidents(&s, &guard).await.is_empty());
    let guard2 = s.login("guard2").await;
    let (_, other) = s.get(&guard2, "/api/v1/signals").await;
    assert!(other["signals"].as_array().unwrap().is_empty());
    s.stop().await;
}

#[tokio::test]
async fn many_panels_at_once_are_all_acknowledged_and_one_hostile_connection_holds_up_no_one() {
    let s = TestServer::start().await;
    // A connection that sends half a frame and then nothing.
    let mut hostile = TcpStream::connect(s.dc09()).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut hostile, b"\n0C1F0032\"SIA-DCS\"00")
        .await
        .unwrap();
    let tasks: Vec<_> = (0..16u16)
        .map(|c| {
            let addr = s.dc09();
            tokio::spawn(async move {
                let panel = Panel::new("1111");
                let mut conn = TcpStream::connect(addr).await.unwrap();
                for i in 0..10u16 {
                    let seq = c * 10 + i + 1;
                    let frame = panel.frame(&PanelEvent::Sia("BA".into()), seq).unwrap();
                    let r = panel.exchange_tcp(&mut conn, &frame, WAIT).await.unwrap();
                    assert_eq!((r.kind(), r.frame.header.seq), ("ACK", seq));
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let operator = s.login("operator").await;
    let list = incidents(&s, &operator).await;
    assert_eq!(list.len(), 1, "one alarm point, one open incident");
    assert_eq!(list[0]["press_count"], 160);
    drop(hostile);
    s.stop().await;
}
