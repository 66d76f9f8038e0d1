//! The one route table, and the scope checks every incident route shares.

mod alarms;
pub(crate) mod audit;
mod cameras;
mod clips;
mod devices;
mod events;
#[doc(hidden)]
pub mod fuzzing;
mod gb;
mod incidents;
mod me;
mod ops;
mod ranged;
mod recordings;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::from_fn;
use axum::routing::{get, post, put};
use tower_http::set_header::SetResponseHeaderLayer;
use xiaoan_core::access::{self, Action};
use xiaoan_core::incident::Incident;
use xiaoan_core::model::{Directory, User};

use crate::auth::{self, CurrentUser};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::{MAX_BODY_BYTES, console};

/// Every route of the application.
pub(crate) fn table(state: AppState) -> Router {
    Router::new()
        .route("/api/v1/login", post(auth::login))
        .route("/api/v1/logout", post(auth::logout))
        .route("/api/v1/me", get(me::me))
        .route("/api/v1/officers", get(me::officers))
        .route("/api/v1/alarms", post(alarms::raise))
        .route("/api/v1/incidents", get(incidents::list))
        .route("/api/v1/incidents/{id}", get(incidents::detail))
        .route("/api/v1/incidents/{id}/audit", get(audit::incident_audit))
        .route("/api/v1/incidents/{id}/{action}", post(incidents::act))
        .route("/api/v1/clips/{id}/file", get(clips::file))
        .route("/api/v1/clips/{id}/download", get(clips::download))
        .route("/api/v1/clips/{id}/release", post(clips::release))
        .route("/api/v1/events", get(events::stream))
        .route("/api/v1/signals", get(devices::signals))
        .route("/api/v1/devices/health", get(devices::health))
        .route("/api/v1/cameras", get(cameras::list))
        .route("/api/v1/cameras/{id}/live", get(cameras::live))
        .route("/api/v1/cameras/{id}/recordings", get(recordings::list))
        .route("/api/v1/cameras/{id}/export", get(recordings::export))
        .route("/api/v1/recordings/{id}/file", get(recordings::file))
        .route("/api/v1/storage", get(recordings::storage))
        .route("/api/v1/gb/devices", get(gb::devices))
        .route("/api/v1/gb/devices/{id}/control", post(gb::control))
        .route("/api/v1/gb/channels", get(gb::channels))
        .route("/api/v1/gb/channels/{id}/binding", put(gb::bind))
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .fallback(console::serve)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(from_fn(auth::origin_guard))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .with_state(state)
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method",
    )
}

/// The `limit` query parameter of a list: 1 to 1000, default 200.
fn list_limit(query: &std::collections::HashMap<String, String>) -> ApiResult<u32> {
    match query.get("limit") {
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|l| (1..=1000).contains(l))
            .ok_or_else(|| ApiError::bad_request("limit must be a number from 1 to 1000")),
        None => Ok(200),
    }
}

/// The schools a list is restricted to: the user's visible schools (sysadmins: all).
fn scope_of(dir: &Directory, user: &User) -> Option<Vec<xiaoan_core::model::Id>> {
    (user.role != xiaoan_core::access::Role::Sysadmin).then(|| dir.visible_schools(user))
}

/// Refuses with 403 unless the user's role may do `action`.
fn require(user: &CurrentUser, action: Action) -> ApiResult<()> {
    if access::allowed(user.user.role, action) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "role {} may not do this",
            user.user.role.as_str()
        )))
    }
}

/// Is `incident` visible to `user`? Unknown schools are never visible.
fn sees(dir: &Directory, user: &User, incident: &Incident) -> bool {
    dir.schools
        .get(&incident.school_id)
        .is_some_and(|s| access::sees_incident(user, s, incident))
}

/// A numeric id from a path segment, or 400 naming what it should have been.
fn numeric_id(what: &str, id: &str) -> ApiResult<i64> {
    id.parse()
        .map_err(|_| ApiError::bad_request(format!("{what} id must be a number, got {id:?}")))
}

/// Loads an incident the user may see, or 404 (also when it exists but is out of scope).
async fn visible_incident(
    state: &AppState,
    dir: &Directory,
    user: &CurrentUser,
    id: &str,
) -> ApiResult<Incident> {
    let id = numeric_id("incident", id)?;
    match state.hub.store().incident(id).await? {
        Some(i) if sees(dir, &user.user, &i) => Ok(i),
        _ => Err(ApiError::not_found("incident")),
    }
}
