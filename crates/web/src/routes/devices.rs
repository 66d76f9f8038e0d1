//! `GET /api/v1/signals` (the device event log: tests, arming, power, battery, troubles,
//! unregistered or unauthenticated senders, lost communication) and `GET /api/v1/devices/health`.
//! School-bound items follow the user's scope; items tied to no school (unregistered senders)
//! are for police supervisors and sysadmins only.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use serde_json::{Value, json};
use xiaoan_core::access::{self, Role};
use xiaoan_core::model::{Directory, Id, User};

use super::{list_limit, scope_of};
use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::state::AppState;

/// Sees things tied to no school (unregistered accounts).
pub(crate) fn sees_unregistered(user: &User) -> bool {
    matches!(user.role, Role::PoliceSupervisor | Role::Sysadmin)
}

/// May the user see something of `school_id` (None: tied to no school)?
pub(crate) fn sees_device_item(dir: &Directory, user: &User, school_id: Option<Id>) -> bool {
    match school_id {
        None => sees_unregistered(user),
        Some(id) => dir
            .schools
            .get(&id)
            .is_some_and(|s| access::sees_school(user, s)),
    }
}

pub(crate) async fn signals(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let limit = list_limit(&query)?;
    let dir = state.hub.directory().await;
    let filter = xiaoan_store::SignalFilter {
        school_ids: scope_of(&dir, &user.user),
        include_unregistered: sees_unregistered(&user.user),
        limit,
    };
    let signals = state.hub.store().list_signals(&filter).await?;
    Ok(Json(json!({ "signals": signals })))
}

pub(crate) async fn health(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Value>> {
    let dir = state.hub.directory().await;
    let devices: Vec<_> = state
        .hub
        .device_health()
        .await
        .into_iter()
        .filter(|h| sees_device_item(&dir, &user.user, h.school_id))
        .collect();
    Ok(Json(json!({ "devices": devices })))
}
