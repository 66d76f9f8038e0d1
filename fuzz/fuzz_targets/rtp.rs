//! RTP packets and RFC 4571 TCP framing, then the reorder buffer and the PS demuxer: framing
//! independent of chunking, packets and frames round trip. Properties in
//! `xiaoan_ps::fuzzing::rtp_stream`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = xiaoan_ps::fuzzing::rtp_stream(data);
});
