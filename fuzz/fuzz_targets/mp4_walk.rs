//! The fMP4 walk of the recording start-up check (`xiaoan_record::boxes::walk`): arbitrary bytes
//! as a segment file found on disk after a crash. What it reports lies inside the file, and the
//! file cut to its complete length (what the check truncates it to) walks to the same result,
//! so a second check after another crash changes nothing.
//!
//! `boxes.rs` has no imports; it is compiled here on its own so that the fuzz build does not
//! pull in the recorder's storage and runtime.
#![no_main]

#[path = "../../crates/io/record/src/boxes.rs"]
#[allow(dead_code)]
mod boxes;

use boxes::walk;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let w = walk(data);
    assert!(
        w.init_len <= w.complete_len,
        "init {} > complete {}",
        w.init_len,
        w.complete_len
    );
    assert!(
        w.complete_len <= data.len(),
        "complete {} > file",
        w.complete_len
    );
    assert!(
        w.fragments.is_empty() || w.init_len > 0,
        "fragments without an init"
    );
    for f in &w.fragments {
        let size: u64 = f.samples.iter().map(|s| u64::from(s.size)).sum();
        let end = (f.data_start as u64).saturating_add(size);
        assert!(end <= w.complete_len as u64, "fragment data ends at {end}");
    }
    let _ = (w.frames(), w.end_dts());
    let cut = data.get(..w.complete_len).unwrap_or_default();
    assert_eq!(
        walk(cut),
        w,
        "walking the truncated file changes the result"
    );
});
