//! Event decoding: Contact ID and SIA DC-03 data blocks to normalized events.
#![allow(clippy::unwrap_used)]

use xiaoan_sia::event::{decode_cid, decode_sia};
use xiaoan_sia::{AlarmKind, Protocol, Qualifier, Route, Token, decode_events};

#[test]
fn contact_id_panic_and_restore() {
    let e = decode_cid("#1234|1120 01 015");
    assert_eq!(e.kind, AlarmKind::Panic);
    assert_eq!(
        (e.qualifier, e.protocol),
        (Qualifier::New, Protocol::ContactId)
    );
    assert_eq!(
        (e.code.as_str(), e.area, e.zone, e.user),
        ("1120", Some(1), Some(15), None)
    );
    assert_eq!(e.priority, 1);
    assert!(e.opens_incident());

    let r = decode_cid("3120 01 015");
    assert_eq!(
        (r.kind.clone(), r.restores.clone()),
        (AlarmKind::Restore, Some(AlarmKind::Panic))
    );
    assert_eq!(r.route(), Route::DeviceHealth);
}

#[test]
fn contact_id_table_samples() {
    let cases = [
        ("1122 00 003", AlarmKind::SilentPanic),
        ("1121 01 001", AlarmKind::Duress),
        ("1123 01 001", AlarmKind::Panic),
        ("1100 01 001", AlarmKind::Medical),
        ("1111 01 004", AlarmKind::Fire),
        ("1131 01 004", AlarmKind::Burglary),
        ("1137 01 004", AlarmKind::Tamper),
        ("1383 01 004", AlarmKind::Tamper),
        ("1301 00 000", AlarmKind::AcLoss),
        ("1302 00 000", AlarmKind::LowBattery),
        ("1601 00 000", AlarmKind::ManualTest),
        ("1602 00 000", AlarmKind::PeriodicTest),
        ("3602 00 000", AlarmKind::PeriodicTest),
        ("1350 00 000", AlarmKind::Trouble),
    ];
    for (data, kind) in cases {
        assert_eq!(decode_cid(data).kind, kind, "{data}");
    }
    // 401: Q=1 opening (disarm), Q=3 closing (arm), CCC is the user.
    let open = decode_cid("1401 01 007");
    assert_eq!(
        (open.kind, open.user, open.zone),
        (AlarmKind::Opening, Some(7), None)
    );
    assert_eq!(decode_cid("3401 01 007").kind, AlarmKind::Closing);
    // Status (Q=6) keeps the kind.
    let st = decode_cid("6130 01 002");
    assert_eq!(
        (st.kind, st.qualifier),
        (AlarmKind::Burglary, Qualifier::Status)
    );
    // Without spaces, with 18 message type, GG 00 = no partition.
    let e = decode_cid("18113000009");
    assert_eq!(
        (e.kind, e.area, e.zone),
        (AlarmKind::Burglary, None, Some(9))
    );
}

#[test]
fn contact_id_unknown_is_kept() {
    let e = decode_cid("1999 01 001");
    assert_eq!(e.kind, AlarmKind::Unknown { raw: "1999".into() });
    assert_eq!(e.route(), Route::Review);
    let e = decode_cid("garbage");
    assert_eq!(
        e.kind,
        AlarmKind::Unknown {
            raw: "garbage".into()
        }
    );
    assert_eq!(decode_events(&Token::AdmCid, "").len(), 1);
}

#[test]
fn sia_single_and_chained() {
    let ev = decode_sia("#1234|Nri1/PA501");
    assert_eq!(ev.len(), 1);
    assert_eq!(
        (ev[0].kind.clone(), ev[0].area, ev[0].zone),
        (AlarmKind::Panic, Some(1), Some(501))
    );
    assert_eq!(ev[0].protocol, Protocol::Sia);

    let ev = decode_sia("Nti10:30/id12/ri2/OP3/CL4/ri3BA05/BH05");
    let kinds: Vec<_> = ev.iter().map(|e| e.kind.clone()).collect();
    assert_eq!(
        kinds,
        [
            AlarmKind::Opening,
            AlarmKind::Closing,
            AlarmKind::Burglary,
            AlarmKind::Restore
        ]
    );
    assert_eq!(ev[0].user, Some(12)); // id wins over the address for OP
    assert_eq!(ev[0].time.as_deref(), Some("10:30"));
    assert_eq!(ev[0].area, Some(2));
    assert_eq!((ev[2].area, ev[2].zone), (Some(3), Some(5)));
    assert_eq!(ev[3].restores, Some(AlarmKind::Burglary));
    assert_eq!(ev[3].qualifier, Qualifier::Restore);
}

#[test]
fn sia_text_and_unknown() {
    let ev = decode_sia("Nri1/HA01^Office 3^/ZZ9");
    assert_eq!(ev[0].kind, AlarmKind::HoldUp);
    assert_eq!(ev[0].text.as_deref(), Some("Office 3"));
    assert_eq!(ev[1].kind, AlarmKind::Unknown { raw: "ZZ".into() });
    let ev = decode_sia("N^front gate/west^FA2");
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].text.as_deref(), Some("front gate/west"));
    assert_eq!(ev[0].kind, AlarmKind::Fire);
    let ev = decode_sia("#1234|");
    assert_eq!(ev.len(), 1);
    assert!(matches!(ev[0].kind, AlarmKind::Unknown { .. }));
}

#[test]
fn sia_table_samples() {
    for (data, kind) in [
        ("NMA1", AlarmKind::Medical),
        ("NQA1", AlarmKind::Medical),
        ("NFA1", AlarmKind::Fire),
        ("NTA1", AlarmKind::Tamper),
        ("NAT", AlarmKind::AcLoss),
        ("NYT", AlarmKind::LowBattery),
        ("NRP", AlarmKind::PeriodicTest),
        ("NRX", AlarmKind::ManualTest),
        ("NCL1", AlarmKind::Closing),
        ("NYP", AlarmKind::Trouble),
    ] {
        assert_eq!(decode_sia(data)[0].kind, kind, "{data}");
    }
    assert!(decode_events(&Token::Null, "").is_empty());
}
