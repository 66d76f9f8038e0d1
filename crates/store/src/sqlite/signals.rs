//! Device signals (append-only log) and device health (one row per device) in SQLite.

use sqlx::{AssertSqlSafe, FromRow};
use xiaoan_core::model::Id;
use xiaoan_core::signal::{DeviceHealth, HealthState, Severity, Signal};

use super::rows::{from_json, parse_enum, parse_ts, to_json, ts};
use super::{SqliteStore, map_err, multirow};
use crate::{Result, SignalFilter};

#[derive(FromRow)]
struct SignalRow {
    id: i64,
    at: String,
    school_id: Option<i64>,
    alarm_point_id: Option<i64>,
    source: String,
    device: String,
    kind: String,
    severity: String,
    summary: String,
    data: String,
}

impl TryFrom<SignalRow> for Signal {
    type Error = crate::StoreError;
    fn try_from(r: SignalRow) -> Result<Self> {
        Ok(Signal {
            id: r.id,
            at: parse_ts(&r.at)?,
            school_id: r.school_id,
            alarm_point_id: r.alarm_point_id,
            source: r.source,
            device: r.device,
            kind: r.kind,
            severity: parse_enum("severity", &r.severity, Severity::parse)?,
            summary: r.summary,
            data: from_json("signal data", &r.data)?,
        })
    }
}

#[derive(FromRow)]
struct HealthRow {
    source: String,
    device: String,
    school_id: Option<i64>,
    alarm_point_id: Option<i64>,
    state: String,
    detail: String,
    last_seen: String,
    supervision_secs: Option<i64>,
    updated_at: String,
}

impl TryFrom<HealthRow> for DeviceHealth {
    type Error = crate::StoreError;
    fn try_from(r: HealthRow) -> Result<Self> {
        Ok(DeviceHealth {
            source: r.source,
            device: r.device,
            school_id: r.school_id,
            alarm_point_id: r.alarm_point_id,
            state: parse_enum("health state", &r.state, HealthState::parse)?,
            detail: r.detail,
            last_seen: parse_ts(&r.last_seen)?,
            supervision_secs: r.supervision_secs,
            updated_at: parse_ts(&r.updated_at)?,
        })
    }
}

/// Stores a batch of signals in one transaction with multi-row inserts (see
/// [`super::multirow`]). Their ids are read back: with `AUTOINCREMENT`, the single writer
/// connection inside `BEGIN IMMEDIATE` and no triggers, SQLite inserts the rows of a `VALUES` list
/// in order, each one above the largest id the table ever used, so the rows of one statement get
/// `last_insert_rowid() - n + 1 ..= last_insert_rowid()`. (`RETURNING` would give them too, but
/// SQLite leaves its row order unspecified.) The count and the continuity between chunks are
/// checked.
pub(super) async fn record(store: &SqliteStore, signals: &[Signal]) -> Result<Vec<Signal>> {
    const WIDTH: usize = 9;
    let mut tx = store.begin_write().await?;
    let mut stored = Vec::with_capacity(signals.len());
    let mut next = None;
    for chunk in multirow::chunks(signals.len(), WIDTH) {
        let n = chunk.len();
        let mut query = sqlx::query(AssertSqlSafe(multirow::values_sql(
            "INSERT INTO signals (at, school_id, alarm_point_id, source, device, kind, severity, \
             summary, data) VALUES ",
            WIDTH,
            n,
            "",
        )));
        for s in &signals[chunk.clone()] {
            query = query
                .bind(ts(s.at))
                .bind(s.school_id)
                .bind(s.alarm_point_id)
                .bind(s.source.clone())
                .bind(s.device.clone())
                .bind(s.kind.clone())
                .bind(s.severity.as_str())
                .bind(s.summary.clone())
                .bind(to_json(&s.data)?);
        }
        let done = query.execute(&mut *tx).await.map_err(map_err)?;
        let first = done.last_insert_rowid() - (n as i64 - 1);
        if done.rows_affected() != n as u64 || next.is_some_and(|next| next != first) {
            return Err(crate::StoreError::Other(format!(
                "multi-row signal insert: {} rows, ids from {first}",
                done.rows_affected()
            )));
        }
        next = Some(first + n as i64);
        stored.extend(
            signals[chunk]
                .iter()
                .zip(first..)
                .map(|(s, id)| Signal { id, ..s.clone() }),
        );
    }
    tx.commit().await.map_err(map_err)?;
    Ok(stored)
}

pub(super) async fn list(store: &SqliteStore, filter: &SignalFilter) -> Result<Vec<Signal>> {
    let schools = filter.school_ids.as_ref().map(to_json).transpose()?;
    let rows = sqlx::query_as::<_, SignalRow>(
        "SELECT id, at, school_id, alarm_point_id, source, device, kind, severity, summary, data \
         FROM signals WHERE \
         (?1 IS NULL OR school_id IN (SELECT value FROM json_each(?1)) \
          OR (?2 AND school_id IS NULL)) \
         ORDER BY id DESC LIMIT ?3",
    )
    .bind(schools)
    .bind(filter.include_unregistered)
    .bind(i64::from(filter.limit))
    .fetch_all(&store.reader)
    .await
    .map_err(map_err)?;
    rows.into_iter().map(Signal::try_from).collect()
}

pub(super) async fn upsert_health(store: &SqliteStore, h: &DeviceHealth) -> Result<()> {
    sqlx::query(
        "INSERT INTO device_health (source, device, school_id, alarm_point_id, state, detail, \
         last_seen, supervision_secs, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (source, device) DO UPDATE SET school_id = excluded.school_id, \
         alarm_point_id = excluded.alarm_point_id, state = excluded.state, \
         detail = excluded.detail, last_seen = excluded.last_seen, \
         supervision_secs = excluded.supervision_secs, updated_at = excluded.updated_at",
    )
    .bind(&h.source)
    .bind(&h.device)
    .bind(h.school_id)
    .bind(h.alarm_point_id)
    .bind(h.state.as_str())
    .bind(&h.detail)
    .bind(ts(h.last_seen))
    .bind(h.supervision_secs)
    .bind(ts(h.updated_at))
    .execute(&store.writer)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub(super) async fn list_health(
    store: &SqliteStore,
    school_ids: Option<&[Id]>,
) -> Result<Vec<DeviceHealth>> {
    let schools = school_ids.map(to_json).transpose()?;
    let rows = sqlx::query_as::<_, HealthRow>(
        "SELECT source, device, school_id, alarm_point_id, state, detail, last_seen, \
         supervision_secs, updated_at FROM device_health \
         WHERE ?1 IS NULL OR school_id IN (SELECT value FROM json_each(?1)) \
         ORDER BY source, device",
    )
    .bind(schools)
    .fetch_all(&store.reader)
    .await
    .map_err(map_err)?;
    rows.into_iter().map(DeviceHealth::try_from).collect()
}
