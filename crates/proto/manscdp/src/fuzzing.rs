//! The body of the fuzz target `manscdp` (in the repository's `fuzz/` crate), shared with the
//! corpus-replay test so both run the same calls and check the same properties. Hidden from
//! the docs; not an API.

use crate::{Charset, Payload, PtzCmd, decode, decode_with_charset, detect_charset};

/// Target `manscdp`: `data` through the charset detection, the body decoder and the PTZCmd
/// parser. A decoded body re-encodes (in both charsets) to bytes that decode to the same root,
/// SN and CmdType; when they are read back in the charset they were written in, those bytes
/// are a fixed point of decode → encode. (GB18030 bytes that are also valid UTF-8 made of CJK
/// characters are read as UTF-8, by the charset rule; only mojibake text encodes to such
/// bytes.) A parsed PTZCmd prints to the same command.
pub fn body(data: &[u8]) {
    let _ = detect_charset(data);
    if let Ok(cmd) = PtzCmd::parse(&String::from_utf8_lossy(data)) {
        assert_eq!(
            PtzCmd::parse(&cmd.to_string()),
            Ok(cmd),
            "PTZCmd round trip"
        );
    }
    let Ok(body) = decode(data) else {
        return;
    };
    let _ = body.payload.cmd_type();
    if let Payload::Alarm(alarm) = &body.payload {
        let _ = alarm.classify();
    }
    for charset in [Charset::Gb18030, Charset::Utf8] {
        let Ok(bytes) = body.encode(charset) else {
            continue;
        };
        let (again, read_as) = decode_with_charset(&bytes).expect("an encoded body decodes");
        assert_eq!((again.root, again.sn), (body.root, body.sn));
        assert_eq!(again.payload.cmd_type(), body.payload.cmd_type());
        if read_as == charset {
            let twice = again.encode(charset).expect("a decoded body encodes again");
            assert_eq!(twice, bytes, "encode(decode(encode(b))) == encode(b)");
        }
    }
}
