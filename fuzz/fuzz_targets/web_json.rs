//! HTTP JSON request bodies: arbitrary bytes as the body of every route that takes one, decoded
//! and checked as the handlers do; every refusal is a 4xx. Body in
//! `xiaoan_web::fuzzing::request_bodies`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    xiaoan_web::fuzzing::request_bodies(data);
});
