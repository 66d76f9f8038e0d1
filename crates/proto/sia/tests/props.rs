//! Property tests: encode → decode round trips (plain and encrypted, ASCII and binary CRC),
//! and arbitrary bytes never panic anywhere in the decoding path.
#![allow(clippy::unwrap_used)]

use chrono::{NaiveDate, NaiveDateTime};
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use xiaoan_sia::encode::{encode_encrypted, encode_plain};
use xiaoan_sia::{
    Body, Content, CrcFormat, Decoder, FrameReader, Header, Key, Token, XData, decode_events, open,
    parse_datagram,
};

fn hex(min: usize, max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[0-9A-Fa-f]{{{min},{max}}}")).unwrap()
}

fn header() -> impl Strategy<Value = Header> {
    (
        0u16..=9999,
        proptest::option::of(hex(1, 6)),
        hex(1, 6),
        hex(3, 16),
    )
        .prop_map(|(seq, receiver, line, account)| Header {
            seq,
            receiver,
            line,
            account,
        })
}

fn timestamp() -> impl Strategy<Value = NaiveDateTime> {
    (
        2000i32..2100,
        1u32..=12,
        1u32..=28,
        0u32..24,
        0u32..60,
        0u32..60,
    )
        .prop_map(|(y, mo, d, h, mi, s)| {
            NaiveDate::from_ymd_opt(y, mo, d)
                .unwrap()
                .and_hms_opt(h, mi, s)
                .unwrap()
        })
}

fn xdata() -> impl Strategy<Value = XData> {
    let v = || proptest::string::string_regex("[ -Z^-~\\\\校园]{0,12}").unwrap();
    prop_oneof![
        v().prop_map(XData::Longitude),
        v().prop_map(XData::Latitude),
        v().prop_map(XData::VerificationUrl),
        v().prop_map(XData::Mac),
        v().prop_map(XData::NewKey),
        proptest::string::string_regex("[a-z0-9][ -Z^-~]{0,10}")
            .unwrap()
            .prop_map(XData::Other),
    ]
}

fn content(with_ts: bool) -> impl Strategy<Value = Content> {
    // Data: anything printable except `]` (plus some UTF-8).
    let data = proptest::string::string_regex("[ -\\\\^-~警]{0,40}").unwrap();
    (
        data,
        proptest::collection::vec(xdata(), 0..3),
        timestamp(),
        any::<bool>(),
    )
        .prop_map(move |(data, xdata, ts, keep)| Content {
            data,
            xdata,
            timestamp: (with_ts || keep).then_some(ts),
        })
}

fn token() -> impl Strategy<Value = Token> {
    prop_oneof![Just(Token::SiaDcs), Just(Token::AdmCid), Just(Token::Null)]
}

fn key() -> impl Strategy<Value = Key> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 16),
        proptest::collection::vec(any::<u8>(), 24),
        proptest::collection::vec(any::<u8>(), 32),
    ]
    .prop_map(|b| Key::from_bytes(&b).unwrap())
}

fn crc_format() -> impl Strategy<Value = CrcFormat> {
    prop_oneof![Just(CrcFormat::Ascii), Just(CrcFormat::Binary)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn plain_round_trip(t in token(), h in header(), c in content(false), fmt in crc_format()) {
        let bytes = encode_plain(&t, &h, &c, fmt).unwrap();
        let f = parse_datagram(&bytes).unwrap();
        prop_assert_eq!(&f.token, &t);
        prop_assert_eq!(&f.header, &h);
        prop_assert!(f.length_ok);
        prop_assert!(!f.encrypted);
        prop_assert_eq!(f.crc_format, fmt);
        prop_assert_eq!(f.body, Body::Plain(c));
    }

    #[test]
    fn encrypted_round_trip(t in token(), h in header(), c in content(true), k in key(), seed in any::<u64>()) {
        // NULL carries no data by definition.
        let c = if t == Token::Null { Content { data: String::new(), ..c } } else { c };
        let mut rng = StdRng::seed_from_u64(seed);
        let bytes = encode_encrypted(&t, &h, &c, &k, &mut rng, CrcFormat::Ascii).unwrap();
        let f = parse_datagram(&bytes).unwrap();
        prop_assert!(f.encrypted);
        prop_assert!(f.length_ok);
        prop_assert_eq!(&f.header, &h);
        prop_assert_eq!(open(&f, Some(&k)).unwrap(), c);
    }

    #[test]
    fn stream_of_frames_any_chunking(
        frames in proptest::collection::vec((token(), header(), content(false)), 1..5),
        chunk in 1usize..64,
    ) {
        let mut all = Vec::new();
        for (t, h, c) in &frames {
            all.extend(encode_plain(t, h, c, CrcFormat::Ascii).unwrap());
        }
        let mut r = FrameReader::default();
        let mut got = Vec::new();
        for part in all.chunks(chunk) {
            r.feed(part);
            while let Some(res) = r.next_frame() {
                got.push(res.unwrap());
            }
        }
        prop_assert_eq!(got.len(), frames.len());
        prop_assert_eq!(r.buffered(), 0);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let d = Decoder::new();
        let _ = d.decode(&bytes);
        let _ = parse_datagram(&bytes);
        let mut r = FrameReader::default();
        r.feed(&bytes);
        while r.next_frame().is_some() {}
        let text = String::from_utf8_lossy(&bytes);
        let _ = decode_events(&Token::SiaDcs, &text);
        let _ = decode_events(&Token::AdmCid, &text);
    }

    #[test]
    fn mutated_frames_never_panic(
        c in content(true), h in header(), k in key(), pos in any::<prop::sample::Index>(), byte in any::<u8>(),
    ) {
        let mut rng = StdRng::seed_from_u64(1);
        let mut bytes = encode_encrypted(&Token::SiaDcs, &h, &c, &k, &mut rng, CrcFormat::Ascii).unwrap();
        let i = pos.index(bytes.len());
        bytes[i] = byte;
        if let Ok(f) = parse_datagram(&bytes) {
            let _ = open(&f, Some(&k));
        }
    }

    #[test]
    fn arbitrary_ciphertext_never_panics(ct in proptest::collection::vec(any::<u8>(), 1..8), k in key(), t in token()) {
        let ct: Vec<u8> = ct.iter().flat_map(|b| [*b; 16]).collect();
        let _ = xiaoan_sia::crypto::open_encrypted(&k, &ct, &t);
    }
}
