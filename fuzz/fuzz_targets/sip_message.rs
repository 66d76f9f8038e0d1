//! SIP messages: arbitrary bytes as a datagram and the front of a stream, through every typed
//! accessor and the transaction tables; encode(parse(x)) parses again to the same bytes.
//! Properties in `xiaoan_sip::fuzzing::message`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    xiaoan_sip::fuzzing::message(data);
});
