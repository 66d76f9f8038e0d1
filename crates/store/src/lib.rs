//! xiaoan storage. Everything durable goes through the [`Store`] trait: the directory (regions,
//! schools, alarm points, people, users), login sessions, incidents with their timelines (the
//! global event log the live stream resumes from), idempotency keys, and the hash-chained audit
//! trail (an incident step's audit entry is written in the step's own transaction).
//!
//! Promise kept by every backend: when a write method returns `Ok`, the data is on disk (fsync'd);
//! callers acknowledge an alarm only after that. [`conformance`] holds the one suite every backend
//! must pass; [`sqlite`] is the embedded default.

pub mod conformance;
pub mod sqlite;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use xiaoan_core::TransitionError;
use xiaoan_core::audit::{AuditRecord, ChainBreak, ChainCheck, ChainSummary, NewAuditEntry};
use xiaoan_core::gb::{GbChannel, GbDevice};
use xiaoan_core::incident::{Actor, Command, Incident, IncidentState, NewAlarm, TimelineEntry};
use xiaoan_core::model::{AlarmPoint, Device, Directory, Id, Person, Region, School, User};
use xiaoan_core::signal::{DeviceHealth, Signal};

pub use sqlite::SqliteStore;

/// Why a storage call failed.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The record does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A uniqueness rule was broken (duplicate username, ...).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The domain refused the change (already claimed, wrong state, ...).
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// The database cannot take writes now (disk full, I/O error, locked too long).
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Anything else; a bug or a corrupt database.
    #[error("storage error: {0}")]
    Other(String),
}

/// Result of a store call.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A user as stored, with the password hash the store keeps but never logs.
#[derive(Clone)]
pub struct UserRecord {
    pub user: User,
    /// PHC string (argon2id).
    pub password_hash: String,
    pub disabled: bool,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("user", &self.user)
            .field("password_hash", &"<redacted>")
            .field("disabled", &self.disabled)
            .finish()
    }
}

/// A login session. The token itself is never stored, only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub token_hash: String,
    pub user_id: Id,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Everything needed to fill an empty directory (demo data, imports). Ids in it are the ids the
/// records get, so cross-references hold.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DirectorySeed {
    pub regions: Vec<Region>,
    pub schools: Vec<School>,
    pub alarm_points: Vec<AlarmPoint>,
    pub devices: Vec<Device>,
    pub people: Vec<Person>,
    /// Users with their password hashes.
    pub users: Vec<(User, String)>,
}

/// What raising an alarm did.
#[derive(Debug, Clone, PartialEq)]
pub struct RaiseOutcome {
    /// The incident after the alarm: new or joined.
    pub incident: Incident,
    /// True when the alarm joined an incident that was already open.
    pub joined: bool,
    /// The timeline entries written, with their global event ids (empty when `replayed`).
    pub entries: Vec<TimelineEntry>,
    /// True when this answer was replayed for a repeated idempotency key; nothing was written.
    pub replayed: bool,
}

/// An idempotency key scoped to who sent it, so two users cannot collide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    /// `"user:<id>"`, `"dc09:<account>"`, ...
    pub principal: String,
    pub key: String,
}

/// One alarm of a batch, with its optional idempotency key.
#[derive(Debug, Clone, PartialEq)]
pub struct RaiseRequest {
    pub alarm: NewAlarm,
    pub key: Option<IdempotencyKey>,
}

/// Which incidents to list.
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    /// Only these schools (None: all).
    pub school_ids: Option<Vec<Id>>,
    /// Only these states (empty: all).
    pub states: Vec<IncidentState>,
    /// Most recent first, at most this many (None: no limit).
    pub limit: Option<u32>,
}

/// Which signals to list.
#[derive(Debug, Clone, Default)]
pub struct SignalFilter {
    /// Only these schools (None: all).
    pub school_ids: Option<Vec<Id>>,
    /// Also signals tied to no school (unregistered senders); for supervisors.
    pub include_unregistered: bool,
    /// Most recent first, at most this many.
    pub limit: u32,
}

/// Which GB/T 28181 channels to list.
#[derive(Debug, Clone, Default)]
pub struct GbChannelFilter {
    /// Only this device's channels.
    pub device_id: Option<String>,
    /// Only channels bound to these schools (None: all, bound or not).
    pub school_ids: Option<Vec<Id>>,
}

/// One entry of the global event log with its incident as it stands now.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedEvent {
    pub entry: TimelineEntry,
    pub incident: Incident,
}

/// Which audit entries to read.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only entries about this incident.
    pub incident_id: Option<Id>,
    /// Only entries numbered above this (0: from the first).
    pub after_seq: i64,
    /// In sequence order, at most this many (None: all).
    pub limit: Option<u32>,
}

/// Durable storage for xiaoan. Every method is scoped by arguments only; authorization is the
/// caller's job. Write methods return only after the data is durable.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Fills the directory. Fails with `Conflict` if it already holds schools.
    async fn seed_directory(&self, seed: &DirectorySeed) -> Result<()>;
    /// Loads the whole directory (regions, schools, points, devices, people).
    async fn load_directory(&self) -> Result<Directory>;
    /// All users, without password hashes.
    async fn list_users(&self) -> Result<Vec<User>>;
    /// A user by login name, with the hash.
    async fn user_by_username(&self, username: &str) -> Result<Option<UserRecord>>;
    /// An enabled user by id; disabled users are `None`, so their sessions stop working.
    async fn user_by_id(&self, id: Id) -> Result<Option<User>>;

    /// Stores a new session.
    async fn create_session(&self, session: &Session) -> Result<()>;
    /// A session that has not expired at `now`.
    async fn session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<Session>>;
    /// Slides a session's expiry forward.
    async fn touch_session(&self, token_hash: &str, expires_at: DateTime<Utc>) -> Result<()>;
    /// Ends a session.
    async fn delete_session(&self, token_hash: &str) -> Result<()>;

    /// Raises an alarm: joins the alarm point's open incident or opens a new one, atomically,
    /// durably. With an idempotency key already seen, returns the first answer with
    /// `replayed = true` and writes nothing.
    async fn raise_alarm(
        &self,
        alarm: &NewAlarm,
        key: Option<&IdempotencyKey>,
        now: DateTime<Utc>,
    ) -> Result<RaiseOutcome>;
    /// Raises several alarms durably with one commit (group commit): each gets its own outcome
    /// and one failing alarm does not fail the others. `Err` means nothing was stored. The
    /// default raises them one by one; backends override it to share one fsync.
    async fn raise_alarms(
        &self,
        batch: &[RaiseRequest],
        now: DateTime<Utc>,
    ) -> Result<Vec<Result<RaiseOutcome>>> {
        let mut results = Vec::with_capacity(batch.len());
        for request in batch {
            results.push(
                self.raise_alarm(&request.alarm, request.key.as_ref(), now)
                    .await,
            );
        }
        Ok(results)
    }
    /// Applies a command to an incident atomically (load, [`xiaoan_core::incident::apply`], write).
    async fn apply_command(
        &self,
        incident_id: Id,
        command: &Command,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(Incident, TimelineEntry)>;
    /// One incident.
    async fn incident(&self, id: Id) -> Result<Option<Incident>>;
    /// An incident's timeline, oldest first.
    async fn timeline(&self, incident_id: Id) -> Result<Vec<TimelineEntry>>;
    /// Incidents matching the filter, most recent first.
    async fn list_incidents(&self, filter: &IncidentFilter) -> Result<Vec<Incident>>;
    /// Event-log entries after `after_id`, oldest first, at most `limit`.
    async fn events_since(&self, after_id: i64, limit: u32) -> Result<Vec<LoggedEvent>>;
    /// The newest event id (0 when empty).
    async fn last_event_id(&self) -> Result<i64>;

    /// Appends signals durably in one transaction; returns them with their ids.
    async fn record_signals(&self, signals: &[Signal]) -> Result<Vec<Signal>>;
    /// Signals matching the filter, most recent first.
    async fn list_signals(&self, filter: &SignalFilter) -> Result<Vec<Signal>>;
    /// Creates or replaces a device's health (keyed by source and device).
    async fn upsert_health(&self, health: &DeviceHealth) -> Result<()>;
    /// Writes many devices' health at once (one commit where the backend can).
    async fn upsert_health_many(&self, health: &[DeviceHealth]) -> Result<()> {
        for h in health {
            self.upsert_health(h).await?;
        }
        Ok(())
    }
    /// Device health, for these schools (None: all, including unregistered devices).
    async fn list_health(&self, school_ids: Option<&[Id]>) -> Result<Vec<DeviceHealth>>;

    /// Inserts or updates GB/T 28181 devices (one commit). A device's school is kept when the
    /// update names none; empty descriptive fields keep what is stored.
    async fn upsert_gb_devices(&self, devices: &[GbDevice]) -> Result<()>;
    /// GB/T 28181 devices of these schools (own school or a bound channel); `None`: all.
    async fn list_gb_devices(&self, school_ids: Option<&[Id]>) -> Result<Vec<GbDevice>>;
    /// Replaces a device's catalog, keeping every channel's binding.
    async fn save_gb_catalog(&self, device_id: &str, channels: &[GbChannel]) -> Result<()>;
    /// Replaces several devices' catalogs (one commit where the backend can).
    async fn save_gb_catalogs(&self, catalogs: &[(String, Vec<GbChannel>)]) -> Result<()> {
        for (device_id, channels) in catalogs {
            self.save_gb_catalog(device_id, channels).await?;
        }
        Ok(())
    }
    /// GB/T 28181 channels.
    async fn list_gb_channels(&self, filter: &GbChannelFilter) -> Result<Vec<GbChannel>>;
    /// Binds a channel to a school and alarm point (`None`s unbind); a channel not yet in any
    /// catalog is created as a placeholder of `device_id`.
    async fn bind_gb_channel(
        &self,
        channel_id: &str,
        device_id: &str,
        school_id: Option<Id>,
        alarm_point_id: Option<Id>,
        now: DateTime<Utc>,
    ) -> Result<GbChannel>;

    /// Stores a clip and, in the same commit, the protected span of its window.
    async fn insert_clip(&self, clip: &NewClip, now: DateTime<Utc>) -> Result<Clip>;
    /// Sets a clip's state, reason and bytes written.
    async fn update_clip(
        &self,
        id: Id,
        state: ClipState,
        reason: Option<&str>,
        bytes: i64,
    ) -> Result<()>;
    /// One clip.
    async fn clip(&self, id: Id) -> Result<Option<Clip>>;
    /// Clips matching the filter, oldest first.
    async fn list_clips(&self, filter: &ClipFilter) -> Result<Vec<Clip>>;
    /// Releases the protected span of a clip, recording who and when; `Conflict` when it is
    /// already released.
    async fn release_clip(
        &self,
        clip_id: Id,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<ClipProtection>;
    /// Rows of `protected_spans` (released ones too), of one camera or all, by start.
    async fn clip_protections(&self, camera_id: Option<&str>) -> Result<Vec<ClipProtection>>;

    /// Appends entries to the audit trail, in order, durably, each linked to the one before
    /// (appends are serialized: there is one chain). Returns them as stored.
    async fn append_audit(&self, entries: &[NewAuditEntry]) -> Result<Vec<AuditRecord>>;
    /// Audit entries matching the filter, in sequence order, every column as stored.
    async fn audit_entries(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>>;
    /// Walks the whole audit chain from entry 1: `Ok(Err(..))` names its first broken link.
    async fn verify_audit(&self) -> Result<std::result::Result<ChainSummary, ChainBreak>> {
        walk_audit_chain(|filter| async move { self.audit_entries(&filter).await }).await
    }

    /// Records a segment that just opened (state `open`); returns its id.
    async fn insert_recording(&self, rec: &NewRecording) -> Result<i64>;
    /// Closes a segment: its real end, frame and byte counts (state `closed`).
    async fn close_recording(&self, id: i64, end: &RecordingEnd) -> Result<()>;
    /// One segment.
    async fn recording(&self, id: i64) -> Result<Option<Recording>>;
    /// Segments, oldest first.
    async fn list_recordings(&self, filter: &RecordingFilter) -> Result<Vec<Recording>>;
    /// Forgets a segment (its file is the caller's).
    async fn delete_recording(&self, id: i64) -> Result<()>;
    /// Footage retention must consider keeping: every row of `protected_spans`, released or
    /// not; empty while that table does not exist.
    async fn retention_holds(&self) -> Result<Vec<RetentionHold>>;
    /// Per camera: segments, bytes, days recorded, oldest and newest footage.
    async fn recording_storage(&self) -> Result<Vec<CameraStorage>>;
    /// Publishes the recorder's settings and the last retention warning.
    async fn save_recording_settings(&self, settings: &RecordingSettings) -> Result<()>;
    /// The recorder's settings, if it ever ran.
    async fn recording_settings(&self) -> Result<Option<RecordingSettings>>;
}

/// Where an incident clip stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClipState {
    /// The part written so far plays; more is being appended.
    Recording,
    /// The whole window is written.
    Complete,
    /// The camera had no video; `reason` says why.
    Unavailable,
}

impl ClipState {
    /// The stored text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Recording => "recording",
            Self::Complete => "complete",
            Self::Unavailable => "unavailable",
        }
    }

    /// Parses the stored text form.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Recording, Self::Complete, Self::Unavailable]
            .into_iter()
            .find(|st| st.as_str() == s)
    }
}

/// A clip to store. Times are Unix milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewClip {
    pub incident_id: Id,
    pub camera_id: String,
    /// The file, as written.
    pub path: String,
    pub press_at_ms: i64,
    /// Start of the window (press − before).
    pub start_ms: i64,
    /// End of the window (press + after).
    pub end_ms: i64,
    pub state: ClipState,
    pub reason: Option<String>,
}

/// A stored clip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clip {
    pub id: Id,
    pub incident_id: Id,
    pub camera_id: String,
    pub path: String,
    pub press_at_ms: i64,
    pub start_ms: i64,
    pub end_ms: i64,
    pub state: ClipState,
    pub reason: Option<String>,
    /// Bytes written so far.
    pub bytes: i64,
    pub created_at: DateTime<Utc>,
}

/// Which clips to list.
#[derive(Debug, Clone, Default)]
pub struct ClipFilter {
    /// Only clips of these incidents (None: all).
    pub incident_ids: Option<Vec<Id>>,
    /// Only clips in this state.
    pub state: Option<ClipState>,
}

/// A row of `protected_spans`: footage of one camera that retention must keep (while
/// unreleased, and for a grace period after release). Times are Unix milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClipProtection {
    pub id: Id,
    pub camera_id: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub incident_id: Id,
    /// The clip it protects, if any.
    pub clip_id: Option<Id>,
    pub created_at: DateTime<Utc>,
    pub released_at: Option<DateTime<Utc>>,
    /// Who released it (user name and id).
    pub released_by: Option<String>,
}

/// A segment file that just opened.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRecording {
    pub camera_id: String,
    /// Relative to the data directory, `/`-separated.
    pub path: String,
    /// Wall clock of the first frame, UTC ms.
    pub start_ms: i64,
    /// Its pts, 90 kHz.
    pub start_pts: i64,
    /// RFC 6381 codec string.
    pub codec: String,
    pub width: u32,
    pub height: u32,
}

/// How a segment ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordingEnd {
    pub end_ms: i64,
    pub end_pts: i64,
    pub frames: i64,
    pub bytes: i64,
}

/// One recorded segment as indexed.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    pub id: i64,
    pub camera_id: String,
    pub path: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub start_pts: i64,
    pub end_pts: i64,
    pub frames: i64,
    pub bytes: i64,
    pub codec: String,
    pub width: u32,
    pub height: u32,
    /// Still being written (or left open by a crash until the start-up check).
    pub open: bool,
}

/// Which segments to list.
#[derive(Debug, Clone, Default)]
pub struct RecordingFilter {
    /// Only this camera's.
    pub camera_id: Option<String>,
    /// Only segments ending after this (UTC ms).
    pub from_ms: Option<i64>,
    /// Only segments starting before this (UTC ms).
    pub to_ms: Option<i64>,
    /// Oldest first, at most this many (None: all).
    pub limit: Option<u32>,
}

/// A span of one camera's footage an incident protects from deletion, as retention reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct RetentionHold {
    pub camera_id: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub incident_id: Option<i64>,
    /// When it was released (UTC ms), if it was.
    pub released_ms: Option<i64>,
}

/// One camera's recorded footage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CameraStorage {
    pub camera_id: String,
    pub segments: i64,
    pub bytes: i64,
    /// Distinct UTC days with footage.
    pub days: i64,
    pub oldest_ms: Option<i64>,
    pub newest_ms: Option<i64>,
}

/// What the recorder runs with, for the API.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordingSettings {
    /// Absolute data directory the segment paths are relative to.
    pub data_dir: String,
    pub retention_days: u32,
    /// 0: no quota.
    pub quota_bytes: u64,
    pub min_free_bytes: u64,
    /// Set by a retention pass that had to delete footage younger than `retention_days`.
    pub warning: Option<String>,
    pub updated_ms: i64,
}

/// Walks the whole audit chain from entry 1, a page at a time through `page`:
/// `Ok(Err(..))` names its first broken link. Shared by [`Store::verify_audit`] and the
/// read-only reader `xiaoan audit verify` uses.
pub(crate) async fn walk_audit_chain<F, Fut>(
    mut page: F,
) -> Result<std::result::Result<ChainSummary, ChainBreak>>
where
    F: FnMut(AuditFilter) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<AuditRecord>>>,
{
    const PAGE: u32 = 5000;
    let mut check = ChainCheck::new();
    let mut after = 0;
    loop {
        let rows = page(AuditFilter {
            incident_id: None,
            after_seq: after,
            limit: Some(PAGE),
        })
        .await?;
        for r in &rows {
            if let Err(b) = check.push(r) {
                return Ok(Err(b));
            }
        }
        match rows.last() {
            Some(last) if rows.len() == PAGE as usize => after = last.seq,
            _ => break,
        }
    }
    Ok(Ok(ChainSummary {
        entries: check.entries(),
        last_hash: check.last_hash().to_owned(),
    }))
}
