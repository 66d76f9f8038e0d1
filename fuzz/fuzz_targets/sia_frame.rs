//! DC-09 frames: arbitrary bytes as a UDP datagram and a TCP stream (as is and with the CRC
//! field fixed so the parser is reached), decrypted with fixed AES-128/192/256 keys, and as the
//! plaintext of an encrypted frame. Properties in `xiaoan_sia::fuzzing::frame`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    xiaoan_sia::fuzzing::frame(data);
});
