//! Contact ID and SIA DC-03 event data: arbitrary bytes as the data block of `SIA-DCS`,
//! `ADM-CID` and `NULL`. Properties in `xiaoan_sia::fuzzing::events`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    xiaoan_sia::fuzzing::events(data);
});
