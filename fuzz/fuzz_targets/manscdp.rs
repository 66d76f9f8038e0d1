//! MANSCDP XML bodies (UTF-8 / GB18030) and PTZCmd: decode → encode → decode, both charsets.
//! Properties in `xiaoan_manscdp::fuzzing::body`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    xiaoan_manscdp::fuzzing::body(data);
});
