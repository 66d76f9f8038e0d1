//! Fuzz target: arbitrary bytes as PS payloads (the first byte picks the payload size)
//! through the demuxer. Nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    xiaoan_ps::fuzzing::ps_payloads(data);
});
