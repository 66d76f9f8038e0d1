//! Replays every file of the repository's `fuzz/corpus/sia_frame/` (seeded with the golden
//! frames, plus fuzzer findings) and `fuzz/corpus/sia_events/` through the same calls as the
//! fuzz targets (`xiaoan_sia::fuzzing`): nothing may panic, every property holds, and the
//! golden seeds must decode.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use xiaoan_sia::fuzzing::{events, frame};
use xiaoan_sia::parse_datagram;

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../fuzz/corpus")
        .join(target);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    out.sort();
    out
}

#[test]
fn replay_frame_corpus() {
    let files = corpus("sia_frame");
    for (name, data) in &files {
        if name.starts_with("siadc09_") || name.starts_with("dc09_spec_") {
            let parsed = parse_datagram(data);
            assert!(parsed.is_ok(), "{name}: {parsed:?}");
        }
        frame(data);
    }
    assert!(files.len() >= 21, "{}", files.len());
}

#[test]
fn replay_events_corpus() {
    let files = corpus("sia_events");
    for (_, data) in &files {
        events(data);
    }
    assert!(files.len() >= 4, "{}", files.len());
}

/// Found by the fuzz target `sia_frame` (`fuzz/corpus/sia_frame/encrypted-longer-than-limit`):
/// a plain frame of 235 bytes (CRC field fixed) whose content, encrypted and hex-encoded, makes
/// a frame longer than the receiver's default 1024-byte limit. The default decoder refuses
/// that frame as too long; a decoder whose limit admits it opens it to the same content.
#[test]
fn encrypted_copy_of_a_long_plain_frame_exceeds_the_default_limit() {
    use rand::SeedableRng;
    use xiaoan_sia::{DEFAULT_MAX_FRAME_LEN, DecodeError, Decoder, Request, open};
    let data = corpus("sia_frame")
        .into_iter()
        .find(|(name, _)| name == "encrypted-longer-than-limit")
        .unwrap()
        .1;
    let fixed = xiaoan_sia::fuzzing::with_fixed_crc(&data).unwrap();
    let parsed = parse_datagram(&fixed).unwrap();
    let key = xiaoan_sia::fuzzing::keys().remove(0);
    let content = open(&parsed, Some(&key)).unwrap();
    let request = Request {
        token: parsed.token.clone(),
        header: parsed.header.clone(),
        content: content.clone(),
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let bytes = request.encode_encrypted(&key, &mut rng).unwrap();
    assert!(bytes.len() > DEFAULT_MAX_FRAME_LEN, "{}", bytes.len());
    assert!(matches!(
        parse_datagram(&bytes),
        Err(DecodeError::TooLong { .. })
    ));
    let again = Decoder::with_max_frame_len(bytes.len())
        .parse_datagram(&bytes)
        .unwrap();
    assert_eq!(open(&again, Some(&key)).unwrap(), content);
    frame(&data);
}
