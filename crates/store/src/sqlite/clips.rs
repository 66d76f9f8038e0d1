//! Incident clips and protected spans in SQLite: a clip and the span of its window are written in
//! one commit; a release stamps the span with who and when.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, QueryBuilder, Sqlite};
use xiaoan_core::model::Id;

use super::rows::{parse_enum, parse_ts, ts};
use super::{SqliteStore, map_err};
use crate::{Clip, ClipFilter, ClipProtection, ClipState, NewClip, Result, StoreError};

const CLIP_COLUMNS: &str = "id, incident_id, camera_id, path, press_at_ms, start_ms, end_ms, \
     state, reason, bytes, created_at";
const SPAN_COLUMNS: &str = "id, camera_id, start_ms, end_ms, incident_id, clip_id, created_at, \
     released_at, released_by";

#[derive(FromRow)]
struct ClipRow {
    id: i64,
    incident_id: i64,
    camera_id: String,
    path: String,
    press_at_ms: i64,
    start_ms: i64,
    end_ms: i64,
    state: String,
    reason: Option<String>,
    bytes: i64,
    created_at: String,
}

impl TryFrom<ClipRow> for Clip {
    type Error = StoreError;
    fn try_from(r: ClipRow) -> Result<Self> {
        Ok(Clip {
            state: parse_enum("clip state", &r.state, ClipState::parse)?,
            created_at: parse_ts(&r.created_at)?,
            id: r.id,
            incident_id: r.incident_id,
            camera_id: r.camera_id,
            path: r.path,
            press_at_ms: r.press_at_ms,
            start_ms: r.start_ms,
            end_ms: r.end_ms,
            reason: r.reason,
            bytes: r.bytes,
        })
    }
}

#[derive(FromRow)]
struct SpanRow {
    id: i64,
    camera_id: String,
    start_ms: i64,
    end_ms: i64,
    incident_id: i64,
    clip_id: Option<i64>,
    created_at: String,
    released_at: Option<String>,
    released_by: Option<String>,
}

impl TryFrom<SpanRow> for ClipProtection {
    type Error = StoreError;
    fn try_from(r: SpanRow) -> Result<Self> {
        Ok(ClipProtection {
            created_at: parse_ts(&r.created_at)?,
            released_at: r.released_at.as_deref().map(parse_ts).transpose()?,
            id: r.id,
            camera_id: r.camera_id,
            start_ms: r.start_ms,
            end_ms: r.end_ms,
            incident_id: r.incident_id,
            clip_id: r.clip_id,
            released_by: r.released_by,
        })
    }
}

pub(super) async fn insert(
    store: &SqliteStore,
    clip: &NewClip,
    now: DateTime<Utc>,
) -> Result<Clip> {
    let mut tx = store.begin_write().await?;
    let created = ts(now);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO clips (incident_id, camera_id, path, press_at_ms, start_ms, end_ms, state, \
         reason, bytes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?) RETURNING id",
    )
    .bind(clip.incident_id)
    .bind(&clip.camera_id)
    .bind(&clip.path)
    .bind(clip.press_at_ms)
    .bind(clip.start_ms)
    .bind(clip.end_ms)
    .bind(clip.state.as_str())
    .bind(clip.reason.as_deref())
    .bind(&created)
    .fetch_one(&mut *tx)
    .await
    .map_err(map_err)?;
    sqlx::query(
        "INSERT INTO protected_spans (camera_id, start_ms, end_ms, incident_id, clip_id, \
         created_at) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(&clip.camera_id)
    .bind(clip.start_ms)
    .bind(clip.end_ms)
    .bind(clip.incident_id)
    .bind(id)
    .bind(&created)
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    Ok(Clip {
        id,
        incident_id: clip.incident_id,
        camera_id: clip.camera_id.clone(),
        path: clip.path.clone(),
        press_at_ms: clip.press_at_ms,
        start_ms: clip.start_ms,
        end_ms: clip.end_ms,
        state: clip.state,
        reason: clip.reason.clone(),
        bytes: 0,
        created_at: now,
    })
}

pub(super) async fn update(
    store: &SqliteStore,
    id: Id,
    state: ClipState,
    reason: Option<&str>,
    bytes: i64,
) -> Result<()> {
    let done = sqlx::query("UPDATE clips SET state = ?, reason = ?, bytes = ? WHERE id = ?")
        .bind(state.as_str())
        .bind(reason)
        .bind(bytes)
        .bind(id)
        .execute(&store.writer)
        .await
        .map_err(map_err)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("clip"));
    }
    Ok(())
}

pub(super) async fn get(store: &SqliteStore, id: Id) -> Result<Option<Clip>> {
    let sql = format!("SELECT {CLIP_COLUMNS} FROM clips WHERE id = ?");
    let row: Option<ClipRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&store.reader)
        .await
        .map_err(map_err)?;
    row.map(Clip::try_from).transpose()
}

pub(super) async fn list(store: &SqliteStore, filter: &ClipFilter) -> Result<Vec<Clip>> {
    let mut q: QueryBuilder<Sqlite> =
        QueryBuilder::new(format!("SELECT {CLIP_COLUMNS} FROM clips WHERE 1 = 1"));
    if let Some(ids) = &filter.incident_ids {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        q.push(" AND incident_id IN (");
        let mut sep = q.separated(", ");
        for id in ids {
            sep.push_bind(*id);
        }
        q.push(")");
    }
    if let Some(state) = filter.state {
        q.push(" AND state = ").push_bind(state.as_str());
    }
    q.push(" ORDER BY id");
    let rows: Vec<ClipRow> = q
        .build_query_as()
        .fetch_all(&store.reader)
        .await
        .map_err(map_err)?;
    rows.into_iter().map(Clip::try_from).collect()
}

pub(super) async fn release(
    store: &SqliteStore,
    clip_id: Id,
    by: &str,
    now: DateTime<Utc>,
) -> Result<ClipProtection> {
    let mut tx = store.begin_write().await?;
    let sql = format!("SELECT {SPAN_COLUMNS} FROM protected_spans WHERE clip_id = ?");
    let row: Option<SpanRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(clip_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
    let mut span = ClipProtection::try_from(row.ok_or(StoreError::NotFound("protected span"))?)?;
    if span.released_at.is_some() {
        return Err(StoreError::Conflict(format!(
            "the footage of clip {clip_id} is already released"
        )));
    }
    sqlx::query("UPDATE protected_spans SET released_at = ?, released_by = ? WHERE id = ?")
        .bind(ts(now))
        .bind(by)
        .bind(span.id)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    span.released_at = Some(now);
    span.released_by = Some(by.to_owned());
    Ok(span)
}

pub(super) async fn spans(
    store: &SqliteStore,
    camera_id: Option<&str>,
) -> Result<Vec<ClipProtection>> {
    let mut q: QueryBuilder<Sqlite> =
        QueryBuilder::new(format!("SELECT {SPAN_COLUMNS} FROM protected_spans"));
    if let Some(camera) = camera_id {
        q.push(" WHERE camera_id = ").push_bind(camera);
    }
    q.push(" ORDER BY start_ms, id");
    let rows: Vec<SpanRow> = q
        .build_query_as()
        .fetch_all(&store.reader)
        .await
        .map_err(map_err)?;
    rows.into_iter().map(ClipProtection::try_from).collect()
}
