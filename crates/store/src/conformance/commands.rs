//! Checks of commands on incidents: claiming, the full lifecycle, unknown incidents.

use std::sync::Arc;

use xiaoan_core::incident::{
    Actor, Command, Disposition, EntryKind, IncidentState, TransitionError,
};

use crate::{Store, StoreError};

use super::fixture::*;
use super::{ok, some};

/// The second operator to claim is told who has it; nothing is written.
pub async fn second_claim_is_refused(store: Arc<dyn Store>) {
    seeded(&*store).await;
    let id = ok(
        store
            .raise_alarm(&alarm(POINT_A1, 1, at(0)), None, at(0))
            .await,
        "raise",
    )
    .incident
    .id;
    let (inc, entry) = ok(
        store
            .apply_command(id, &Command::Claim, &actor(OP1), at(10))
            .await,
        "claim",
    );
    assert_eq!(inc.state, IncidentState::Claimed);
    assert_eq!(inc.claimed_by, Some(actor(OP1)));
    assert_eq!(inc.claimed_at, Some(at(10)));
    assert_eq!(entry.kind, EntryKind::Claimed);
    assert_eq!(entry.incident_id, id);
    assert_eq!(ok(store.last_event_id().await, "last"), entry.id);

    match store
        .apply_command(id, &Command::Claim, &actor(OP2), at(11))
        .await
    {
        Err(StoreError::Transition(TransitionError::AlreadyClaimed { by })) => {
            assert_eq!(by, actor(OP1).name);
        }
        other => panic!("second claim: expected AlreadyClaimed, got {other:?}"),
    }
    assert_eq!(
        ok(store.last_event_id().await, "last"),
        entry.id,
        "nothing written"
    );
    assert_eq!(
        some(ok(store.incident(id).await, "incident"), "incident"),
        inc
    );
}

/// received → claimed → dispatched → on scene → resolved → closed, every field stored.
pub async fn full_lifecycle(store: Arc<dyn Store>) {
    seeded(&*store).await;
    let id = ok(
        store
            .raise_alarm(&alarm(POINT_A1, 1, at(0)), None, at(0))
            .await,
        "raise",
    )
    .incident
    .id;
    let officer = actor(OFFICER);
    let steps: Vec<(Command, Actor, EntryKind, IncidentState)> = vec![
        (
            Command::Escalate,
            Actor::system(),
            EntryKind::Escalated,
            IncidentState::Received,
        ),
        (
            Command::ReportAccidental {
                note: Some("误触".into()),
            },
            actor(GUARD),
            EntryKind::AccidentalReported,
            IncidentState::Received,
        ),
        (
            Command::Claim,
            actor(OP1),
            EntryKind::Claimed,
            IncidentState::Claimed,
        ),
        (
            Command::Dispatch {
                unit: "巡逻一组".into(),
                officer_user_id: officer.user_id,
                officer_name: Some(officer.name.clone()),
                note: Some("5分钟到".into()),
            },
            actor(OP1),
            EntryKind::Dispatched,
            IncidentState::Dispatched,
        ),
        (
            Command::Arrive { note: None },
            officer.clone(),
            EntryKind::Arrived,
            IncidentState::OnScene,
        ),
        (
            Command::Note {
                text: "现场已控制".into(),
            },
            officer.clone(),
            EntryKind::Note,
            IncidentState::OnScene,
        ),
        (
            Command::Resolve {
                disposition: Disposition::Genuine,
                note: Some("嫌疑人已带离".into()),
            },
            actor(OP1),
            EntryKind::Resolved,
            IncidentState::Resolved,
        ),
        (
            Command::Close { note: None },
            actor(OP1),
            EntryKind::Closed,
            IncidentState::Closed,
        ),
    ];
    let mut last_id = 0;
    for (n, (cmd, who, kind, state)) in steps.into_iter().enumerate() {
        let now = at(60 * (n as i64 + 1));
        let (inc, entry) = ok(
            store.apply_command(id, &cmd, &who, now).await,
            kind.as_str(),
        );
        assert_eq!(entry.kind, kind);
        assert_eq!(inc.state, state, "after {}", kind.as_str());
        assert_eq!(entry.actor, who);
        assert_eq!(entry.at, now);
        assert!(entry.id > last_id);
        last_id = entry.id;
        assert_eq!(
            some(ok(store.incident(id).await, "incident"), "incident"),
            inc
        );
    }
    let inc = some(ok(store.incident(id).await, "incident"), "incident");
    assert_eq!(inc.escalated_at, Some(at(60)));
    assert_eq!(inc.accidental_reported_at, Some(at(120)));
    assert_eq!(inc.claimed_by, Some(actor(OP1)));
    assert_eq!(inc.dispatches.len(), 1);
    assert_eq!(inc.dispatches[0].unit, "巡逻一组");
    assert_eq!(inc.dispatches[0].officer_user_id, Some(OFFICER));
    assert_eq!(inc.dispatches[0].at, at(240));
    assert_eq!(inc.on_scene_at, Some(at(300)));
    assert_eq!(inc.disposition, Some(Disposition::Genuine));
    assert_eq!(inc.resolution_note.as_deref(), Some("嫌疑人已带离"));
    assert_eq!(inc.resolved_at, Some(at(420)));
    assert_eq!(inc.closed_at, Some(at(480)));
    assert_eq!(inc.updated_at, at(480));

    let timeline = ok(store.timeline(id).await, "timeline");
    let kinds: Vec<&str> = timeline.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "raised",
            "received",
            "escalated",
            "accidental_reported",
            "claimed",
            "dispatched",
            "arrived",
            "note",
            "resolved",
            "closed"
        ]
    );
    let dispatched = &timeline[5];
    assert_eq!(dispatched.note.as_deref(), Some("5分钟到"));
    assert_eq!(dispatched.data["unit"], "巡逻一组");
    assert_eq!(dispatched.data["officer_user_id"], OFFICER);

    match store
        .apply_command(
            id,
            &Command::Note {
                text: "迟到的备注".into(),
            },
            &actor(OP1),
            at(999),
        )
        .await
    {
        Err(StoreError::Transition(TransitionError::WrongState { .. })) => {}
        other => panic!("note on closed: expected WrongState, got {other:?}"),
    }
}

/// Commands on an incident that does not exist are `NotFound`; reads are empty.
pub async fn unknown_incident(store: Arc<dyn Store>) {
    seeded(&*store).await;
    match store
        .apply_command(31337, &Command::Claim, &actor(OP1), at(0))
        .await
    {
        Err(StoreError::NotFound(_)) => {}
        other => panic!("unknown incident: expected NotFound, got {other:?}"),
    }
    assert_eq!(ok(store.incident(31337).await, "incident"), None);
    assert!(ok(store.timeline(31337).await, "timeline").is_empty());
}
