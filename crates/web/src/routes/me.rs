//! `GET /api/v1/me` (who am I, my settings, the schools I may see) and `GET /api/v1/officers`.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use xiaoan_core::access::{Role, Scope};

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::wire::SchoolView;

pub(crate) async fn me(State(state): State<AppState>, user: CurrentUser) -> ApiResult<Json<Value>> {
    let dir = state.hub.directory().await;
    let schools: Vec<_> = dir
        .visible_schools(&user.user)
        .into_iter()
        .filter_map(|id| dir.schools.get(&id))
        .map(|s| SchoolView::full(&dir, s))
        .collect();
    Ok(Json(json!({
        "user": user.user,
        "settings": {
            "escalate_after_secs": state.hub.settings().escalate_after.num_seconds(),
            "call_110_after_secs": state.settings.call_110_after_secs,
            "session_idle_minutes": state.settings.session_idle.num_minutes(),
        },
        "schools": schools,
    })))
}

fn police_areas(scopes: &[Scope]) -> impl Iterator<Item = i64> + '_ {
    scopes.iter().filter_map(|s| match s {
        Scope::PoliceArea(id) => Some(*id),
        _ => None,
    })
}

pub(crate) async fn officers(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Value>> {
    if !user.user.role.is_police() {
        return Err(ApiError::forbidden("only police roles list officers"));
    }
    let mine: Vec<i64> = police_areas(&user.user.scopes).collect();
    let officers: Vec<_> = state
        .hub
        .store()
        .list_users()
        .await?
        .into_iter()
        .filter(|u| u.role == Role::PoliceOfficer)
        .filter(|u| police_areas(&u.scopes).any(|a| mine.contains(&a)))
        .collect();
    Ok(Json(json!({ "officers": officers })))
}
