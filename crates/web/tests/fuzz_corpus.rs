//! Replays every file of the repository's `fuzz/corpus/web_json/` (the JSON bodies of the API,
//! plus fuzzer findings) through the same calls as the fuzz target `web_json`
//! (`xiaoan_web::fuzzing::request_bodies`): nothing panics and every refusal is a 4xx.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use xiaoan_web::fuzzing::request_bodies;

#[test]
fn replay_corpus() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/web_json");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        request_bodies(&data);
        seen += 1;
    }
    assert!(seen >= 9, "{seen}");
}
