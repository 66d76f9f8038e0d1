//! Replays every file of `fuzz/corpus/parse/` (seeded with the golden bodies of `testdata/`,
//! plus any fuzzer findings) through the same calls as the fuzz target: nothing may panic,
//! what decodes re-encodes to a body that decodes, and the golden seeds must decode.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use xiaoan_manscdp::{Charset, Payload, PtzCmd, decode, detect_charset};

fn check(data: &[u8]) {
    let _ = detect_charset(data);
    let _ = PtzCmd::parse(&String::from_utf8_lossy(data));
    if let Ok(body) = decode(data) {
        if let Payload::Alarm(alarm) = &body.payload {
            let _ = alarm.classify();
        }
        for charset in [Charset::Gb18030, Charset::Utf8] {
            if let Ok(bytes) = body.encode(charset) {
                let again = decode(&bytes).unwrap();
                assert_eq!((again.root, again.sn), (body.root, body.sn));
                assert_eq!(again.payload.cmd_type(), body.payload.cmd_type());
            }
        }
    }
}

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
    for entry in std::fs::read_dir(root.join("fuzz/corpus/parse")).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if golden.contains(&name) {
            assert!(decode(&data).is_ok(), "{name}");
        }
        check(&data);
        seen += 1;
    }
    assert!(seen >= golden.len(), "{seen}");
}
