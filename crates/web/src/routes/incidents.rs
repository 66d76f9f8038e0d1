//! `GET /api/v1/incidents`, `GET /api/v1/incidents/{id}` and the actions
//! `POST /api/v1/incidents/{id}/{claim|dispatch|arrive|resolve|close|accidental|notes}`.
//! Scope first (out of scope is 404), then role (403), then the state machine (409).

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use xiaoan_core::access::{Action, Role, Scope};
use xiaoan_core::incident::{Command, Disposition, IncidentState, queue_order};
use xiaoan_core::model::Directory;
use xiaoan_store::IncidentFilter;

use super::alarms::check_note;
use super::{list_limit, require, scope_of, sees, visible_incident};
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::json::ApiJson;
use crate::state::AppState;
use crate::wire::{IncidentDetail, IncidentView};

fn parse_states(spec: &str) -> ApiResult<Vec<IncidentState>> {
    let mut states = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part {
            "open" => states.extend(IncidentState::ALL.into_iter().filter(|s| s.is_open())),
            "active" => states.extend(
                IncidentState::ALL
                    .into_iter()
                    .filter(|s| *s != IncidentState::Closed),
            ),
            other => states.push(IncidentState::parse(other).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "unknown state {other:?}: use open, active or received, claimed, dispatched, on_scene, resolved, closed"
                ))
            })?),
        }
    }
    states.sort();
    states.dedup();
    Ok(states)
}

pub(crate) async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let states = match query.get("state") {
        Some(spec) => parse_states(spec)?,
        None => Vec::new(),
    };
    let limit = list_limit(&query)?;
    let dir = state.hub.directory().await;
    let school_ids = scope_of(&dir, &user.user);
    let mut incidents = state
        .hub
        .store()
        .list_incidents(&IncidentFilter {
            school_ids,
            states,
            limit: Some(limit),
        })
        .await?;
    incidents.retain(|i| sees(&dir, &user.user, i));
    incidents.sort_by(queue_order);
    let ids: Vec<_> = incidents.iter().map(|i| i.id).collect();
    let mut clips = super::clips::clips_of(&state, &ids).await?;
    let mut views = Vec::with_capacity(incidents.len());
    for i in &incidents {
        let mut view = serde_json::to_value(IncidentView::new(&dir, i)).map_err(|e| {
            tracing::error!(error = %e, "serializing incident");
            ApiError::internal()
        })?;
        if let Value::Object(map) = &mut view {
            map.insert(
                "clips".into(),
                Value::Array(clips.remove(&i.id).unwrap_or_default()),
            );
        }
        views.push(view);
    }
    Ok(Json(json!({ "incidents": views })))
}

async fn detail_json(state: &AppState, dir: &Directory, id: i64) -> ApiResult<Value> {
    let incident = state
        .hub
        .store()
        .incident(id)
        .await?
        .ok_or_else(|| ApiError::not_found("incident"))?;
    let timeline = state.hub.store().timeline(id).await?;
    let mut value =
        serde_json::to_value(IncidentDetail::new(dir, &incident, &timeline)).map_err(|e| {
            tracing::error!(error = %e, "serializing incident");
            ApiError::internal()
        })?;
    let clips = super::clips::clips_of(state, &[id])
        .await?
        .remove(&id)
        .unwrap_or_default();
    if let Value::Object(map) = &mut value {
        map.insert("clips".into(), Value::Array(clips));
    }
    Ok(value)
}

pub(crate) async fn detail(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let dir = state.hub.directory().await;
    let incident = visible_incident(&state, &dir, &user, &id).await?;
    Ok(Json(detail_json(&state, &dir, incident.id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoBody {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteBody {
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DispatchBody {
    unit: Option<String>,
    officer_user_id: Option<i64>,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResolveBody {
    disposition: Disposition,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TextBody {
    text: String,
}

fn body<T: DeserializeOwned>(value: Value) -> ApiResult<T> {
    serde_json::from_value(value).map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "bad_json",
            format!("invalid body: {e}"),
        )
    })
}

fn note_of(value: Value) -> ApiResult<Option<String>> {
    let NoteBody { note } = body(value)?;
    check_note(note.as_deref())?;
    Ok(note)
}

/// Decodes and checks the body of `action` as [`command_for`] does, short of the store look-ups
/// (what the fuzz target `web_json` runs on arbitrary bodies).
pub(crate) fn check_action_body(action: &str, value: Value) -> ApiResult<()> {
    match action {
        "claim" => body::<NoBody>(value).map(drop),
        "dispatch" => {
            let b: DispatchBody = body(value)?;
            check_note(b.note.as_deref())
        }
        "resolve" => {
            let b: ResolveBody = body(value)?;
            check_note(b.note.as_deref())
        }
        "notes" => {
            let TextBody { text } = body(value)?;
            check_note(Some(&text))
        }
        _ => note_of(value).map(drop),
    }
}

/// Builds the command for `action`, checking the role and the body.
async fn command_for(
    state: &AppState,
    user: &CurrentUser,
    school_police_region: i64,
    action: &str,
    value: Value,
) -> ApiResult<Command> {
    // The role is checked before the body is read: a refused caller learns nothing from it
    // (not even whether a user id is an officer of this area).
    let needed = match action {
        "claim" => Action::Claim,
        "dispatch" => Action::Dispatch,
        "arrive" => Action::Arrive,
        "resolve" => Action::Resolve,
        "close" => Action::Close,
        "accidental" => Action::ReportAccidental,
        "notes" => Action::Note,
        other => return Err(ApiError::not_found(&format!("action {other:?}"))),
    };
    require(user, needed)?;
    let command = match action {
        "claim" => {
            let NoBody {} = body(value)?;
            Command::Claim
        }
        "dispatch" => {
            let b: DispatchBody = body(value)?;
            check_note(b.note.as_deref())?;
            let unit = b.unit.unwrap_or_default();
            if unit.chars().count() > 200 {
                return Err(ApiError::bad_request("unit is longer than 200 characters"));
            }
            let officer_name = match b.officer_user_id {
                None => None,
                Some(oid) => {
                    let officer = state.hub.store().user_by_id(oid).await?;
                    let ok = officer.filter(|o| {
                        o.role == Role::PoliceOfficer
                            && o.scopes.contains(&Scope::PoliceArea(school_police_region))
                    });
                    match ok {
                        Some(o) => Some(o.display_name),
                        None => {
                            return Err(ApiError::bad_request(format!(
                                "user {oid} is not a police officer of this school's area"
                            )));
                        }
                    }
                }
            };
            Command::Dispatch {
                unit,
                officer_user_id: b.officer_user_id,
                officer_name,
                note: b.note,
            }
        }
        "arrive" => Command::Arrive {
            note: note_of(value)?,
        },
        "resolve" => {
            let b: ResolveBody = body(value)?;
            check_note(b.note.as_deref())?;
            Command::Resolve {
                disposition: b.disposition,
                note: b.note,
            }
        }
        "close" => Command::Close {
            note: note_of(value)?,
        },
        "accidental" => Command::ReportAccidental {
            note: note_of(value)?,
        },
        "notes" => {
            let TextBody { text } = body(value)?;
            check_note(Some(&text))?;
            Command::Note { text }
        }
        other => return Err(ApiError::not_found(&format!("action {other:?}"))),
    };
    Ok(command)
}

pub(crate) async fn act(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, action)): Path<(String, String)>,
    ApiJson(value): ApiJson<Value>,
) -> ApiResult<Json<Value>> {
    let dir = state.hub.directory().await;
    let incident = visible_incident(&state, &dir, &user, &id).await?;
    let police_region = dir
        .schools
        .get(&incident.school_id)
        .map(|s| s.police_region_id)
        .unwrap_or_default();
    let command = command_for(&state, &user, police_region, &action, value).await?;
    let (updated, entry) = state.hub.act(incident.id, &command, &user.actor()).await?;
    tracing::info!(incident = updated.id, step = entry.kind.as_str(), by = %user.user.username, "incident step");
    Ok(Json(detail_json(&state, &dir, updated.id).await?))
}
