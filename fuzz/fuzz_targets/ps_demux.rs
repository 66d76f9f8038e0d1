//! The MPEG-PS demuxer: arbitrary bytes as RTP payloads of a size the first byte picks.
//! Body in `xiaoan_ps::fuzzing::ps_payloads`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = xiaoan_ps::fuzzing::ps_payloads(data);
});
