//! `GET /healthz` (no auth; the storage state included) and `GET /metrics` (Prometheus text, supervisors and sysadmins).

use std::fmt::Write;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use xiaoan_core::access::Role;
use xiaoan_core::incident::IncidentState;
use xiaoan_store::IncidentFilter;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// `ok` only when the store answers a read and the last write worked. A storage-failure episode
/// (`xiaoan_hub::StorageState`) answers `503` with `status: "storage_failure"` and the state, so a
/// monitor sees that alarms cannot be saved even while reads still work.
pub(crate) async fn healthz(State(state): State<AppState>) -> Response {
    let storage = state.hub.storage_state();
    if let Err(e) = state.hub.store().last_event_id().await {
        tracing::error!(error = %e, "health check: storage failing");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "status": "storage_unavailable",
                "error": "storage is not answering",
                "storage": storage,
            })),
        )
            .into_response();
    }
    if !storage.ok {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "status": "storage_failure",
                "error": "存储故障：报警无法保存 / Storage failure: alarms cannot be saved",
                "storage": storage,
            })),
        )
            .into_response();
    }
    Json(json!({ "status": "ok", "storage": storage })).into_response()
}

pub(crate) async fn metrics(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Response> {
    if !matches!(user.user.role, Role::PoliceSupervisor | Role::Sysadmin) {
        return Err(ApiError::forbidden(
            "metrics are for supervisors and administrators",
        ));
    }
    let mut out = String::new();
    for (name, help, value) in state.hub.metrics().counters() {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
        );
    }
    let open = state
        .hub
        .store()
        .list_incidents(&IncidentFilter {
            school_ids: None,
            states: IncidentState::ALL
                .into_iter()
                .filter(|s| s.is_open())
                .collect(),
            limit: None,
        })
        .await?;
    let _ = writeln!(
        out,
        "# HELP xiaoan_incidents_open Incidents not yet resolved, by state.\n# TYPE xiaoan_incidents_open gauge"
    );
    for st in IncidentState::ALL.into_iter().filter(|s| s.is_open()) {
        let n = open.iter().filter(|i| i.state == st).count();
        let _ = writeln!(
            out,
            "xiaoan_incidents_open{{state=\"{}\"}} {n}",
            st.as_str()
        );
    }
    let storage = state.hub.storage_state();
    let _ = writeln!(
        out,
        "# HELP xiaoan_storage_ok 1 while writes work, 0 during a storage failure (alarms NOT stored).\n# TYPE xiaoan_storage_ok gauge\nxiaoan_storage_ok {}",
        u8::from(storage.ok)
    );
    let _ = writeln!(
        out,
        "# HELP xiaoan_live_subscribers Open event streams.\n# TYPE xiaoan_live_subscribers gauge\nxiaoan_live_subscribers {}",
        state.hub.subscribers()
    );
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response())
}
