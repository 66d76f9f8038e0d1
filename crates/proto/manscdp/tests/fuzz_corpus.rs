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

/// Found by the fuzz target `manscdp` (`fuzz/corpus/manscdp/gb18030-mojibake-reads-as-utf8`): a
/// Catalog whose broken bytes make the whole body GB18030, so its UTF-8 Chinese names decode
/// as mojibake. Written back in GB18030, that mojibake is exactly the UTF-8 bytes of the real
/// names, which the charset rule reads as UTF-8: the round trip recovers the real names instead
/// of the mojibake. Written in UTF-8 the body is a fixed point.
#[test]
fn gb18030_mojibake_reads_back_as_utf8() {
    use xiaoan_manscdp::{Charset, Payload, decode_with_charset};
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let data =
        std::fs::read(root.join("../../../fuzz/corpus/manscdp/gb18030-mojibake-reads-as-utf8"))
            .unwrap();
    let (parsed, charset) = decode_with_charset(&data).unwrap();
    assert_eq!(charset, Charset::Gb18030);
    let name = |b: &xiaoan_manscdp::body::Body| match &b.payload {
        Payload::Catalog(c) => c.items[0].name.clone().unwrap(),
        other => panic!("{other:?}"),
    };
    assert_ne!(name(&parsed), "恩施市教育局 & 安保");
    let gb = parsed.encode(Charset::Gb18030).unwrap();
    let (again, read_as) = decode_with_charset(&gb).unwrap();
    assert_eq!(read_as, Charset::Utf8);
    assert_eq!(name(&again), "恩施市教育局 & 安保");
    let utf8 = parsed.encode(Charset::Utf8).unwrap();
    let (again, read_as) = decode_with_charset(&utf8).unwrap();
    assert_eq!(read_as, Charset::Utf8);
    assert_eq!(again.encode(Charset::Utf8).unwrap(), utf8);
    body(&data);
}
