//! `POST /api/v1/alarms`: the one-key press from a phone or the gate-house PC. Answered `201`
//! only after the alarm is stored durably; an `Idempotency-Key` makes retries safe. When storage
//! cannot take the alarm the answer is `503 storage_unavailable` with a message in Chinese and
//! English: the press was not stored, the page retries with the same key.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use xiaoan_core::access::{self, Action};
use xiaoan_core::incident::NewAlarm;
use xiaoan_store::{IdempotencyKey, StoreError};

use super::require;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::json::ApiJson;
use crate::state::AppState;
use crate::wire::IncidentView;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PressBody {
    alarm_point_id: Option<i64>,
    silent: Option<bool>,
    note: Option<String>,
}

/// Longest accepted note, in characters.
pub(crate) const MAX_NOTE_CHARS: usize = 2000;

pub(crate) fn check_note(note: Option<&str>) -> ApiResult<()> {
    match note {
        Some(n) if n.chars().count() > MAX_NOTE_CHARS => Err(ApiError::bad_request(format!(
            "note is longer than {MAX_NOTE_CHARS} characters"
        ))),
        _ => Ok(()),
    }
}

fn idempotency_key(headers: &HeaderMap, user: &CurrentUser) -> ApiResult<Option<IdempotencyKey>> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .map_err(|_| ApiError::bad_request("Idempotency-Key must be printable ASCII"))?
        .trim();
    if key.is_empty() || key.len() > 128 {
        return Err(ApiError::bad_request(
            "Idempotency-Key must be 1 to 128 characters",
        ));
    }
    Ok(Some(IdempotencyKey {
        principal: format!("user:{}", user.user.id),
        key: key.to_owned(),
    }))
}

pub(crate) async fn raise(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PressBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    require(&user, Action::RaiseAlarm)?;
    check_note(body.note.as_deref())?;
    let key = idempotency_key(&headers, &user)?;
    let point_id = body
        .alarm_point_id
        .or(user.user.post_alarm_point_id)
        .ok_or_else(|| {
            ApiError::bad_request("no alarm point: give alarm_point_id or set the user's post")
        })?;
    let dir = state.hub.directory().await;
    let point = dir
        .alarm_points
        .get(&point_id)
        .filter(|p| {
            dir.schools
                .get(&p.school_id)
                .is_some_and(|s| access::sees_school(&user.user, s))
        })
        .ok_or_else(|| ApiError::not_found("alarm point"))?;
    let now = state.hub.clock().now();
    let alarm = NewAlarm {
        school_id: point.school_id,
        alarm_point_id: point.id,
        // A press of the one-key button is always the highest priority.
        priority: 1,
        kind: "panic".into(),
        source: "web".into(),
        silent: body.silent.unwrap_or(false),
        note: body
            .note
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty()),
        raised_by: user.actor(),
        raised_at: now,
        details: serde_json::Value::Null,
    };
    let outcome = state
        .hub
        .raise(&alarm, key.as_ref())
        .await
        .map_err(not_stored)?;
    tracing::warn!(
        incident = outcome.incident.id,
        school = point.school_id,
        point = point.id,
        joined = outcome.joined,
        replayed = outcome.replayed,
        by = %user.user.username,
        "one-key alarm"
    );
    let view = IncidentView::new(&dir, &outcome.incident);
    Ok((
        StatusCode::CREATED,
        Json(
            json!({ "incident_id": outcome.incident.id, "joined": outcome.joined, "incident": view }),
        ),
    ))
}

/// What the presser is told when the alarm could not be stored. The hub has logged the storage
/// failure once for the episode, so nothing is logged per press here.
pub(crate) const NOT_STORED: &str = "存储故障：报警未能保存，请重试或直接拨打110。 / Storage failure: the alarm was NOT saved; retry or call 110 directly.";

fn not_stored(e: StoreError) -> ApiError {
    match e {
        StoreError::Unavailable(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage_unavailable",
            NOT_STORED,
        ),
        other => other.into(),
    }
}
