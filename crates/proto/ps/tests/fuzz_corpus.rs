//! Replays every file of the repository's `fuzz/corpus/rtp/` and `fuzz/corpus/ps_demux/`
//! (seeded from the golden captures, plus fuzzer findings) through the same calls as the fuzz
//! targets: nothing may panic, and the seeds taken from `testdata/` must yield packets and
//! access units.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use xiaoan_ps::fuzzing::{ps_payloads, rtp_stream};

fn replay(target: &str, run: fn(&[u8]) -> usize) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut seeds = 0;
    for entry in std::fs::read_dir(root.join("../../../fuzz/corpus").join(target)).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let n = run(&data);
        if root.join("testdata").join(format!("{name}.rtp")).exists() {
            assert!(n > 0, "{target}/{name}");
            seeds += 1;
        }
    }
    assert_eq!(seeds, 4, "{target}");
}

#[test]
fn replay_rtp_corpus() {
    replay("rtp", rtp_stream);
}

#[test]
fn replay_demux_corpus() {
    replay("ps_demux", ps_payloads);
}
