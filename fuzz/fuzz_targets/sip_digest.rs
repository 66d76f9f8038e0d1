//! SIP digest headers: arbitrary bytes as `WWW-Authenticate` and `Authorization` values; parse →
//! print → parse, and answering a parsed challenge checks. Properties in
//! `xiaoan_sip::fuzzing::digest`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    xiaoan_sip::fuzzing::digest(data);
});
