//! Who is calling: argon2id passwords, login sessions (a random token; only its SHA-256 is
//! stored), the [`CurrentUser`] extractor (cookie or bearer token, sliding expiry), login rate
//! limiting, and the cross-origin guard for state-changing requests.

use std::collections::HashMap;
use std::sync::Mutex;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::Json;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{AUTHORIZATION, COOKIE, HOST, ORIGIN, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use xiaoan_core::incident::Actor;
use xiaoan_core::model::User;
use xiaoan_store::Session;

use crate::error::{ApiError, ApiResult};
use crate::json::ApiJson;
use crate::routes::audit;
use crate::state::AppState;

/// Name of the session cookie.
pub const COOKIE_NAME: &str = "xiaoan_session";

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, String> {
    let mut salt_bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut salt_bytes);
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Checks a password against a PHC string; a malformed hash never matches.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A random 256-bit secret as hex (session tokens, initial passwords).
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn presented_token(headers: &HeaderMap) -> Option<String> {
    if let Some(auth) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let mut parts = auth.splitn(2, ' ');
        if parts
            .next()
            .is_some_and(|s| s.eq_ignore_ascii_case("bearer"))
        {
            return parts
                .next()
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty());
        }
    }
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE_NAME)
        .map(|(_, v)| v.to_owned())
        .filter(|t| !t.is_empty())
}

/// The logged-in user of a request.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
    pub token_hash: String,
}

impl CurrentUser {
    /// The user as the actor of an incident step.
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: Some(self.user.id),
            name: self.user.display_name.clone(),
            role: Some(self.user.role),
        }
    }
}

/// Looks up and slides the session behind `token_hash`; `None` when expired or unknown.
pub(crate) async fn resume_session(state: &AppState, hash: &str) -> ApiResult<Option<User>> {
    let store = state.hub.store();
    let now = state.hub.clock().now();
    let Some(session) = store.session(hash, now).await? else {
        return Ok(None);
    };
    let Some(user) = store.user_by_id(session.user_id).await? else {
        return Ok(None);
    };
    let slid = now + state.settings.session_idle;
    // Write at most once a minute per session, not on every request.
    if slid - session.expires_at > Duration::seconds(60) {
        store.touch_session(hash, slid).await?;
    }
    Ok(Some(user))
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = presented_token(&parts.headers).ok_or_else(ApiError::unauthenticated)?;
        let hash = token_hash(&token);
        let user = resume_session(state, &hash)
            .await?
            .ok_or_else(ApiError::unauthenticated)?;
        Ok(CurrentUser {
            user,
            token_hash: hash,
        })
    }
}

/// Login failures per username: five within ten minutes lock the name for a minute.
#[derive(Debug, Default)]
pub(crate) struct LoginLimiter {
    failures: Mutex<HashMap<String, (u32, DateTime<Utc>)>>,
}

const MAX_FAILURES: u32 = 5;

impl LoginLimiter {
    fn locked(&self, name: &str, now: DateTime<Utc>) -> bool {
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.get(name)
            .is_some_and(|(n, last)| *n >= MAX_FAILURES && now - *last < Duration::seconds(60))
    }

    fn fail(&self, name: &str, now: DateTime<Utc>) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, (_, last)| now - *last < Duration::minutes(10));
        }
        let entry = map.entry(name.to_owned()).or_insert((0, now));
        if now - entry.1 >= Duration::minutes(10) {
            *entry = (0, now);
        }
        entry.0 += 1;
        entry.1 = now;
    }

    fn succeed(&self, name: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(name);
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginBody {
    username: String,
    password: String,
}

/// A hash to verify against when the user does not exist, so timing does not reveal names.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3Qq3Lx4U0nH6wJ0mC6iqf6Q8m8T1hX7WmQ2v4cYk2m8";

fn session_cookie(state: &AppState, token: &str, max_age: i64) -> HeaderValue {
    let secure = if state.settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let value = format!(
        "{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    );
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `POST /api/v1/login`.
pub(crate) async fn login(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<LoginBody>,
) -> ApiResult<Response> {
    let name = body.username.trim().to_owned();
    let now = state.hub.clock().now();
    if state.limiter.locked(&name, now) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            "too many failed logins for this user; wait a minute",
        ));
    }
    let record = state.hub.store().user_by_username(&name).await?;
    let (hash, usable) = match &record {
        Some(r) => (r.password_hash.clone(), !r.disabled),
        None => (DUMMY_HASH.to_owned(), false),
    };
    let password = body.password;
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    let tried = record.as_ref().map(|r| (r.user.clone(), r.disabled));
    let Some(record) = record.filter(|_| ok && usable) else {
        state.limiter.fail(&name, now);
        tracing::info!(username = %name, "login refused");
        let why = match &tried {
            Some((_, true)) => "disabled",
            Some(_) => "bad_password",
            None => "unknown_user",
        };
        audit::login_refused(&state, &name, tried.as_ref().map(|t| &t.0), why).await;
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "wrong username or password",
        ));
    };
    state.limiter.succeed(&name);
    let token = new_secret();
    let expires_at = now + state.settings.session_idle;
    state
        .hub
        .store()
        .create_session(&Session {
            token_hash: token_hash(&token),
            user_id: record.user.id,
            created_at: now,
            expires_at,
        })
        .await?;
    tracing::info!(username = %name, role = record.user.role.as_str(), "login");
    audit::login_succeeded(&state, &record.user).await?;
    let cookie = session_cookie(&state, &token, state.settings.session_idle.num_seconds());
    let body = json!({ "token": token, "expires_at": expires_at, "user": record.user });
    Ok(([(SET_COOKIE, cookie)], Json(body)).into_response())
}

/// `POST /api/v1/logout`.
pub(crate) async fn logout(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Response> {
    state.hub.store().delete_session(&user.token_hash).await?;
    audit::logged_out(&state, &user).await?;
    let cookie = session_cookie(&state, "", 0);
    Ok((StatusCode::NO_CONTENT, [(SET_COOKIE, cookie)]).into_response())
}

/// Refuses state-changing requests whose `Origin` is not this server (CSRF guard).
pub(crate) async fn origin_guard(req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let origin = req.headers().get(ORIGIN).and_then(|v| v.to_str().ok());
    if let (false, Some(origin)) = (safe, origin) {
        let host = req
            .headers()
            .get(HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or(origin);
        if origin_host.trim_end_matches('/') != host {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "cross_origin",
                "state-changing requests from another origin are refused",
            )
            .into_response();
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("demo").unwrap_or_default();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("demo", &h));
        assert!(!verify_password("Demo", &h));
        assert!(!verify_password("demo", "not a hash"));
        assert!(!verify_password("demo", DUMMY_HASH));
    }

    #[test]
    fn token_is_read_from_bearer_or_cookie() {
        let mut h = HeaderMap::new();
        h.insert(
            COOKIE,
            HeaderValue::from_static("a=b; xiaoan_session=tok123; c=d"),
        );
        assert_eq!(presented_token(&h).as_deref(), Some("tok123"));
        h.insert(AUTHORIZATION, HeaderValue::from_static("Bearer  abc "));
        assert_eq!(presented_token(&h).as_deref(), Some("abc"));
        assert_eq!(presented_token(&HeaderMap::new()), None);
    }
}
