//! Decoder behaviour: CRC and length handling, binary CRC, limits, header syntax, resync.
#![allow(clippy::unwrap_used)]

use xiaoan_sia::encode::wrap_span;
use xiaoan_sia::{Body, CrcFormat, DecodeError, Decoder, Token, parse_datagram, reply, resync};

const SPEC: &[u8] = b"\nCE110032\"SIA-DCS\"9876R579BDFL789ABC#12345A[#12345A|NFA129]\r";

fn framed(span: &str) -> Vec<u8> {
    wrap_span(span.as_bytes(), CrcFormat::Ascii).unwrap()
}

fn err_of(bytes: &[u8]) -> DecodeError {
    Decoder::new().decode(bytes).unwrap_err()
}

#[test]
fn whole_frame_and_consumed() {
    let mut buf = SPEC.to_vec();
    buf.extend_from_slice(b"\nrest");
    let (f, used) = Decoder::new().decode(&buf).unwrap().unwrap();
    assert_eq!(used, SPEC.len());
    assert_eq!(f.crc_format, CrcFormat::Ascii);
    assert_eq!(f.declared_length, 0x32);
}

#[test]
fn bad_crc_is_distinct() {
    let mut bad = SPEC.to_vec();
    bad[1] = b'D';
    let e = err_of(&bad);
    assert!(e.is_bad_crc());
    assert_eq!(e.context(), "frame > crc");
    assert_eq!(e.position(), 1);
    // A flipped payload byte is a CRC error too.
    let mut bad = SPEC.to_vec();
    bad[50] ^= 1;
    assert!(err_of(&bad).is_bad_crc());
}

#[test]
fn wrong_length_is_a_flag_not_an_error() {
    let mut f = SPEC.to_vec();
    f[5..9].copy_from_slice(b"0099");
    let frame = parse_datagram(&f).unwrap();
    assert!(!frame.length_ok);
    assert_eq!(frame.declared_length, 0x99);
    // Decimal-read length (a pysiaalarm-style sender bug) is also just flagged.
    let mut f = SPEC.to_vec();
    f[5..9].copy_from_slice(b"0050");
    assert!(!parse_datagram(&f).unwrap().length_ok);
}

#[test]
fn binary_crc_framed_by_length() {
    let span = "\"SIA-DCS\"0001L0#1234[#1234|Nri1/PA501]";
    let frame = wrap_span(span.as_bytes(), CrcFormat::Binary).unwrap();
    assert_eq!(frame.len(), 1 + 2 + 4 + span.len() + 1);
    let f = parse_datagram(&frame).unwrap();
    assert_eq!(f.crc_format, CrcFormat::Binary);
    assert!(f.length_ok);
    // The ACK goes back in the same CRC format.
    let ack = reply::ack(&f).unwrap();
    assert_eq!(parse_datagram(&ack).unwrap().crc_format, CrcFormat::Binary);
    // Wrong CRC or wrong length: not accepted.
    let mut bad = frame.clone();
    bad[2] ^= 0x55;
    assert_eq!(err_of(&bad).context(), "frame > binary crc");
    let mut bad = frame.clone();
    bad[6] = b'0';
    assert!(Decoder::new().decode(&bad).is_err());
}

#[test]
fn binary_crc_containing_lf_and_cr() {
    // Search for spans whose CRC bytes are LF or CR.
    let mut found = 0;
    for seq in 0..10000u32 {
        let span = format!("\"NULL\"{seq:04}L0#1234[]");
        let frame = wrap_span(span.as_bytes(), CrcFormat::Binary).unwrap();
        if frame[1..3].iter().any(|b| *b == b'\n' || *b == b'\r') {
            let f = parse_datagram(&frame).unwrap();
            assert_eq!(u32::from(f.header.seq), seq);
            found += 1;
        }
    }
    assert!(found > 10, "{found}");
}

#[test]
fn max_frame_size() {
    let long = framed(&format!("\"SIA-DCS\"0001L0#1234[{}]", "A".repeat(1100)));
    assert!(matches!(
        err_of(&long),
        DecodeError::TooLong { max: 1024, .. }
    ));
    assert!(
        Decoder::with_max_frame_len(2048)
            .decode(&long)
            .unwrap()
            .is_some()
    );
    let small = Decoder::with_max_frame_len(40);
    assert!(matches!(
        small.decode(SPEC),
        Err(DecodeError::TooLong { .. })
    ));
    // Without a CR, an endless line is cut at the limit instead of buffering forever.
    let mut endless = b"\n00000000\"".to_vec();
    endless.extend(std::iter::repeat_n(b'A', 2000));
    assert!(matches!(err_of(&endless), DecodeError::TooLong { .. }));
}

#[test]
fn unknown_token_is_typed_and_gets_duh() {
    let f = parse_datagram(&framed("\"XYZ-NEW\"0042R1L2#ABC[whatever]")).unwrap();
    assert_eq!(f.token, Token::Unknown("XYZ-NEW".into()));
    let duh = parse_datagram(&reply::duh(&f).unwrap()).unwrap();
    assert_eq!(duh.token, Token::Duh);
    assert_eq!(duh.header, f.header);
    // Unknown token with an unparsable body is still a frame (body kept raw).
    let f = parse_datagram(&framed("\"ODD\"0042L2#ABC[no close")).unwrap();
    assert_eq!(f.body, Body::Raw("no close".into()));
    let f = parse_datagram(&framed("\"*ODD\"0042L2#ABC[zz")).unwrap();
    assert!(f.encrypted);
}

#[test]
fn header_errors_have_context_and_position() {
    let cases = [
        ("\"SIA-DCS\"987R1L2#ABC[]", "frame > sequence", 9),
        ("\"SIA-DCS\"9876R1234567L2#ABC[]", "frame > receiver", 14),
        ("\"SIA-DCS\"9876R1#ABC[]", "frame > line", 15),
        ("\"SIA-DCS\"9876L1#AB[]", "frame > account", 16),
        ("\"SIA-DCS\"9876L1#ABC]", "frame > data", 19),
        ("\"SIA-DCS\"9876L1ABC[]", "frame > account", 18),
        ("\"\"9876L1#ABC[]", "frame > id", 1),
        (
            "\"SIA-DCS\"9876L1#ABC[x]y",
            "frame > content > after data",
            22,
        ),
        ("\"*SIA-DCS\"9876L1#ABC[0011]", "frame > encrypted data", 25),
        ("\"*SIA-DCS\"9876L1#ABC[zz]", "frame > encrypted data", 21),
    ];
    for (span, ctx, pos) in cases {
        match err_of(&framed(span)) {
            DecodeError::Invalid { position, context } => {
                // Positions are offsets in the whole frame; the span starts at byte 9.
                assert_eq!((context, position), (ctx, pos + 9), "{span}");
            }
            other => panic!("{span}: {other:?}"),
        }
    }
}

#[test]
fn nak_with_a0_account() {
    let f = parse_datagram(&framed("\"NAK\"0000R0L0A0[]_10:00:00,01-01-2025")).unwrap();
    assert_eq!(f.token, Token::Nak);
    assert_eq!(f.header.account, "0");
}

#[test]
fn ciphertext_either_case() {
    let lower = framed(&format!("\"*NULL\"0000L0#1234[{}]", "ab".repeat(16)));
    assert!(Decoder::new().decode(&lower).is_err()); // `]` is not hex
    let lower = framed(&format!("\"*NULL\"0000L0#1234[{}", "ab".repeat(16)));
    let upper = framed(&format!("\"*NULL\"0000L0#1234[{}", "AB".repeat(16)));
    let a = parse_datagram(&lower).unwrap();
    let b = parse_datagram(&upper).unwrap();
    assert_eq!(a.body, b.body);
    assert_eq!(a.body, Body::Encrypted(vec![0xAB; 16]));
}

#[test]
fn junk_unterminated_and_resync() {
    assert_eq!(err_of(b"xx\nabc").context(), "frame > start");
    assert_eq!(resync(b"xx\nabc"), 2);
    assert_eq!(resync(b"\nabc"), 4);
    assert_eq!(resync(b""), 0);
    // A frame missing its CR followed by a good frame: error at the next LF, then recovery.
    let mut buf = SPEC[..30].to_vec();
    buf.extend_from_slice(SPEC);
    let e = err_of(&buf);
    assert_eq!((e.context(), e.position()), ("frame > unterminated", 30));
    let skip = resync(&buf);
    assert_eq!(skip, 30);
    assert!(Decoder::new().decode(&buf[skip..]).unwrap().is_some());
    assert_eq!(err_of(b"\nZZZZ0000\"").context(), "frame > crc field");
    assert_eq!(err_of(b"\n0000ZZZZ\"").context(), "frame > length field");
}

#[test]
fn datagram_rules() {
    let mut padded = SPEC.to_vec();
    padded.extend_from_slice(b"\0\0\r\n");
    assert!(parse_datagram(&padded).is_ok());
    let mut trailing = SPEC.to_vec();
    trailing.extend_from_slice(b"x");
    assert_eq!(
        parse_datagram(&trailing).unwrap_err().context(),
        "datagram > trailing bytes"
    );
    assert_eq!(
        parse_datagram(&SPEC[..20]).unwrap_err().context(),
        "datagram > truncated"
    );
    assert_eq!(
        parse_datagram(b"").unwrap_err().context(),
        "datagram > truncated"
    );
}

#[test]
fn utf8_xdata_length_counts_bytes() {
    let span = "\"SIA-DCS\"0001L0#1234[#1234|NRP][Z校园一键报警]";
    let f = parse_datagram(&framed(span)).unwrap();
    assert!(f.length_ok);
    assert_eq!(usize::from(f.declared_length), span.len());
}
