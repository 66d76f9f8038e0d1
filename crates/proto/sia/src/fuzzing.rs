//! The bodies of the fuzz targets `sia_frame` and `sia_events` (in the repository's `fuzz/`
//! crate), shared with the corpus-replay test so both run the same calls and check the same
//! properties. Hidden from the docs; not an API.

use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::crc::crc16;
use crate::crypto::{encrypt, open_encrypted};
use crate::encode::wrap_span;
use crate::{
    Body, CrcFormat, DEFAULT_MAX_FRAME_LEN, Decoder, FrameReader, Key, Request, Token,
    decode_events, open, parse_datagram, resync,
};

/// The fixed keys the targets decrypt with (AES-128, -192, -256).
pub fn keys() -> Vec<Key> {
    [
        "0123456789ABCDEF",
        "0123456789ABCDEF01234567",
        "0123456789ABCDEF0123456789ABCDEF",
    ]
    .iter()
    .filter_map(|k| Key::from_ascii(k).ok())
    .collect()
}

/// Rewrites the ASCII CRC field so mutated frames get past the CRC check into the parser.
pub fn with_fixed_crc(data: &[u8]) -> Option<Vec<u8>> {
    let end = data.iter().position(|&b| b == b'\r')?;
    let span = data.get(9..end)?;
    let mut out = data.to_vec();
    out.get_mut(1..5)?
        .copy_from_slice(format!("{:04X}", crc16(span)).as_bytes());
    Some(out)
}

/// Target `sia_frame`: `data` as a datagram and as a TCP stream (as is and with its CRC
/// field fixed), then as the plaintext of an encrypted frame. Panics when a property fails:
/// a decoder position outside the input, a stream result that depends on how the bytes were
/// chunked, or a frame or encrypted content that does not survive encode → decode.
pub fn frame(data: &[u8]) {
    let keys = keys();
    check_frame(data, &keys);
    if let Some(fixed) = with_fixed_crc(data) {
        check_frame(&fixed, &keys);
    }
    decrypt_path(data, &keys);
}

fn check_frame(data: &[u8], keys: &[Key]) {
    match Decoder::new().decode(data) {
        Ok(Some((_, used))) => assert!(used >= 1 && used <= data.len(), "consumed {used}"),
        Ok(None) => {}
        Err(e) => assert!(e.position() <= data.len(), "error position {e:?}"),
    }
    if !data.is_empty() {
        let skip = resync(data);
        assert!(skip >= 1 && skip <= data.len(), "resync {skip}");
    }
    if let Ok(frame) = parse_datagram(data) {
        round_trip_plain(&frame);
        for key in keys {
            if let Ok(content) = open(&frame, Some(key)) {
                let _ = decode_events(&frame.token, &content.data);
                round_trip_encrypted(&frame.token, &frame.header, &content, key);
            }
        }
    }
    assert_eq!(stream(data, 7), stream(data, data.len().max(1)), "chunking");
}

/// Everything a [`FrameReader`] returns for `data` fed in pieces of `chunk` bytes.
fn stream(data: &[u8], chunk: usize) -> Vec<Result<crate::Frame, crate::DecodeError>> {
    let mut reader = FrameReader::default();
    let mut out = Vec::new();
    for piece in data.chunks(chunk) {
        reader.feed(piece);
        while let Some(res) = reader.next_frame() {
            out.push(res);
        }
    }
    out
}

/// A plain request re-encodes to a datagram that parses to the same token, header and body.
fn round_trip_plain(frame: &crate::Frame) {
    let Body::Plain(content) = &frame.body else {
        return;
    };
    let request = Request {
        token: frame.token.clone(),
        header: frame.header.clone(),
        content: content.clone(),
    };
    if let Ok(bytes) = request.encode() {
        let again = Decoder::with_max_frame_len(bytes.len().max(DEFAULT_MAX_FRAME_LEN))
            .parse_datagram(&bytes)
            .expect("an encoded frame parses");
        assert_eq!(again.token, frame.token);
        assert_eq!(again.header, frame.header);
        assert_eq!(again.body, frame.body);
    }
}

/// Decrypted content re-encrypts to a frame that opens to the same content.
fn round_trip_encrypted(
    token: &Token,
    header: &crate::Header,
    content: &crate::Content,
    key: &Key,
) {
    let request = Request {
        token: token.clone(),
        header: header.clone(),
        content: content.clone(),
    };
    let mut rng = StdRng::seed_from_u64(7);
    if let Ok(bytes) = request.encode_encrypted(key, &mut rng) {
        // Hex doubles the content: a plain frame near the receiver's size limit comes back
        // longer than it, which is the limit's business, not the codec's.
        let again = Decoder::with_max_frame_len(bytes.len().max(DEFAULT_MAX_FRAME_LEN))
            .parse_datagram(&bytes)
            .expect("an encrypted frame parses");
        let opened = open(&again, Some(key)).expect("an encrypted frame opens");
        assert_eq!(&opened, content);
    }
}

/// `data` (padded in front to whole AES blocks) as the plaintext of an encrypted `SIA-DCS`,
/// `ADM-CID` and `NULL` frame: straight into the content parser, and wrapped in a whole frame.
fn decrypt_path(data: &[u8], keys: &[Key]) {
    let pad = (16 - data.len() % 16) % 16;
    let mut plain = vec![b'0'; pad];
    plain.extend_from_slice(data);
    if plain.is_empty() {
        return;
    }
    for key in keys {
        let Ok(cipher) = encrypt(key, &plain) else {
            continue;
        };
        for token in [Token::SiaDcs, Token::AdmCid, Token::Null] {
            match open_encrypted(key, &cipher, &token) {
                Ok(content) => {
                    let _ = decode_events(&token, &content.data);
                }
                Err(crate::OpenError::Content { position, .. }) => {
                    assert!(position <= plain.len(), "content position {position}");
                }
                Err(_) => {}
            }
            let mut span = format!("\"*{}\"0001L0#1234[", token.as_str()).into_bytes();
            span.extend_from_slice(hex::encode_upper(&cipher).as_bytes());
            if let Ok(bytes) = wrap_span(&span, CrcFormat::Ascii)
                && let Ok(frame) = parse_datagram(&bytes)
            {
                let _ = open(&frame, Some(key));
            }
        }
    }
}

/// Target `sia_events`: `data` as the data block of a `SIA-DCS`, an `ADM-CID` and a `NULL`
/// message (SIA DC-03 and Contact ID event decoding). A block of an alarm message always
/// yields at least one event (an unparsable one as `Unknown`, never dropped), a Contact ID
/// block exactly one, `NULL` none; a DC-03 block cannot hold more events than two-letter codes.
pub fn events(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for token in [Token::SiaDcs, Token::AdmCid, Token::Null] {
        let events = decode_events(&token, &text);
        match token {
            Token::AdmCid => assert_eq!(events.len(), 1, "one Contact ID event per block"),
            Token::SiaDcs => {
                assert!(!events.is_empty(), "a DC-03 block yields an event");
                assert!(
                    events.len() <= text.chars().count() / 2 + 1,
                    "{}",
                    events.len()
                );
            }
            _ => assert!(events.is_empty(), "NULL carries no events"),
        }
        for event in &events {
            let _ = (event.route(), event.opens_incident());
        }
    }
}
