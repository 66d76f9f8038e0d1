//! Replays every file of the repository's `fuzz/corpus/sip_message/` (seeded with the golden
//! captures, plus fuzzer findings), `sip_stream/` and `sip_digest/` through the same calls as
//! the fuzz targets (`xiaoan_sip::fuzzing`): nothing may panic, every property holds, and the
//! seeds taken from `testdata/` must parse.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use xiaoan_sip::fuzzing::{digest, message, stream};
use xiaoan_sip::parse_datagram;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = root().join("../../../fuzz/corpus").join(target);
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
fn replay_message_corpus() {
    let golden: Vec<String> = std::fs::read_dir(root().join("testdata"))
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "sip").then(|| p.file_stem().unwrap().to_string_lossy().into_owned())
        })
        .collect();
    let files = corpus("sip_message");
    for (name, data) in &files {
        if golden.contains(name) {
            let parsed = parse_datagram(data);
            assert!(parsed.is_ok(), "{name}: {parsed:?}");
        }
        message(data);
    }
    assert!(files.len() >= golden.len(), "{}", files.len());
}

#[test]
fn replay_stream_corpus() {
    let files = corpus("sip_stream");
    for (_, data) in &files {
        stream(data);
    }
    assert!(files.len() >= 5, "{}", files.len());
}

#[test]
fn replay_digest_corpus() {
    let files = corpus("sip_digest");
    for (_, data) in &files {
        digest(data);
    }
    assert!(files.len() >= 5, "{}", files.len());
}

/// Found by the fuzz target `sip_digest` (`fuzz/corpus/sip_digest/algorithm-with-angle-bracket`):
/// an unquoted `<` in a digest parameter opened an angle bracket for the splitter (as in a
/// Contact), so the `,` after it did not separate and the following parameters (`qop=` here)
/// were swallowed into its value.
#[test]
fn unquoted_angle_bracket_does_not_swallow_the_next_parameter() {
    use xiaoan_sip::Challenge;
    let c =
        Challenge::parse("Digest realm=\"3402000000\", nonce=\"n\", algorithm=MD<5, qop=\"auth\"")
            .unwrap();
    assert_eq!(c.algorithm.as_deref(), Some("MD<5"));
    assert_eq!(c.qop.as_deref(), Some("auth"));
    let data =
        std::fs::read(root().join("../../../fuzz/corpus/sip_digest/algorithm-with-angle-bracket"))
            .unwrap();
    digest(&data);
}
