//! Runs the backend conformance suite against SQLite (a fresh file per test), plus the checks
//! only a file-backed store can make: the data survives closing and reopening the file.

use std::sync::Arc;

use tempfile::TempDir;
use xiaoan_core::incident::{Command, IncidentState};
use xiaoan_store::conformance::{self, actor, alarm, at};
use xiaoan_store::{IncidentFilter, Session, SqliteStore, Store};

async fn fresh() -> (Arc<dyn Store>, TempDir) {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("tempdir: {e}"),
    };
    let store = match SqliteStore::open_in(dir.path()).await {
        Ok(s) => s,
        Err(e) => panic!("open: {e}"),
    };
    (Arc::new(store), dir)
}

xiaoan_store::conformance_tests!(fresh);

#[tokio::test]
async fn data_survives_closing_and_reopening_the_file() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("nested").join("xiaoan.db");
    std::fs::create_dir_all(dir.path().join("nested"))?;

    let (incident_id, last) = {
        let store = SqliteStore::open(&path).await?;
        store.seed_directory(&conformance::seed()).await?;
        let raised = store
            .raise_alarm(&alarm(conformance::POINT_A1, 1, at(0)), None, at(0))
            .await?;
        store
            .apply_command(raised.incident.id, &Command::Claim, &actor(2), at(5))
            .await?;
        store
            .create_session(&Session {
                token_hash: "feedbeef".into(),
                user_id: 2,
                created_at: at(0),
                expires_at: at(3600),
            })
            .await?;
        let last = store.last_event_id().await?;
        store.close().await;
        (raised.incident.id, last)
    };
    assert!(path.exists());

    let store = SqliteStore::open(&path).await?;
    let dir_loaded = store.load_directory().await?;
    assert_eq!(dir_loaded.schools.len(), conformance::seed().schools.len());
    let inc = store.incident(incident_id).await?.ok_or("incident lost")?;
    assert_eq!(inc.state, IncidentState::Claimed);
    assert_eq!(inc.claimed_by, Some(actor(2)));
    assert_eq!(store.timeline(incident_id).await?.len(), 3);
    assert_eq!(store.last_event_id().await?, last);
    assert!(store.session("feedbeef", at(10)).await?.is_some());
    assert_eq!(
        store
            .list_incidents(&IncidentFilter::default())
            .await?
            .len(),
        1
    );
    // The open incident is still found after reopening, and event ids keep growing.
    let again = store
        .raise_alarm(&alarm(conformance::POINT_A1, 1, at(9)), None, at(9))
        .await?;
    assert!(again.joined);
    assert_eq!(again.incident.id, incident_id);
    assert!(again.entries[0].id > last);
    // Reopening runs the migrations again harmlessly; seeding again is still refused.
    assert!(store.seed_directory(&conformance::seed()).await.is_err());
    store.close().await;
    Ok(())
}

#[tokio::test]
async fn reopening_without_close_keeps_acknowledged_writes()
-> Result<(), Box<dyn std::error::Error>> {
    // Dropping the store without `close` is the closest in-process stand-in for a crash: the
    // pools are abandoned and the WAL is not checkpointed.
    let dir = tempfile::tempdir()?;
    let id = {
        let store = SqliteStore::open_in(dir.path()).await?;
        store.seed_directory(&conformance::seed()).await?;
        store
            .raise_alarm(&alarm(conformance::POINT_B, 1, at(0)), None, at(0))
            .await?
            .incident
            .id
    };
    let store = SqliteStore::open_in(dir.path()).await?;
    assert!(store.incident(id).await?.is_some());
    Ok(())
}
