//! The SQLite backend: opening the database file (WAL, `synchronous=FULL`, foreign keys, busy
//! timeout), the embedded migrations (`migrations/sqlite`), the two pools and the mapping of
//! SQLite errors onto [`StoreError`]. The [`Store`] methods live in `directory.rs`,
//! `sessions.rs` and `incidents.rs`; `rows.rs` converts rows to core types.
//!
//! # Durability and ordering
//! Every write goes through `writer`, a pool of exactly one connection: multi-step writes inside
//! one `BEGIN IMMEDIATE` transaction, single statements (sessions) in autocommit. With
//! `synchronous=FULL` in WAL mode SQLite fsyncs the WAL on every commit, so when a write method
//! returns `Ok` the data survives a crash or `kill -9`. Because there is a single writer,
//! transactions commit in the order they were given their AUTOINCREMENT ids: a reader that sees
//! event `n` can already see every event below `n`, which is what lets the live stream resume
//! by id without gaps.
//!
//! Reads go through `reader`, a small pool of `query_only` connections; WAL lets them run while
//! the writer commits.

mod audit;
mod checkpoint;
mod clips;
mod directory;
mod fault;
mod gb;
mod incidents;
mod multirow;
mod recordings;
mod rows;
mod sessions;
mod signals;
mod write_tx;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};
use xiaoan_core::audit::{AuditRecord, NewAuditEntry};
use xiaoan_core::gb::{GbChannel, GbDevice};
use xiaoan_core::incident::{Actor, Command, Incident, NewAlarm, TimelineEntry};
use xiaoan_core::model::{Directory, Id, User};
use xiaoan_core::signal::{DeviceHealth, Signal};

pub use audit::AuditFile;
pub use fault::{Fault, FaultInjector};

use crate::AuditFilter;
use crate::{
    CameraStorage, NewRecording, Recording, RecordingEnd, RecordingFilter, RecordingSettings,
    RetentionHold,
};
use crate::{
    Clip, ClipFilter, ClipProtection, ClipState, DirectorySeed, GbChannelFilter, IdempotencyKey,
    IncidentFilter, LoggedEvent, NewClip, RaiseOutcome, RaiseRequest, Result, Session,
    SignalFilter, Store, StoreError, UserRecord,
};

/// The file name [`SqliteStore::open_in`] uses inside its directory.
pub const DEFAULT_FILE_NAME: &str = "xiaoan.db";

/// How long a statement waits for a lock held by another process before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a write waits for the single writer connection before the store reports itself
/// unavailable.
const WRITER_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);
/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 400;
/// WAL pages after which a commit checkpoints itself (SQLite's default is 1,000, 4 MB). The
/// checkpoints are made by a task of their own (`checkpoint.rs`) off the commit path; this is
/// only the backstop should it fall behind (~128 MB of WAL), because a checkpoint inside a commit
/// stalls every alarm queued behind it. It bounds the WAL's size, not durability: every commit is
/// fsync'd to the WAL (`synchronous=FULL`).
const WAL_AUTOCHECKPOINT_PAGES: &str = "32000";
/// Concurrent readers.
const READ_CONNECTIONS: u32 = 4;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The embedded SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Exactly one connection: writes are serialized, so no SQLITE_BUSY between our own writers.
    writer: SqlitePool,
    /// Connections that refuse writes (`query_only`).
    reader: SqlitePool,
    /// Device signals waiting for the next write transaction (see `signals.rs`).
    signals: Arc<signals::SignalQueue>,
    /// The WAL checkpoint task (`checkpoint.rs`) stops once every clone of the store is gone.
    _alive: Arc<()>,
    /// The checkpoint task's connection.
    checkpointer: SqlitePool,
    /// Makes writes fail on demand (`fault.rs`); off unless a test turns it on.
    faults: FaultInjector,
}

impl SqliteStore {
    /// Opens (creating if missing) the database file at `path` and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Self> {
        let base = SqliteConnectOptions::new()
            .filename(path)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            // Batches use a few statement shapes per table (see `multirow`): keep them prepared.
            .statement_cache_capacity(STATEMENT_CACHE);
        // The writer connection is kept for the life of the store (no idle or age recycling):
        // it is the one that owns the WAL and its shared-memory index.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .max_lifetime(None)
            .idle_timeout(None)
            .acquire_timeout(WRITER_ACQUIRE_TIMEOUT)
            .connect_with(
                base.clone()
                    .create_if_missing(true)
                    .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES),
            )
            .await
            .map_err(|e| open_error(path, e))?;
        MIGRATOR
            .run(&writer)
            .await
            .map_err(|e| StoreError::Other(format!("migrating {}: {e}", path.display())))?;
        // Opened after the writer so the file exists and is in WAL mode. `query_only` rather than
        // a read-only open: a read-only handle cannot recreate the WAL index if it is missing.
        let reader = SqlitePoolOptions::new()
            .max_connections(READ_CONNECTIONS)
            .connect_with(base.clone().pragma("query_only", "ON"))
            .await
            .map_err(|e| open_error(path, e))?;
        let checkpointer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .max_lifetime(None)
            .idle_timeout(None)
            .connect_with(base)
            .await
            .map_err(|e| open_error(path, e))?;
        let alive = Arc::new(());
        tokio::spawn(checkpoint::run(
            checkpointer.clone(),
            Arc::downgrade(&alive),
        ));
        tracing::debug!(path = %path.display(), "sqlite store open");
        Ok(Self {
            writer,
            reader,
            signals: Arc::default(),
            _alive: alive,
            checkpointer,
            faults: FaultInjector::default(),
        })
    }

    /// Opens `dir/xiaoan.db`, creating the directory if missing.
    pub async fn open_in(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Unavailable(format!("creating {}: {e}", dir.display())))?;
        Self::open(&dir.join(DEFAULT_FILE_NAME)).await
    }

    /// Closes both pools, waiting for their connections to finish. Everything acknowledged is
    /// already on disk; this only lets SQLite checkpoint and tidy up.
    pub async fn close(&self) {
        self.checkpointer.close().await;
        self.reader.close().await;
        self.writer.close().await;
    }

    /// The switch that makes this store's writes fail as a full or failing disk would (shared by
    /// every clone of the store). For tests of the storage-failure paths.
    pub fn faults(&self) -> FaultInjector {
        self.faults.clone()
    }

    /// Starts the write transaction every multi-step write runs in. `IMMEDIATE` takes the write
    /// lock up front, so a transaction never fails half-way for want of it.
    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>> {
        self.faults.check()?;
        self.writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_err)
    }

    /// Starts a read transaction: one consistent snapshot for several selects.
    async fn begin_read(&self) -> Result<Transaction<'static, Sqlite>> {
        self.reader.begin().await.map_err(map_err)
    }
}

fn open_error(path: &Path, e: sqlx::Error) -> StoreError {
    match map_err(e) {
        StoreError::Other(m) | StoreError::Unavailable(m) => {
            StoreError::Unavailable(format!("opening {}: {m}", path.display()))
        }
        other => other,
    }
}

// SQLite primary result codes (the low byte of an extended code).
const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;
const SQLITE_NOMEM: i64 = 7;
const SQLITE_READONLY: i64 = 8;
const SQLITE_IOERR: i64 = 10;
const SQLITE_FULL: i64 = 13;
const SQLITE_CANTOPEN: i64 = 14;
const SQLITE_PROTOCOL: i64 = 15;

/// Maps a sqlx error onto the store's error kinds. Messages carry SQLite's text, which never
/// includes bound values (hashes, tokens).
pub(crate) fn map_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound("row"),
        sqlx::Error::Database(db) => {
            if db.is_unique_violation() {
                return StoreError::Conflict(db.message().to_owned());
            }
            if db.is_foreign_key_violation() {
                return StoreError::Conflict(format!(
                    "{} (a referenced record does not exist)",
                    db.message()
                ));
            }
            let code = db.code().and_then(|c| c.parse::<i64>().ok()).unwrap_or(0);
            match code & 0xff {
                SQLITE_BUSY | SQLITE_LOCKED | SQLITE_NOMEM | SQLITE_READONLY | SQLITE_IOERR
                | SQLITE_FULL | SQLITE_CANTOPEN | SQLITE_PROTOCOL => {
                    tracing::warn!(code, message = db.message(), "sqlite cannot write");
                    StoreError::Unavailable(db.message().to_owned())
                }
                _ => {
                    tracing::error!(code, message = db.message(), "sqlite error");
                    StoreError::Other(db.message().to_owned())
                }
            }
        }
        sqlx::Error::Io(e) => StoreError::Unavailable(e.to_string()),
        e @ (sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed) => {
            StoreError::Unavailable(e.to_string())
        }
        other => StoreError::Other(other.to_string()),
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn seed_directory(&self, seed: &DirectorySeed) -> Result<()> {
        directory::seed(self, seed).await
    }

    async fn load_directory(&self) -> Result<Directory> {
        directory::load(self).await
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        directory::list_users(self).await
    }

    async fn user_by_username(&self, username: &str) -> Result<Option<UserRecord>> {
        directory::user_by_username(self, username).await
    }

    async fn user_by_id(&self, id: Id) -> Result<Option<User>> {
        directory::user_by_id(self, id).await
    }

    async fn create_session(&self, session: &Session) -> Result<()> {
        sessions::create(self, session).await
    }

    async fn session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<Session>> {
        sessions::get(self, token_hash, now).await
    }

    async fn touch_session(&self, token_hash: &str, expires_at: DateTime<Utc>) -> Result<()> {
        sessions::touch(self, token_hash, expires_at).await
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sessions::delete(self, token_hash).await
    }

    async fn raise_alarm(
        &self,
        alarm: &NewAlarm,
        key: Option<&IdempotencyKey>,
        now: DateTime<Utc>,
    ) -> Result<RaiseOutcome> {
        incidents::raise(self, alarm, key, now).await
    }

    async fn raise_alarms(
        &self,
        batch: &[RaiseRequest],
        now: DateTime<Utc>,
    ) -> Result<Vec<Result<RaiseOutcome>>> {
        incidents::raise_batch(self, batch, now).await
    }

    async fn apply_command(
        &self,
        incident_id: Id,
        command: &Command,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(Incident, TimelineEntry)> {
        incidents::apply_command(self, incident_id, command, actor, now).await
    }

    async fn incident(&self, id: Id) -> Result<Option<Incident>> {
        incidents::incident(self, id).await
    }

    async fn timeline(&self, incident_id: Id) -> Result<Vec<TimelineEntry>> {
        incidents::timeline(self, incident_id).await
    }

    async fn list_incidents(&self, filter: &IncidentFilter) -> Result<Vec<Incident>> {
        incidents::list(self, filter).await
    }

    async fn events_since(&self, after_id: i64, limit: u32) -> Result<Vec<LoggedEvent>> {
        incidents::events_since(self, after_id, limit).await
    }

    async fn last_event_id(&self) -> Result<i64> {
        incidents::last_event_id(self).await
    }

    async fn record_signals(&self, batch: &[Signal]) -> Result<Vec<Signal>> {
        signals::record(self, batch).await
    }

    async fn list_signals(&self, filter: &SignalFilter) -> Result<Vec<Signal>> {
        signals::list(self, filter).await
    }

    async fn upsert_health(&self, health: &DeviceHealth) -> Result<()> {
        signals::upsert_health(self, health).await
    }

    async fn upsert_health_many(&self, health: &[DeviceHealth]) -> Result<()> {
        signals::upsert_health_many(self, health).await
    }

    async fn list_health(&self, school_ids: Option<&[Id]>) -> Result<Vec<DeviceHealth>> {
        signals::list_health(self, school_ids).await
    }

    async fn upsert_gb_devices(&self, devices: &[GbDevice]) -> Result<()> {
        gb::upsert_devices(self, devices).await
    }

    async fn list_gb_devices(&self, school_ids: Option<&[Id]>) -> Result<Vec<GbDevice>> {
        gb::devices(self, school_ids).await
    }

    async fn save_gb_catalog(&self, device_id: &str, channels: &[GbChannel]) -> Result<()> {
        gb::save_catalog(self, device_id, channels).await
    }

    async fn save_gb_catalogs(&self, catalogs: &[(String, Vec<GbChannel>)]) -> Result<()> {
        gb::save_catalogs(self, catalogs).await
    }

    async fn list_gb_channels(&self, filter: &GbChannelFilter) -> Result<Vec<GbChannel>> {
        gb::channels(self, filter).await
    }

    async fn bind_gb_channel(
        &self,
        channel_id: &str,
        device_id: &str,
        school_id: Option<Id>,
        alarm_point_id: Option<Id>,
        now: DateTime<Utc>,
    ) -> Result<GbChannel> {
        gb::bind_channel(self, channel_id, device_id, school_id, alarm_point_id, now).await
    }

    async fn append_audit(&self, entries: &[NewAuditEntry]) -> Result<Vec<AuditRecord>> {
        audit::append(self, entries).await
    }

    async fn audit_entries(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>> {
        audit::list(self, filter).await
    }

    async fn insert_recording(&self, rec: &NewRecording) -> Result<i64> {
        recordings::insert(self, rec).await
    }

    async fn close_recording(&self, id: i64, end: &RecordingEnd) -> Result<()> {
        recordings::close(self, id, end).await
    }

    async fn recording(&self, id: i64) -> Result<Option<Recording>> {
        recordings::get(self, id).await
    }

    async fn list_recordings(&self, filter: &RecordingFilter) -> Result<Vec<Recording>> {
        recordings::list(self, filter).await
    }

    async fn delete_recording(&self, id: i64) -> Result<()> {
        recordings::delete(self, id).await
    }

    async fn retention_holds(&self) -> Result<Vec<RetentionHold>> {
        recordings::retention_holds(self).await
    }

    async fn recording_storage(&self) -> Result<Vec<CameraStorage>> {
        recordings::storage(self).await
    }

    async fn save_recording_settings(&self, settings: &RecordingSettings) -> Result<()> {
        recordings::save_settings(self, settings).await
    }

    async fn recording_settings(&self) -> Result<Option<RecordingSettings>> {
        recordings::settings(self).await
    }

    async fn insert_clip(&self, clip: &NewClip, now: DateTime<Utc>) -> Result<Clip> {
        clips::insert(self, clip, now).await
    }

    async fn update_clip(
        &self,
        id: Id,
        state: ClipState,
        reason: Option<&str>,
        bytes: i64,
    ) -> Result<()> {
        clips::update(self, id, state, reason, bytes).await
    }

    async fn clip(&self, id: Id) -> Result<Option<Clip>> {
        clips::get(self, id).await
    }

    async fn list_clips(&self, filter: &ClipFilter) -> Result<Vec<Clip>> {
        clips::list(self, filter).await
    }

    async fn release_clip(
        &self,
        clip_id: Id,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<ClipProtection> {
        clips::release(self, clip_id, by, now).await
    }

    async fn clip_protections(&self, camera_id: Option<&str>) -> Result<Vec<ClipProtection>> {
        clips::spans(self, camera_id).await
    }
}

#[cfg(test)]
mod tests;
