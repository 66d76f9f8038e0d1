//! Checks of the directory, users and sessions.

use std::sync::Arc;

use xiaoan_core::access::Role;
use xiaoan_core::model::User;

use crate::{Session, Store, StoreError};

use super::fixture::*;
use super::{ok, some};

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
