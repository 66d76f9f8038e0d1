//! Who is calling: argon2id passwords, login sessions (a random token; only its SHA-256 is
//! stored), the [`CurrentUser`] extractor (cookie or bearer token, sliding idle expiry capped by
//! an absolute lifetime), login rate limiting per user name and per client address, and the
//! cross-origin guard for state-changing requests.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::header::{AUTHORIZATION, COOKIE, HOST, ORIGIN, REFERER, RETRY_AFTER, SET_COOKIE};
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

/// The token of an `Authorization: Bearer` header.
fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let auth = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok())?;
    let mut parts = auth.splitn(2, ' ');
    if !parts
        .next()
        .is_some_and(|s| s.eq_ignore_ascii_case("bearer"))
    {
        return None;
    }
    parts
        .next()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
}

fn presented_token(headers: &HeaderMap) -> Option<String> {
    if let Some(token) = bearer_token(headers) {
        return Some(token);
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

/// When a session that is used at `now` expires: idle time from now, but never past the
/// absolute lifetime counted from the login.
fn expiry(state: &AppState, created_at: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
    let idle = now + state.settings.session_idle;
    match state.settings.session_max {
        Some(max) => idle.min(created_at + max),
        None => idle,
    }
}

/// Looks up and slides the session behind `token_hash`; `None` when expired or unknown.
pub(crate) async fn resume_session(state: &AppState, hash: &str) -> ApiResult<Option<User>> {
    let store = state.hub.store();
    let now = state.hub.clock().now();
    let Some(session) = store.session(hash, now).await? else {
        return Ok(None);
    };
    if state
        .settings
        .session_max
        .is_some_and(|max| now >= session.created_at + max)
    {
        store.delete_session(hash).await?;
        return Ok(None);
    }
    let Some(user) = store.user_by_id(session.user_id).await? else {
        return Ok(None);
    };
    let slid = expiry(state, session.created_at, now);
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

/// Login failures counted per user name and per client address. Five failures for one name,
/// or twenty from one address, within ten minutes lock that name or address for a minute after
/// the last failure; a successful login clears the name's count (the address's count only
/// decays, so one good account cannot reset a guessing run against others).
#[derive(Debug, Default)]
pub(crate) struct LoginLimiter {
    failures: Mutex<HashMap<LimitKey, (u32, DateTime<Utc>)>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum LimitKey {
    Name(String),
    Addr(IpAddr),
}

impl LimitKey {
    fn max_failures(&self) -> u32 {
        match self {
            Self::Name(_) => 5,
            Self::Addr(_) => 20,
        }
    }
}

/// How long a name or address stays locked after its last failure.
const LOCKOUT: Duration = Duration::seconds(60);
/// Failures older than this are forgotten.
const FAILURE_WINDOW: Duration = Duration::minutes(10);

impl LoginLimiter {
    fn keys(name: &str, addr: Option<IpAddr>) -> impl Iterator<Item = LimitKey> {
        std::iter::once(LimitKey::Name(name.to_owned())).chain(addr.map(LimitKey::Addr))
    }

    /// Seconds until a login for `name` from `addr` may be tried again; `None` when not locked.
    fn locked(&self, name: &str, addr: Option<IpAddr>, now: DateTime<Utc>) -> Option<i64> {
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        Self::keys(name, addr)
            .filter_map(|key| {
                let (n, last) = map.get(&key)?;
                let left = *last + LOCKOUT - now;
                (*n >= key.max_failures() && left > Duration::zero())
                    .then(|| (left.num_milliseconds() + 999) / 1000)
            })
            .max()
    }

    fn fail(&self, name: &str, addr: Option<IpAddr>, now: DateTime<Utc>) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, (_, last)| now - *last < FAILURE_WINDOW);
        }
        for key in Self::keys(name, addr) {
            let entry = map.entry(key).or_insert((0, now));
            if now - entry.1 >= FAILURE_WINDOW {
                *entry = (0, now);
            }
            entry.0 += 1;
            entry.1 = now;
        }
    }

    fn succeed(&self, name: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(&LimitKey::Name(name.to_owned()));
    }
}

/// The address the request came from (the TCP peer), when the server recorded it.
pub(crate) struct ClientAddr(Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
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
    ClientAddr(addr): ClientAddr,
    ApiJson(body): ApiJson<LoginBody>,
) -> ApiResult<Response> {
    let name = body.username.trim().to_owned();
    let now = state.hub.clock().now();
    if let Some(wait) = state.limiter.locked(&name, addr, now) {
        tracing::info!(username = %name, ?addr, "login refused: too many failures");
        let refusal = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            format!("too many failed logins for this user or address; try again in {wait} s"),
        );
        return Ok(([(RETRY_AFTER, HeaderValue::from(wait))], refusal).into_response());
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
        state.limiter.fail(&name, addr, now);
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
    let expires_at = expiry(&state, now, now);
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
    let cookie = session_cookie(&state, &token, (expires_at - now).num_seconds());
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

/// The `host[:port]` of an `Origin` or `Referer` value.
fn authority(url: &str) -> &str {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

/// Is a state-changing request with these headers from a page of another site? The page is
/// named by `Origin`, or by `Referer` when a browser sends no `Origin`. A request carrying a
/// bearer token is not a browser's ambient credential and passes; so does one naming no page
/// at all (command-line clients, panels).
fn cross_site(headers: &HeaderMap) -> bool {
    if bearer_token(headers).is_some() {
        return false;
    }
    let page = headers
        .get(ORIGIN)
        .or_else(|| headers.get(REFERER))
        .map(|v| v.to_str().unwrap_or("\u{fffd}"));
    let Some(page) = page else {
        return false;
    };
    let host = headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    page == "null" || !authority(page).eq_ignore_ascii_case(host)
}

/// Refuses state-changing requests from pages of another origin (CSRF guard).
pub(crate) async fn origin_guard(req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && cross_site(req.headers()) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "cross_origin",
            "state-changing requests from another origin are refused",
        )
        .into_response();
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
    fn failures_lock_a_name_after_five_and_an_address_after_twenty() {
        let l = LoginLimiter::default();
        let t0 = DateTime::<Utc>::UNIX_EPOCH;
        let a: Option<IpAddr> = "10.0.0.1".parse().ok();
        for _ in 0..4 {
            l.fail("guard1", a, t0);
        }
        assert_eq!(l.locked("guard1", a, t0), None);
        l.fail("guard1", a, t0);
        assert_eq!(l.locked("guard1", a, t0), Some(60));
        assert_eq!(
            l.locked("guard1", None, t0 + Duration::seconds(59)),
            Some(1)
        );
        assert_eq!(l.locked("guard1", a, t0 + Duration::seconds(60)), None);
        assert_eq!(l.locked("guard2", a, t0), None);
        l.succeed("guard1");
        assert_eq!(l.locked("guard1", a, t0), None);
        for i in 0..15 {
            l.fail(&format!("name{i}"), a, t0);
        }
        assert_eq!(l.locked("someone", a, t0), Some(60));
        assert_eq!(l.locked("someone", "10.0.0.2".parse().ok(), t0), None);
    }

    #[test]
    fn cross_site_pages_are_named_by_origin_or_referer_and_bearer_tokens_pass() {
        let h = |pairs: &[(axum::http::HeaderName, &'static str)]| {
            let mut m = HeaderMap::new();
            m.insert(HOST, HeaderValue::from_static("xiaoan.local:8443"));
            for (k, v) in pairs {
                m.insert(k.clone(), HeaderValue::from_static(v));
            }
            m
        };
        assert!(!cross_site(&h(&[])));
        assert!(!cross_site(&h(&[(ORIGIN, "https://xiaoan.local:8443")])));
        assert!(cross_site(&h(&[(ORIGIN, "https://evil.example")])));
        assert!(cross_site(&h(&[(ORIGIN, "null")])));
        assert!(!cross_site(&h(&[(
            REFERER,
            "https://xiaoan.local:8443/x?y"
        )])));
        assert!(cross_site(&h(&[(
            REFERER,
            "https://evil.example/xiaoan.local:8443"
        )])));
        assert!(cross_site(&h(&[(
            REFERER,
            "https://xiaoan.local:8443.evil.example/"
        )])));
        assert!(!cross_site(&h(&[
            (ORIGIN, "https://evil.example"),
            (AUTHORIZATION, "Bearer abc"),
        ])));
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
