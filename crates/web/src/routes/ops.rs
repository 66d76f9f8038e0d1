//! `GET /healthz` (no auth) and `GET /metrics` (Prometheus text, supervisors and sysadmins).

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

pub(crate) async fn healthz(State(state): State<AppState>) -> Response {
    match state.hub.store().last_event_id().await {
        Ok(_) => Json(json!({ "status": "ok" })).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: storage failing");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(
                    json!({ "status": "storage_unavailable", "error": "storage is not answering" }),
                ),
            )
                .into_response()
        }
    }
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
    let _ = writeln!(
        out,
        "# HELP xiaoan_live_subscribers Open event streams.\n# TYPE xiaoan_live_subscribers gauge\nxiaoan_live_subscribers {}",
        state.hub.subscribers()
    );
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response())
}
