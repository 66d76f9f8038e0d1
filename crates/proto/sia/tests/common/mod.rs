//! Shared helpers for the integration tests: loading golden vectors from `testdata/`.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;

pub fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

/// Lines of an escaped-text vector file (`\n`, `\r`, `\\`, `\xHH`), comments skipped.
pub fn escaped_frames(name: &str) -> Vec<Vec<u8>> {
    let text = std::fs::read_to_string(testdata(name)).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(unescape)
        .collect()
}

pub fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            match b[i + 1] {
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b'\\' => out.push(b'\\'),
                b'x' => {
                    out.push(u8::from_str_radix(&s[i + 2..i + 4], 16).unwrap());
                    i += 2;
                }
                other => panic!("bad escape \\{}", other as char),
            }
            i += 2;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

pub struct HexVector {
    pub name: String,
    pub key_hex: Option<String>,
    pub bytes: Vec<u8>,
}

/// `name | key-hex-or-- | frame-hex` lines.
pub fn hex_vectors(name: &str) -> Vec<HexVector> {
    let text = std::fs::read_to_string(testdata(name)).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let parts: Vec<&str> = l.split('|').map(str::trim).collect();
            assert_eq!(parts.len(), 3, "{l}");
            HexVector {
                name: parts[0].to_owned(),
                key_hex: (parts[1] != "-").then(|| parts[1].to_owned()),
                bytes: hex::decode(parts[2]).unwrap(),
            }
        })
        .collect()
}
