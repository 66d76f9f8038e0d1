//! The recording index in SQLite: one row per segment file (`recordings`), the recorder's
//! published settings (`recording_settings`), and a read of `protected_spans` when that table
//! exists (it belongs to the incident clips).

use sqlx::{FromRow, Row};

use super::rows::parse_ts;
use super::{SqliteStore, map_err};
use crate::{
    CameraStorage, NewRecording, Recording, RecordingEnd, RecordingFilter, RecordingSettings,
    Result, RetentionHold, StoreError,
};

#[derive(FromRow)]
struct RecordingRow {
    id: i64,
    camera_id: String,
    path: String,
    start_ms: i64,
    end_ms: i64,
    start_pts: i64,
    end_pts: i64,
    frames: i64,
    bytes: i64,
    codec: String,
    width: i64,
    height: i64,
    state: String,
}

impl From<RecordingRow> for Recording {
    fn from(r: RecordingRow) -> Self {
        Recording {
            id: r.id,
            camera_id: r.camera_id,
            path: r.path,
            start_ms: r.start_ms,
            end_ms: r.end_ms,
            start_pts: r.start_pts,
            end_pts: r.end_pts,
            frames: r.frames,
            bytes: r.bytes,
            codec: r.codec,
            width: u32::try_from(r.width).unwrap_or_default(),
            height: u32::try_from(r.height).unwrap_or_default(),
            open: r.state == "open",
        }
    }
}

const COLUMNS: &str = "id, camera_id, path, start_ms, end_ms, start_pts, end_pts, frames, bytes, \
     codec, width, height, state";

pub(super) async fn insert(store: &SqliteStore, rec: &NewRecording) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO recordings (camera_id, path, start_ms, end_ms, start_pts, end_pts, codec, \
         width, height, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open') RETURNING id",
    )
    .bind(&rec.camera_id)
    .bind(&rec.path)
    .bind(rec.start_ms)
    .bind(rec.start_ms)
    .bind(rec.start_pts)
    .bind(rec.start_pts)
    .bind(&rec.codec)
    .bind(i64::from(rec.width))
    .bind(i64::from(rec.height))
    .fetch_one(&store.writer)
    .await
    .map_err(map_err)?;
    row.try_get::<i64, _>(0).map_err(map_err)
}

pub(super) async fn close(store: &SqliteStore, id: i64, end: &RecordingEnd) -> Result<()> {
    let done = sqlx::query(
        "UPDATE recordings SET end_ms = ?, end_pts = ?, frames = ?, bytes = ?, state = 'closed' \
         WHERE id = ?",
    )
    .bind(end.end_ms)
    .bind(end.end_pts)
    .bind(end.frames)
    .bind(end.bytes)
    .bind(id)
    .execute(&store.writer)
    .await
    .map_err(map_err)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("recording"));
    }
    Ok(())
}

pub(super) async fn get(store: &SqliteStore, id: i64) -> Result<Option<Recording>> {
    let row = sqlx::query_as::<_, RecordingRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM recordings WHERE id = ?"
    )))
    .bind(id)
    .fetch_optional(&store.reader)
    .await
    .map_err(map_err)?;
    Ok(row.map(Recording::from))
}

pub(super) async fn list(store: &SqliteStore, f: &RecordingFilter) -> Result<Vec<Recording>> {
    let rows = sqlx::query_as::<_, RecordingRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM recordings WHERE (?1 IS NULL OR camera_id = ?1) \
         AND (?2 IS NULL OR end_ms > ?2) AND (?3 IS NULL OR start_ms < ?3) \
         ORDER BY start_ms, id LIMIT ?4"
    )))
    .bind(f.camera_id.as_deref())
    .bind(f.from_ms)
    .bind(f.to_ms)
    .bind(f.limit.map_or(-1, i64::from))
    .fetch_all(&store.reader)
    .await
    .map_err(map_err)?;
    Ok(rows.into_iter().map(Recording::from).collect())
}

pub(super) async fn delete(store: &SqliteStore, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM recordings WHERE id = ?")
        .bind(id)
        .execute(&store.writer)
        .await
        .map_err(map_err)?;
    Ok(())
}

/// A stored time: integer ms, or the store's RFC 3339 text.
fn time_ms(v: Option<String>, kind: &str) -> Result<Option<i64>> {
    let Some(v) = v else { return Ok(None) };
    if kind == "integer" || kind == "real" {
        return v
            .parse::<f64>()
            .map(|f| Some(f as i64))
            .map_err(|e| StoreError::Other(format!("protected span time {v:?}: {e}")));
    }
    Ok(Some(parse_ts(&v)?.timestamp_millis()))
}

pub(super) async fn retention_holds(store: &SqliteStore) -> Result<Vec<RetentionHold>> {
    let exists: Option<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'protected_spans'",
    )
    .fetch_optional(&store.reader)
    .await
    .map_err(map_err)?;
    if exists.is_none() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(
        "SELECT camera_id, CAST(start_ms AS INTEGER), CAST(end_ms AS INTEGER), \
         CAST(incident_id AS INTEGER), CAST(released_at AS TEXT), typeof(released_at) \
         FROM protected_spans",
    )
    .fetch_all(&store.reader)
    .await
    .map_err(map_err)?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let kind: String = r.try_get(5).map_err(map_err)?;
        out.push(RetentionHold {
            camera_id: r.try_get(0).map_err(map_err)?,
            start_ms: r.try_get(1).map_err(map_err)?,
            end_ms: r.try_get(2).map_err(map_err)?,
            incident_id: r.try_get(3).map_err(map_err)?,
            released_ms: time_ms(r.try_get(4).map_err(map_err)?, &kind)?,
        });
    }
    Ok(out)
}

pub(super) async fn storage(store: &SqliteStore) -> Result<Vec<CameraStorage>> {
    let rows = sqlx::query(
        "SELECT camera_id, COUNT(*), COALESCE(SUM(bytes), 0), \
         COUNT(DISTINCT date(start_ms / 1000, 'unixepoch')), MIN(start_ms), MAX(end_ms) \
         FROM recordings GROUP BY camera_id ORDER BY camera_id",
    )
    .fetch_all(&store.reader)
    .await
    .map_err(map_err)?;
    rows.into_iter()
        .map(|r| {
            Ok(CameraStorage {
                camera_id: r.try_get(0).map_err(map_err)?,
                segments: r.try_get(1).map_err(map_err)?,
                bytes: r.try_get(2).map_err(map_err)?,
                days: r.try_get(3).map_err(map_err)?,
                oldest_ms: r.try_get(4).map_err(map_err)?,
                newest_ms: r.try_get(5).map_err(map_err)?,
            })
        })
        .collect()
}

pub(super) async fn save_settings(store: &SqliteStore, s: &RecordingSettings) -> Result<()> {
    sqlx::query(
        "INSERT INTO recording_settings (id, data_dir, retention_days, quota_bytes, \
         min_free_bytes, warning, updated_ms) VALUES (1, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (id) DO UPDATE SET data_dir = excluded.data_dir, \
         retention_days = excluded.retention_days, quota_bytes = excluded.quota_bytes, \
         min_free_bytes = excluded.min_free_bytes, warning = excluded.warning, \
         updated_ms = excluded.updated_ms",
    )
    .bind(&s.data_dir)
    .bind(i64::from(s.retention_days))
    .bind(i64::try_from(s.quota_bytes).unwrap_or(i64::MAX))
    .bind(i64::try_from(s.min_free_bytes).unwrap_or(i64::MAX))
    .bind(s.warning.as_deref())
    .bind(s.updated_ms)
    .execute(&store.writer)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub(super) async fn settings(store: &SqliteStore) -> Result<Option<RecordingSettings>> {
    let row = sqlx::query(
        "SELECT data_dir, retention_days, quota_bytes, min_free_bytes, warning, updated_ms \
         FROM recording_settings WHERE id = 1",
    )
    .fetch_optional(&store.reader)
    .await
    .map_err(map_err)?;
    let Some(r) = row else { return Ok(None) };
    let days: i64 = r.try_get(1).map_err(map_err)?;
    let quota: i64 = r.try_get(2).map_err(map_err)?;
    let free: i64 = r.try_get(3).map_err(map_err)?;
    Ok(Some(RecordingSettings {
        data_dir: r.try_get(0).map_err(map_err)?,
        retention_days: u32::try_from(days).unwrap_or_default(),
        quota_bytes: u64::try_from(quota).unwrap_or_default(),
        min_free_bytes: u64::try_from(free).unwrap_or_default(),
        warning: r.try_get(4).map_err(map_err)?,
        updated_ms: r.try_get(5).map_err(map_err)?,
    }))
}
