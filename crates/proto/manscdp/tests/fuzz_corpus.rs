//! Replays every file of the repository's `fuzz/corpus/manscdp/` (seeded with the golden
//! bodies of `testdata/`, plus fuzzer findings) through the same calls as the fuzz target
//! (`xiaoan_manscdp::fuzzing::body`): nothing may panic, every property holds, and the golden
//! seeds must decode.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use xiaoan_manscdp::decode;
use xiaoan_manscdp::fuzzing::body;

#[test]
fn replay_corpus() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let golden: Vec<String> = std::fs::read_dir(root.join("testdata"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.strip_suffix(".xml").map(str::to_owned)
        })
        .collect();
    let mut seen = 0;
    for entry in std::fs::read_dir(root.join("../../../fuzz/corpus/manscdp")).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if golden.contains(&name) {
            assert!(decode(&data).is_ok(), "{name}");
        }
        body(&data);
        seen += 1;
    }
    assert!(seen >= golden.len(), "{seen}");
}
