//! Property tests: encode → decode round trips for every payload in both charsets, and
//! arbitrary bytes (and mutated golden bodies) never panic the decoder.
#![allow(clippy::unwrap_used)]

use chrono::{NaiveDate, NaiveDateTime};
use proptest::prelude::*;
use xiaoan_manscdp::{
    AlarmMethods, AlarmNotify, AlarmQuery, AlarmStatusItem, Body, Catalog, CatalogItem, Charset,
    ControlCmd, DeviceInfo, DeviceStatus, Guard, Keepalive, OnOff, Outcome, Payload, PtzCmd,
    RecordItem, RecordList, RecordQuery, decode, detect_charset,
};

/// Text as devices send it: ASCII, CJK and XML specials; trimmed and non-empty (the decoder
/// trims and treats empty text as absent).
fn text() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-zA-Z0-9 _.:/<>&\"'一-龥，。]{1,16}")
        .unwrap()
        .prop_map(|s| s.trim().to_owned())
        .prop_filter("non-empty", |s| !s.is_empty())
}

fn opt_text() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(text())
}

fn id() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[0-9]{20}").unwrap()
}

fn time() -> impl Strategy<Value = NaiveDateTime> {
    (
        2000i32..2100,
        1u32..=12,
        1u32..=28,
        0u32..24,
        0u32..60,
        0u32..60,
    )
        .prop_map(|(y, mo, d, h, mi, s)| {
            NaiveDate::from_ymd_opt(y, mo, d)
                .unwrap()
                .and_hms_opt(h, mi, s)
                .unwrap()
        })
}

fn coord() -> impl Strategy<Value = Option<f64>> {
    proptest::option::of(-180.0f64..180.0)
}

fn outcome() -> impl Strategy<Value = Option<Outcome>> {
    proptest::option::of(prop_oneof![Just(Outcome::Ok), Just(Outcome::Error)])
}

fn onoff() -> impl Strategy<Value = Option<OnOff>> {
    proptest::option::of(prop_oneof![Just(OnOff::On), Just(OnOff::Off)])
}

fn methods() -> impl Strategy<Value = AlarmMethods> {
    (1u8..128).prop_map(|bits| {
        AlarmMethods::from_digits(
            &(1..=7u8)
                .filter(|d| bits & (1 << (d - 1)) != 0)
                .map(|d| char::from(b'0' + d))
                .collect::<String>(),
        )
    })
}

fn item() -> impl Strategy<Value = CatalogItem> {
    (
        id(),
        (opt_text(), opt_text(), opt_text(), opt_text(), opt_text()),
        (
            opt_text(),
            proptest::option::of(0u8..2),
            proptest::option::of(id()),
        ),
        (
            proptest::option::of(0u8..4),
            proptest::option::of(0u8..2),
            opt_text(),
        ),
        (
            proptest::option::of(any::<u16>()),
            onoff(),
            coord(),
            coord(),
        ),
    )
        .prop_map(|(device_id, a, b, c, d)| CatalogItem {
            device_id,
            name: a.0,
            manufacturer: a.1,
            model: a.2,
            owner: a.3,
            civil_code: a.4,
            address: b.0,
            parental: b.1,
            parent_id: b.2,
            safety_way: None,
            register_way: c.0,
            secrecy: c.1,
            ip_address: c.2,
            port: d.0,
            status: d.1,
            longitude: d.2,
            latitude: d.3,
        })
}

fn record_item() -> impl Strategy<Value = RecordItem> {
    (
        id(),
        opt_text(),
        opt_text(),
        proptest::option::of(time()),
        proptest::option::of(time()),
        opt_text(),
        proptest::option::of(any::<u64>()),
    )
        .prop_map(
            |(device_id, name, file_path, start_time, end_time, record_type, file_size)| {
                RecordItem {
                    device_id,
                    name,
                    file_path,
                    start_time,
                    end_time,
                    record_type,
                    file_size,
                    ..RecordItem::default()
                }
            },
        )
}

fn payload() -> impl Strategy<Value = Payload> {
    prop_oneof![
        (outcome(), proptest::collection::vec(id(), 0..3)).prop_map(|(status, fault_devices)| {
            Payload::Keepalive(Keepalive {
                status,
                fault_devices,
            })
        }),
        Just(Payload::CatalogQuery),
        (any::<u32>(), proptest::collection::vec(item(), 0..4)).prop_map(|(sum_num, items)| {
            Payload::Catalog(Catalog {
                sum_num,
                num: Some(items.len() as u32),
                items,
            })
        }),
        Just(Payload::DeviceInfoQuery),
        (
            outcome(),
            opt_text(),
            opt_text(),
            opt_text(),
            opt_text(),
            proptest::option::of(any::<u32>())
        )
            .prop_map(
                |(result, device_name, manufacturer, model, firmware, channel)| {
                    Payload::DeviceInfo(DeviceInfo {
                        result,
                        device_name,
                        manufacturer,
                        model,
                        firmware,
                        channel,
                    })
                }
            ),
        Just(Payload::DeviceStatusQuery),
        (
            outcome(),
            proptest::option::of(any::<bool>()),
            outcome(),
            opt_text(),
            onoff(),
            onoff(),
            proptest::option::of(time()),
            proptest::collection::vec((id(), opt_text()), 0..3)
        )
            .prop_map(
                |(result, online, status, reason, encode, record, device_time, alarms)| {
                    Payload::DeviceStatus(DeviceStatus {
                        result,
                        online,
                        status,
                        reason,
                        encode,
                        record,
                        device_time,
                        alarm_status: alarms
                            .into_iter()
                            .map(|(device_id, duty_status)| AlarmStatusItem {
                                device_id,
                                duty_status,
                            })
                            .collect(),
                    })
                }
            ),
        (
            proptest::option::of(1u8..=4),
            methods(),
            proptest::option::of(time()),
            opt_text(),
            coord(),
            coord(),
            proptest::option::of(0u32..20),
            proptest::option::of(0u32..3)
        )
            .prop_map(
                |(
                    priority,
                    method,
                    time,
                    description,
                    longitude,
                    latitude,
                    alarm_type,
                    event_type,
                )| {
                    Payload::Alarm(AlarmNotify {
                        priority,
                        method,
                        time,
                        description,
                        longitude,
                        latitude,
                        alarm_type,
                        event_type,
                    })
                }
            ),
        (
            proptest::option::of(1u8..=4),
            proptest::option::of(1u8..=4),
            opt_text(),
            opt_text(),
            proptest::option::of(time()),
            proptest::option::of(time())
        )
            .prop_map(
                |(start_priority, end_priority, alarm_method, alarm_type, start_time, end_time)| {
                    Payload::AlarmQuery(AlarmQuery {
                        start_priority,
                        end_priority,
                        alarm_method,
                        alarm_type,
                        start_time,
                        end_time,
                    })
                }
            ),
        outcome().prop_map(|result| Payload::AlarmResponse { result }),
        (
            proptest::option::of(time()),
            proptest::option::of(time()),
            opt_text(),
            opt_text(),
            proptest::option::of(0u8..2),
            opt_text(),
            proptest::option::of(id())
        )
            .prop_map(
                |(start_time, end_time, file_path, address, secrecy, record_type, recorder_id)| {
                    Payload::RecordInfoQuery(RecordQuery {
                        start_time,
                        end_time,
                        file_path,
                        address,
                        secrecy,
                        record_type,
                        recorder_id,
                    })
                }
            ),
        (
            opt_text(),
            any::<u32>(),
            proptest::collection::vec(record_item(), 0..3)
        )
            .prop_map(|(name, sum_num, items)| Payload::RecordInfo(RecordList {
                name,
                sum_num,
                items
            })),
        (0u16..4096, any::<u8>(), any::<u8>(), any::<u8>(), 0u8..16).prop_map(
            |(address, command, data1, data2, data3)| {
                Payload::DeviceControl(ControlCmd::Ptz(PtzCmd {
                    address,
                    command,
                    data1,
                    data2,
                    data3,
                }))
            }
        ),
        prop_oneof![Just(Guard::Set), Just(Guard::Reset)]
            .prop_map(|g| Payload::DeviceControl(ControlCmd::Guard(g))),
        (
            proptest::option::of(methods()),
            proptest::option::of(0u32..20)
        )
            .prop_map(|(method, alarm_type)| Payload::DeviceControl(
                ControlCmd::ResetAlarm { method, alarm_type }
            )),
        Just(Payload::DeviceControl(ControlCmd::TeleBoot)),
        outcome().prop_map(|result| Payload::DeviceControlResponse { result }),
        proptest::string::string_regex("[A-Z][A-Za-z]{2,12}")
            .unwrap()
            .prop_filter("not a modelled CmdType", |c| ![
                "Keepalive",
                "Catalog",
                "DeviceInfo",
                "DeviceStatus",
                "Alarm",
                "RecordInfo",
                "DeviceControl"
            ]
            .iter()
            .any(|k| k.eq_ignore_ascii_case(c)))
            .prop_map(|cmd_type| Payload::Unknown { cmd_type }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn round_trip(sn in any::<u32>(), device_id in id(), payload in payload(), utf8 in any::<bool>()) {
        let body = Body::new(sn, device_id, payload);
        let charset = if utf8 { Charset::Utf8 } else { Charset::Gb18030 };
        let bytes = body.encode(charset).unwrap();
        prop_assert_eq!(detect_charset(&bytes), charset);
        prop_assert_eq!(decode(&bytes).unwrap(), body);
    }

    #[test]
    fn ptz_round_trip(address in 0u16..4096, command: u8, data1: u8, data2: u8, data3 in 0u8..16) {
        let cmd = PtzCmd { address, command, data1, data2, data3 };
        prop_assert_eq!(PtzCmd::parse(&cmd.to_hex().unwrap()).unwrap(), cmd);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode(&bytes);
        let _ = detect_charset(&bytes);
        let _ = PtzCmd::parse(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn mutated_bodies_never_panic(
        sn: u32,
        payload in payload(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = Body::new(sn, "34020000001320000001", payload).encode(Charset::Gb18030).unwrap();
        for (at, b) in flips {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        let _ = decode(&bytes);
        let _ = decode(&bytes[..cut.index(bytes.len() + 1)]);
    }
}
