//! Policy tests: frames made with the codec's encoder, decoded again, then decided.

use chrono::{DateTime, Duration, Utc};
use xiaoan_core::model::{AlarmPoint, Directory};
use xiaoan_core::signal::{HealthState, Severity};
use xiaoan_sia::{Content, Decoder, Header, Key, Request, TimeWindow, Token};

use super::*;
use crate::accounts::{AccountConfig, Accounts, AccountsError, RouteChoice};

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default()
}

fn accounts() -> Accounts {
    let mut dir = Directory::default();
    for (id, one_key) in [(1, true), (2, false)] {
        dir.alarm_points.insert(
            id,
            AlarmPoint {
                id,
                school_id: 7,
                name: format!("p{id}"),
                location: String::new(),
                one_key,
            },
        );
    }
    let cfg = |account: &str, point, key: Option<&str>| AccountConfig {
        account: account.into(),
        receiver: None,
        line: None,
        alarm_point_id: point,
        key: key.map(str::to_owned),
        key_hex: None,
        supervision_secs: Some(90),
        ..Default::default()
    };
    Accounts::build(
        &[
            cfg("1111", 1, None),
            cfg("2222", 1, Some("AAAAAAAAAAAAAAAA")),
            cfg("3333", 2, None),
        ],
        &dir,
    )
    .unwrap_or_default()
}

fn request(
    token: Token,
    account: &str,
    seq: u16,
    data: &str,
    ts: Option<DateTime<Utc>>,
) -> Request {
    Request {
        token,
        header: Header {
            seq,
            receiver: Some("1".into()),
            line: "1".into(),
            account: account.into(),
        },
        content: Content {
            data: data.into(),
            xdata: Vec::new(),
            timestamp: ts.map(|t| t.naive_utc()),
        },
    }
}

fn frame(bytes: &[u8]) -> Frame {
    match Decoder::new().decode(bytes) {
        Ok(Some((f, _))) => f,
        other => panic!("not a frame: {other:?}"),
    }
}

fn plain(account: &str, seq: u16, data: &str) -> Frame {
    frame(
        &request(Token::SiaDcs, account, seq, data, None)
            .encode()
            .unwrap_or_default(),
    )
}

fn encrypted(account: &str, data: &str, ts: DateTime<Utc>) -> Frame {
    let key = Key::from_ascii("AAAAAAAAAAAAAAAA").unwrap_or_else(|e| panic!("{e}"));
    let bytes = request(Token::SiaDcs, account, 5, data, Some(ts))
        .encode_encrypted(&key, &mut rand::rng())
        .unwrap_or_default();
    frame(&bytes)
}

fn decide_now(f: &Frame) -> Decision {
    decide(
        f,
        &accounts(),
        &TimeWindow::default(),
        "127.0.0.1:5000",
        now(),
    )
}

#[test]
fn a_panic_from_a_one_key_point_is_priority_1_with_its_details() {
    let d = decide_now(&plain("3333", 1, "#3333|Nri1/BA501"));
    assert!(matches!(d.reply, Reply::Ack { key: None }));
    assert_eq!(d.alarms.len(), 1);
    let a = &d.alarms[0].alarm;
    assert_eq!(
        (a.kind.as_str(), a.priority, a.alarm_point_id),
        ("burglary", 2, 2)
    );
    let d = decide_now(&plain("1111", 1, "#1111|Nri1/BA501"));
    let a = &d.alarms[0].alarm;
    assert_eq!(
        (a.kind.as_str(), a.priority),
        ("burglary", 1),
        "one-key point"
    );
    assert_eq!(a.details["account"], "1111");
    assert_eq!(a.details["code"], "BA");
    assert_eq!(a.details["zone"], 501);
    assert_eq!(a.details["text_zh"], "入侵报警");
    assert!(d.seen.is_some());
}

#[test]
fn a_plain_frame_for_a_keyed_account_gets_duh_and_an_unauthenticated_alert() {
    let d = decide_now(&plain("2222", 1, "#2222|Nri1/PA501"));
    assert!(matches!(d.reply, Reply::Duh));
    assert!(d.alarms.is_empty());
    assert_eq!(d.signals[0].kind, "unauthenticated");
    assert_eq!(d.signals[0].severity, Severity::Alert);
    assert_eq!(
        d.condition.as_ref().map(|c| c.0),
        Some(HealthState::Warning)
    );
    assert!(d.refusal.is_some());
}

#[test]
fn encrypted_frames_in_the_window_raise_and_outside_get_nak() {
    let d = decide_now(&encrypted(
        "2222",
        "#2222|Nri1/PA501",
        now() - Duration::seconds(39),
    ));
    assert!(matches!(d.reply, Reply::Ack { key: Some(_) }));
    assert_eq!(d.alarms[0].alarm.kind, "panic");
    assert_eq!(d.alarms[0].alarm.raised_at, now() - Duration::seconds(39));
    for skew in [-41, 21] {
        let d = decide_now(&encrypted(
            "2222",
            "#2222|Nri1/PA501",
            now() + Duration::seconds(skew),
        ));
        assert!(matches!(d.reply, Reply::Nak), "{skew}");
        assert!(d.alarms.is_empty() && d.signals.is_empty() && d.seen.is_none());
    }
}

#[test]
fn unknown_accounts_plain_acked_encrypted_refused_both_shown_to_supervisors() {
    let d = decide_now(&plain("9999", 1, "#9999|Nri1/PA501"));
    assert!(matches!(d.reply, Reply::Ack { key: None }));
    assert!(d.alarms.is_empty());
    assert_eq!(d.signals[0].kind, "unregistered_account");
    assert_eq!(d.signals[0].school_id, None);
    let d = decide_now(&encrypted("9999", "#9999|Nri1/PA501", now()));
    assert!(matches!(d.reply, Reply::Duh));
    assert_eq!(d.signals[0].kind, "unregistered_account");
}

#[test]
fn tests_and_troubles_go_to_the_device_log_and_health() {
    let d = decide_now(&plain("1111", 2, "#1111|Nri1/RP0000"));
    assert!(d.alarms.is_empty());
    assert_eq!(
        (d.signals[0].kind.as_str(), d.signals[0].severity),
        ("periodic_test", Severity::Info)
    );
    let d = decide_now(&plain("1111", 3, "#1111|Nri1/AT000"));
    assert_eq!(d.signals[0].severity, Severity::Warning);
    assert_eq!(
        d.condition.as_ref().map(|c| c.0),
        Some(HealthState::Warning)
    );
    let d = decide_now(&plain("1111", 4, "#1111|Nri1/AR000"));
    assert_eq!(d.condition.as_ref().map(|c| c.0), Some(HealthState::Ok));
}

#[test]
fn an_unknown_code_still_opens_an_incident_with_its_raw_code() {
    let d = decide_now(&plain("3333", 5, "#3333|Nri1/ZZ001"));
    assert!(matches!(d.reply, Reply::Ack { .. }));
    let a = &d.alarms[0].alarm;
    assert_eq!((a.kind.as_str(), a.priority), ("unknown", 2));
    assert_eq!(a.details["code"], "ZZ");
}

#[test]
fn link_tests_are_acknowledged_and_keep_supervision() {
    let f = frame(
        &request(Token::Null, "1111", 0, "", None)
            .encode()
            .unwrap_or_default(),
    );
    let d = decide_now(&f);
    assert!(matches!(d.reply, Reply::Ack { .. }));
    assert!(d.alarms.is_empty() && d.signals.is_empty());
    assert_eq!(d.seen.map(|s| s.device), Some("1111".into()));
}

#[test]
fn a_retransmission_has_the_same_key_and_a_new_sequence_does_not() {
    let key = |seq| {
        decide_now(&plain("1111", seq, "#1111|Nri1/PA501")).alarms[0]
            .key
            .clone()
    };
    assert_eq!(key(7), key(7));
    assert_ne!(key(7), key(8));
}

fn with_accounts(configs: &[AccountConfig]) -> Accounts {
    let mut dir = Directory::default();
    dir.alarm_points.insert(
        2,
        AlarmPoint {
            id: 2,
            school_id: 7,
            name: "p2".into(),
            location: String::new(),
            one_key: false,
        },
    );
    Accounts::build(configs, &dir).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn an_account_can_route_troubles_to_incidents_and_burglary_to_the_log() {
    let mut routes = std::collections::BTreeMap::new();
    routes.insert("trouble".to_owned(), RouteChoice::Incident);
    routes.insert("burglary".to_owned(), RouteChoice::DeviceLog);
    let accts = with_accounts(&[AccountConfig {
        account: "4444".into(),
        alarm_point_id: 2,
        routes,
        ..Default::default()
    }]);
    let run = |data: &str| {
        decide(
            &plain("4444", 1, data),
            &accts,
            &TimeWindow::default(),
            "p",
            now(),
        )
    };
    let d = run("#4444|Nri1/LT001");
    assert_eq!(d.alarms.len(), 1, "trouble opens an incident");
    assert_eq!(d.alarms[0].alarm.kind, "trouble");
    assert!(d.signals.is_empty());
    let d = run("#4444|Nri1/BA501");
    assert!(d.alarms.is_empty(), "burglary only logged");
    assert_eq!(
        (d.signals[0].kind.as_str(), d.signals[0].severity),
        ("burglary", Severity::Warning)
    );
    assert_eq!(
        d.signals[0].data["summary_en"],
        "Burglary (account 4444, zone 501)"
    );
    // Unconfigured kinds keep the table's route; unknown codes still reach an operator.
    assert_eq!(run("#4444|Nri1/PA501").alarms.len(), 1);
    assert_eq!(run("#4444|Nri1/ZZ001").alarms[0].alarm.kind, "unknown");
}

#[test]
fn route_overrides_are_checked() {
    let dir = {
        let mut d = Directory::default();
        d.alarm_points.insert(
            2,
            AlarmPoint {
                id: 2,
                school_id: 7,
                name: "p2".into(),
                location: String::new(),
                one_key: false,
            },
        );
        d
    };
    let build = |kind: &str, choice| {
        let mut routes = std::collections::BTreeMap::new();
        routes.insert(kind.to_owned(), choice);
        Accounts::build(
            &[AccountConfig {
                account: "4444".into(),
                alarm_point_id: 2,
                routes,
                ..Default::default()
            }],
            &dir,
        )
    };
    for (kind, choice) in [
        ("panic", RouteChoice::DeviceLog),
        ("duress", RouteChoice::DeviceLog),
        ("unknown", RouteChoice::DeviceLog),
        ("gunshot", RouteChoice::Incident),
    ] {
        let err = build(kind, choice).err();
        assert!(
            matches!(err, Some(AccountsError::BadRoute { .. })),
            "{kind}: {err:?}"
        );
    }
    assert!(build("fire", RouteChoice::DeviceLog).is_ok());
    assert!(build("ac_loss", RouteChoice::Incident).is_ok());
}

fn keyed(next: Option<&str>) -> Accounts {
    with_accounts(&[AccountConfig {
        account: "2222".into(),
        alarm_point_id: 2,
        key: Some("AAAAAAAAAAAAAAAA".into()),
        next_key: next.map(str::to_owned),
        ..Default::default()
    }])
}

fn encrypted_with(key: &str, data: &str, xdata: Vec<XData>) -> Frame {
    let key = Key::from_ascii(key).unwrap_or_else(|e| panic!("{e}"));
    let mut req = request(Token::SiaDcs, "2222", 6, data, Some(now()));
    req.content.xdata = xdata;
    frame(
        &req.encode_encrypted(&key, &mut rand::rng())
            .unwrap_or_default(),
    )
}

#[test]
fn a_key_request_gets_an_encrypted_rsp_with_the_next_key_and_both_keys_work() {
    let accts = keyed(Some("BBBBBBBBBBBBBBBBBBBBBBBB"));
    let run = |f: &Frame| decide(f, &accts, &TimeWindow::default(), "p", now());
    let old = Key::from_ascii("AAAAAAAAAAAAAAAA").unwrap_or_else(|e| panic!("{e}"));
    let new = Key::from_ascii("BBBBBBBBBBBBBBBBBBBBBBBB").unwrap_or_else(|e| panic!("{e}"));
    let f = encrypted_with(
        "AAAAAAAAAAAAAAAA",
        "#2222|Nri1/RP0000",
        vec![XData::NewKey(String::new())],
    );
    let d = run(&f);
    match &d.reply {
        Reply::Rsp { key, give } => assert_eq!((key, give), (&old, &new)),
        other => panic!("{other:?}"),
    }
    // The RSP is encrypted under the key the panel used and carries the new key in [K…].
    let bytes = d.reply.encode(&f, now()).unwrap_or_default();
    let (rsp, _) = Decoder::new()
        .decode(&bytes)
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("no frame"));
    assert_eq!(rsp.token, Token::Rsp);
    let content = open(&rsp, Some(&old)).unwrap_or_else(|e| panic!("{e}"));
    assert!(content.xdata.contains(&XData::NewKey(new.to_hex())));
    // After switching, frames under the new key are accepted and acknowledged with it.
    let d = run(&encrypted_with(
        "BBBBBBBBBBBBBBBBBBBBBBBB",
        "#2222|Nri1/PA501",
        Vec::new(),
    ));
    assert!(matches!(&d.reply, Reply::Ack { key: Some(k) } if *k == new));
    assert_eq!(d.alarms[0].alarm.kind, "panic");
    // Without a next key the panel is handed its current key.
    let d = decide(&f, &keyed(None), &TimeWindow::default(), "p", now());
    assert!(matches!(&d.reply, Reply::Rsp { give, .. } if *give == old));
}

#[test]
fn a_key_request_in_a_plain_frame_is_acked_and_no_key_is_sent() {
    let mut req = request(Token::SiaDcs, "1111", 7, "#1111|Nri1/RP0000", None);
    req.content.xdata = vec![XData::NewKey(String::new())];
    let d = decide_now(&frame(&req.encode().unwrap_or_default()));
    assert!(matches!(d.reply, Reply::Ack { key: None }));
    assert!(d.refusal.is_some());
}

#[test]
fn the_next_key_needs_a_current_key() {
    let dir = Directory::default();
    let err = Accounts::build(
        &[AccountConfig {
            account: "2222".into(),
            alarm_point_id: 2,
            next_key: Some("BBBBBBBBBBBBBBBB".into()),
            ..Default::default()
        }],
        &dir,
    )
    .err();
    assert!(err.is_some());
}
