//! Prints frames produced by this crate (requests and replies, plain and AES-128/192/256) as
//! `name | key-hex-or-- | frame-hex` lines, for checking against other implementations
//! (`testdata/check_with_python.py`). Run: `cargo run -p xiaoan-sia --example emit_frames`.

use chrono::{NaiveDateTime, Utc};
use xiaoan_sia::{Content, Header, Key, Request, Token, XData, parse_datagram, reply};

const KEYS: [(&str, &str); 3] = [
    ("aes128", "0123456789ABCDEF"),
    ("aes192", "0123456789ABCDEF01234567"),
    ("aes256", "0123456789ABCDEF0123456789ABCDEF"),
];

fn request(token: Token, seq: u16, data: &str, ts: NaiveDateTime) -> Request {
    Request {
        token,
        header: Header {
            seq,
            receiver: Some("12".into()),
            line: "34".into(),
            account: "1234".into(),
        },
        content: Content {
            data: data.into(),
            xdata: vec![XData::VerificationUrl("http://10.0.0.5/cam1".into())],
            timestamp: Some(ts),
        },
    }
}

fn line(name: &str, key: Option<&str>, bytes: &[u8]) {
    let key = key.map_or_else(|| "-".to_owned(), |k| hex::encode_upper(k.as_bytes()));
    println!("{name} | {key} | {}", hex::encode(bytes));
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let now = Utc::now().naive_utc();
    let mut rng = rand::rng();
    let sia = request(Token::SiaDcs, 21, "#1234|Nri1/PA501", now);
    let cid = request(Token::AdmCid, 22, "#1234|1122 01 003", now);
    let mut null = request(Token::Null, 0, "", now);
    null.content.xdata.clear();
    for (name, r) in [("sia_dcs", &sia), ("adm_cid", &cid), ("null", &null)] {
        let bytes = r.encode()?;
        line(&format!("{name}_plain"), None, &bytes);
    }
    let plain_req = parse_datagram(&sia.encode()?)?;
    line("ack_plain", None, &reply::ack(&plain_req)?);
    line("nak", None, &reply::nak(now));
    line("duh", None, &reply::duh(&plain_req)?);
    let k = [XData::NewKey("00112233445566778899AABBCCDDEEFF".into())];
    line(
        "rsp_plain",
        None,
        &reply::rsp(&plain_req, &k, None, now, &mut rng)?,
    );
    for (size, ascii) in KEYS {
        let key = Key::from_ascii(ascii)?;
        for (name, r) in [("sia_dcs", &sia), ("adm_cid", &cid), ("null", &null)] {
            line(
                &format!("{name}_{size}"),
                Some(ascii),
                &r.encode_encrypted(&key, &mut rng)?,
            );
        }
        let enc_req = parse_datagram(&sia.encode_encrypted(&key, &mut rng)?)?;
        line(
            &format!("ack_{size}"),
            Some(ascii),
            &reply::ack_encrypted(&enc_req, &key, now, &mut rng)?,
        );
    }
    Ok(())
}
