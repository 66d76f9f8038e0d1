//! Fuzz target: arbitrary bytes through the stream decoder, the datagram parser, decryption
//! with fixed keys and event decoding. Nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xiaoan_sia::crc::crc16;
use xiaoan_sia::{Decoder, FrameReader, Key, decode_events, open, parse_datagram};

/// Rewrites the ASCII CRC field so mutated frames get past the CRC check into the parser.
fn with_fixed_crc(data: &[u8]) -> Option<Vec<u8>> {
    let end = data.iter().position(|&b| b == b'\r')?;
    let span = data.get(9..end)?;
    let mut out = data.to_vec();
    out.get_mut(1..5)?.copy_from_slice(format!("{:04X}", crc16(span)).as_bytes());
    Some(out)
}

fuzz_target!(|data: &[u8]| {
    check(data);
    if let Some(fixed) = with_fixed_crc(data) {
        check(&fixed);
    }
});

fn check(data: &[u8]) {
    let keys = [
        Key::from_ascii("0123456789ABCDEF").ok(),
        Key::from_ascii("0123456789ABCDEF01234567").ok(),
        Key::from_ascii("0123456789ABCDEF0123456789ABCDEF").ok(),
    ];
    let _ = Decoder::new().decode(data);
    if let Ok(frame) = parse_datagram(data) {
        for key in keys.iter().flatten() {
            if let Ok(content) = open(&frame, Some(key)) {
                let _ = decode_events(&frame.token, &content.data);
            }
        }
    }
    let mut reader = FrameReader::default();
    for chunk in data.chunks(7) {
        reader.feed(chunk);
        while reader.next_frame().is_some() {}
    }
}
