//! Golden vectors: the DC-09 text example and frames captured from the independent `siadc09`
//! sender (see `testdata/README.md`).
#![allow(clippy::unwrap_used)]

mod common;

use chrono::NaiveDate;
use xiaoan_sia::{AlarmKind, Body, Key, Token, XData, decode_events, open, parse_datagram, reply};

fn ts() -> chrono::NaiveDateTime {
    NaiveDate::from_ymd_opt(2025, 3, 14)
        .unwrap()
        .and_hms_opt(8, 30, 0)
        .unwrap()
}

#[test]
fn dc09_spec_example_decodes_and_acks() {
    let frames = common::escaped_frames("dc09_spec_sia_dcs.txt");
    let f = parse_datagram(&frames[0]).unwrap();
    assert_eq!(f.token, Token::SiaDcs);
    assert!(!f.encrypted);
    assert!(f.length_ok);
    assert_eq!(f.header.seq, 9876);
    assert_eq!(f.header.receiver.as_deref(), Some("579BDF"));
    assert_eq!(f.header.line, "789ABC");
    assert_eq!(f.header.account, "12345A");
    let Body::Plain(c) = &f.body else { panic!() };
    assert_eq!(c.data, "#12345A|NFA129");
    let ev = decode_events(&f.token, &c.data);
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].kind, AlarmKind::Fire);
    assert_eq!(ev[0].zone, Some(129));
    assert_eq!(reply::ack(&f).unwrap(), frames[1]);
}

fn key_of(v: &common::HexVector) -> Option<Key> {
    v.key_hex.as_deref().map(|k| Key::from_hex(k).unwrap())
}

#[test]
fn siadc09_frames_decode() {
    let vectors = common::hex_vectors("siadc09_frames.txt");
    assert!(vectors.len() >= 19);
    for v in &vectors {
        let f = parse_datagram(&v.bytes).unwrap_or_else(|e| panic!("{}: {e}", v.name));
        assert!(f.length_ok, "{}", v.name);
        let key = key_of(v);
        assert_eq!(f.encrypted, key.is_some(), "{}", v.name);
        let c = open(&f, key.as_ref()).unwrap_or_else(|e| panic!("{}: {e}", v.name));
        let want_token = match v.name.split('_').next().unwrap() {
            "sia" => Token::SiaDcs,
            "adm" => Token::AdmCid,
            "null" => Token::Null,
            "ack" => Token::Ack,
            "nak" => Token::Nak,
            "duh" => Token::Duh,
            other => panic!("{other}"),
        };
        assert_eq!(f.token, want_token, "{}", v.name);
        assert_eq!(f.header.account, "1234", "{}", v.name);
        let untimed = ["sia_dcs_plain_no_ts", "ack_plain", "duh"].contains(&v.name.as_str());
        let want_ts = if untimed { None } else { Some(ts()) };
        assert_eq!(c.timestamp, want_ts, "{}", v.name);
        match want_token {
            Token::SiaDcs => {
                let ev = decode_events(&f.token, &c.data);
                assert_eq!(ev.len(), 1, "{}", v.name);
                assert_eq!(ev[0].area, Some(1));
                if v.name == "sia_dcs_plain_no_ts" {
                    assert_eq!(c.timestamp, None);
                    assert_eq!(
                        (ev[0].kind.clone(), ev[0].zone),
                        (AlarmKind::Burglary, Some(3))
                    );
                } else {
                    assert_eq!(
                        (ev[0].kind.clone(), ev[0].zone),
                        (AlarmKind::Panic, Some(501))
                    );
                }
            }
            Token::AdmCid => {
                let ev = decode_events(&f.token, &c.data);
                let want = if f.encrypted {
                    AlarmKind::SilentPanic
                } else {
                    AlarmKind::Panic
                };
                assert_eq!(ev[0].kind, want, "{}", v.name);
                assert_eq!(ev[0].area, Some(1));
            }
            _ => assert_eq!(c.data, "", "{}", v.name),
        }
    }
}

#[test]
fn siadc09_xdata_and_ascii_keys() {
    let vectors = common::hex_vectors("siadc09_frames.txt");
    let plain = vectors.iter().find(|v| v.name == "sia_dcs_plain").unwrap();
    let f = parse_datagram(&plain.bytes).unwrap();
    let c = open(&f, None).unwrap();
    assert_eq!(
        c.xdata,
        vec![
            XData::Longitude("E114.3055".into()),
            XData::Latitude("N30.5928".into())
        ]
    );
    // The hex keys are ASCII strings; the ASCII form must decrypt the same frames.
    for (name, ascii) in [
        ("sia_dcs_aes128", "0123456789ABCDEF"),
        ("sia_dcs_aes192", "0123456789ABCDEF01234567"),
        ("sia_dcs_aes256", "0123456789ABCDEF0123456789ABCDEF"),
    ] {
        let v = vectors.iter().find(|v| v.name == name).unwrap();
        let f = parse_datagram(&v.bytes).unwrap();
        let c = open(&f, Some(&Key::from_ascii(ascii).unwrap())).unwrap();
        assert_eq!(c.data, "#1234|Nri1/PA501");
        assert_eq!(
            c.xdata,
            vec![XData::VerificationUrl("http://10.0.0.5/cam1".into())]
        );
    }
}

#[test]
fn wrong_key_is_an_error_not_a_panic() {
    let vectors = common::hex_vectors("siadc09_frames.txt");
    let v = vectors.iter().find(|v| v.name == "sia_dcs_aes128").unwrap();
    let f = parse_datagram(&v.bytes).unwrap();
    let wrong = Key::from_ascii("FEDCBA9876543210").unwrap();
    assert!(open(&f, Some(&wrong)).is_err());
    assert!(open(&f, None).is_err());
}
