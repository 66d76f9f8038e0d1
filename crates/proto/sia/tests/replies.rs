//! Replies: ACK/*ACK/NAK/DUH/RSP echo the request and are decodable; *ACK padding rules.
#![allow(clippy::unwrap_used)]

use chrono::{NaiveDate, NaiveDateTime};
use rand::SeedableRng;
use rand::rngs::StdRng;
use xiaoan_sia::{
    Body, Content, Header, Key, Request, Token, XData, crypto, open, parse_datagram, reply,
};

fn now() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2025, 3, 14)
        .unwrap()
        .and_hms_opt(8, 30, 5)
        .unwrap()
}

fn request(receiver: Option<&str>) -> Request {
    Request {
        token: Token::SiaDcs,
        header: Header {
            seq: 42,
            receiver: receiver.map(str::to_owned),
            line: "1F".into(),
            account: "00AB12".into(),
        },
        content: Content {
            data: "#00AB12|Nri1/PA501".into(),
            xdata: vec![],
            timestamp: Some(now()),
        },
    }
}

#[test]
fn ack_echoes_seq_receiver_line_account() {
    for rcvr in [None, Some("579BDF")] {
        let req = parse_datagram(&request(rcvr).encode().unwrap()).unwrap();
        let bytes = reply::ack(&req).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        let want = match rcvr {
            Some(r) => format!("\"ACK\"0042R{r}L1F#00AB12[]\r"),
            None => "\"ACK\"0042L1F#00AB12[]\r".to_owned(),
        };
        assert!(text.ends_with(&want), "{text:?}");
        let ack = parse_datagram(&bytes).unwrap();
        assert_eq!(ack.token, Token::Ack);
        assert_eq!(ack.header, req.header);
        assert!(ack.length_ok);
    }
}

#[test]
fn encrypted_ack_plaintext_is_pad_bracket_timestamp() {
    let key = Key::from_ascii("0123456789abcdef0123456789abcdef").unwrap();
    let mut rng = StdRng::seed_from_u64(3);
    let req_bytes = request(Some("12"))
        .encode_encrypted(&key, &mut rng)
        .unwrap();
    let req = parse_datagram(&req_bytes).unwrap();
    assert!(req.encrypted);
    for _ in 0..50 {
        let bytes = reply::ack_for(&req, Some(&key), now(), &mut rng).unwrap();
        let ack = parse_datagram(&bytes).unwrap();
        assert_eq!((ack.token.clone(), ack.encrypted), (Token::Ack, true));
        assert_eq!(ack.header, req.header);
        let Body::Encrypted(ct) = &ack.body else {
            panic!()
        };
        let plain = crypto::decrypt(&key, ct).unwrap();
        let tail = b"]_08:30:05,03-14-2025";
        assert!(plain.ends_with(tail));
        let pad = &plain[..plain.len() - tail.len()];
        assert!(pad.len() >= 16);
        assert!(!pad.iter().any(|b| b"|[]".contains(b)), "{pad:?}");
        assert_eq!(open(&ack, Some(&key)).unwrap().timestamp, Some(now()));
    }
    assert!(reply::ack_for(&req, None, now(), &mut rng).is_err());
}

#[test]
fn nak_format_is_fixed_and_plain() {
    let bytes = reply::nak(now());
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(
        text.ends_with("\"NAK\"0000R0L0A0[]_08:30:05,03-14-2025\r"),
        "{text:?}"
    );
    let nak = parse_datagram(&bytes).unwrap();
    assert_eq!(nak.token, Token::Nak);
    assert!(!nak.encrypted);
    assert!(nak.length_ok);
    assert_eq!(open(&nak, None).unwrap().timestamp, Some(now()));
}

#[test]
fn duh_and_rsp() {
    let req = parse_datagram(&request(None).encode().unwrap()).unwrap();
    let duh = parse_datagram(&reply::duh(&req).unwrap()).unwrap();
    assert_eq!((duh.token, duh.header), (Token::Duh, req.header.clone()));

    let mut rng = StdRng::seed_from_u64(5);
    let k = [XData::NewKey("00112233445566778899AABBCCDDEEFF".into())];
    let rsp = parse_datagram(&reply::rsp(&req, &k, None, now(), &mut rng).unwrap()).unwrap();
    assert_eq!(rsp.token, Token::Rsp);
    assert_eq!(open(&rsp, None).unwrap().xdata, k.to_vec());

    let key = Key::from_ascii("0123456789abcdef").unwrap();
    let enc_req = parse_datagram(&request(None).encode_encrypted(&key, &mut rng).unwrap()).unwrap();
    let rsp =
        parse_datagram(&reply::rsp(&enc_req, &k, Some(&key), now(), &mut rng).unwrap()).unwrap();
    assert!(rsp.encrypted);
    assert_eq!(open(&rsp, Some(&key)).unwrap().xdata, k.to_vec());
}

#[test]
fn encoder_rejects_invalid_fields() {
    let mut r = request(None);
    r.header.account = "AB".into();
    assert!(r.encode().is_err());
    let mut r = request(Some("1234567"));
    assert!(r.encode().is_err());
    r = request(None);
    r.header.seq = 10000;
    assert!(r.encode().is_err());
    r = request(None);
    r.content.data = "a]b".into();
    assert!(r.encode().is_err());
    r = request(None);
    r.content.timestamp = None;
    let key = Key::from_ascii("0123456789abcdef").unwrap();
    assert!(
        r.encode_encrypted(&key, &mut StdRng::seed_from_u64(1))
            .is_err()
    );
    assert!(r.encode().is_ok());
}
