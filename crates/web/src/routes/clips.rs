//! Incident clips: the `clips` array of the incident JSON, `GET /api/v1/clips/{id}/file` (the
//! fragmented MP4 as written so far, with HTTP Range), `GET /api/v1/clips/{id}/download` (the
//! same as an attachment) and `POST /api/v1/clips/{id}/release` (police supervisors release the
//! footage's protection; recorded on the span and as a note on the incident's timeline).
//! Scope as for incidents: a clip of an incident the user cannot see is 404.

use std::collections::HashMap;

use axum::Json;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use xiaoan_core::access::Role;
use xiaoan_core::audit::NewAuditEntry;
use xiaoan_core::incident::Command;
use xiaoan_core::model::Id;
use xiaoan_store::{Clip, ClipFilter};

use super::{audit, visible_incident};
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

fn time(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
}

/// One clip as the API shows it.
fn clip_json(state: &AppState, clip: &Clip) -> Value {
    let camera_name = state
        .cameras
        .get(&clip.camera_id)
        .map(|c| c.camera.name.clone());
    json!({
        "id": clip.id,
        "camera_id": clip.camera_id,
        "camera_name": camera_name,
        "state": clip.state,
        "reason": clip.reason,
        "press_at": time(clip.press_at_ms),
        "start": time(clip.start_ms),
        "end": time(clip.end_ms),
        "bytes": clip.bytes,
        "url": format!("/api/v1/clips/{}/file", clip.id),
        "download_url": format!("/api/v1/clips/{}/download", clip.id),
    })
}

/// The clips of these incidents, by incident.
pub(super) async fn clips_of(
    state: &AppState,
    incident_ids: &[Id],
) -> ApiResult<HashMap<Id, Vec<Value>>> {
    let clips = state
        .hub
        .store()
        .list_clips(&ClipFilter {
            incident_ids: Some(incident_ids.to_vec()),
            state: None,
        })
        .await?;
    let mut out: HashMap<Id, Vec<Value>> = HashMap::new();
    for c in &clips {
        out.entry(c.incident_id)
            .or_default()
            .push(clip_json(state, c));
    }
    Ok(out)
}

/// Loads a clip whose incident the user may see, or 404; with its incident's school.
async fn visible_clip(state: &AppState, user: &CurrentUser, id: &str) -> ApiResult<(Clip, Id)> {
    let id: Id = super::numeric_id("clip", id)?;
    let clip = state
        .hub
        .store()
        .clip(id)
        .await?
        .ok_or_else(|| ApiError::not_found("clip"))?;
    let dir = state.hub.directory().await;
    let incident = visible_incident(state, &dir, user, &clip.incident_id.to_string())
        .await
        .map_err(|_| ApiError::not_found("clip"))?;
    Ok((clip, incident.school_id))
}

/// The audit entry of `action` on a clip.
fn clip_entry(
    state: &AppState,
    user: &CurrentUser,
    action: &str,
    clip: &Clip,
    school_id: Id,
) -> NewAuditEntry {
    let mut e = audit::by_user(state, user, action, "clip", clip.id);
    e.incident_id = Some(clip.incident_id);
    e.school_id = Some(school_id);
    e.detail = json!({ "camera_id": clip.camera_id });
    e
}

async fn serve_file(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    headers: &HeaderMap,
    attachment: bool,
) -> ApiResult<Response> {
    let (clip, school_id) = visible_clip(state, user, id).await?;
    let file = match tokio::fs::File::open(&clip.path).await {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ApiError::not_found("clip file"));
        }
        Err(e) => {
            tracing::error!(clip = clip.id, error = %e, "clip file not opened");
            return Err(ApiError::internal());
        }
    };
    // A clip still recording is served as far as it is written now.
    let len = file
        .metadata()
        .await
        .map_err(|e| {
            tracing::error!(clip = clip.id, error = %e, "clip file not read");
            ApiError::internal()
        })?
        .len();
    // Recorded (once per user and window) before a byte of footage leaves.
    let action = if attachment {
        "clip.download"
    } else {
        "clip.view"
    };
    audit::record_view(
        state,
        user,
        clip_entry(state, user, action, &clip, school_id),
    )
    .await?;
    let name = format!("incident-{}-{}.mp4", clip.incident_id, clip.camera_id);
    super::ranged::respond(file, len, headers, attachment.then_some(name.as_str())).await
}

/// `GET /api/v1/clips/{id}/file`.
pub(crate) async fn file(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    serve_file(&state, &user, &id, &headers, false).await
}

/// `GET /api/v1/clips/{id}/download`.
pub(crate) async fn download(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    serve_file(&state, &user, &id, &headers, true).await
}

/// `POST /api/v1/clips/{id}/release`: police supervisors only.
pub(crate) async fn release(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (clip, school_id) = visible_clip(&state, &user, &id).await?;
    if user.user.role != Role::PoliceSupervisor {
        return Err(ApiError::forbidden(format!(
            "role {} may not release protected footage",
            user.user.role.as_str()
        )));
    }
    let by = format!("{} ({})", user.user.display_name, user.user.id);
    let now = state.hub.clock().now();
    let span = state.hub.store().release_clip(clip.id, &by, now).await?;
    audit::record(
        &state,
        clip_entry(&state, &user, "clip.release", &clip, school_id),
    )
    .await?;
    tracing::info!(clip = clip.id, incident = clip.incident_id, by = %user.user.username, "clip footage released");
    let text = format!(
        "解除录像保护：摄像机 {}（片段 {}）/ released the footage protection of camera {} (clip {})",
        clip.camera_id, clip.id, clip.camera_id, clip.id
    );
    if let Err(e) = state
        .hub
        .act(clip.incident_id, &Command::Note { text }, &user.actor())
        .await
    {
        tracing::warn!(clip = clip.id, error = %e, "release not noted on the timeline");
    }
    Ok(Json(json!({
        "clip_id": clip.id,
        "released_at": span.released_at,
        "released_by": span.released_by,
    })))
}
