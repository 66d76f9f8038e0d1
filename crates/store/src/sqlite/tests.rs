//! Tests of SQLite specifics the conformance suite cannot see: pragmas, the single writer,
//! write failures surfacing as `Unavailable`, corrupt rows surfacing as `Other`.

#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

use sqlx::AssertSqlSafe;
use tempfile::TempDir;

use super::*;
use crate::conformance::{self, alarm, at};

async fn open_seeded() -> (SqliteStore, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_in(dir.path()).await.unwrap();
    store.seed_directory(&conformance::seed()).await.unwrap();
    (store, dir)
}

#[tokio::test]
async fn connections_are_wal_fsync_full_with_foreign_keys_and_one_writer() {
    let (store, _dir) = open_seeded().await;
    for pool in [&store.writer, &store.reader] {
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(sync, 2, "synchronous=FULL");
        let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(fk, 1);
        let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
            .fetch_one(pool)
            .await
            .unwrap();
        assert!(busy >= 1000);
    }
    assert_eq!(store.writer.options().get_max_connections(), 1);
    // The read pool cannot write.
    let err = sqlx::query("DELETE FROM sessions")
        .execute(&store.reader)
        .await
        .unwrap_err();
    assert!(matches!(map_err(err), StoreError::Unavailable(_)));
}

#[tokio::test]
async fn a_full_disk_is_unavailable_and_leaves_nothing_half_written() {
    let (store, _dir) = open_seeded().await;
    let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
        .fetch_one(&store.writer)
        .await
        .unwrap();
    // SQLite refuses to grow the file past max_page_count with SQLITE_FULL, as on a full disk.
    sqlx::query(AssertSqlSafe(format!("PRAGMA max_page_count = {pages}")))
        .execute(&store.writer)
        .await
        .unwrap();
    let mut big = alarm(conformance::POINT_A1, 1, at(0));
    big.note = Some("x".repeat(256 * 1024));
    let err = store.raise_alarm(&big, None, at(0)).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Unavailable(_)),
        "expected Unavailable, got {err:?}"
    );
    assert_eq!(store.last_event_id().await.unwrap(), 0);
    assert!(
        store
            .list_incidents(&IncidentFilter::default())
            .await
            .unwrap()
            .is_empty()
    );

    // Space comes back: the writer connection is still good and the next alarm goes in.
    sqlx::query("PRAGMA max_page_count = 1073741823")
        .execute(&store.writer)
        .await
        .unwrap();
    let out = store.raise_alarm(&big, None, at(1)).await.unwrap();
    assert_eq!(out.incident.press_count, 1);
}

#[tokio::test]
async fn a_read_only_database_is_unavailable() {
    let (store, _dir) = open_seeded().await;
    sqlx::query("PRAGMA query_only = ON")
        .execute(&store.writer)
        .await
        .unwrap();
    let err = store
        .raise_alarm(&alarm(conformance::POINT_B, 1, at(0)), None, at(0))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Unavailable(_)),
        "expected Unavailable, got {err:?}"
    );
    sqlx::query("PRAGMA query_only = OFF")
        .execute(&store.writer)
        .await
        .unwrap();
    store
        .raise_alarm(&alarm(conformance::POINT_B, 1, at(0)), None, at(0))
        .await
        .unwrap();
}

#[tokio::test]
async fn corrupt_rows_are_errors_not_panics() {
    let (store, _dir) = open_seeded().await;
    let id = store
        .raise_alarm(&alarm(conformance::POINT_C, 1, at(0)), None, at(0))
        .await
        .unwrap()
        .incident
        .id;
    sqlx::query("PRAGMA ignore_check_constraints = ON")
        .execute(&store.writer)
        .await
        .unwrap();
    sqlx::query("UPDATE incidents SET state = 'exploded' WHERE id = ?")
        .bind(id)
        .execute(&store.writer)
        .await
        .unwrap();
    sqlx::query("UPDATE timeline_entries SET data = '{not json' WHERE incident_id = ?")
        .bind(id)
        .execute(&store.writer)
        .await
        .unwrap();
    sqlx::query("UPDATE regions SET kind = 'navy' WHERE id = 10")
        .execute(&store.writer)
        .await
        .unwrap();
    assert!(matches!(
        store.incident(id).await,
        Err(StoreError::Other(_))
    ));
    assert!(matches!(
        store.timeline(id).await,
        Err(StoreError::Other(_))
    ));
    assert!(matches!(
        store.events_since(0, 10).await,
        Err(StoreError::Other(_))
    ));
    assert!(matches!(
        store.list_incidents(&IncidentFilter::default()).await,
        Err(StoreError::Other(_))
    ));
    assert!(matches!(
        store.load_directory().await,
        Err(StoreError::Other(_))
    ));
    assert!(matches!(
        store
            .apply_command(id, &Command::Claim, &conformance::actor(2), at(1))
            .await,
        Err(StoreError::Other(_))
    ));
}

#[tokio::test]
async fn the_one_open_incident_per_point_is_enforced_by_the_schema() {
    let (store, _dir) = open_seeded().await;
    let first = store
        .raise_alarm(&alarm(conformance::POINT_A1, 1, at(0)), None, at(0))
        .await
        .unwrap();
    let err = sqlx::query(
        "INSERT INTO incidents (school_id, alarm_point_id, state, priority, kind, source, \
         silent, raised_by_name, raised_at, received_at, press_count, updated_at) \
         SELECT school_id, alarm_point_id, 'claimed', priority, kind, source, silent, \
         raised_by_name, raised_at, received_at, 1, updated_at FROM incidents WHERE id = ?",
    )
    .bind(first.incident.id)
    .execute(&store.writer)
    .await
    .unwrap_err();
    assert!(matches!(map_err(err), StoreError::Conflict(_)));
}

#[tokio::test]
async fn opening_an_impossible_path_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, b"not a directory").unwrap();
    let err = SqliteStore::open(&blocker.join("xiaoan.db"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Unavailable(_)),
        "expected Unavailable, got {err:?}"
    );
    // A file that is not a database is refused, not panicked on.
    assert!(SqliteStore::open(&blocker).await.is_err());
}

#[test]
fn error_mapping() {
    assert!(matches!(
        map_err(sqlx::Error::RowNotFound),
        StoreError::NotFound(_)
    ));
    assert!(matches!(
        map_err(sqlx::Error::PoolTimedOut),
        StoreError::Unavailable(_)
    ));
    assert!(matches!(
        map_err(sqlx::Error::Io(std::io::Error::other("disk"))),
        StoreError::Unavailable(_)
    ));
    assert!(matches!(
        map_err(sqlx::Error::Protocol("odd".into())),
        StoreError::Other(_)
    ));
}

/// A batch numbers new incidents and events past the largest id `AUTOINCREMENT` ever gave, even
/// when the rows holding it are gone, and the ids answered are the ids stored.
#[tokio::test]
async fn batch_ids_never_reuse_an_id_autoincrement_gave() {
    use crate::RaiseRequest;
    let (store, _dir) = open_seeded().await;
    let first = store
        .raise_alarm(&alarm(conformance::POINT_A1, 1, at(0)), None, at(0))
        .await
        .unwrap();
    // As if the newest rows had been deleted: the sequence is ahead of MAX(id).
    for table in ["incidents", "timeline_entries"] {
        sqlx::query("UPDATE sqlite_sequence SET seq = seq + 100 WHERE name = ?")
            .bind(table)
            .execute(&store.writer)
            .await
            .unwrap();
    }
    let batch: Vec<RaiseRequest> = [conformance::POINT_A2, conformance::POINT_A1]
        .into_iter()
        .map(|p| RaiseRequest {
            alarm: alarm(p, 1, at(1)),
            key: None,
        })
        .collect();
    let results = store.raise_alarms(&batch, at(1)).await.unwrap();
    let created = results[0].as_ref().unwrap();
    let joined = results[1].as_ref().unwrap();
    assert_eq!(created.incident.id, first.incident.id + 101);
    let last_entry = first.entries.last().unwrap().id;
    let ids: Vec<i64> = created
        .entries
        .iter()
        .chain(&joined.entries)
        .map(|e| e.id)
        .collect();
    assert_eq!(ids, [last_entry + 101, last_entry + 102, last_entry + 103]);
    let logged: Vec<_> = store
        .events_since(last_entry, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.entry.id, e.entry.incident_id))
        .collect();
    assert_eq!(
        logged,
        [
            (ids[0], created.incident.id),
            (ids[1], created.incident.id),
            (ids[2], first.incident.id)
        ]
    );
    // A later plain insert continues above them.
    let next = store
        .raise_alarm(&alarm(conformance::POINT_B, 1, at(2)), None, at(2))
        .await
        .unwrap();
    assert_eq!(next.incident.id, created.incident.id + 1);
    assert_eq!(next.entries[0].id, ids[2] + 1);
}

fn test_signal(n: i64) -> xiaoan_core::signal::Signal {
    xiaoan_core::signal::Signal {
        id: 0,
        at: at(n),
        school_id: None,
        alarm_point_id: None,
        source: "dc09".into(),
        device: format!("D{n}"),
        kind: "periodic_test".into(),
        severity: xiaoan_core::signal::Severity::Info,
        summary: "test".into(),
        data: serde_json::json!({ "n": n }),
    }
}

#[tokio::test]
async fn signals_queued_during_an_alarm_batch_share_its_commit_with_their_own_ids() {
    use crate::{RaiseRequest, SignalFilter};
    let (store, _dir) = open_seeded().await;
    // Hold the writer so the signals queue up behind it, then let an alarm batch take them.
    let held = store.writer.acquire().await.unwrap();
    let callers: Vec<_> = (0..5)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .record_signals(&[test_signal(2 * n), test_signal(2 * n + 1)])
                    .await
            })
        })
        .collect();
    while store.signals.len() < 5 {
        tokio::task::yield_now().await;
    }
    let batch = vec![RaiseRequest {
        alarm: alarm(conformance::POINT_A1, 1, at(0)),
        key: None,
    }];
    let raising = {
        let store = store.clone();
        tokio::spawn(async move { store.raise_alarms(&batch, at(0)).await })
    };
    drop(held);
    raising.await.unwrap().unwrap()[0].as_ref().unwrap();
    let mut answered = Vec::new();
    for caller in callers {
        answered.extend(caller.await.unwrap().unwrap());
    }
    answered.sort_by_key(|s| s.id);
    let stored = store
        .list_signals(&SignalFilter {
            school_ids: None,
            include_unregistered: true,
            limit: 100,
        })
        .await
        .unwrap();
    assert_eq!(stored.len(), 10);
    let mut stored: Vec<(i64, String)> = stored.into_iter().map(|s| (s.id, s.device)).collect();
    stored.sort();
    let answered: Vec<(i64, String)> = answered.into_iter().map(|s| (s.id, s.device)).collect();
    assert_eq!(answered, stored);
    let ids: Vec<i64> = stored.iter().map(|s| s.0).collect();
    assert_eq!(ids, (1..=10).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_failed_batch_rolls_back_and_the_writer_goes_on() {
    use crate::RaiseRequest;
    let (store, _dir) = open_seeded().await;
    // A trigger makes the batch's writes fail after its reads.
    sqlx::query(
        "CREATE TRIGGER refuse BEFORE INSERT ON timeline_entries \
         BEGIN SELECT RAISE(ABORT, 'refused'); END",
    )
    .execute(&store.writer)
    .await
    .unwrap();
    let batch = vec![RaiseRequest {
        alarm: alarm(conformance::POINT_A1, 1, at(0)),
        key: None,
    }];
    assert!(store.raise_alarms(&batch, at(0)).await.is_err());
    assert!(store.record_signals(&[test_signal(1)]).await.is_ok());
    sqlx::query("DROP TRIGGER refuse")
        .execute(&store.writer)
        .await
        .unwrap();
    let raised = store.raise_alarms(&batch, at(1)).await.unwrap();
    let outcome = raised[0].as_ref().unwrap();
    assert_eq!(outcome.incident.id, 1);
    assert_eq!(
        store.timeline(1).await.unwrap().len(),
        outcome.entries.len()
    );
}
