//! Table-driven tests of the incident state machine and escalation on simulated time.

use chrono::{DateTime, Duration, Utc};
use xiaoan_base::{Clock, SimulatedClock};

use super::*;
use crate::escalation;

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default()
}

fn user(id: Id, name: &str, role: Role) -> Actor {
    Actor {
        user_id: Some(id),
        name: name.into(),
        role: Some(role),
    }
}

fn guard() -> Actor {
    user(10, "门卫张师傅", Role::SchoolGuard)
}
fn operator() -> Actor {
    user(1, "接警员李娜", Role::PoliceOperator)
}
fn operator2() -> Actor {
    user(2, "接警员王强", Role::PoliceOperator)
}
fn supervisor() -> Actor {
    user(3, "值班长赵刚", Role::PoliceSupervisor)
}
fn officer() -> Actor {
    user(4, "民警陈伟", Role::PoliceOfficer)
}

fn alarm(point: Id, priority: u8) -> NewAlarm {
    NewAlarm {
        school_id: 1,
        alarm_point_id: point,
        priority,
        kind: "panic".into(),
        source: "web".into(),
        silent: false,
        note: None,
        raised_by: guard(),
        raised_at: t0(),
        details: serde_json::Value::Null,
    }
}

fn created(now: DateTime<Utc>) -> Incident {
    match raise_or_join(None, &alarm(5, 1), now) {
        RaiseDecision::Create(mut i, entries) => {
            assert_eq!(entries.len(), 2);
            assert_eq!(entries[0].kind, EntryKind::Raised);
            assert_eq!(entries[1].kind, EntryKind::Received);
            i.id = 42;
            *i
        }
        RaiseDecision::Join(..) => panic!("expected a new incident"),
    }
}

fn step(i: &Incident, c: Command, a: &Actor, now: DateTime<Utc>) -> Incident {
    match apply(i, &c, a, now) {
        Ok((next, e)) => {
            assert_eq!(e.incident_id, i.id);
            assert_eq!(e.at, now);
            next
        }
        Err(e) => panic!("{c:?} by {} refused: {e}", a.name),
    }
}

fn dispatch_to_officer() -> Command {
    Command::Dispatch {
        unit: "舞阳坝派出所巡逻一组".into(),
        officer_user_id: Some(4),
        officer_name: Some("民警陈伟".into()),
        note: Some("5分钟到达".into()),
    }
}

#[test]
fn full_lifecycle_records_every_step_with_time_and_actor() {
    let clock = SimulatedClock::new(t0());
    let i = created(clock.now());
    assert_eq!(i.state, IncidentState::Received);
    clock.advance(Duration::seconds(5));
    let i = step(&i, Command::Claim, &operator(), clock.now());
    assert_eq!(i.state, IncidentState::Claimed);
    assert_eq!(
        i.claimed_by.as_ref().map(|a| a.name.as_str()),
        Some("接警员李娜")
    );
    clock.advance(Duration::seconds(20));
    let i = step(&i, dispatch_to_officer(), &operator(), clock.now());
    assert_eq!(i.state, IncidentState::Dispatched);
    clock.advance(Duration::minutes(4));
    let i = step(&i, Command::Arrive { note: None }, &officer(), clock.now());
    assert_eq!(i.state, IncidentState::OnScene);
    assert_eq!(i.on_scene_at, Some(clock.now()));
    clock.advance(Duration::minutes(10));
    let resolve = Command::Resolve {
        disposition: Disposition::Genuine,
        note: Some("可疑人员已带离".into()),
    };
    let i = step(&i, resolve, &operator(), clock.now());
    assert_eq!(i.state, IncidentState::Resolved);
    assert_eq!(i.disposition, Some(Disposition::Genuine));
    let i = step(&i, Command::Close { note: None }, &operator(), clock.now());
    assert_eq!(i.state, IncidentState::Closed);
}

#[test]
fn second_claim_is_refused_with_who_has_it() {
    let i = created(t0());
    let i = step(&i, Command::Claim, &operator(), t0());
    let err = apply(&i, &Command::Claim, &operator2(), t0()).err();
    assert_eq!(
        err,
        Some(TransitionError::AlreadyClaimed {
            by: "接警员李娜".into()
        })
    );
    assert_eq!(err.map(|e| e.code()), Some("already_claimed"));
}

#[test]
fn only_the_claimer_or_a_supervisor_acts_on_a_claimed_incident() {
    let i = step(&created(t0()), Command::Claim, &operator(), t0());
    let refused = apply(&i, &dispatch_to_officer(), &operator2(), t0());
    assert!(matches!(
        refused,
        Err(TransitionError::ClaimedByOther { .. })
    ));
    assert!(apply(&i, &dispatch_to_officer(), &supervisor(), t0()).is_ok());
}

#[test]
fn officers_mark_on_scene_only_when_dispatched_to_them() {
    let i = step(&created(t0()), Command::Claim, &operator(), t0());
    let unit_only = Command::Dispatch {
        unit: "巡逻二组".into(),
        officer_user_id: None,
        officer_name: None,
        note: None,
    };
    let i2 = step(&i, unit_only, &operator(), t0());
    assert_eq!(
        apply(&i2, &Command::Arrive { note: None }, &officer(), t0()).err(),
        Some(TransitionError::NotDispatchedToYou)
    );
    let i3 = step(&i, dispatch_to_officer(), &operator(), t0());
    assert!(apply(&i3, &Command::Arrive { note: None }, &officer(), t0()).is_ok());
}

#[test]
fn transitions_out_of_order_are_refused() {
    let fresh = created(t0());
    let cases: Vec<(Command, &str)> = vec![
        (dispatch_to_officer(), "dispatch"),
        (Command::Arrive { note: None }, "mark on scene"),
        (
            Command::Resolve {
                disposition: Disposition::Test,
                note: None,
            },
            "resolve",
        ),
        (Command::Close { note: None }, "close"),
    ];
    for (command, action) in cases {
        assert_eq!(
            apply(&fresh, &command, &operator(), t0()).err(),
            Some(TransitionError::WrongState {
                action,
                state: "received"
            }),
            "{command:?}"
        );
    }
    let claimed = step(&fresh, Command::Claim, &operator(), t0());
    assert!(apply(&claimed, &Command::Escalate, &Actor::system(), t0()).is_err());
}

#[test]
fn a_false_alarm_can_be_resolved_without_dispatch() {
    let i = step(&created(t0()), Command::Claim, &operator(), t0());
    let r = Command::Resolve {
        disposition: Disposition::FalseAlarm,
        note: Some("误触".into()),
    };
    let i = step(&i, r, &operator(), t0());
    assert_eq!(i.state, IncidentState::Resolved);
    assert_eq!(i.resolution_note.as_deref(), Some("误触"));
}

#[test]
fn a_second_press_joins_the_open_incident_and_raises_its_priority() {
    let mut open = created(t0());
    open.priority = 3;
    let later = t0() + Duration::seconds(8);
    match raise_or_join(Some(&open), &alarm(5, 1), later) {
        RaiseDecision::Join(i, e) => {
            assert_eq!(i.id, 42);
            assert_eq!(i.press_count, 2);
            assert_eq!(i.priority, 1);
            assert_eq!(e.kind, EntryKind::Joined);
            assert_eq!(e.incident_id, 42);
        }
        RaiseDecision::Create(..) => panic!("expected a join"),
    }
}

#[test]
fn a_press_after_resolution_opens_a_new_incident() {
    let i = step(&created(t0()), Command::Claim, &operator(), t0());
    let r = Command::Resolve {
        disposition: Disposition::Test,
        note: None,
    };
    let resolved = step(&i, r, &operator(), t0());
    assert!(matches!(
        raise_or_join(Some(&resolved), &alarm(5, 1), t0()),
        RaiseDecision::Create(..)
    ));
}

#[test]
fn priority_is_clamped_and_raised_at_never_lies_in_the_future() {
    let mut a = alarm(5, 9);
    a.raised_at = t0() + Duration::hours(1);
    match raise_or_join(None, &a, t0()) {
        RaiseDecision::Create(i, _) => {
            assert_eq!(i.priority, 4);
            assert_eq!(i.raised_at, t0());
        }
        RaiseDecision::Join(..) => panic!("expected a new incident"),
    }
}

#[test]
fn accidental_report_is_recorded_once_and_police_still_close() {
    let i = created(t0());
    let i = step(
        &i,
        Command::ReportAccidental {
            note: Some("学生误碰".into()),
        },
        &guard(),
        t0(),
    );
    assert!(i.accidental_reported_at.is_some());
    assert_eq!(i.state, IncidentState::Received);
    assert!(
        apply(
            &i,
            &Command::ReportAccidental { note: None },
            &guard(),
            t0()
        )
        .is_err()
    );
}

#[test]
fn unclaimed_incident_escalates_after_the_configured_time_once() {
    let clock = SimulatedClock::new(t0());
    let after = Duration::seconds(30);
    let i = created(clock.now());
    let open = vec![i.clone()];
    clock.advance(Duration::seconds(29));
    assert!(escalation::due(&open, clock.now(), after).is_empty());
    assert_eq!(escalation::next_due(&open, after), Some(t0() + after));
    clock.advance(Duration::seconds(1));
    let due = escalation::due(&open, clock.now(), after);
    assert_eq!(due.len(), 1);
    let escalated = step(&i, Command::Escalate, &Actor::system(), clock.now());
    assert_eq!(escalated.escalated_at, Some(clock.now()));
    assert_eq!(escalated.state, IncidentState::Received);
    assert!(escalation::due(std::slice::from_ref(&escalated), clock.now(), after).is_empty());
    // Claiming after escalation still works.
    let claimed = step(&escalated, Command::Claim, &operator(), clock.now());
    assert!(escalation::next_due(&[claimed], after).is_none());
}

#[test]
fn queue_orders_by_priority_then_age() {
    let mut a = created(t0());
    a.id = 1;
    a.priority = 2;
    let mut b = created(t0() + Duration::seconds(10));
    b.id = 2;
    b.priority = 1;
    let mut c = created(t0() + Duration::seconds(20));
    c.id = 3;
    c.priority = 1;
    let mut q = [a, c, b];
    q.sort_by(queue_order);
    assert_eq!(q.iter().map(|i| i.id).collect::<Vec<_>>(), vec![2, 3, 1]);
}
