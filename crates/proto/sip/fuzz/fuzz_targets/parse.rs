//! Fuzz target: arbitrary bytes through the datagram parser, the stream reader (small chunks,
//! small size limit), every typed accessor, digest parsing and checking, and the transaction
//! tables (`xiaoan_sip::fuzzing::exercise`, also replayed by tests/fuzz_corpus.rs). Nothing may
//! panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    xiaoan_sip::fuzzing::exercise(data);
});
