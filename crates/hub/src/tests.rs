//! Hub tests on a real SQLite store and simulated time: publish-after-commit, event order,
//! escalation timing.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use xiaoan_base::SimulatedClock;
use xiaoan_core::access::Role;
use xiaoan_core::incident::{Actor, Command, EntryKind, NewAlarm};
use xiaoan_core::model::{AlarmPoint, Region, RegionKind, School, SchoolKind};
use xiaoan_store::{DirectorySeed, SqliteStore, Store};

use super::*;

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default()
}

fn seed() -> DirectorySeed {
    DirectorySeed {
        regions: vec![
            Region {
                id: 1,
                kind: RegionKind::Bureau,
                name: "恩施市教育局".into(),
                code: None,
                phone: None,
            },
            Region {
                id: 2,
                kind: RegionKind::Police,
                name: "舞阳坝派出所".into(),
                code: None,
                phone: None,
            },
        ],
        schools: vec![School {
            id: 1,
            name: "恩施市实验小学".into(),
            address: "恩施市舞阳大道".into(),
            lat: 30.29,
            lon: 109.48,
            kind: SchoolKind::Primary,
            pupils: 1800,
            boarders: 0,
            bureau_region_id: 1,
            police_region_id: 2,
        }],
        alarm_points: vec![AlarmPoint {
            id: 1,
            school_id: 1,
            name: "南门门卫室".into(),
            location: "南门".into(),
            one_key: true,
        }],
        ..Default::default()
    }
}

async fn hub(clock: &SimulatedClock) -> (tempfile::TempDir, Arc<Hub>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("xiaoan.db"))
        .await
        .expect("open store");
    store.seed_directory(&seed()).await.expect("seed");
    let hub = Hub::new(
        Arc::new(store),
        Arc::new(clock.clone()),
        HubSettings::default(),
    )
    .await
    .expect("hub");
    (dir, hub)
}

fn press() -> NewAlarm {
    NewAlarm {
        school_id: 1,
        alarm_point_id: 1,
        priority: 1,
        kind: "panic".into(),
        source: "web".into(),
        silent: false,
        note: None,
        raised_by: Actor {
            user_id: Some(5),
            name: "张建国".into(),
            role: Some(Role::SchoolGuard),
        },
        raised_at: t0(),
        details: serde_json::Value::Null,
    }
}

#[tokio::test]
async fn raise_publishes_stored_events_in_id_order() {
    let clock = SimulatedClock::new(t0());
    let (_dir, hub) = hub(&clock).await;
    let mut rx = hub.subscribe();
    let first = hub.raise(&press(), None).await.expect("raise");
    let again = hub.raise(&press(), None).await.expect("raise again");
    assert!(again.joined);
    assert_eq!(again.incident.id, first.incident.id);
    let mut ids = Vec::new();
    let mut kinds = Vec::new();
    for _ in 0..3 {
        let ev = rx.recv().await.expect("event");
        ids.push(ev.entry.id);
        kinds.push(ev.entry.kind);
    }
    assert_eq!(
        kinds,
        vec![EntryKind::Raised, EntryKind::Received, EntryKind::Joined]
    );
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    // What was published is what the store holds.
    let logged = hub.store().events_since(0, 10).await.expect("events");
    assert_eq!(logged.iter().map(|e| e.entry.id).collect::<Vec<_>>(), ids);
}

#[tokio::test]
async fn unclaimed_incident_escalates_once_after_the_configured_time() {
    let clock = SimulatedClock::new(t0());
    let (_dir, hub) = hub(&clock).await;
    let raised = hub.raise(&press(), None).await.expect("raise");
    clock.advance(Duration::seconds(29));
    assert_eq!(hub.escalate_due().await.expect("check"), 0);
    clock.advance(Duration::seconds(1));
    assert_eq!(hub.escalate_due().await.expect("check"), 1);
    assert_eq!(hub.escalate_due().await.expect("check"), 0);
    let stored = hub
        .store()
        .incident(raised.incident.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(stored.escalated_at, Some(t0() + Duration::seconds(30)));
}

#[tokio::test]
async fn claimed_incident_never_escalates() {
    let clock = SimulatedClock::new(t0());
    let (_dir, hub) = hub(&clock).await;
    let raised = hub.raise(&press(), None).await.expect("raise");
    let operator = Actor {
        user_id: Some(1),
        name: "李娜".into(),
        role: Some(Role::PoliceOperator),
    };
    clock.advance(Duration::seconds(10));
    hub.act(raised.incident.id, &Command::Claim, &operator)
        .await
        .expect("claim");
    clock.advance(Duration::minutes(5));
    assert_eq!(hub.escalate_due().await.expect("check"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_raises_share_commits_and_publish_in_id_order() {
    let clock = SimulatedClock::new(t0());
    let (_dir, hub) = hub(&clock).await;
    let mut rx = hub.subscribe();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let hub = hub.clone();
            tokio::spawn(async move { hub.raise(&press(), None).await })
        })
        .collect();
    let mut ids = std::collections::BTreeSet::new();
    for t in tasks {
        ids.insert(t.await.expect("task").expect("raise").incident.id);
    }
    assert_eq!(ids.len(), 1, "every press joined one incident");
    let mut last = 0;
    for _ in 0..51 {
        let ev = rx.recv().await.expect("event");
        assert!(
            ev.entry.id > last,
            "out of order: {} after {last}",
            ev.entry.id
        );
        last = ev.entry.id;
    }
    let incident = hub
        .store()
        .incident(*ids.first().expect("id"))
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(incident.press_count, 50);
}

#[tokio::test]
async fn a_silent_device_fails_supervision_once_and_recovers_when_heard() {
    use xiaoan_core::signal::HealthState;
    let clock = SimulatedClock::new(t0());
    let (_dir, hub) = hub(&clock).await;
    let mut news = hub.subscribe_devices();
    let dev = DeviceRef {
        source: "dc09".into(),
        device: "1111".into(),
        school_id: Some(1),
        alarm_point_id: Some(1),
        supervision_secs: Some(90),
    };
    hub.device_seen(&dev).await.expect("seen");
    clock.advance(Duration::seconds(90));
    assert_eq!(hub.supervise_devices().await.expect("supervise"), 0);
    clock.advance(Duration::seconds(1));
    assert_eq!(hub.supervise_devices().await.expect("supervise"), 1);
    assert_eq!(hub.supervise_devices().await.expect("supervise"), 0);
    let health = hub.store().list_health(None).await.expect("health");
    assert_eq!(health[0].state, HealthState::CommFailure);
    hub.device_seen(&dev).await.expect("seen again");
    let signals = hub
        .store()
        .list_signals(&xiaoan_store::SignalFilter {
            school_ids: Some(vec![1]),
            include_unregistered: false,
            limit: 10,
        })
        .await
        .expect("signals");
    let kinds: Vec<_> = signals.iter().map(|s| s.kind.as_str()).collect();
    assert_eq!(kinds, ["comm_restored", "comm_failure"]);
    assert_eq!(hub.device_health().await[0].state, HealthState::Ok);
    // Subscribers heard: registered, failed (health + signal), restored (health + signal).
    let mut heard = Vec::new();
    while let Ok(n) = news.try_recv() {
        heard.push(match &*n {
            DeviceNews::Signal(s) => format!("signal:{}", s.kind),
            DeviceNews::Health(h) => format!("health:{}", h.state.as_str()),
        });
    }
    assert_eq!(
        heard,
        [
            "health:ok",
            "health:comm_failure",
            "signal:comm_failure",
            "health:ok",
            "signal:comm_restored"
        ]
    );
}

#[tokio::test]
async fn a_failing_store_refuses_raises_publishes_nothing_and_the_state_heals_with_the_next_write()
{
    use xiaoan_store::sqlite::Fault;
    let clock = SimulatedClock::new(t0());
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("xiaoan.db"))
        .await
        .expect("open store");
    store.seed_directory(&seed()).await.expect("seed");
    let faults = store.faults();
    let hub = Hub::new(
        Arc::new(store),
        Arc::new(clock.clone()),
        HubSettings::default(),
    )
    .await
    .expect("hub");
    let mut rx = hub.subscribe();
    let mut state = hub.watch_storage();
    assert!(state.borrow_and_update().ok);

    faults.set(Fault::IoError);
    clock.advance(Duration::seconds(1));
    let refused = hub.raise(&press(), None).await;
    assert!(
        matches!(refused, Err(StoreError::Unavailable(_))),
        "{refused:?}"
    );
    assert!(state.has_changed().unwrap_or(false));
    let s = state.borrow_and_update().clone();
    assert!(!s.ok);
    assert_eq!(s.since, t0() + Duration::seconds(1));
    assert!(s.error.as_deref().unwrap_or("").contains("I/O"), "{s:?}");
    // Commands fail the same way and count in the same episode.
    assert!(hub.act(1, &Command::Claim, &Actor::system()).await.is_err());
    assert_eq!(hub.storage_state().refused, 2);
    assert!(
        rx.try_recv().is_err(),
        "nothing published that was not stored"
    );
    assert_eq!(hub.metrics().counters()[3].2, 1, "store failures counted");

    faults.set(Fault::None);
    clock.advance(Duration::seconds(9));
    let stored = hub
        .raise(&press(), None)
        .await
        .expect("stored after recovery");
    assert!(!stored.joined, "the refused alarm left nothing behind");
    assert!(state.has_changed().unwrap_or(false));
    let s = state.borrow_and_update().clone();
    assert!(s.ok && s.refused == 0 && s.error.is_none(), "{s:?}");
    assert_eq!(s.since, t0() + Duration::seconds(10));
    assert_eq!(
        rx.recv().await.expect("event").entry.kind,
        EntryKind::Raised
    );
}
