//! The SIP TCP framer: arbitrary bytes as a stream, independent of chunking; re-encoded messages
//! frame again. Properties in `xiaoan_sip::fuzzing::stream`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    xiaoan_sip::fuzzing::stream(data);
});
