//! Replays every file of `fuzz/corpus/decode/` (seeded with the golden frames, plus any
//! fuzzer findings) through the same calls as the fuzz target: nothing may panic, and the
//! golden seeds must decode.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use xiaoan_sia::crc::crc16;
use xiaoan_sia::{Decoder, FrameReader, Key, decode_events, open, parse_datagram};

/// Same as the fuzz target: rewrite the ASCII CRC field so the parser is reached.
fn with_fixed_crc(data: &[u8]) -> Option<Vec<u8>> {
    let end = data.iter().position(|&b| b == b'\r')?;
    let span = data.get(9..end)?;
    let mut out = data.to_vec();
    out.get_mut(1..5)?
        .copy_from_slice(format!("{:04X}", crc16(span)).as_bytes());
    Some(out)
}

fn check(data: &[u8], keys: &[Key]) {
    let _ = Decoder::new().decode(data);
    if let Ok(frame) = parse_datagram(data) {
        for key in keys {
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

#[test]
fn replay_corpus() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/decode");
    let keys = [
        Key::from_ascii("0123456789ABCDEF").unwrap(),
        Key::from_ascii("0123456789ABCDEF01234567").unwrap(),
        Key::from_ascii("0123456789ABCDEF0123456789ABCDEF").unwrap(),
    ];
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("siadc09_") || name.starts_with("dc09_spec_") {
            let parsed = parse_datagram(&data);
            assert!(parsed.is_ok(), "{name}: {parsed:?}");
        }
        check(&data, &keys);
        if let Some(fixed) = with_fixed_crc(&data) {
            check(&fixed, &keys);
        }
        seen += 1;
    }
    assert!(seen >= 21, "{seen}");
}
