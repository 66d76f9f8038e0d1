//! Encoding: declaration and charset, escaping, every message the platform and a device
//! simulator send, root checks, and splitting a catalog under a byte budget.
#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use xiaoan_manscdp::{
    AlarmMethod, AlarmMethods, AlarmNotify, AlarmQuery, Body, Catalog, CatalogItem, Charset,
    ControlCmd, DeviceInfo, DeviceStatus, EncodeError, Guard, OnOff, Payload, PtzCmd, RecordItem,
    RecordList, RecordQuery, Root, decode, encode_catalog, ptz,
};

const ID: &str = "34020000001320000001";

#[test]
fn declaration_and_charset() {
    let mut body = Body::keepalive(5, ID);
    if let Payload::Keepalive(k) = &mut body.payload {
        k.fault_devices.push("设备".into());
    }
    let gb = body.encode(Charset::Gb18030).unwrap();
    assert!(gb.starts_with(
        b"<?xml version=\"1.0\" encoding=\"GB2312\"?>\n<Notify>\n<CmdType>Keepalive</CmdType>"
    ));
    assert!(
        std::str::from_utf8(&gb).is_err(),
        "Chinese text is GB18030 bytes"
    );
    assert!(
        gb.windows(4).any(|w| w == [0xC9, 0xE8, 0xB1, 0xB8]),
        "设备 in GB2312"
    );
    let utf8 = body.encode(Charset::Utf8).unwrap();
    assert!(
        String::from_utf8(utf8.clone())
            .unwrap()
            .starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
    );
    assert_eq!(decode(&gb).unwrap(), body);
    assert_eq!(decode(&utf8).unwrap(), body);
}

#[test]
fn text_is_escaped() {
    let notify = AlarmNotify {
        method: AlarmMethods::single(AlarmMethod::Telephone),
        description: Some("<b>&\"'</b>".into()),
        ..AlarmNotify::default()
    };
    let body = Body::alarm(1, ID, notify);
    let bytes = body.encode(Charset::Utf8).unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.contains("&lt;b&gt;&amp;"), "{text}");
    assert_eq!(decode(&bytes).unwrap(), body);
}

#[test]
fn platform_to_device_messages() {
    let t = |h| {
        NaiveDate::from_ymd_opt(2024, 9, 2)
            .unwrap()
            .and_hms_opt(h, 0, 0)
            .unwrap()
    };
    let bodies = [
        Body::catalog_query(1, ID),
        Body::device_info_query(2, ID),
        Body::device_status_query(3, ID),
        Body::new(
            4,
            ID,
            Payload::RecordInfoQuery(RecordQuery {
                start_time: Some(t(8)),
                end_time: Some(t(9)),
                record_type: Some("all".into()),
                secrecy: Some(0),
                ..RecordQuery::default()
            }),
        ),
        Body::new(
            5,
            ID,
            Payload::AlarmQuery(AlarmQuery {
                start_priority: Some(1),
                end_priority: Some(4),
                alarm_method: Some("0".into()),
                ..AlarmQuery::default()
            }),
        ),
        Body::control(6, ID, ControlCmd::Ptz(PtzCmd::motion(ptz::UP, 0, 0x1F, 0))),
        Body::control(7, ID, ControlCmd::Guard(Guard::Reset)),
        Body::control(
            8,
            ID,
            ControlCmd::ResetAlarm {
                method: Some(AlarmMethods::single(AlarmMethod::Device)),
                alarm_type: None,
            },
        ),
        Body::control(9, ID, ControlCmd::TeleBoot),
        Body::alarm_ack(&Body::alarm(10, ID, AlarmNotify::default())),
    ];
    let roots = [
        Root::Query,
        Root::Query,
        Root::Query,
        Root::Query,
        Root::Query,
        Root::Control,
        Root::Control,
        Root::Control,
        Root::Control,
        Root::Response,
    ];
    for (body, root) in bodies.iter().zip(roots) {
        assert_eq!(body.root, root);
        for cs in [Charset::Gb18030, Charset::Utf8] {
            let bytes = body.encode(cs).unwrap();
            assert_eq!(&decode(&bytes).unwrap(), body);
        }
    }
    let ptz = String::from_utf8(bodies[5].encode(Charset::Utf8).unwrap()).unwrap();
    assert!(ptz.contains("<PTZCmd>A50F0108001F00DC</PTZCmd>"), "{ptz}");
    let q = String::from_utf8(bodies[4].encode(Charset::Utf8).unwrap()).unwrap();
    assert!(
        q.contains("<StartAlarmPriority>1</StartAlarmPriority>"),
        "{q}"
    );
    let reset = String::from_utf8(bodies[7].encode(Charset::Utf8).unwrap()).unwrap();
    assert!(
        reset.contains("<AlarmCmd>ResetAlarm</AlarmCmd>\n<Info>\n<AlarmMethod>2</AlarmMethod>"),
        "{reset}"
    );
}

#[test]
fn device_to_platform_messages() {
    let bodies = [
        Body::keepalive(1, ID),
        Body::alarm(
            2,
            ID,
            AlarmNotify {
                priority: Some(1),
                method: AlarmMethods::from_digits("12"),
                time: NaiveDate::from_ymd_opt(2024, 9, 2)
                    .unwrap()
                    .and_hms_opt(8, 1, 2),
                description: Some("一键报警".into()),
                longitude: Some(109.48),
                latitude: Some(30.28),
                alarm_type: Some(6),
                event_type: Some(1),
            },
        ),
        Body::new(
            3,
            ID,
            Payload::DeviceInfo(DeviceInfo {
                device_name: Some("模拟设备".into()),
                manufacturer: Some("xiaoan".into()),
                channel: Some(2),
                ..DeviceInfo::default()
            }),
        ),
        Body::new(
            4,
            ID,
            Payload::DeviceStatus(DeviceStatus {
                online: Some(true),
                encode: Some(OnOff::On),
                ..DeviceStatus::default()
            }),
        ),
        Body::new(
            5,
            ID,
            Payload::RecordInfo(RecordList {
                name: Some("cam".into()),
                sum_num: 1,
                items: vec![RecordItem {
                    device_id: ID.into(),
                    file_size: Some(1 << 33),
                    ..RecordItem::default()
                }],
            }),
        ),
    ];
    for body in &bodies {
        let bytes = body.encode(Charset::Gb18030).unwrap();
        assert_eq!(&decode(&bytes).unwrap(), body);
    }
    let alarm = String::from_utf8(bodies[1].encode(Charset::Utf8).unwrap()).unwrap();
    assert!(alarm.contains("<AlarmMethod>12</AlarmMethod>"), "{alarm}");
    assert!(
        alarm.contains("<AlarmTime>2024-09-02T08:01:02</AlarmTime>"),
        "{alarm}"
    );
    assert!(
        alarm.contains(
            "<Info>\n<AlarmType>6</AlarmType>\n<AlarmTypeParam>\n<EventType>1</EventType>"
        ),
        "{alarm}"
    );
}

#[test]
fn root_and_field_checks() {
    let mut b = Body::keepalive(1, ID);
    b.root = Root::Query;
    assert!(matches!(
        b.encode(Charset::Utf8),
        Err(EncodeError::RootMismatch { .. })
    ));
    let mut c = Body::new(1, ID, Payload::Catalog(Catalog::default()));
    c.root = Root::Notify;
    assert!(c.encode(Charset::Utf8).is_ok());
    assert_eq!(
        Body::keepalive(1, " ").encode(Charset::Utf8),
        Err(EncodeError::Field("DeviceID"))
    );
    let unknown = Body::new(
        1,
        ID,
        Payload::Unknown {
            cmd_type: "Broadcast".into(),
        },
    );
    assert_eq!(
        decode(&unknown.encode(Charset::Utf8).unwrap()).unwrap(),
        unknown
    );
    let bad = Body::control(
        1,
        ID,
        ControlCmd::Ptz(PtzCmd {
            data3: 16,
            ..PtzCmd::stop()
        }),
    );
    assert_eq!(bad.encode(Charset::Utf8), Err(EncodeError::Field("PTZCmd")));
}

fn items(n: usize) -> Vec<CatalogItem> {
    (0..n)
        .map(|i| CatalogItem {
            name: Some(format!("教学楼摄像机{i}")),
            manufacturer: Some("Hikvision".into()),
            model: Some("DS-2CD3T46".into()),
            civil_code: Some("422802".into()),
            parent_id: Some(ID.into()),
            parental: Some(0),
            status: Some(OnOff::On),
            ..CatalogItem::new(format!("4228020000132{i:07}"))
        })
        .collect()
}

#[test]
fn catalog_split_under_budget() {
    let all = items(25);
    for (budget, cs) in [
        (900, Charset::Gb18030),
        (1100, Charset::Utf8),
        (4000, Charset::Gb18030),
    ] {
        let bodies = encode_catalog(248, ID, &all, cs, budget).unwrap();
        assert!(bodies.len() > 1);
        let mut got = Vec::new();
        for bytes in &bodies {
            assert!(bytes.len() <= budget, "{} > {budget}", bytes.len());
            let b = decode(bytes).unwrap();
            assert_eq!((b.root, b.sn), (Root::Response, 248));
            let Payload::Catalog(c) = b.payload else {
                panic!()
            };
            assert_eq!(c.sum_num, 25);
            assert_eq!(c.num, Some(c.items.len() as u32));
            got.extend(c.items);
        }
        assert_eq!(got, all, "items keep their order, none lost");
        // Greedy: no two neighbouring bodies could have been one.
        assert!(bodies.windows(2).all(|w| w[0].len() + w[1].len() > budget));
    }
    let empty = encode_catalog(1, ID, &[], Charset::Gb18030, 1300).unwrap();
    assert_eq!(empty.len(), 1);
    assert!(matches!(
        encode_catalog(1, ID, &all, Charset::Gb18030, 200),
        Err(EncodeError::TooLarge { .. })
    ));
}
