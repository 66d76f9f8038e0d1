//! The conformance suite every [`Store`] backend must pass. Each check is a `pub async fn`
//! taking a fresh, empty store; [`conformance_tests!`](crate::conformance_tests) turns the whole
//! list into one `#[tokio::test]` per check for a backend:
//!
//! ```ignore
//! async fn fresh() -> (Arc<dyn Store>, TempDir) { ... }
//! xiaoan_store::conformance_tests!(fresh);
//! ```
//!
//! Checks panic with a message on failure (they are test code compiled into the library so
//! other backends can reuse them). Times are whole milliseconds so every backend can store them
//! exactly.

use std::collections::BTreeSet;
use std::fmt::Display;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use xiaoan_core::access::{Role, Scope};
use xiaoan_core::incident::{
    Actor, Command, Disposition, EntryKind, IncidentState, NewAlarm, TransitionError,
};
use xiaoan_core::model::{
    AlarmPoint, Device, Id, Person, Region, RegionKind, School, SchoolKind, User,
};

use crate::{DirectorySeed, IdempotencyKey, IncidentFilter, Session, Store, StoreError};

/// Generates one `#[tokio::test]` per conformance check. `$fresh` is an async fn returning
/// `(Arc<dyn Store>, guard)`: a new empty store and whatever must live as long as it.
#[macro_export]
macro_rules! conformance_tests {
    ($fresh:path) => {
        $crate::conformance_tests!(@each $fresh;
            seed_round_trip,
            seeding_twice_conflicts,
            user_lookup,
            sessions_lifecycle,
            raise_creates_incident,
            second_raise_joins,
            raise_at_other_point_is_separate,
            raise_after_resolve_opens_new_incident,
            raise_at_unknown_point_is_not_found,
            idempotent_replay,
            concurrent_idempotent_raises,
            second_claim_is_refused,
            full_lifecycle,
            unknown_incident,
            list_filters,
            events_paging,
            concurrent_raises_make_one_incident,
        );
    };
    (@each $fresh:path; $($check:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $check() {
                let (store, _guard) = $fresh().await;
                $crate::conformance::$check(store).await;
            }
        )*
    };
}

// ---------------------------------------------------------------------------------------------
// Helpers and the fixture directory.

fn ok<T, E: Display>(r: Result<T, E>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{what}: {e}"),
    }
}

fn some<T>(o: Option<T>, what: &str) -> T {
    match o {
        Some(v) => v,
        None => panic!("{what}: got None"),
    }
}

/// Fixed test epoch: 2025-03-01 08:00:00.123 UTC.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 8, 0, 0)
        .single()
        .map(|t| t + Duration::milliseconds(123))
        .unwrap_or_default()
}

/// `t0` plus whole seconds.
pub fn at(secs: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(secs)
}

pub const SCHOOL_A: Id = 100;
pub const SCHOOL_B: Id = 101;
pub const SCHOOL_C: Id = 102;
/// One-key point at school A.
pub const POINT_A1: Id = 1000;
/// Second point at school A.
pub const POINT_A2: Id = 1001;
pub const POINT_B: Id = 1010;
pub const POINT_C: Id = 1020;

fn user(id: Id, username: &str, name: &str, role: Role, scopes: Vec<Scope>) -> User {
    User {
        id,
        username: username.into(),
        display_name: name.into(),
        role,
        phone: None,
        scopes,
        post_alarm_point_id: None,
    }
}

/// The hash stored for user `id` in [`seed`].
pub fn hash_of(id: Id) -> String {
    format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ{id}$aGFzaGhhc2hoYXNo")
}

/// A small directory: one bureau, two police areas, three schools, four alarm points, users of
/// each working role.
pub fn seed() -> DirectorySeed {
    let mut guard = user(
        1,
        "guard",
        "王保安",
        Role::SchoolGuard,
        vec![Scope::School(SCHOOL_A)],
    );
    guard.phone = Some("13800000001".into());
    guard.post_alarm_point_id = Some(POINT_A1);
    let users = vec![
        guard,
        user(
            2,
            "op1",
            "李接警",
            Role::PoliceOperator,
            vec![Scope::PoliceArea(20), Scope::PoliceArea(21)],
        ),
        user(
            3,
            "op2",
            "张接警",
            Role::PoliceOperator,
            vec![Scope::PoliceArea(20)],
        ),
        user(
            4,
            "sup",
            "赵值班长",
            Role::PoliceSupervisor,
            vec![Scope::PoliceArea(20)],
        ),
        user(
            5,
            "officer",
            "陈民警",
            Role::PoliceOfficer,
            vec![Scope::PoliceArea(20)],
        ),
        user(
            6,
            "bureau",
            "刘督学",
            Role::BureauInspector,
            vec![Scope::BureauRegion(10), Scope::School(SCHOOL_C)],
        ),
        user(7, "admin", "系统管理员", Role::Sysadmin, vec![]),
    ];
    let school = |id: Id, name: &str, kind: SchoolKind, police: Id, lat: f64, lon: f64| School {
        id,
        name: name.into(),
        address: format!("{name}路1号"),
        lat,
        lon,
        kind,
        pupils: 100 + id,
        boarders: id - 100,
        bureau_region_id: 10,
        police_region_id: police,
    };
    let point = |id: Id, school_id: Id, name: &str, one_key: bool| AlarmPoint {
        id,
        school_id,
        name: name.into(),
        location: format!("{name}，一层"),
        one_key,
    };
    DirectorySeed {
        regions: vec![
            Region {
                id: 10,
                kind: RegionKind::Bureau,
                name: "城区教育局".into(),
                code: Some("422801".into()),
                phone: Some("0718-8200000".into()),
            },
            Region {
                id: 20,
                kind: RegionKind::Police,
                name: "舞阳派出所".into(),
                code: None,
                phone: Some("0718-110".into()),
            },
            Region {
                id: 21,
                kind: RegionKind::Police,
                name: "小渡船派出所".into(),
                code: Some("422801-02".into()),
                phone: None,
            },
        ],
        schools: vec![
            school(
                SCHOOL_A,
                "实验小学",
                SchoolKind::Primary,
                20,
                30.2712345678,
                109.4876543219,
            ),
            school(SCHOOL_B, "第一中学", SchoolKind::Middle, 21, 30.29, -109.5),
            school(
                SCHOOL_C,
                "阳光幼儿园",
                SchoolKind::Kindergarten,
                20,
                -0.000001,
                0.0,
            ),
        ],
        alarm_points: vec![
            point(POINT_A1, SCHOOL_A, "南门门卫室", true),
            point(POINT_A2, SCHOOL_A, "值班室", false),
            point(POINT_B, SCHOOL_B, "北门", true),
            point(POINT_C, SCHOOL_C, "大门", true),
        ],
        devices: vec![
            Device {
                id: 5000,
                school_id: SCHOOL_A,
                alarm_point_id: Some(POINT_A1),
                kind: "one_key_button".into(),
                name: "一键报警".into(),
                external_id: Some("1234".into()),
            },
            Device {
                id: 5001,
                school_id: SCHOOL_B,
                alarm_point_id: None,
                kind: "camera".into(),
                name: "操场摄像机".into(),
                external_id: None,
            },
        ],
        people: vec![
            Person {
                id: 9001,
                school_id: SCHOOL_A,
                role: "principal".into(),
                name: "周校长".into(),
                phone: "13900000001".into(),
            },
            Person {
                id: 9000,
                school_id: SCHOOL_A,
                role: "security_chief".into(),
                name: "吴主任".into(),
                phone: "13900000002".into(),
            },
        ],
        users: users
            .into_iter()
            .map(|u| {
                let h = hash_of(u.id);
                (u, h)
            })
            .collect(),
    }
}

/// The actor for fixture user `id`.
pub fn actor(id: Id) -> Actor {
    let seed = seed();
    let (u, _) = some(
        seed.users.into_iter().find(|(u, _)| u.id == id),
        "fixture user",
    );
    Actor {
        user_id: Some(u.id),
        name: u.display_name,
        role: Some(u.role),
    }
}

const GUARD: Id = 1;
const OP1: Id = 2;
const OP2: Id = 3;
const OFFICER: Id = 5;

/// A web press at `point` (school derived from the fixture) raised at `raised_at`.
pub fn alarm(point: Id, priority: u8, raised_at: DateTime<Utc>) -> NewAlarm {
    let school_id = match point {
        POINT_A1 | POINT_A2 => SCHOOL_A,
        POINT_B => SCHOOL_B,
        _ => SCHOOL_C,
    };
    NewAlarm {
        school_id,
        alarm_point_id: point,
        priority,
        kind: "panic".into(),
        source: "web".into(),
        silent: point == POINT_A2,
        note: Some("有人持刀".into()),
        raised_by: actor(GUARD),
        raised_at,
    }
}

async fn seeded(store: &dyn Store) {
    ok(store.seed_directory(&seed()).await, "seed_directory");
}

fn key(principal: &str, key: &str) -> IdempotencyKey {
    IdempotencyKey {
        principal: principal.into(),
        key: key.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Directory and users.

/// Everything seeded comes back field for field.
pub async fn seed_round_trip(store: Arc<dyn Store>) {
    let seed = seed();
    seeded(&*store).await;
    let dir = ok(store.load_directory().await, "load_directory");
    assert_eq!(dir.regions.len(), seed.regions.len());
    for r in &seed.regions {
        assert_eq!(dir.regions.get(&r.id), Some(r), "region {}", r.id);
    }
    assert_eq!(dir.schools.len(), seed.schools.len());
    for s in &seed.schools {
        assert_eq!(
            dir.schools.get(&s.id),
            Some(s),
            "school {} (coordinates exact)",
            s.id
        );
    }
    assert_eq!(dir.alarm_points.len(), seed.alarm_points.len());
    for p in &seed.alarm_points {
        assert_eq!(dir.alarm_points.get(&p.id), Some(p), "alarm point {}", p.id);
    }
    assert_eq!(dir.devices.len(), seed.devices.len());
    for d in &seed.devices {
        assert_eq!(dir.devices.get(&d.id), Some(d), "device {}", d.id);
    }
    let mut people = dir.people.clone();
    people.sort_by_key(|p| p.id);
    let mut expected = seed.people.clone();
    expected.sort_by_key(|p| p.id);
    assert_eq!(people, expected);

    let users = ok(store.list_users().await, "list_users");
    let mut expected: Vec<User> = seed.users.iter().map(|(u, _)| u.clone()).collect();
    expected.sort_by_key(|u| u.id);
    let mut users_sorted = users.clone();
    users_sorted.sort_by_key(|u| u.id);
    assert_eq!(
        users_sorted, expected,
        "users with scopes (in order) and post"
    );
    for u in &expected {
        assert_eq!(
            ok(store.user_by_id(u.id).await, "user_by_id").as_ref(),
            Some(u)
        );
    }
}

/// A second seed is refused and changes nothing.
pub async fn seeding_twice_conflicts(store: Arc<dyn Store>) {
    seeded(&*store).await;
    let mut again = seed();
    again.regions.clear();
    for s in &mut again.schools {
        s.id += 1000;
    }
    match store.seed_directory(&again).await {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("second seed: expected Conflict, got {other:?}"),
    }
    let dir = ok(store.load_directory().await, "load_directory");
    assert_eq!(dir.schools.len(), seed().schools.len());
}

/// Login look-ups return the hash; unknown names and ids are `None`.
pub async fn user_lookup(store: Arc<dyn Store>) {
    seeded(&*store).await;
    let rec = some(
        ok(store.user_by_username("op1").await, "user_by_username"),
        "op1",
    );
    assert_eq!(rec.user.id, OP1);
    assert_eq!(rec.user.role, Role::PoliceOperator);
    assert_eq!(rec.password_hash, hash_of(OP1));
    assert!(!rec.disabled);
    assert!(
        !format!("{rec:?}").contains(&hash_of(OP1)),
        "Debug must not show the hash"
    );
    assert!(ok(store.user_by_username("nobody").await, "unknown").is_none());
    assert!(ok(store.user_by_username("OP1").await, "case").is_none());
    assert!(ok(store.user_by_id(424242).await, "unknown id").is_none());
}

/// Sessions: create, read before expiry only, slide, end.
pub async fn sessions_lifecycle(store: Arc<dyn Store>) {
    seeded(&*store).await;
    let s = Session {
        token_hash: "a1b2c3".into(),
        user_id: OP1,
        created_at: at(0),
        expires_at: at(3600),
    };
    ok(store.create_session(&s).await, "create_session");
    assert_eq!(
        ok(store.session("a1b2c3", at(10)).await, "session"),
        Some(s.clone())
    );
    assert_eq!(ok(store.session("other", at(10)).await, "unknown"), None);
    assert_eq!(
        ok(store.session("a1b2c3", at(3600)).await, "at expiry"),
        None,
        "a session is not valid at its expiry instant"
    );
    assert_eq!(ok(store.session("a1b2c3", at(4000)).await, "expired"), None);

    ok(
        store.touch_session("a1b2c3", at(7200)).await,
        "touch_session",
    );
    let touched = some(
        ok(store.session("a1b2c3", at(4000)).await, "touched"),
        "touched",
    );
    assert_eq!(touched.expires_at, at(7200));
    assert_eq!(touched.created_at, at(0));

    match store.create_session(&s).await {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("duplicate session: expected Conflict, got {other:?}"),
    }
    ok(store.delete_session("a1b2c3").await, "delete_session");
    assert_eq!(ok(store.session("a1b2c3", at(10)).await, "deleted"), None);
    ok(
        store.delete_session("a1b2c3").await,
        "deleting twice is fine",
    );
    ok(
        store.touch_session("a1b2c3", at(9000)).await,
        "touching a session that is gone is not an error",
    );
    assert_eq!(
        ok(
            store.session("a1b2c3", at(10)).await,
            "touched after delete"
        ),
        None,
        "touching never brings a session back"
    );
}

// ---------------------------------------------------------------------------------------------
// Raising alarms.

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
        again.entries.is_empty() || again.entries == first.entries,
        "replayed entries are the first answer's or none"
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

// ---------------------------------------------------------------------------------------------
// Commands.

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

// ---------------------------------------------------------------------------------------------
// Reads.

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
