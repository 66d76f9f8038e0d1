//! Decoder behaviour: the charset rule, lenient declarations and names, required fields,
//! errors with position and context, limits.
#![allow(clippy::unwrap_used)]

use xiaoan_manscdp::{
    Charset, DecodeError, MAX_BODY_LEN, Payload, decode, decode_with_charset, detect_charset,
};

const BODY: &str = "<Notify><CmdType>Keepalive</CmdType><SN>1</SN><DeviceID>34020000001320000001</DeviceID><Status>OK</Status><Info><DeviceID>中文</DeviceID></Info></Notify>";

fn with_decl(decl: &str, charset: &'static encoding_rs::Encoding) -> Vec<u8> {
    let text = format!("{decl}\n{BODY}");
    charset.encode(&text).0.into_owned()
}

fn fault(bytes: &[u8]) -> String {
    match decode(bytes).unwrap().payload {
        Payload::Keepalive(k) => k.fault_devices.join(","),
        other => panic!("{other:?}"),
    }
}

#[test]
fn charset_rule() {
    let gb = encoding_rs::GB18030;
    let utf8 = encoding_rs::UTF_8;
    // GB18030 bytes under a GB declaration.
    for label in ["GB2312", "gb2312", "GBK", "GB18030"] {
        let bytes = with_decl(&format!("<?xml version=\"1.0\" encoding=\"{label}\"?>"), gb);
        assert_eq!(detect_charset(&bytes), Charset::Gb18030, "{label}");
        assert_eq!(fault(&bytes), "中文");
    }
    // Short GB text can be valid UTF-8 by chance ("硬" is D3 B2, UTF-8 for "Ӳ"): still GB18030.
    let (hard, _, _) = gb.encode("硬");
    assert!(std::str::from_utf8(&hard).is_ok());
    let mut body = b"<?xml version=\"1.0\" encoding=\"GB2312\"?><Response><CmdType>DeviceInfo</CmdType><SN>1</SN><DeviceID>1</DeviceID><Model>".to_vec();
    body.extend_from_slice(&hard);
    body.extend_from_slice(b"</Model></Response>");
    assert_eq!(detect_charset(&body), Charset::Gb18030);
    // … but a device that declares GB2312 and sends UTF-8 is read as UTF-8 (UTF-8 first).
    let bytes = with_decl("<?xml version=\"1.0\" encoding=\"GB2312\"?>", utf8);
    assert_eq!(detect_charset(&bytes), Charset::Utf8);
    assert_eq!(fault(&bytes), "中文");
    // Missing or broken declaration: valid UTF-8 is UTF-8 …
    for decl in [
        "",
        "<?xml version=\"1.0\" encoding-\"gb2312\"?>",
        "<?xml version=\"1.0\" encoding=\"GB2312\"",
    ] {
        let bytes = with_decl(decl, utf8);
        assert_eq!(detect_charset(&bytes), Charset::Utf8, "{decl}");
        assert_eq!(fault(&bytes), "中文", "{decl}");
    }
    // … and anything else GB18030.
    for decl in [
        "",
        "<?xml version=\"1.0\" encoding-\"gb2312\"?>",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
    ] {
        let bytes = with_decl(decl, gb);
        assert_eq!(detect_charset(&bytes), Charset::Gb18030, "{decl}");
        assert_eq!(fault(&bytes), "中文", "{decl}");
    }
    // A UTF-8 BOM means UTF-8.
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend(with_decl(
        "<?xml version=\"1.0\" encoding=\"GB2312\"?>",
        utf8,
    ));
    let (_, cs) = decode_with_charset(&bytes).unwrap();
    assert_eq!(cs, Charset::Utf8);
    assert_eq!(fault(&bytes), "中文");
}

#[test]
fn lenient_prolog() {
    let cases = [
        format!("junk before \r\n<?xml version=\"1.0\"?>{BODY}"),
        format!("<?xml version='1.0' encoding='UTF-8'?><!-- note <a> --><!DOCTYPE x>{BODY}"),
        format!("<?xml version=\"1.0\" encoding=\"GB2312\">\n{BODY}"),
        format!("< 3 <?XML version=\"1.0\"?>\n{BODY}trailing <junk"),
        format!("{BODY}<Notify>second root ignored</Notify>"),
    ];
    for case in cases {
        assert_eq!(fault(case.as_bytes()), "中文", "{case}");
    }
}

#[test]
fn names_without_regard_to_case_and_unknown_elements_ignored() {
    let body = "<notify><CMDTYPE>alarm</CMDTYPE><sn> 7 </sn><deviceid>34020000001340000001</deviceid>\
                <Vendor><Deep>x</Deep></Vendor><alarmmethod>2</alarmmethod><INFO><alarmtype>2</alarmtype></INFO></notify>";
    let b = decode(body.as_bytes()).unwrap();
    assert_eq!(b.sn, 7);
    assert_eq!(b.cmd_type(), "Alarm");
    let Payload::Alarm(a) = b.payload else {
        panic!()
    };
    assert_eq!(a.alarm_type, Some(2));
}

#[test]
fn mismatched_and_missing_end_tags_tolerated() {
    let body = "<Notify><CmdType>Keepalive</cmdtype><SN>3</Sn><DeviceID>34020000001320000001</DeviceID><Status>OK</Status>";
    let b = decode(body.as_bytes()).unwrap();
    assert_eq!((b.sn, b.cmd_type()), (3, "Keepalive"));
}

#[test]
fn bad_optional_values_count_as_absent() {
    let body = "<Notify><CmdType>Alarm</CmdType><SN>1</SN><DeviceID>x</DeviceID><AlarmPriority>high</AlarmPriority>\
                <AlarmTime>yesterday</AlarmTime><Longitude>NaN</Longitude><AlarmMethod>2</AlarmMethod></Notify>";
    let Payload::Alarm(a) = decode(body.as_bytes()).unwrap().payload else {
        panic!()
    };
    assert_eq!((a.priority, a.time, a.longitude), (None, None, None));
}

#[test]
fn time_forms() {
    for (text, ok) in [
        ("2017-07-19T10:19:14", true),
        ("2017-07-19 10:19:14", true),
        ("2017-07-19T10:19:14.250", true),
        ("2017-07-19T10:19:14+08:00", true),
        ("2017-07-19T10:19:14Z", true),
        ("2017-07-19", false),
    ] {
        let body = format!(
            "<Notify><CmdType>Alarm</CmdType><SN>1</SN><DeviceID>x</DeviceID><AlarmTime>{text}</AlarmTime></Notify>"
        );
        let Payload::Alarm(a) = decode(body.as_bytes()).unwrap().payload else {
            panic!()
        };
        assert_eq!(a.time.is_some(), ok, "{text}");
        if ok {
            assert_eq!(
                a.time.unwrap().format("%H:%M:%S").to_string(),
                "10:19:14",
                "{text}"
            );
        }
    }
}

#[test]
fn errors_have_position_and_context() {
    let e = decode(b"").unwrap_err();
    assert_eq!(e, DecodeError::NoRoot);
    assert_eq!(
        decode(b"<?xml version=\"1.0\"?>   ").unwrap_err(),
        DecodeError::NoRoot
    );
    let e = decode(b"<Foo><CmdType>A</CmdType></Foo>").unwrap_err();
    assert!(
        matches!(e, DecodeError::UnknownRoot { position: 0, .. }),
        "{e:?}"
    );
    let e = decode(b"  <Notify><SN>1</SN><DeviceID>x</DeviceID></Notify>").unwrap_err();
    assert_eq!((e.context(), e.position()), ("body > CmdType", 2));
    let e = decode(b"<Notify><CmdType>A</CmdType><DeviceID>x</DeviceID></Notify>").unwrap_err();
    assert_eq!(e.context(), "body > SN");
    let body = b"<Notify><CmdType>A</CmdType><SN>12a</SN><DeviceID>x</DeviceID></Notify>";
    let e = decode(body).unwrap_err();
    assert_eq!((e.context(), e.position()), ("body > SN", 28));
    assert!(e.to_string().contains("12a"), "{e}");
    let e = decode(b"<Notify><CmdType>A</CmdType><SN>1</SN><DeviceID> </DeviceID></Notify>")
        .unwrap_err();
    assert_eq!(e.context(), "body > DeviceID");
    let e = decode(b"<Notify><CmdType>A</CmdType><SN>1</SN><!-- unterminated").unwrap_err();
    assert!(matches!(e, DecodeError::Xml { .. }), "{e:?}");
    let bad_ptz = b"<Control><CmdType>DeviceControl</CmdType><SN>1</SN><DeviceID>x</DeviceID><PTZCmd>A50F0100000000B6</PTZCmd></Control>";
    let e = decode(bad_ptz).unwrap_err();
    assert_eq!(e.context(), "Control > PTZCmd");
    assert_eq!(e.position(), 73, "the <PTZCmd> start tag");
}

#[test]
fn limits() {
    let big = vec![b' '; MAX_BODY_LEN + 1];
    assert!(matches!(decode(&big), Err(DecodeError::TooLarge { .. })));
    let deep = format!("<Notify>{}", "<a>".repeat(100));
    assert!(matches!(
        decode(deep.as_bytes()),
        Err(DecodeError::TooComplex { .. })
    ));
}

#[test]
fn known_cmd_type_under_an_unexpected_root_is_unknown() {
    let b =
        decode(b"<Control><CmdType>Keepalive</CmdType><SN>1</SN><DeviceID>x</DeviceID></Control>")
            .unwrap();
    assert_eq!(
        b.payload,
        Payload::Unknown {
            cmd_type: "Keepalive".into()
        }
    );
}
