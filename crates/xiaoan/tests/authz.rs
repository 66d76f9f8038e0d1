//! The authorization matrix: every route of `crates/web/src/routes/mod.rs`, called without
//! credentials, as every demo user of school 1's police area, school and bureau, and as users of
//! another police area (operator2, officer2) and another school (guard2), against one table of
//! the expected status. All mismatches are reported at once as a table. A guard parses the
//! route table's source so a new route without a row here fails the test.
//!
//! Reading a row: `401` no session; `403` the role may not do this; `404` the object is outside
//! the user's scope (or absent); `405` no such method; anything else means the request passed
//! access control and was answered by the route itself (`409` from a device that is offline,
//! `400` from a span that ends before it starts, `101` a WebSocket upgrade).

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;

use chrono::Utc;
use common::TestServer;
use reqwest::Method;
use serde_json::{Value, json};
use xiaoan::cmds::demo::{DEMO_ALARM_INPUT, DEMO_GATE_CAMERA};
use xiaoan_core::incident::{Actor, Command, Disposition, IncidentState, NewAlarm};
use xiaoan_store::{ClipState, NewClip, NewRecording, RecordingEnd};

/// The callers, in the table's column order. `-` calls without credentials.
const WHO: [&str; 12] = [
    "-",
    "operator",
    "supervisor",
    "officer",
    "guard1",
    "principal1",
    "inspector",
    "bureau",
    "admin",
    "operator2",
    "officer2",
    "guard2",
];

/// What each caller may do. Objects are at school 1 (police area 1), seen by operator,
/// supervisor, officer (only what is dispatched to them), guard1, principal1, inspector (schools
/// 1 and 2), bureau (the whole bureau region) and admin; operator2 and officer2 work police
/// area 2 and guard2 school 2, so school 1's objects do not exist for them.
///
/// Placeholders: `{inc}` an open incident at school 1 dispatched to officer; `{new}` a fresh
/// incident at school 1 in the state named in the `prep` column, made for each call; `{clip}`
/// a clip of `{inc}`; `{rec}` a recorded segment of `{cam}`, school 1's gate camera; `{dev}`
/// a GB/T 28181 device bound to school 1 and `{chan}` its channel. Bodies are named in
/// [`body`]. `prep` `session`: the call uses a session of its own (logout ends it).
const TABLE: &str = r#"
# method path                                   body      prep        -   op  sup off g1  p1  insp bur adm op2 of2 g2
GET    /healthz                                 -         -           200 200 200 200 200 200 200  200 200 200 200 200
POST   /api/v1/login                            login     -           200 200 200 200 200 200 200  200 200 200 200 200
POST   /api/v1/logout                           -         session     401 204 204 204 204 204 204  204 204 204 204 204
GET    /api/v1/me                               -         -           401 200 200 200 200 200 200  200 200 200 200 200
GET    /api/v1/officers                         -         -           401 200 200 200 403 403 403  403 403 200 200 403
POST   /api/v1/alarms                           press1    -           401 403 403 403 201 201 403  403 403 403 403 404
GET    /api/v1/incidents                        -         -           401 200 200 200 200 200 200  200 200 200 200 200
GET    /api/v1/incidents/{inc}                  -         -           401 200 200 200 200 200 200  200 200 404 404 404
GET    /api/v1/incidents/{new}                  -         received    401 200 200 404 200 200 200  200 200 404 404 404
GET    /api/v1/incidents/{inc}/audit            -         -           401 200 200 200 200 200 200  200 200 404 404 404
POST   /api/v1/incidents/{new}/claim            {}        received    401 200 200 404 403 403 403  403 403 404 404 404
POST   /api/v1/incidents/{new}/dispatch         dispatch  claimed     401 200 200 404 403 403 403  403 403 404 404 404
POST   /api/v1/incidents/{new}/dispatch         dispatch9 claimed     401 400 400 404 403 403 403  403 403 404 404 404
POST   /api/v1/incidents/{new}/arrive           {}        dispatched  401 200 200 200 403 403 403  403 403 404 404 404
POST   /api/v1/incidents/{new}/resolve          resolve   dispatched  401 200 200 403 403 403 403  403 403 404 404 404
POST   /api/v1/incidents/{new}/close            {}        resolved    401 200 200 403 403 403 403  403 403 404 404 404
POST   /api/v1/incidents/{new}/accidental       {}        received    401 403 403 404 200 200 403  403 403 404 404 404
POST   /api/v1/incidents/{inc}/notes            note      -           401 200 200 200 200 200 403  403 403 404 404 404
POST   /api/v1/incidents/{inc}/frobnicate       {}        -           401 404 404 404 404 404 404  404 404 404 404 404
GET    /api/v1/clips/{clip}/file                -         -           401 200 200 200 200 200 200  200 200 404 404 404
GET    /api/v1/clips/{clip}/download            -         -           401 200 200 200 200 200 200  200 200 404 404 404
POST   /api/v1/clips/{clip}/release             -         -           401 403 200 403 403 403 403  403 403 404 404 404
GET    /api/v1/events                           -         -           401 200 200 200 200 200 200  200 200 200 200 200
GET    /api/v1/signals                          -         -           401 200 200 200 200 200 200  200 200 200 200 200
GET    /api/v1/devices/health                   -         -           401 200 200 200 200 200 200  200 200 200 200 200
GET    /api/v1/cameras                          -         -           401 200 200 200 200 200 200  200 200 200 200 200
WS     /api/v1/cameras/{cam}/live               -         -           401 101 101 101 101 101 101  101 101 404 404 404
GET    /api/v1/cameras/{cam}/recordings         -         -           401 200 200 200 200 200 403  403 403 404 404 404
GET    /api/v1/cameras/{cam}/export?from=2&to=1 -         -           401 400 400 400 403 400 403  403 403 404 404 404
GET    /api/v1/recordings/{rec}/file            -         -           401 200 200 200 200 200 403  403 403 404 404 404
GET    /api/v1/storage                          -         -           401 200 200 200 200 200 403  403 200 200 200 200
GET    /api/v1/gb/devices                       -         -           401 200 200 200 200 200 200  200 200 200 200 200
POST   /api/v1/gb/devices/{dev}/control         arm       -           401 409 409 409 403 403 403  403 403 404 404 403
GET    /api/v1/gb/channels                      -         -           401 200 200 200 200 200 200  200 200 200 200 200
PUT    /api/v1/gb/channels/{chan}/binding       bind1     -           401 403 200 403 403 403 403  403 200 403 403 403
GET    /metrics                                 -         -           401 403 200 403 403 403 403  403 200 403 403 403
GET    /                                        -         -           200 200 200 200 200 200 200  200 200 200 200 200
GET    /assets/app.js                           -         -           200 200 200 200 200 200 200  200 200 200 200 200
GET    /api/v1/no-such-route                    -         -           404 404 404 404 404 404 404  404 404 404 404 404
DELETE /api/v1/incidents                        -         -           405 405 405 405 405 405 405  405 405 405 405 405
"#;

/// Named request bodies of the table.
fn body(name: &str) -> Option<Value> {
    Some(match name {
        "-" => return None,
        "{}" => json!({}),
        "login" => json!({ "username": "guard1", "password": "demo" }),
        "press1" => json!({ "alarm_point_id": 1 }),
        "dispatch" => json!({ "unit": "巡逻一组" }),
        // Names a user who is no officer: 400 for those who may dispatch, 403 for the rest
        // (the role is checked before the body is looked at).
        "dispatch9" => json!({ "unit": "巡逻一组", "officer_user_id": 999_999 }),
        "resolve" => json!({ "disposition": "test", "note": "matrix" }),
        "note" => json!({ "text": "matrix" }),
        "arm" => json!({ "command": "arm" }),
        "bind1" => json!({ "alarm_point_id": 1 }),
        other => panic!("no body named {other:?}"),
    })
}

struct Row {
    line: usize,
    method: String,
    path: String,
    body: String,
    prep: String,
    expect: Vec<u16>,
}

fn rows() -> Vec<Row> {
    TABLE
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|(i, l)| {
            let f: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(f.len(), 4 + WHO.len(), "table line {i}: {l}");
            Row {
                line: i,
                method: f[0].into(),
                path: f[1].into(),
                body: f[2].into(),
                prep: f[3].into(),
                expect: f[4..].iter().map(|s| s.parse().unwrap()).collect(),
            }
        })
        .collect()
}

/// `(method, path)` of every `.route(...)` in the route table's source.
fn declared_routes() -> Vec<(String, String)> {
    let src = include_str!("../../web/src/routes/mod.rs");
    let mut out = Vec::new();
    for part in src.split(".route(").skip(1) {
        let path = part.split('"').nth(1).unwrap().to_owned();
        // The route's own text ends where the next builder call starts.
        let decl = part.split("\n        .").next().unwrap();
        let mut methods = 0;
        for m in ["get", "post", "put", "delete", "patch"] {
            let mut rest = decl;
            while let Some(at) = rest.find(&format!("{m}(")) {
                let before = rest[..at].chars().last();
                if before.is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == ':')) {
                    out.push((m.to_uppercase(), path.clone()));
                    methods += 1;
                }
                rest = &rest[at + m.len()..];
            }
        }
        assert!(methods > 0, "no method found for route {path}: {decl}");
    }
    out
}

/// Does the table path (placeholders and query included) fall under the route pattern?
fn covers(route: &str, path: &str) -> bool {
    let path = path.split('?').next().unwrap();
    let (r, p): (Vec<_>, Vec<_>) = (route.split('/').collect(), path.split('/').collect());
    r.len() == p.len()
        && r.iter()
            .zip(&p)
            .all(|(r, p)| r == p || (r.starts_with('{') && r.ends_with('}')))
}

#[test]
fn every_route_in_the_route_table_has_a_row() {
    let routes = declared_routes();
    assert!(routes.len() >= 20, "the route parser found only {routes:?}");
    let rows = rows();
    let missing: Vec<String> = routes
        .iter()
        .filter(|(m, r)| {
            !rows.iter().any(|row| {
                let method = if row.method == "WS" {
                    "GET"
                } else {
                    &row.method
                };
                method == m && covers(r, &row.path)
            })
        })
        .map(|(m, r)| format!("{m} {r}"))
        .collect();
    assert!(
        missing.is_empty(),
        "routes without a row in the authorization table: {missing:?}"
    );
}

/// The alarm centre itself, for steps the fixture takes directly through the hub.
fn system() -> Actor {
    Actor::system()
}

/// The objects the table's placeholders stand for.
struct Fixture {
    inc: i64,
    clip: i64,
    rec: i64,
}

async fn raise(s: &TestServer, point: i64) -> i64 {
    let hub = &s.running.as_ref().unwrap().hub;
    let alarm = NewAlarm {
        school_id: 1,
        alarm_point_id: point,
        priority: 1,
        kind: "panic".into(),
        source: "test".into(),
        silent: false,
        note: None,
        raised_by: system(),
        raised_at: Utc::now(),
        details: Value::Null,
    };
    let out = hub.raise(&alarm, None).await.unwrap();
    assert!(!out.joined, "point {point} still had an open incident");
    out.incident.id
}

async fn step(s: &TestServer, id: i64, command: Command) {
    let hub = &s.running.as_ref().unwrap().hub;
    hub.act(id, &command, &system()).await.unwrap();
}

fn dispatch_to_officer() -> Command {
    Command::Dispatch {
        unit: String::new(),
        officer_user_id: Some(3),
        officer_name: Some("民警 陈伟".into()),
        note: None,
    }
}

/// Moves every open incident at `point` out of the open states, so the next press there opens a
/// new one.
async fn retire(s: &TestServer, point: i64) {
    let hub = &s.running.as_ref().unwrap().hub;
    let open = hub
        .store()
        .list_incidents(&xiaoan_store::IncidentFilter {
            school_ids: None,
            states: IncidentState::ALL
                .into_iter()
                .filter(|s| s.is_open())
                .collect(),
            limit: None,
        })
        .await
        .unwrap();
    for i in open.into_iter().filter(|i| i.alarm_point_id == point) {
        if i.state == IncidentState::Received {
            step(s, i.id, Command::Claim).await;
        }
        step(
            s,
            i.id,
            Command::Resolve {
                disposition: Disposition::Test,
                note: None,
            },
        )
        .await;
    }
}

/// A fresh incident at school 1's point 2 in `state`.
async fn fresh(s: &TestServer, state: &str) -> i64 {
    retire(s, 2).await;
    let id = raise(s, 2).await;
    let steps: &[Command] = match state {
        "received" => &[],
        "claimed" => &[Command::Claim],
        "dispatched" => &[Command::Claim, dispatch_to_officer()],
        "resolved" => &[
            Command::Claim,
            dispatch_to_officer(),
            Command::Resolve {
                disposition: Disposition::Test,
                note: None,
            },
        ],
        other => panic!("no preparation {other:?}"),
    };
    for c in steps {
        step(s, id, c.clone()).await;
    }
    id
}

async fn fixture(s: &TestServer) -> Fixture {
    let running = s.running.as_ref().unwrap();
    let store = running.hub.store().clone();
    let now = Utc::now();
    // An open incident at school 1's 安防监控室 (point 3, no camera), dispatched to officer.
    let inc = raise(s, 3).await;
    step(s, inc, Command::Claim).await;
    step(s, inc, dispatch_to_officer()).await;
    // A clip of it from the gate camera.
    let clip_path = s.dir.path().join("authz-clip.mp4");
    std::fs::write(&clip_path, b"not really an mp4").unwrap();
    let ms = now.timestamp_millis();
    let clip = store
        .insert_clip(
            &NewClip {
                incident_id: inc,
                camera_id: DEMO_GATE_CAMERA.into(),
                path: clip_path.to_string_lossy().into_owned(),
                press_at_ms: ms,
                start_ms: ms - 30_000,
                end_ms: ms + 30_000,
                state: ClipState::Complete,
                reason: None,
            },
            now,
        )
        .await
        .unwrap()
        .id;
    // A recorded segment of the gate camera, under the data directory.
    let rel = "recordings/authz/segment.mp4";
    let seg = s.dir.path().join(rel);
    std::fs::create_dir_all(seg.parent().unwrap()).unwrap();
    std::fs::write(&seg, b"not really an mp4 either").unwrap();
    let rec = store
        .insert_recording(&NewRecording {
            camera_id: DEMO_GATE_CAMERA.into(),
            path: rel.into(),
            start_ms: ms - 60_000,
            start_pts: 0,
            codec: "avc1.42c01e".into(),
            width: 320,
            height: 240,
        })
        .await
        .unwrap();
    store
        .close_recording(
            rec,
            &RecordingEnd {
                end_ms: ms - 1_000,
                end_pts: 59 * 90_000,
                frames: 1475,
                bytes: 24,
            },
        )
        .await
        .unwrap();
    // A GB/T 28181 device of school 1 with its channel bound to the gate (not registered now).
    common::seed_alarm_column(store.as_ref()).await;
    Fixture { inc, clip, rec }
}

/// Calls one cell and gives back the status.
async fn call(s: &TestServer, row: &Row, token: Option<&str>, path: &str) -> u16 {
    let (method, ws) = match row.method.as_str() {
        "WS" => (Method::GET, true),
        m => (Method::from_bytes(m.as_bytes()).unwrap(), false),
    };
    let mut req = s.client.request(method, s.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if ws {
        req = req
            .header("connection", "upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==");
    }
    if let Some(b) = body(&row.body) {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    res.status().as_u16()
}

#[tokio::test]
async fn every_route_answers_every_caller_as_the_table_says() {
    let s = TestServer::start().await;
    let f = fixture(&s).await;
    let mut sessions = std::collections::HashMap::new();
    for who in WHO.iter().filter(|w| **w != "-") {
        sessions.insert(*who, s.login(who).await);
    }
    let rows = rows();
    let mut mismatches = Vec::new();
    let mut cells = 0;
    for row in &rows {
        for (col, who) in WHO.iter().enumerate() {
            let mut path = row
                .path
                .replace("{inc}", &f.inc.to_string())
                .replace("{clip}", &f.clip.to_string())
                .replace("{rec}", &f.rec.to_string())
                .replace("{cam}", DEMO_GATE_CAMERA)
                .replace("{dev}", DEMO_ALARM_INPUT)
                .replace("{chan}", DEMO_ALARM_INPUT);
            let token = match (*who, row.prep.as_str()) {
                ("-", _) => None,
                (w, "session") => Some(s.login(w).await),
                (w, _) => Some(sessions[w].clone()),
            };
            if path.contains("{new}") {
                let id = fresh(&s, &row.prep).await;
                path = path.replace("{new}", &id.to_string());
            }
            let got = call(&s, row, token.as_deref(), &path).await;
            cells += 1;
            let want = row.expect[col];
            if got != want {
                mismatches.push(format!(
                    "{:>4}  {:<6} {:<44} {:<10} want {want} got {got}",
                    row.line,
                    row.method,
                    row.path,
                    if *who == "-" { "(none)" } else { who },
                ));
            }
        }
    }
    s.stop().await;
    assert!(
        mismatches.is_empty(),
        "{} of {cells} cells differ from the authorization table:\n line  method path                                         caller\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    let covered: BTreeSet<_> = rows.iter().map(|r| r.path.as_str()).collect();
    assert!(covered.len() >= 30);
}
