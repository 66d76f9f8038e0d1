//! The alarm table: every (AlarmMethod, AlarmType) in standards.md §2.5 maps to the documented
//! kind, route and priority; combined methods; device priority; names are stable and unique;
//! the table page in docs/ref lists every kind.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;

use xiaoan_manscdp::{AlarmKind as K, AlarmMethod as M, AlarmMethods, Route, classify};

#[test]
fn the_table() {
    let rows = [
        (M::Telephone, None, K::Telephone, Route::Incident, 1),
        (M::Device, None, K::DeviceAlarm, Route::Incident, 2),
        (M::Device, Some(1), K::VideoLoss, Route::DeviceHealth, 3),
        (M::Device, Some(2), K::Tamper, Route::Incident, 2),
        (M::Device, Some(3), K::DiskFull, Route::DeviceHealth, 4),
        (
            M::Device,
            Some(4),
            K::HighTemperature,
            Route::DeviceHealth,
            3,
        ),
        (
            M::Device,
            Some(5),
            K::LowTemperature,
            Route::DeviceHealth,
            3,
        ),
        (M::Device, Some(99), K::DeviceAlarm, Route::Incident, 2),
        (M::Sms, None, K::Sms, Route::Incident, 2),
        (M::Gps, None, K::Gps, Route::Incident, 3),
        (M::Video, Some(1), K::ManualVideo, Route::Incident, 2),
        (M::Video, Some(2), K::Motion, Route::Incident, 4),
        (M::Video, Some(3), K::AbandonedObject, Route::Incident, 3),
        (M::Video, Some(4), K::ObjectRemoved, Route::Incident, 3),
        (M::Video, Some(5), K::Tripwire, Route::Incident, 2),
        (M::Video, Some(6), K::Intrusion, Route::Incident, 2),
        (M::Video, Some(7), K::WrongWay, Route::Incident, 4),
        (M::Video, Some(8), K::Loitering, Route::Incident, 3),
        (M::Video, Some(9), K::FlowCount, Route::Incident, 4),
        (M::Video, Some(10), K::Density, Route::Incident, 3),
        (M::Video, Some(11), K::VideoAnomaly, Route::DeviceHealth, 3),
        (M::Video, Some(12), K::FastMovement, Route::Incident, 3),
        (M::Video, None, K::VideoAlarm, Route::Incident, 3),
        (
            M::DeviceFault,
            Some(1),
            K::DiskFault,
            Route::DeviceHealth,
            3,
        ),
        (M::DeviceFault, Some(2), K::FanFault, Route::DeviceHealth, 4),
        (M::DeviceFault, None, K::DeviceFault, Route::DeviceHealth, 3),
        (M::Other, None, K::Other, Route::Incident, 3),
    ];
    for (m, t, kind, route, prio) in rows {
        let c = classify(AlarmMethods::single(m), t, None);
        assert_eq!(
            (c.kind, c.route, c.priority, c.method),
            (kind, route, prio, Some(m)),
            "{m:?} {t:?}"
        );
    }
    let c = classify(AlarmMethods::EMPTY, None, None);
    assert_eq!(
        (c.kind, c.route, c.priority, c.method),
        (K::Unknown, Route::Review, 3, None)
    );
}

#[test]
fn combined_methods_any_incident_wins() {
    // Device fault (6) + device alarm (2) with type 1: video loss and disk fault are health,
    // so it stays health; the most urgent health component is chosen.
    let c = classify(AlarmMethods::from_digits("26"), Some(1), None);
    assert_eq!((c.kind, c.route), (K::VideoLoss, Route::DeviceHealth));
    // 6 + 5 with type 6: intrusion opens an incident.
    let c = classify(AlarmMethods::from_digits("56"), Some(6), None);
    assert_eq!(
        (c.kind, c.route, c.method),
        (K::Intrusion, Route::Incident, Some(M::Video))
    );
    // 1 + 2: telephone, priority 1.
    let c = classify(AlarmMethods::from_digits("12"), None, None);
    assert_eq!((c.kind, c.priority), (K::Telephone, 1));
    // 2 + 5 with type 6: both incident priority 2; the type-specific kind wins.
    let c = classify(AlarmMethods::from_digits("25"), Some(6), None);
    assert_eq!(c.kind, K::Intrusion);
    // Separators and junk digits are ignored.
    assert_eq!(AlarmMethods::from_digits("1, 2;9 0").to_digits(), "12");
}

#[test]
fn device_priority_overrides_when_valid() {
    let one = AlarmMethods::single(M::Video);
    assert_eq!(classify(one, Some(2), Some(1)).priority, 1);
    assert_eq!(classify(one, Some(2), Some(0)).priority, 4);
    assert_eq!(classify(one, Some(2), Some(5)).priority, 4);
}

#[test]
fn names_are_unique_and_documented() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../docs/ref/gb28181-alarms.md"
    ))
    .unwrap();
    let mut seen = HashSet::new();
    for k in K::ALL {
        assert!(seen.insert(k.as_str()), "{}", k.as_str());
        assert_eq!(K::from_name(k.as_str()), Some(k));
        let row = doc
            .lines()
            .find(|l| l.starts_with(&format!("| `{}` |", k.as_str())))
            .unwrap_or_else(|| panic!("{} missing from the doc", k.as_str()));
        let route = match k.route() {
            Route::Incident => "Incident",
            Route::DeviceHealth => "Device health",
            Route::Review => "Review",
        };
        let want = format!(
            "| `{}` | {} | {} | {} | {} |",
            k.as_str(),
            k.label_zh(),
            k.label_en(),
            k.default_priority(),
            route
        );
        assert!(
            row.starts_with(&want),
            "doc row for {}:\n{row}\nwant prefix\n{want}",
            k.as_str()
        );
    }
}
