//! Fuzz target: arbitrary bytes through the body decoder, the charset detection and the
//! PTZCmd parser; whatever decodes must re-encode (both charsets) to a body that decodes to
//! the same header. Nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xiaoan_manscdp::{Charset, PtzCmd, decode, detect_charset};

fuzz_target!(|data: &[u8]| {
    let _ = detect_charset(data);
    let _ = PtzCmd::parse(&String::from_utf8_lossy(data));
    if let Ok(body) = decode(data) {
        let _ = body.payload.cmd_type();
        if let xiaoan_manscdp::Payload::Alarm(alarm) = &body.payload {
            let _ = alarm.classify();
        }
        for charset in [Charset::Gb18030, Charset::Utf8] {
            if let Ok(bytes) = body.encode(charset) {
                let again = decode(&bytes).expect("an encoded body decodes");
                assert_eq!((again.root, again.sn), (body.root, body.sn));
                assert_eq!(again.payload.cmd_type(), body.payload.cmd_type());
            }
        }
    }
});
