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
