//! Sessions, cookies, the cross-origin guard and the login rate limit, on the web application
//! over a seeded demo store with a simulated clock (so idle and absolute expiry are checked
//! without waiting): the cookie's flags, idle expiry that slides, the absolute lifetime,
//! logout ending the session on the server, foreign `Origin`/`Referer` refused with 403 JSON,
//! bearer clients accepted, and login failures limited per user name and per client address
//! with `Retry-After`.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use chrono::{Duration, Utc};
use reqwest::header::{HeaderMap, ORIGIN, REFERER, RETRY_AFTER, SET_COOKIE};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use xiaoan_base::{Clock, SimulatedClock};
use xiaoan_hub::{Hub, HubSettings};
use xiaoan_web::{AppState, WebSettings};

struct App {
    base: String,
    clock: SimulatedClock,
    client: reqwest::Client,
    shutdown: CancellationToken,
    _dir: tempfile::TempDir,
}

const IDLE_MIN: i64 = 10;
const MAX_MIN: i64 = 30;

impl App {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = xiaoan::server::open_store(dir.path()).await.unwrap();
        xiaoan::cmds::demo::seed_if_empty(&store).await.unwrap();
        let clock = SimulatedClock::new(Utc::now());
        let shared: Arc<dyn Clock> = Arc::new(clock.clone());
        let hub = Hub::new(Arc::new(store), shared, HubSettings::default())
            .await
            .unwrap();
        let settings = WebSettings {
            session_idle: Duration::minutes(IDLE_MIN),
            session_max: Some(Duration::minutes(MAX_MIN)),
            ..WebSettings::default()
        };
        let shutdown = CancellationToken::new();
        let state = AppState::new(hub, settings, shutdown.clone());
        let listener = xiaoan::server::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(xiaoan_web::serve(listener, state, shutdown.clone()));
        Self {
            base,
            clock,
            client: reqwest::Client::new(),
            shutdown,
            _dir: dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn login_as(&self, user: &str, password: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/login"))
            .json(&json!({ "username": user, "password": password }))
            .send()
            .await
            .unwrap()
    }

    /// Logs in and gives back the token and the `Set-Cookie` value.
    async fn login(&self, user: &str) -> (String, String) {
        let res = self.login_as(user, "demo").await;
        assert_eq!(res.status(), 200, "login {user}");
        let cookie = res.headers()[SET_COOKIE].to_str().unwrap().to_owned();
        let body: Value = res.json().await.unwrap();
        (body["token"].as_str().unwrap().to_owned(), cookie)
    }

    async fn me(&self, token: &str) -> u16 {
        self.client
            .get(self.url("/api/v1/me"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    /// `POST path` with the session cookie and extra headers: (status, JSON body).
    async fn post_with_cookie(&self, cookie: &str, path: &str, headers: HeaderMap) -> (u16, Value) {
        let session = cookie.split(';').next().unwrap();
        let res = self
            .client
            .post(self.url(path))
            .header("cookie", session)
            .headers(headers)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

fn headers(pairs: &[(reqwest::header::HeaderName, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(k.clone(), v.parse().unwrap());
    }
    h
}

#[tokio::test]
async fn the_session_cookie_is_http_only_strict_and_lives_as_long_as_the_idle_time() {
    let app = App::start().await;
    let (_, cookie) = app.login("guard1").await;
    let attrs: Vec<&str> = cookie.split(';').map(str::trim).collect();
    assert!(attrs[0].starts_with("xiaoan_session="), "{cookie}");
    for want in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/",
        &format!("Max-Age={}", IDLE_MIN * 60),
    ] {
        assert!(attrs.contains(&want), "{want} missing: {cookie}");
    }
    // Plain HTTP: not Secure (the TLS test checks that HTTPS sets it).
    assert!(!attrs.contains(&"Secure"), "{cookie}");
}

#[tokio::test]
async fn a_session_ends_after_the_idle_time_and_use_slides_it() {
    let app = App::start().await;
    let (token, _) = app.login("operator").await;
    for _ in 0..3 {
        app.clock.advance(Duration::minutes(IDLE_MIN - 1));
        assert_eq!(app.me(&token).await, 200, "used within the idle time");
    }
    app.clock
        .advance(Duration::minutes(IDLE_MIN) + Duration::seconds(1));
    assert_eq!(app.me(&token).await, 401, "idle too long");
    // The refused request did not slide it back to life.
    assert_eq!(app.me(&token).await, 401);
}

#[tokio::test]
async fn a_busy_session_still_ends_at_its_absolute_lifetime() {
    let app = App::start().await;
    let (token, _) = app.login("operator").await;
    let mut used = Duration::zero();
    while used + Duration::minutes(IDLE_MIN - 1) < Duration::minutes(MAX_MIN) {
        app.clock.advance(Duration::minutes(IDLE_MIN - 1));
        used += Duration::minutes(IDLE_MIN - 1);
        assert_eq!(app.me(&token).await, 200, "at {used}");
    }
    app.clock
        .advance(Duration::minutes(MAX_MIN) - used + Duration::seconds(1));
    assert_eq!(app.me(&token).await, 401, "past the absolute lifetime");
    // A new login gets a new session.
    let (again, _) = app.login("operator").await;
    assert_eq!(app.me(&again).await, 200);
}

#[tokio::test]
async fn logout_ends_the_session_on_the_server() {
    let app = App::start().await;
    let (token, cookie) = app.login("guard1").await;
    let (status, _) = app
        .post_with_cookie(&cookie, "/api/v1/logout", HeaderMap::new())
        .await;
    assert_eq!(status, 204);
    // The token itself is dead, not only the browser's cookie.
    assert_eq!(app.me(&token).await, 401);
    let (status, _) = app
        .post_with_cookie(&cookie, "/api/v1/logout", HeaderMap::new())
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn state_changing_requests_from_another_site_are_refused() {
    let app = App::start().await;
    let host = app.base.trim_start_matches("http://").to_owned();
    let same = format!("http://{host}");
    let (_, cookie) = app.login("guard1").await;

    for (name, h) in [
        (
            "foreign Origin",
            headers(&[(ORIGIN, "http://evil.example")]),
        ),
        ("opaque Origin", headers(&[(ORIGIN, "null")])),
        (
            "foreign Referer without Origin",
            headers(&[(REFERER, "http://evil.example/page")]),
        ),
        (
            "foreign Origin over a same-site Referer",
            headers(&[
                (ORIGIN, "http://evil.example"),
                (REFERER, &format!("{same}/")),
            ]),
        ),
    ] {
        let (status, body) = app.post_with_cookie(&cookie, "/api/v1/logout", h).await;
        assert_eq!(status, 403, "{name}");
        assert_eq!(body["code"], "cross_origin", "{name}: {body}");
    }
    // Login from another site is refused too (login CSRF).
    let res = app
        .client
        .post(app.url("/api/v1/login"))
        .header(ORIGIN, "http://evil.example")
        .json(&json!({ "username": "guard1", "password": "demo" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // Reading is not state-changing.
    let res = app
        .client
        .get(app.url("/api/v1/me"))
        .header("cookie", cookie.split(';').next().unwrap())
        .header(ORIGIN, "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // A bearer-token client is not riding on a browser's cookie: accepted whatever it names.
    let (token, _) = app.login("guard1").await;
    let res = app
        .client
        .post(app.url("/api/v1/logout"))
        .bearer_auth(&token)
        .header(ORIGIN, "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);

    // Same origin, and a same-site Referer alone, are accepted.
    let (status, _) = app
        .post_with_cookie(
            &cookie,
            "/api/v1/alarms",
            headers(&[(REFERER, &format!("{same}/school"))]),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = app
        .post_with_cookie(&cookie, "/api/v1/logout", headers(&[(ORIGIN, &same)]))
        .await;
    assert_eq!(status, 204);
}

#[tokio::test]
async fn failed_logins_are_limited_per_user_name_with_retry_after_and_a_success_resets() {
    let app = App::start().await;
    // Four failures, then the right password: the count starts again.
    for _ in 0..4 {
        assert_eq!(app.login_as("guard1", "wrong").await.status(), 401);
    }
    app.login("guard1").await;
    for _ in 0..4 {
        assert_eq!(app.login_as("guard1", "wrong").await.status(), 401);
    }
    app.login("guard1").await;
    // Five in a row lock the name, even for the right password.
    for _ in 0..5 {
        assert_eq!(app.login_as("guard1", "wrong").await.status(), 401);
    }
    let res = app.login_as("guard1", "demo").await;
    assert_eq!(res.status(), 429);
    let wait: i64 = res.headers()[RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "too_many_attempts");
    // Other names are not affected; the lock lifts after Retry-After.
    app.login("guard2").await;
    app.clock.advance(Duration::seconds(wait));
    app.login("guard1").await;
}

#[tokio::test]
async fn failed_logins_are_limited_per_client_address() {
    let app = App::start().await;
    // Twenty failures from one address, spread over names so no name is locked.
    for i in 0..20 {
        let name = format!("nobody{}", i % 5);
        assert_eq!(app.login_as(&name, "wrong").await.status(), 401, "try {i}");
    }
    let res = app.login_as("operator", "demo").await;
    assert_eq!(res.status(), 429, "the address is locked for every name");
    assert!(res.headers().contains_key(RETRY_AFTER));
    app.clock.advance(Duration::seconds(61));
    app.login("operator").await;
}
