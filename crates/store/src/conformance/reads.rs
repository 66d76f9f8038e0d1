//! Checks of the reads: incident lists and the event log.

use std::sync::Arc;

use xiaoan_core::incident::{Command, IncidentState};

use crate::{IncidentFilter, Store};

use super::fixture::*;
use super::ok;

/// Filters by school and state, most recent first, with a limit.
pub async fn list_filters(store: Arc<dyn Store>) {
    seeded(&*store).await;
    let all = ok(
        store.list_incidents(&IncidentFilter::default()).await,
        "empty list",
    );
    assert!(all.is_empty());
    let a = ok(
        store
            .raise_alarm(&alarm(POINT_A1, 1, at(0)), None, at(0))
            .await,
        "a",
    )
    .incident;
    let b = ok(
        store
            .raise_alarm(&alarm(POINT_B, 1, at(10)), None, at(10))
            .await,
        "b",
    )
    .incident;
    let c = ok(
        store
            .raise_alarm(&alarm(POINT_C, 1, at(20)), None, at(20))
            .await,
        "c",
    )
    .incident;
    ok(
        store
            .apply_command(b.id, &Command::Claim, &actor(OP1), at(30))
            .await,
        "claim b",
    );

    let ids = |v: Vec<xiaoan_core::Incident>| v.into_iter().map(|i| i.id).collect::<Vec<_>>();
    let list = |f: IncidentFilter| {
        let store = store.clone();
        async move { ok(store.list_incidents(&f).await, "list_incidents") }
    };
    assert_eq!(
        ids(list(IncidentFilter::default()).await),
        [c.id, b.id, a.id]
    );
    assert_eq!(
        ids(list(IncidentFilter {
            school_ids: Some(vec![SCHOOL_A, SCHOOL_C]),
            ..Default::default()
        })
        .await),
        [c.id, a.id]
    );
    assert!(
        list(IncidentFilter {
            school_ids: Some(vec![]),
            ..Default::default()
        })
        .await
        .is_empty(),
        "an empty school list selects nothing"
    );
    assert_eq!(
        ids(list(IncidentFilter {
            states: vec![IncidentState::Received],
            ..Default::default()
        })
        .await),
        [c.id, a.id]
    );
    assert_eq!(
        ids(list(IncidentFilter {
            states: vec![IncidentState::Claimed, IncidentState::Closed],
            school_ids: Some(vec![SCHOOL_B]),
            ..Default::default()
        })
        .await),
        [b.id]
    );
    assert_eq!(
        ids(list(IncidentFilter {
            limit: Some(2),
            ..Default::default()
        })
        .await),
        [c.id, b.id]
    );
    let claimed = list(IncidentFilter {
        school_ids: Some(vec![SCHOOL_B]),
        ..Default::default()
    })
    .await;
    assert_eq!(
        claimed[0].state,
        IncidentState::Claimed,
        "listed as it stands now"
    );
}

/// The event log pages by id, oldest first, each event with its incident as it stands now.
pub async fn events_paging(store: Arc<dyn Store>) {
    seeded(&*store).await;
    assert!(ok(store.events_since(0, 100).await, "empty log").is_empty());
    let a = ok(
        store
            .raise_alarm(&alarm(POINT_A1, 1, at(0)), None, at(0))
            .await,
        "a",
    );
    let b = ok(
        store
            .raise_alarm(&alarm(POINT_B, 1, at(1)), None, at(1))
            .await,
        "b",
    );
    let (_, claim) = ok(
        store
            .apply_command(a.incident.id, &Command::Claim, &actor(OP1), at(2))
            .await,
        "claim",
    );
    let mut written: Vec<_> = a.entries.iter().chain(&b.entries).cloned().collect();
    written.push(claim.clone());

    let last = ok(store.last_event_id().await, "last_event_id");
    assert_eq!(last, claim.id);

    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let page = ok(store.events_since(after, 2).await, "events_since");
        assert!(page.len() <= 2);
        let Some(tail) = page.last() else { break };
        after = tail.entry.id;
        seen.extend(page);
    }
    let entries: Vec<_> = seen.iter().map(|e| e.entry.clone()).collect();
    assert_eq!(entries, written);
    for ev in &seen {
        assert_eq!(ev.incident.id, ev.entry.incident_id);
        if ev.incident.id == a.incident.id {
            assert_eq!(ev.incident.state, IncidentState::Claimed);
        }
    }
    assert!(ok(store.events_since(last, 10).await, "caught up").is_empty());
    let tail = ok(store.events_since(a.entries[1].id, 10).await, "from middle");
    assert_eq!(tail.len(), 3);
    assert_eq!(tail[0].entry.id, b.entries[0].id);
}
