//! Replays every file of `fuzz/corpus/parse/` (seeded with the golden captures, plus any fuzzer
//! findings) through the same calls as the fuzz target: nothing may panic, and the seeds taken
//! from `testdata/` must parse.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use xiaoan_sip::fuzzing::exercise as check;
use xiaoan_sip::parse_datagram;

#[test]
fn replay_corpus() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let golden: Vec<String> = std::fs::read_dir(root.join("testdata"))
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "sip").then(|| p.file_stem().unwrap().to_string_lossy().into_owned())
        })
        .collect();
    let mut seen = 0;
    for entry in std::fs::read_dir(root.join("fuzz/corpus/parse")).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if golden.contains(&name) {
            let parsed = parse_datagram(&data);
            assert!(parsed.is_ok(), "{name}: {parsed:?}");
        }
        check(&data);
        seen += 1;
    }
    assert!(seen >= golden.len(), "{seen}");
}
