//! Checks of raising alarms: create, join, idempotency, concurrency.

use std::collections::BTreeSet;
use std::sync::Arc;

use xiaoan_core::incident::{Command, Disposition, EntryKind, IncidentState};
use xiaoan_core::model::Id;

use crate::{Store, StoreError};

use super::fixture::*;
use super::{ok, some};

/// A first press opens an incident with `raised` and `received` entries.
pub async fn raise_creates_incident(store: Arc<dyn Store>) {
    seeded(&*store).await;
    assert_eq!(ok(store.last_event_id().await, "last_event_id"), 0);
    let a = alarm(POINT_A2, 2, at(-3));
    let out = ok(store.raise_alarm(&a, None, at(0)).await, "raise");
    assert!(!out.joined && !out.replayed);
    let inc = &out.incident;
    assert!(inc.id > 0);
    assert_eq!(inc.school_id, SCHOOL_A);
    assert_eq!(inc.alarm_point_id, POINT_A2);
    assert_eq!(inc.state, IncidentState::Received);
    assert_eq!(inc.priority, 2);
    assert!(inc.silent);
    assert_eq!(inc.note.as_deref(), Some("有人持刀"));
    assert_eq!(inc.raised_by, actor(GUARD));
    assert_eq!(inc.raised_at, at(-3));
    assert_eq!(inc.received_at, at(0));
    assert_eq!(inc.press_count, 1);

    let kinds: Vec<EntryKind> = out.entries.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [EntryKind::Raised, EntryKind::Received]);
    assert!(out.entries[0].id > 0 && out.entries[0].id < out.entries[1].id);
    assert!(out.entries.iter().all(|e| e.incident_id == inc.id));

    let stored = some(
        ok(store.incident(inc.id).await, "incident"),
        "stored incident",
    );
    assert_eq!(&stored, inc);
    assert_eq!(ok(store.timeline(inc.id).await, "timeline"), out.entries);
    assert_eq!(
        ok(store.last_event_id().await, "last_event_id"),
        out.entries[1].id
    );
}

/// A second press at the same point joins the open incident.
pub async fn second_raise_joins(store: Arc<dyn Store>) {
    seeded(&*store).await;
    let first = ok(
        store
            .raise_alarm(&alarm(POINT_A1, 3, at(0)), None, at(0))
            .await,
        "raise 1",
    );
    let second = ok(
        store
            .raise_alarm(&alarm(POINT_A1, 1, at(5)), None, at(5))
            .await,
        "raise 2",
    );
    assert!(second.joined && !second.replayed);
    assert_eq!(second.incident.id, first.incident.id);
    assert_eq!(second.incident.press_count, 2);
    assert_eq!(
        second.incident.priority, 1,
        "a more urgent press raises the priority"
    );
    assert_eq!(second.entries.len(), 1);
    assert_eq!(second.entries[0].kind, EntryKind::Joined);
    assert_eq!(second.entries[0].incident_id, first.incident.id);
    assert!(second.entries[0].id > first.entries[1].id);
    let stored = some(
        ok(store.incident(first.incident.id).await, "incident"),
        "stored",
    );
    assert_eq!(stored, second.incident);
    assert_eq!(ok(store.timeline(stored.id).await, "timeline").len(), 3);
}

/// Presses at different points are different incidents.
pub async fn raise_at_other_point_is_separate(store: Arc<dyn Store>) {
    seeded(&*store).await;
    let a = ok(
        store
            .raise_alarm(&alarm(POINT_A1, 1, at(0)), None, at(0))
            .await,
        "a1",
    );
    let b = ok(
        store
            .raise_alarm(&alarm(POINT_A2, 1, at(1)), None, at(1))
            .await,
        "a2",
    );
    let c = ok(
        store
            .raise_alarm(&alarm(POINT_B, 1, at(2)), None, at(2))
            .await,
        "b",
    );
    assert!(!b.joined && !c.joined);
    let ids: BTreeSet<Id> = [a.incident.id, b.incident.id, c.incident.id].into();
    assert_eq!(ids.len(), 3);
    assert_eq!(b.incident.press_count, 1);
}

/// Once resolved (or closed), a press opens a new incident.
pub async fn raise_after_resolve_opens_new_incident(store: Arc<dyn Store>) {
    seeded(&*store).await;
    let first = ok(
        store
            .raise_alarm(&alarm(POINT_A1, 1, at(0)), None, at(0))
            .await,
        "raise",
    );
    let id = first.incident.id;
    ok(
        store
            .apply_command(id, &Command::Claim, &actor(OP1), at(10))
            .await,
        "claim",
    );
    let resolve = Command::Resolve {
        disposition: Disposition::FalseAlarm,
        note: None,
    };
    ok(
        store.apply_command(id, &resolve, &actor(OP1), at(20)).await,
        "resolve",
    );
    let second = ok(
        store
            .raise_alarm(&alarm(POINT_A1, 1, at(30)), None, at(30))
            .await,
        "again",
    );
    assert!(!second.joined);
    assert_ne!(second.incident.id, id);
    assert_eq!(second.incident.press_count, 1);
    let old = some(ok(store.incident(id).await, "old"), "old");
    assert_eq!(old.state, IncidentState::Resolved);
    assert_eq!(old.press_count, 1, "the resolved incident absorbed nothing");
}

/// An alarm point that is not in the directory is refused, and nothing is written.
pub async fn raise_at_unknown_point_is_not_found(store: Arc<dyn Store>) {
    seeded(&*store).await;
    let mut a = alarm(POINT_A1, 1, at(0));
    a.alarm_point_id = 77777;
    match store
        .raise_alarm(&a, Some(&key("user:1", "k")), at(0))
        .await
    {
        Err(StoreError::NotFound(_)) => {}
        other => panic!("unknown point: expected NotFound, got {other:?}"),
    }
    assert_eq!(ok(store.last_event_id().await, "last_event_id"), 0);
    // The key was not used up by the failed call.
    let out = ok(
        store
            .raise_alarm(&alarm(POINT_A1, 1, at(1)), Some(&key("user:1", "k")), at(1))
            .await,
        "raise with the same key",
    );
    assert!(!out.replayed);
}

/// A repeated key replays the first answer and writes nothing; keys are per principal.
pub async fn idempotent_replay(store: Arc<dyn Store>) {
    seeded(&*store).await;
    let k = key("user:1", "press-0001");
    let first = ok(
        store
            .raise_alarm(&alarm(POINT_A1, 1, at(0)), Some(&k), at(0))
            .await,
        "raise",
    );
    let last = ok(store.last_event_id().await, "last_event_id");
    let again = ok(
        store
            .raise_alarm(&alarm(POINT_A1, 1, at(3)), Some(&k), at(3))
            .await,
        "retry",
    );
    assert!(again.replayed);
    assert_eq!(again.joined, first.joined);
    assert_eq!(again.incident.id, first.incident.id);
    assert_eq!(
        again.incident.press_count, 1,
        "a retry is not a second press"
    );
    assert!(
        again.entries.is_empty(),
        "a replay wrote nothing, so it returns no entries (they would be published twice)"
    );
    assert_eq!(
        ok(store.last_event_id().await, "after retry"),
        last,
        "no new events"
    );

    // The replay shows the incident as it stands now.
    ok(
        store
            .apply_command(first.incident.id, &Command::Claim, &actor(OP1), at(4))
            .await,
        "claim",
    );
    let later = ok(
        store
            .raise_alarm(&alarm(POINT_A1, 1, at(5)), Some(&k), at(5))
            .await,
        "retry 2",
    );
    assert!(later.replayed);
    assert_eq!(later.incident.state, IncidentState::Claimed);

    // Same key, other principal: an independent press that joins.
    let other = ok(
        store
            .raise_alarm(
                &alarm(POINT_A1, 1, at(6)),
                Some(&key("dc09:1234", "press-0001")),
                at(6),
            )
            .await,
        "other principal",
    );
    assert!(!other.replayed && other.joined);
    assert_eq!(other.incident.id, first.incident.id);
    assert_eq!(other.incident.press_count, 2);
}

/// Twenty retries of one press racing each other: one incident, one press.
pub async fn concurrent_idempotent_raises(store: Arc<dyn Store>) {
    seeded(&*store).await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .raise_alarm(
                    &alarm(POINT_B, 1, at(i)),
                    Some(&key("user:1", "same")),
                    at(i),
                )
                .await
        }));
    }
    let mut fresh = 0;
    let mut ids = BTreeSet::new();
    for t in tasks {
        let out = ok(ok(t.await, "join"), "raise");
        if !out.replayed {
            fresh += 1;
        }
        ids.insert(out.incident.id);
    }
    assert_eq!(fresh, 1, "exactly one call really raised");
    assert_eq!(ids.len(), 1);
    let id = some(ids.into_iter().next(), "incident id");
    let inc = some(ok(store.incident(id).await, "incident"), "incident");
    assert_eq!(inc.press_count, 1);
    assert_eq!(ok(store.timeline(id).await, "timeline").len(), 2);
}

/// Fifty presses at one point at once: one incident that counts fifty presses.
pub async fn concurrent_raises_make_one_incident(store: Arc<dyn Store>) {
    seeded(&*store).await;
    let mut tasks = Vec::new();
    for i in 0..50 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .raise_alarm(&alarm(POINT_A1, 1, at(0)), None, at(i))
                .await
        }));
    }
    let mut ids = BTreeSet::new();
    let mut created = 0;
    for t in tasks {
        let out = ok(ok(t.await, "join"), "raise");
        ids.insert(out.incident.id);
        if !out.joined {
            created += 1;
        }
    }
    assert_eq!(ids.len(), 1, "exactly one incident");
    assert_eq!(created, 1);
    let id = some(ids.into_iter().next(), "incident id");
    let inc = some(ok(store.incident(id).await, "incident"), "incident");
    assert_eq!(inc.press_count, 50);
    let timeline = ok(store.timeline(id).await, "timeline");
    assert_eq!(timeline.len(), 51);
    assert_eq!(
        timeline
            .iter()
            .filter(|e| e.kind == EntryKind::Joined)
            .count(),
        49
    );
    assert!(timeline.windows(2).all(|w| w[0].id < w[1].id));
}

/// A batch commits together: new incidents, joins within the batch, idempotent repeats within
/// the batch, and a failing item that fails alone.
pub async fn batch_raise_isolates_failures(store: Arc<dyn Store>) {
    use crate::{IdempotencyKey, RaiseRequest};
    seeded(&*store).await;
    let key = |k: &str| {
        Some(IdempotencyKey {
            principal: "dc09:1234".into(),
            key: k.into(),
        })
    };
    let request = |point: Id, k: Option<IdempotencyKey>| RaiseRequest {
        alarm: alarm(point, 1, at(0)),
        key: k,
    };
    let batch = vec![
        request(POINT_A1, key("seq-1")),
        request(POINT_A1, key("seq-2")),
        request(999_999, key("seq-3")),
        request(POINT_A1, key("seq-1")),
        request(POINT_A2, None),
    ];
    let results = ok(store.raise_alarms(&batch, at(0)).await, "raise batch");
    assert_eq!(results.len(), 5);
    let first = ok(results[0].as_ref().map(Clone::clone), "item 0");
    let joined = ok(results[1].as_ref().map(Clone::clone), "item 1");
    assert!(!first.joined && joined.joined);
    assert_eq!(first.incident.id, joined.incident.id);
    assert!(
        matches!(results[2], Err(StoreError::NotFound(_))),
        "item 2: {:?}",
        results[2]
    );
    let repeat = ok(results[3].as_ref().map(Clone::clone), "item 3");
    assert!(repeat.replayed && repeat.entries.is_empty());
    assert_eq!(repeat.incident.id, first.incident.id);
    let other = ok(results[4].as_ref().map(Clone::clone), "item 4");
    assert_ne!(other.incident.id, first.incident.id);
    let stored = some(
        ok(store.incident(first.incident.id).await, "incident"),
        "stored",
    );
    assert_eq!(stored.press_count, 2);
    // Event ids stay dense and ordered across the batch.
    let events = ok(store.events_since(0, 100).await, "events");
    let ids: Vec<i64> = events.iter().map(|e| e.entry.id).collect();
    assert_eq!(ids.len(), 5);
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "{ids:?}");
    // A later batch: a key stored by the first replays, a new press joins the open incident.
    let later = vec![
        request(POINT_A1, key("seq-2")),
        request(POINT_A1, key("seq-4")),
    ];
    let results = ok(store.raise_alarms(&later, at(1)).await, "second batch");
    let replay = ok(results[0].as_ref().map(Clone::clone), "replay");
    assert!(replay.replayed && replay.joined && replay.entries.is_empty());
    let third = ok(results[1].as_ref().map(Clone::clone), "third press");
    assert!(third.joined && !third.replayed);
    assert_eq!(third.incident.id, first.incident.id);
    assert_eq!(third.incident.press_count, 3);
}

/// A batch of hundreds (more than one multi-row statement holds): creates, joins within the
/// batch, replays of keys stored earlier and of keys first seen in the same batch, unknown points
/// and wrong schools, all in one call. Refusals fail alone, event ids are dense and follow the
/// batch order, and the stored rows match the answers.
pub async fn large_mixed_batch(store: Arc<dyn Store>) {
    use crate::{IdempotencyKey, RaiseRequest};
    seeded(&*store).await;
    let key = |k: String| {
        Some(IdempotencyKey {
            principal: "dc09:bulk".into(),
            key: k,
        })
    };
    let earlier = ok(
        store
            .raise_alarms(
                &[RaiseRequest {
                    alarm: alarm(POINT_B, 2, at(0)),
                    key: key("old".into()),
                }],
                at(0),
            )
            .await,
        "earlier batch",
    );
    let old = ok(earlier[0].as_ref().map(Clone::clone), "earlier");
    let before = ok(store.last_event_id().await, "last event id");

    const N: usize = 700;
    let batch: Vec<RaiseRequest> = (0..N)
        .map(|i| {
            let (point, k) = match i % 7 {
                0 => (POINT_A1, key(format!("a1-{i}"))),
                1 => (POINT_A2, None),
                2 => (999_999, key(format!("unknown-{i}"))),
                3 => (POINT_A1, key(format!("a1-{}", i - 3))),
                4 => (POINT_B, key("old".into())),
                5 => (POINT_C, key(format!("c-{i}"))),
                _ => (POINT_A1, key(format!("wrong-{i}"))),
            };
            let mut a = alarm(point, 1, at(1));
            if i % 7 == 6 {
                a.school_id = SCHOOL_B;
            }
            RaiseRequest { alarm: a, key: k }
        })
        .collect();
    let results = ok(store.raise_alarms(&batch, at(1)).await, "large batch");
    assert_eq!(results.len(), N);

    let mut incident_at = std::collections::HashMap::new();
    let mut next_event = before + 1;
    for (i, result) in results.iter().enumerate() {
        match i % 7 {
            2 => assert!(matches!(result, Err(StoreError::NotFound(_))), "{i}"),
            6 => assert!(matches!(result, Err(StoreError::Conflict(_))), "{i}"),
            slot => {
                let o = ok(result.as_ref(), "item");
                let point = batch[i].alarm.alarm_point_id;
                assert_eq!(o.incident.alarm_point_id, point, "{i}");
                assert!(o.incident.id > 0, "{i}");
                let id = *incident_at.entry(point).or_insert(o.incident.id);
                if slot == 4 {
                    assert_eq!(o.incident.id, old.incident.id);
                } else {
                    assert_eq!(o.incident.id, id, "{i}: one incident per point");
                }
                if slot == 3 || slot == 4 {
                    assert!(o.replayed && o.entries.is_empty(), "{i}");
                    assert_eq!(o.joined, slot == 3 && i != 3, "{i}");
                    continue;
                }
                assert!(!o.replayed, "{i}");
                assert_eq!(o.joined, i >= 7, "{i}");
                assert_eq!(o.entries.len(), if o.joined { 1 } else { 2 }, "{i}");
                for e in &o.entries {
                    assert_eq!(e.id, next_event, "{i}: dense, in batch order");
                    assert_eq!(e.incident_id, o.incident.id, "{i}");
                    next_event += 1;
                }
            }
        }
    }

    // The stored event log is exactly what the answers said.
    let answered: Vec<_> = results
        .iter()
        .flatten()
        .flat_map(|o| o.entries.iter().cloned())
        .collect();
    let logged: Vec<_> = ok(store.events_since(before, 10_000).await, "events")
        .into_iter()
        .map(|e| e.entry)
        .collect();
    assert_eq!(logged, answered);
    let presses = (0..N).filter(|i| i % 7 == 0).count() as i64;
    for (point, expected) in [(POINT_A1, presses), (POINT_A2, presses), (POINT_C, presses)] {
        let id = incident_at[&point];
        let stored = some(ok(store.incident(id).await, "incident"), "stored");
        assert_eq!(stored.press_count, expected, "point {point}");
        assert_eq!(stored.alarm_point_id, point);
        let timeline = ok(store.timeline(id).await, "timeline");
        assert_eq!(timeline.len() as i64, expected + 1, "point {point}");
    }
    let b = some(ok(store.incident(old.incident.id).await, "incident"), "b");
    assert_eq!(b.press_count, 1);

    // Every key written by the batch replays its first answer afterwards.
    let again: Vec<RaiseRequest> = [0, 7, 5]
        .iter()
        .map(|&i| RaiseRequest {
            alarm: batch[i].alarm.clone(),
            key: batch[i].key.clone(),
        })
        .collect();
    let replays = ok(store.raise_alarms(&again, at(2)).await, "replays");
    for (r, (&i, joined)) in replays.iter().zip([(&0, false), (&7, true), (&5, false)]) {
        let o = ok(r.as_ref(), "replay");
        assert!(o.replayed && o.entries.is_empty(), "{i}");
        assert_eq!(o.joined, joined, "{i}");
        assert_eq!(o.incident.id, incident_at[&batch[i].alarm.alarm_point_id]);
    }
    assert_eq!(ok(store.last_event_id().await, "last"), next_event - 1);
}
