//! WAL checkpoints off the commit path. With SQLite's automatic checkpoints, the commit that
//! takes the WAL past `wal_autocheckpoint` pages copies the whole WAL into the database file and
//! fsyncs it before it returns, and every alarm queued behind that commit waits (at 1,000 alarms/s
//! those stalls were the p99). Here a task on a connection of its own runs a `PASSIVE` checkpoint
//! every [`EVERY`]: it copies what the WAL holds into the database file while the writer goes on
//! appending and committing (a `PASSIVE` checkpoint takes no lock a writer waits for), and the
//! writer reuses the WAL from its start once everything was copied. The writer's own automatic
//! checkpoint stays as a backstop at a much larger size, for when this task cannot keep up.
//!
//! Durability does not depend on any of this: a commit is durable once its WAL frames are
//! fsync'd (`synchronous=FULL`); a checkpoint only moves committed pages into the database file.

use std::sync::Weak;
use std::time::Duration;

use sqlx::SqlitePool;

/// How often the WAL is checkpointed.
pub(super) const EVERY: Duration = Duration::from_millis(100);

/// Checkpoints through `pool` every [`EVERY`] until `alive` is gone (every clone of the store
/// dropped) or the pool is closed ([`super::SqliteStore::close`]).
pub(super) async fn run(pool: SqlitePool, alive: Weak<()>) {
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if alive.strong_count() == 0 || pool.is_closed() {
            break;
        }
        // Columns: busy (1 when a lock stopped it early), WAL frames, frames copied.
        match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&pool)
            .await
        {
            Ok((busy, log, copied)) => {
                tracing::trace!(busy, log, copied, "WAL checkpoint");
            }
            Err(sqlx::Error::PoolClosed) => break,
            Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
        }
    }
    pool.close().await;
}
