//! Golden bodies from `testdata/` (see `testdata/README.md` for where each comes from): each
//! decodes to the expected typed payload, and re-encodes to a body that decodes the same.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use chrono::NaiveDate;
use xiaoan_manscdp::{
    AlarmKind, AlarmMethod, AlarmMethods, Body, Charset, ControlCmd, DeviceKind, Guard, OnOff,
    Outcome, Payload, PtzCmd, Root, Route, decode, decode_with_charset, ptz,
};

fn read(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name);
    std::fs::read(&path).unwrap()
}

fn golden(name: &str) -> (Body, Charset) {
    let (body, charset) = decode_with_charset(&read(name)).unwrap();
    // Whatever decodes re-encodes, in both charsets, to the same body.
    for cs in [Charset::Gb18030, Charset::Utf8] {
        if let Ok(bytes) = body.encode(cs) {
            assert_eq!(decode(&bytes).unwrap(), body, "{name} via {cs:?}");
        }
    }
    (body, charset)
}

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> chrono::NaiveDateTime {
    NaiveDate::from_ymd_opt(y, mo, d)
        .unwrap()
        .and_hms_opt(h, mi, s)
        .unwrap()
}

#[test]
fn hikvision_alarm_with_broken_declaration() {
    let (body, charset) = golden("hikvision-alarm-gb2312.xml");
    // ASCII bytes under a (broken) GB2312 declaration: reported as GB18030 so an answer mirrors
    // it (the text is the same either way).
    assert_eq!(charset, Charset::Gb18030);
    assert_eq!(body.root, Root::Notify);
    assert_eq!(body.sn, 51);
    assert_eq!(body.device_id, "31010000001340000001");
    assert_eq!(
        DeviceKind::of_id(&body.device_id),
        Some(DeviceKind::AlarmInput)
    );
    let Payload::Alarm(alarm) = &body.payload else {
        panic!("{body:?}")
    };
    assert_eq!(alarm.priority, Some(4));
    assert_eq!(alarm.method, AlarmMethods::single(AlarmMethod::Device));
    assert_eq!(alarm.time, Some(at(2017, 7, 19, 10, 19, 14)));
    assert_eq!(alarm.longitude, Some(0.0));
    assert_eq!(alarm.alarm_type, None);
    let c = alarm.classify();
    assert_eq!(c.kind, AlarmKind::DeviceAlarm);
    assert_eq!(c.route, Route::Incident);
    assert_eq!(c.priority, 4, "the device's priority overrides the default");
    // The platform's acknowledgement echoes SN and DeviceID.
    let ack = Body::alarm_ack(&body);
    let bytes = ack.encode(Charset::Gb18030).unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(
        text.starts_with("<?xml version=\"1.0\" encoding=\"GB2312\"?>"),
        "{text}"
    );
    assert!(text.contains("<Result>OK</Result>"));
    let back = decode(&bytes).unwrap();
    assert_eq!(back.root, Root::Response);
    assert_eq!(
        (back.sn, back.device_id.as_str()),
        (51, "31010000001340000001")
    );
}

#[test]
fn hikvision_alarm_gb2312_bytes_and_combined_method() {
    let bytes = read("hikvision-alarm-gb2312-description.xml");
    assert!(
        std::str::from_utf8(&bytes).is_err(),
        "the file must be GB2312 bytes"
    );
    let (body, charset) = golden("hikvision-alarm-gb2312-description.xml");
    assert_eq!(charset, Charset::Gb18030);
    let Payload::Alarm(alarm) = &body.payload else {
        panic!("{body:?}")
    };
    assert_eq!(
        alarm.description.as_deref(),
        Some("一键报警 教学楼一层东侧")
    );
    assert_eq!(alarm.method.to_digits(), "12");
    let c = alarm.classify();
    assert_eq!(c.kind, AlarmKind::Telephone);
    assert_eq!(c.method, Some(AlarmMethod::Telephone));
    assert_eq!((c.route, c.priority), (Route::Incident, 1));
}

#[test]
fn keepalive_utf8() {
    let (body, charset) = golden("keepalive-utf8.xml");
    assert_eq!(charset, Charset::Utf8);
    assert_eq!((body.root, body.sn), (Root::Notify, 1563));
    assert_eq!(body.device_id, "34020000001320000264");
    let Payload::Keepalive(k) = &body.payload else {
        panic!()
    };
    assert_eq!(k.status, Some(Outcome::Ok));
    assert!(k.fault_devices.is_empty());
}

#[test]
fn broken_declaration_junk_and_case() {
    let (body, _) = golden("broken-declaration-keepalive.xml");
    assert_eq!(body.sn, 9);
    assert_eq!(body.cmd_type(), "Keepalive");
    let Payload::Keepalive(k) = &body.payload else {
        panic!()
    };
    assert_eq!(k.status, Some(Outcome::Error));
    assert_eq!(
        k.fault_devices,
        ["34020000001320000002", "34020000001320000003"]
    );
}

#[test]
fn catalog_query_and_response_from_the_standard_examples() {
    let (q, _) = golden("catalog-query-d1.xml");
    assert_eq!(q, Body::catalog_query(248, "34020000001320000001"));
    let (body, charset) = golden("catalog-response-ipc.xml");
    assert_eq!(charset, Charset::Utf8);
    let Payload::Catalog(cat) = &body.payload else {
        panic!()
    };
    assert_eq!((cat.sum_num, cat.num, cat.items.len()), (1, Some(1), 1));
    let item = &cat.items[0];
    assert_eq!(item.name.as_deref(), Some("IPCamera"));
    assert_eq!(item.model.as_deref(), Some("PAN_QZ"));
    assert_eq!(item.civil_code.as_deref(), Some("34020000"));
    assert_eq!(item.ip_address.as_deref(), Some("192.168.1.164"));
    assert_eq!(item.port, Some(80));
    assert_eq!(item.register_way, Some(1));
    assert_eq!(item.status, Some(OnOff::On));
    assert_eq!(item.kind(), DeviceKind::Ipc);
}

#[test]
fn dahua_catalog_gb2312() {
    let (body, charset) = golden("dahua-nvr-catalog-gb2312.xml");
    assert_eq!(charset, Charset::Gb18030);
    assert_eq!(DeviceKind::of_id(&body.device_id), Some(DeviceKind::Nvr));
    let Payload::Catalog(cat) = &body.payload else {
        panic!()
    };
    assert_eq!(cat.sum_num, 3);
    let kinds: Vec<_> = cat.items.iter().map(|i| i.kind()).collect();
    assert_eq!(
        kinds,
        [
            DeviceKind::Ipc,
            DeviceKind::AlarmInput,
            DeviceKind::AlarmOutput
        ]
    );
    assert_eq!(cat.items[0].name.as_deref(), Some("校门口"));
    assert_eq!(cat.items[0].address.as_deref(), Some("恩施市实验小学 南门"));
    assert_eq!(cat.items[0].longitude, Some(109.4869));
    assert_eq!(cat.items[1].name.as_deref(), Some("一键报警 门卫室"));
    assert_eq!(cat.items[1].status, Some(OnOff::Off));
    assert_eq!(cat.items[2].status, Some(OnOff::Off), "offline");
    assert_eq!(
        cat.items[2].parent_id.as_deref(),
        Some("42280200001180000001")
    );
}

#[test]
fn utf8_catalog_notify_with_entities() {
    let (body, charset) = golden("utf8-catalog-notify.xml");
    assert_eq!(charset, Charset::Utf8);
    assert_eq!(body.root, Root::Notify);
    let Payload::Catalog(cat) = &body.payload else {
        panic!()
    };
    assert_eq!(cat.items[0].name.as_deref(), Some("恩施市教育局 & 安保"));
    assert_eq!(cat.items[0].kind(), DeviceKind::BusinessGroup);
    assert_eq!(cat.items[1].kind(), DeviceKind::VirtualOrg);
    assert_eq!(cat.items[1].status, Some(OnOff::On));
    assert_eq!(
        DeviceKind::of_id(&body.device_id),
        Some(DeviceKind::Platform)
    );
}

#[test]
fn dahua_device_info_and_status() {
    let (info, charset) = golden("dahua-nvr-deviceinfo-gb2312.xml");
    assert_eq!(charset, Charset::Gb18030);
    let Payload::DeviceInfo(d) = &info.payload else {
        panic!()
    };
    assert_eq!(d.device_name.as_deref(), Some("教学楼NVR"));
    assert_eq!(d.firmware.as_deref(), Some("V4.001.0000000.3"));
    assert_eq!((d.channel, d.result), (Some(16), Some(Outcome::Ok)));
    let (status, _) = golden("dahua-nvr-devicestatus.xml");
    let Payload::DeviceStatus(s) = &status.payload else {
        panic!()
    };
    assert_eq!(s.online, Some(true));
    assert_eq!(s.status, Some(Outcome::Ok));
    assert_eq!((s.encode, s.record), (Some(OnOff::On), Some(OnOff::Off)));
    assert_eq!(s.device_time, Some(at(2024, 9, 2, 8, 15, 2)));
    assert_eq!(s.alarm_status.len(), 1);
    assert_eq!(s.alarm_status[0].duty_status.as_deref(), Some("ONDUTY"));
}

#[test]
fn video_motion_alarm() {
    let (body, _) = golden("video-motion-alarm.xml");
    let Payload::Alarm(a) = &body.payload else {
        panic!()
    };
    assert_eq!((a.alarm_type, a.event_type), (Some(2), Some(1)));
    let c = a.classify();
    assert_eq!(
        (c.kind, c.route, c.priority),
        (AlarmKind::Motion, Route::Incident, 4)
    );
}

#[test]
fn wvp_control_bodies() {
    let (ptz_body, _) = golden("wvp-ptz-left.xml");
    assert_eq!(ptz_body.root, Root::Control);
    assert_eq!(
        ptz_body.payload,
        Payload::DeviceControl(ControlCmd::Ptz(PtzCmd::motion(ptz::LEFT, 0x1F, 0, 0)))
    );
    let (guard, _) = golden("wvp-guard-set.xml");
    assert_eq!(
        guard.payload,
        Payload::DeviceControl(ControlCmd::Guard(Guard::Set))
    );
    let (reset, _) = golden("wvp-reset-alarm.xml");
    assert_eq!(
        reset.payload,
        Payload::DeviceControl(ControlCmd::ResetAlarm {
            method: Some(AlarmMethods::single(AlarmMethod::Device)),
            alarm_type: None
        })
    );
}

#[test]
fn wvp_queries() {
    let (sub, _) = golden("wvp-alarm-subscribe.xml");
    let Payload::AlarmQuery(q) = &sub.payload else {
        panic!()
    };
    assert_eq!((q.start_priority, q.end_priority), (Some(1), Some(4)));
    assert_eq!(q.alarm_method.as_deref(), Some("0"));
    assert_eq!(q.end_time, Some(at(2024, 9, 30, 23, 59, 59)));
    let (rec, _) = golden("wvp-recordinfo-query.xml");
    let Payload::RecordInfoQuery(r) = &rec.payload else {
        panic!()
    };
    assert_eq!(r.start_time, Some(at(2024, 9, 2, 8, 0, 0)));
    assert_eq!(r.record_type.as_deref(), Some("all"));
    assert_eq!(r.secrecy, Some(0));
}

#[test]
fn unknown_cmd_type_is_kept() {
    let (body, _) = golden("unknown-cmdtype-mobileposition.xml");
    assert_eq!(
        body.payload,
        Payload::Unknown {
            cmd_type: "MobilePosition".into()
        }
    );
    assert_eq!(body.sn, 4);
}
