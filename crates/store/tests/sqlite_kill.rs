//! `kill -9` loses nothing acknowledged: a child process raises alarms as fast as it can and
//! prints each one the store acknowledged; the parent kills it mid-stream with SIGKILL, reopens
//! the file and finds every acknowledged alarm, and each acknowledged idempotency key still
//! replays instead of making a second press.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use xiaoan_store::conformance::{self, alarm, at};
use xiaoan_store::{IdempotencyKey, SqliteStore, Store};

const CHILD_ENV: &str = "XIAOAN_STORE_KILL_CHILD_DB";

fn key(i: i64) -> IdempotencyKey {
    IdempotencyKey {
        principal: "user:1".into(),
        key: format!("press-{i}"),
    }
}

/// Kills the child if the parent bails out early.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The child: only does something when the parent sets `CHILD_ENV`.
#[tokio::test]
async fn child_writer() -> Result<(), Box<dyn std::error::Error>> {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return Ok(());
    };
    let store = SqliteStore::open(std::path::Path::new(&path)).await?;
    store.seed_directory(&conformance::seed()).await?;
    println!("ready");
    // Bounded, so an orphaned child cannot run forever.
    for i in 0..20_000 {
        let point = [conformance::POINT_A1, conformance::POINT_B][(i % 2) as usize];
        let out = store
            .raise_alarm(&alarm(point, 1, at(i)), Some(&key(i)), at(i))
            .await?;
        let last = out.entries.last().map_or(0, |e| e.id);
        // Printed only after the store said Ok: this is the acknowledgement.
        println!("ack {i} {} {last}", out.incident.id);
    }
    Ok(())
}

#[tokio::test]
async fn kill_9_loses_nothing_acknowledged() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::var(CHILD_ENV).is_ok() {
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("xiaoan.db");
    let mut child = KillOnDrop(
        Command::new(std::env::current_exe()?)
            .args(["--exact", "child_writer", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?,
    );
    let stdout = child.0.stdout.take().ok_or("no child stdout")?;
    let mut acks: Vec<(i64, i64, i64)> = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        let mut parts = line.split_whitespace();
        if parts.next() != Some("ack") {
            continue;
        }
        let nums: Vec<i64> = parts.map(str::parse).collect::<Result<_, _>>()?;
        if let [i, incident, event] = nums[..] {
            acks.push((i, incident, event));
        }
        if acks.len() >= 60 {
            break;
        }
    }
    // SIGKILL while the child is still writing.
    child.0.kill()?;
    child.0.wait()?;
    assert!(
        acks.len() >= 60,
        "child stopped early after {} acks",
        acks.len()
    );

    let store = SqliteStore::open(&path).await?;
    let max_event = acks.iter().map(|a| a.2).max().unwrap_or(0);
    assert!(store.last_event_id().await? >= max_event);
    let events = store.events_since(0, 100_000).await?;
    for &(i, incident, event) in &acks {
        assert!(
            events
                .iter()
                .any(|e| e.entry.id == event && e.entry.incident_id == incident),
            "acknowledged press {i} (event {event}) lost"
        );
        let replay = store
            .raise_alarm(
                &alarm(conformance::POINT_A1, 1, at(i)),
                Some(&key(i)),
                at(i),
            )
            .await?;
        assert!(replay.replayed, "press {i} would be raised twice");
        assert_eq!(replay.incident.id, incident);
    }
    // Two points: every acknowledged press went into one of two incidents.
    let incidents: std::collections::BTreeSet<i64> = acks.iter().map(|a| a.1).collect();
    assert_eq!(incidents.len(), 2);
    let presses: i64 = {
        let mut n = 0;
        for id in &incidents {
            n += store
                .incident(*id)
                .await?
                .ok_or("incident lost")?
                .press_count;
        }
        n
    };
    assert!(presses >= acks.len() as i64);
    Ok(())
}
