//! The audit trail at the HTTP layer: `GET /api/v1/incidents/{id}/audit` (an incident's entries,
//! scoped exactly like the incident: 404 when the user may not see it), the helpers handlers
//! record through, and the throttle that keeps footage read in many requests (HTTP Range, a
//! reloaded page) to one entry per user, object and [`VIEW_WINDOW`].
//!
//! Incident steps are recorded by the store in the step's own transaction; handlers record
//! logins, configuration changes and every view, export or release of footage. Footage is only
//! served once its entry is stored (a failed append answers 503).

use std::collections::HashMap;
use std::sync::Mutex;

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use xiaoan_core::audit::{AuditActor, AuditRecord, NewAuditEntry};
use xiaoan_core::model::{Id, User};
use xiaoan_store::AuditFilter;

use super::visible_incident;
use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::state::AppState;

/// Footage read again by the same user within this long is not recorded again.
pub(crate) const VIEW_WINDOW_SECS: i64 = 5 * 60;
const VIEW_WINDOW: Duration = Duration::seconds(VIEW_WINDOW_SECS);

/// When each (user, action and object) was last recorded.
#[derive(Debug, Default)]
pub(crate) struct ViewThrottle {
    seen: Mutex<HashMap<(Id, String), DateTime<Utc>>>,
}

impl ViewThrottle {
    /// True (and remembered) when `user` has no entry for `what` within the window.
    fn first(&self, user: Id, what: &str, now: DateTime<Utc>) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() > 10_000 {
            seen.retain(|_, at| now - *at < VIEW_WINDOW);
        }
        match seen.get(&(user, what.to_owned())) {
            Some(at) if now - *at < VIEW_WINDOW && *at <= now => false,
            _ => {
                seen.insert((user, what.to_owned()), now);
                true
            }
        }
    }

    /// Forgets `what` (its append failed: the next request tries again).
    fn forget(&self, user: Id, what: &str) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.remove(&(user, what.to_owned()));
    }
}

/// An entry by the calling user, now.
pub(crate) fn by_user(
    state: &AppState,
    user: &CurrentUser,
    action: &str,
    object_kind: &str,
    object_id: impl ToString,
) -> NewAuditEntry {
    NewAuditEntry::new(
        state.hub.clock().now(),
        AuditActor::user(&user.user),
        action,
        object_kind,
        Some(object_id.to_string()),
    )
}

/// Appends one entry durably.
pub(crate) async fn record(state: &AppState, entry: NewAuditEntry) -> ApiResult<()> {
    state.hub.store().append_audit(&[entry]).await?;
    Ok(())
}

/// Appends a footage read unless the same user's same read is recorded within the window.
pub(crate) async fn record_view(
    state: &AppState,
    user: &CurrentUser,
    entry: NewAuditEntry,
) -> ApiResult<()> {
    let what = format!(
        "{} {} {}",
        entry.action,
        entry.object_kind,
        entry.object_id.as_deref().unwrap_or("")
    );
    if !state.views.first(user.user.id, &what, entry.at) {
        return Ok(());
    }
    let result = record(state, entry).await;
    if result.is_err() {
        state.views.forget(user.user.id, &what);
    }
    result
}

/// Records a login: `auth.login` by the user.
pub(crate) async fn login_succeeded(state: &AppState, user: &User) -> ApiResult<()> {
    let mut e = NewAuditEntry::new(
        state.hub.clock().now(),
        AuditActor::user(user),
        "auth.login",
        "user",
        Some(user.id.to_string()),
    );
    e.detail = json!({ "username": user.username });
    record(state, e).await
}

/// Records a refused login (`auth.login_failed`): by the user when the name is one, otherwise by
/// the name tried (cut to 64 characters). Never the password. A failure to record is logged;
/// the answer stays a refusal.
pub(crate) async fn login_refused(state: &AppState, name: &str, user: Option<&User>, why: &str) {
    let tried: String = name.chars().take(64).collect();
    let (actor, object) = match user {
        Some(u) => (AuditActor::user(u), Some(u.id.to_string())),
        None => (AuditActor::principal(tried.clone()), None),
    };
    let mut e = NewAuditEntry::new(
        state.hub.clock().now(),
        actor,
        "auth.login_failed",
        "user",
        object,
    );
    e.detail = json!({ "username": tried, "reason": why });
    if let Err(err) = record(state, e).await {
        tracing::warn!(error = ?err, "refused login not recorded in the audit trail");
    }
}

/// Records a logout: `auth.logout` by the user.
pub(crate) async fn logged_out(state: &AppState, user: &CurrentUser) -> ApiResult<()> {
    record(
        state,
        by_user(state, user, "auth.logout", "user", user.user.id),
    )
    .await
}

/// One entry as the API shows it.
pub(crate) fn entry_json(r: &AuditRecord) -> Value {
    json!({
        "seq": r.seq,
        "at": r.at,
        "actor": {
            "user_id": r.actor_user_id,
            "name": r.actor_name,
            "role": r.actor_role,
        },
        "action": r.action,
        "object_kind": r.object_kind,
        "object_id": r.object_id,
        "incident_id": r.incident_id,
        "detail": serde_json::from_str::<Value>(&r.detail).unwrap_or(Value::String(r.detail.clone())),
    })
}

/// `GET /api/v1/incidents/{id}/audit`: the incident's entries, oldest first.
pub(crate) async fn incident_audit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let dir = state.hub.directory().await;
    let incident = visible_incident(&state, &dir, &user, &id).await?;
    let entries = state
        .hub
        .store()
        .audit_entries(&AuditFilter {
            incident_id: Some(incident.id),
            after_seq: 0,
            limit: Some(1000),
        })
        .await?;
    Ok(Json(json!({
        "incident_id": incident.id,
        "entries": entries.iter().map(entry_json).collect::<Vec<_>>(),
    })))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_view_is_recorded_once_per_window_per_user_and_object() {
        let t = ViewThrottle::default();
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        assert!(t.first(1, "recording.view 7", t0));
        assert!(!t.first(1, "recording.view 7", t0 + Duration::seconds(10)));
        assert!(t.first(2, "recording.view 7", t0 + Duration::seconds(10)));
        assert!(t.first(1, "recording.view 8", t0 + Duration::seconds(10)));
        assert!(t.first(
            1,
            "recording.view 7",
            t0 + Duration::seconds(VIEW_WINDOW_SECS)
        ));
        t.forget(1, "recording.view 8");
        assert!(t.first(1, "recording.view 8", t0 + Duration::seconds(11)));
    }
}
