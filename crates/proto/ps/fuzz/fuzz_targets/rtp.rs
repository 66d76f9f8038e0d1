//! Fuzz target: arbitrary bytes as an RFC 4571 TCP stream of RTP packets, through the
//! reader, the packet parser and encoder, the reorder buffer and the demuxer. Nothing may
//! panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    xiaoan_ps::fuzzing::rtp_stream(data);
});
