//! Checks of device signals and device health.

use std::sync::Arc;

use xiaoan_core::signal::{DeviceHealth, HealthState, Severity, Signal};

use crate::{SignalFilter, Store};

use super::fixture::*;
use super::ok;

fn signal(school: Option<i64>, kind: &str, severity: Severity, secs: i64) -> Signal {
    Signal {
        id: 0,
        at: at(secs),
        school_id: school,
        alarm_point_id: school.map(|_| POINT_A1),
        source: "dc09".into(),
        device: "1234".into(),
        kind: kind.into(),
        severity,
        summary: "定时测试".into(),
        data: serde_json::json!({ "code": "RP" }),
    }
}

/// Signals get increasing ids, round-trip, and filter by school and by being unregistered.
pub async fn signals_and_health(store: Arc<dyn Store>) {
    seeded(&*store).await;
    let batch = [
        signal(Some(SCHOOL_A), "periodic_test", Severity::Info, 0),
        signal(None, "unregistered_account", Severity::Alert, 1),
        signal(Some(SCHOOL_B), "low_battery", Severity::Warning, 2),
    ];
    let stored = ok(store.record_signals(&batch).await, "record_signals");
    assert!(stored.windows(2).all(|w| w[0].id < w[1].id));
    assert_eq!(
        stored[0],
        Signal {
            id: stored[0].id,
            ..batch[0].clone()
        }
    );

    let list = |school_ids: Option<Vec<i64>>, include_unregistered: bool| {
        let store = store.clone();
        async move {
            let f = SignalFilter {
                school_ids,
                include_unregistered,
                limit: 10,
            };
            ok(store.list_signals(&f).await, "list_signals")
                .into_iter()
                .map(|s| s.kind)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        list(None, false).await,
        ["low_battery", "unregistered_account", "periodic_test"]
    );
    assert_eq!(list(Some(vec![SCHOOL_A]), false).await, ["periodic_test"]);
    assert_eq!(
        list(Some(vec![SCHOOL_A]), true).await,
        ["unregistered_account", "periodic_test"]
    );
    assert!(list(Some(vec![]), false).await.is_empty());

    let mut health = DeviceHealth {
        source: "dc09".into(),
        device: "1234".into(),
        school_id: Some(SCHOOL_A),
        alarm_point_id: Some(POINT_A1),
        state: HealthState::Ok,
        detail: String::new(),
        last_seen: at(0),
        supervision_secs: Some(90),
        updated_at: at(0),
    };
    ok(store.upsert_health(&health).await, "upsert");
    health.state = HealthState::CommFailure;
    health.detail = "90秒未收到链路检测".into();
    health.updated_at = at(120);
    ok(store.upsert_health(&health).await, "upsert again");
    let all = ok(store.list_health(None).await, "list_health");
    assert_eq!(all, vec![health.clone()]);
    assert_eq!(
        ok(store.list_health(Some(&[SCHOOL_A])).await, "by school"),
        vec![health.clone()]
    );
    assert!(ok(store.list_health(Some(&[SCHOOL_B])).await, "other school").is_empty());

    // Many at once (the periodic flush): inserted and updated together.
    let many: Vec<DeviceHealth> = (0..300)
        .map(|i| DeviceHealth {
            device: format!("G{i:04}"),
            source: "gb28181".into(),
            last_seen: at(200 + i),
            ..health.clone()
        })
        .chain([DeviceHealth {
            state: HealthState::Ok,
            detail: String::new(),
            ..health.clone()
        }])
        .collect();
    ok(store.upsert_health_many(&many).await, "upsert_health_many");
    let all = ok(store.list_health(None).await, "list_health");
    assert_eq!(all.len(), 301);
    assert!(
        all.iter()
            .any(|h| h.device == "1234" && h.state == HealthState::Ok)
    );
    assert!(
        all.iter()
            .any(|h| h.device == "G0299" && h.last_seen == at(499))
    );
}

/// A batch of signals larger than one multi-row statement: consecutive ids in batch order, every
/// row stored as given.
pub async fn many_signals_in_one_batch(store: Arc<dyn Store>) {
    seeded(&*store).await;
    let batch: Vec<Signal> = (0..1_300)
        .map(|i| {
            let mut s = signal(Some(SCHOOL_A), "periodic_test", Severity::Info, i);
            s.summary = format!("test {i}");
            s
        })
        .collect();
    let stored = ok(store.record_signals(&batch).await, "record_signals");
    assert_eq!(stored.len(), batch.len());
    assert!(stored.windows(2).all(|w| w[1].id == w[0].id + 1));
    for (s, b) in stored.iter().zip(&batch) {
        assert_eq!(
            *s,
            Signal {
                id: s.id,
                ..b.clone()
            }
        );
    }
    let f = SignalFilter {
        school_ids: Some(vec![SCHOOL_A]),
        include_unregistered: false,
        limit: 2_000,
    };
    let listed = ok(store.list_signals(&f).await, "list_signals");
    assert_eq!(listed.len(), batch.len());
    for s in &listed {
        let i = usize::try_from(s.id - stored[0].id).unwrap_or(usize::MAX);
        assert_eq!(Some(s), stored.get(i));
    }
}
