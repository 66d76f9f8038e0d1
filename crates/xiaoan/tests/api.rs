//! End-to-end tests of the HTTP API on a real server (demo dataset, temporary SQLite, port 0):
//! login and sessions, the one-key press through claim, dispatch, on scene, resolve and close,
//! scoping between schools and police areas, idempotent retries, the live stream and its resume,
//! escalation, bad input, and durability across a restart.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::TestServer;
use serde_json::{Value, json};
use xiaoan::config::Config;

#[tokio::test]
async fn health_is_open_and_everything_else_needs_a_session() {
    let s = TestServer::start().await;
    let res = s.client.get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    for path in [
        "/api/v1/incidents",
        "/api/v1/me",
        "/api/v1/events",
        "/metrics",
        "/api/v1/officers",
    ] {
        let res = s.client.get(s.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 401, "{path}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], "unauthenticated", "{path}");
    }
    let res = s
        .client
        .post(s.url("/api/v1/alarms"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    s.stop().await;
}

#[tokio::test]
async fn login_sets_a_strict_http_only_cookie_and_logout_ends_the_session() {
    let s = TestServer::start().await;
    let res = s
        .client
        .post(s.url("/api/v1/login"))
        .json(&json!({ "username": "guard1", "password": "wrong" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.json::<Value>().await.unwrap()["code"],
        "bad_credentials"
    );

    let res = s
        .client
        .post(s.url("/api/v1/login"))
        .json(&json!({ "username": "guard1", "password": "demo" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["user"]["role"], "school_guard");
    assert!(body["user"].get("password_hash").is_none());
    let token = body["token"].as_str().unwrap().to_owned();

    // The cookie alone authenticates too.
    let session = cookie.split(';').next().unwrap().to_owned();
    let res = s
        .client
        .get(s.url("/api/v1/me"))
        .header("cookie", session)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let me: Value = res.json().await.unwrap();
    assert_eq!(me["user"]["post_alarm_point_id"], 1);
    assert_eq!(me["schools"].as_array().unwrap().len(), 1);
    assert_eq!(me["schools"][0]["name"], "恩施市实验小学");
    assert!(me["schools"][0]["alarm_points"].as_array().unwrap().len() >= 3);
    assert_eq!(me["settings"]["call_110_after_secs"], 60);

    let res = s
        .client
        .post(s.url("/api/v1/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(s.get(&token, "/api/v1/me").await.0, 401);
    s.stop().await;
}

#[tokio::test]
async fn repeated_login_failures_are_rate_limited() {
    let s = TestServer::start().await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let res = s
            .client
            .post(s.url("/api/v1/login"))
            .json(&json!({ "username": "operator", "password": "guess" }))
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, vec![401, 401, 401, 401, 401, 429]);
    s.stop().await;
}

#[tokio::test]
async fn one_press_goes_through_the_whole_lifecycle_and_the_guard_sees_every_step() {
    let s = TestServer::start().await;
    let guard = s.login("guard1").await;
    let operator = s.login("operator").await;
    let supervisor = s.login("supervisor").await;
    let officer = s.login("officer").await;
    let mut op_stream = s.events(&operator, None).await;
    let mut guard_stream = s.events(&guard, None).await;

    let (status, body) = s
        .post(
            &guard,
            "/api/v1/alarms",
            json!({ "note": "校门口有持刀可疑人员" }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["incident_id"].as_i64().unwrap();
    assert_eq!(body["joined"], false);
    assert_eq!(body["incident"]["priority"], 1);
    assert_eq!(body["incident"]["alarm_point"]["name"], "南门门卫室");

    let ev = op_stream.expect("incident.raised", id).await;
    assert_eq!(ev.data["incident"]["school"]["name"], "恩施市实验小学");
    assert_eq!(ev.data["entry"]["note"], "校门口有持刀可疑人员");
    op_stream.expect("incident.received", id).await;
    guard_stream.expect("incident.received", id).await;

    // A second press at the same point joins the open incident.
    let (status, again) = s.post(&guard, "/api/v1/alarms", json!({})).await;
    assert_eq!(status, 201);
    assert_eq!(again["incident_id"], id);
    assert_eq!(again["joined"], true);
    assert_eq!(
        op_stream.expect("incident.joined", id).await.data["incident"]["press_count"],
        2
    );

    // The queue shows it with school, point and people.
    let (_, list) = s.get(&operator, "/api/v1/incidents?state=open").await;
    assert_eq!(list["incidents"][0]["id"], id);
    let (_, detail) = s.get(&operator, &format!("/api/v1/incidents/{id}")).await;
    let people = detail["people"].as_array().unwrap();
    assert!(
        people
            .iter()
            .any(|p| p["role"] == "principal" && p["phone"] == "13907181021")
    );
    assert!(detail["school"]["gcj02"]["lat"].is_f64());

    // Claim; a second claim is refused with who has it.
    let (status, claimed) = s
        .post(
            &operator,
            &format!("/api/v1/incidents/{id}/claim"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{claimed}");
    assert_eq!(claimed["state"], "claimed");
    let (status, refused) = s
        .post(
            &supervisor,
            &format!("/api/v1/incidents/{id}/claim"),
            json!({}),
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(refused["code"], "already_claimed");
    assert_eq!(refused["claimed_by"], "接警员 李娜");
    guard_stream.expect("incident.claimed", id).await;

    // The officer sees nothing until dispatched.
    assert_eq!(
        s.get(&officer, &format!("/api/v1/incidents/{id}")).await.0,
        404
    );
    let (_, officers) = s.get(&operator, "/api/v1/officers").await;
    let officer_id = officers["officers"][0]["id"].as_i64().unwrap();
    let (status, dispatched) = s
        .post(
            &operator,
            &format!("/api/v1/incidents/{id}/dispatch"),
            json!({ "unit": "舞阳坝派出所巡逻一组", "officer_user_id": officer_id, "note": "三分钟到达" }),
        )
        .await;
    assert_eq!(status, 200, "{dispatched}");
    assert_eq!(dispatched["state"], "dispatched");
    guard_stream.expect("incident.dispatched", id).await;
    let (_, mine) = s.get(&officer, "/api/v1/incidents?state=open").await;
    assert_eq!(mine["incidents"].as_array().unwrap().len(), 1);

    let (status, on_scene) = s
        .post(
            &officer,
            &format!("/api/v1/incidents/{id}/arrive"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{on_scene}");
    assert_eq!(on_scene["state"], "on_scene");
    guard_stream.expect("incident.arrived", id).await;

    let (status, resolved) = s
        .post(
            &operator,
            &format!("/api/v1/incidents/{id}/resolve"),
            json!({ "disposition": "genuine", "note": "可疑人员已控制，移交派出所" }),
        )
        .await;
    assert_eq!(status, 200, "{resolved}");
    assert_eq!(resolved["disposition"], "genuine");
    guard_stream.expect("incident.resolved", id).await;
    let (status, closed) = s
        .post(
            &operator,
            &format!("/api/v1/incidents/{id}/close"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(closed["state"], "closed");

    let kinds: Vec<_> = closed["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        kinds,
        [
            "raised",
            "received",
            "joined",
            "claimed",
            "dispatched",
            "arrived",
            "resolved",
            "closed"
        ]
    );
    assert!(
        closed["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["at"].is_string() && e["actor"]["name"].is_string())
    );

    // After resolution a new press opens a new incident.
    let (_, fresh) = s.post(&guard, "/api/v1/alarms", json!({})).await;
    assert_ne!(fresh["incident_id"], id);
    assert_eq!(fresh["joined"], false);
    s.stop().await;
}

#[tokio::test]
async fn other_schools_and_police_areas_neither_see_nor_touch_an_incident() {
    let s = TestServer::start().await;
    let guard1 = s.login("guard1").await;
    let (_, body) = s.post(&guard1, "/api/v1/alarms", json!({})).await;
    let id = body["incident_id"].as_i64().unwrap();
    for user in ["guard2", "operator2"] {
        let token = s.login(user).await;
        assert_eq!(
            s.get(&token, &format!("/api/v1/incidents/{id}")).await.0,
            404,
            "{user}"
        );
        let (_, list) = s.get(&token, "/api/v1/incidents").await;
        assert!(list["incidents"].as_array().unwrap().is_empty(), "{user}");
        for action in ["claim", "accidental"] {
            let (status, _) = s
                .post(
                    &token,
                    &format!("/api/v1/incidents/{id}/{action}"),
                    json!({}),
                )
                .await;
            assert_eq!(status, 404, "{user} {action}");
        }
    }
    // guard2 may not press at school 1's alarm point either.
    let guard2 = s.login("guard2").await;
    assert_eq!(
        s.post(&guard2, "/api/v1/alarms", json!({ "alarm_point_id": 1 }))
            .await
            .0,
        404
    );
    // Roles that see it may still not act beyond their role.
    assert_eq!(
        s.post(&guard1, &format!("/api/v1/incidents/{id}/claim"), json!({}))
            .await
            .0,
        403
    );
    let inspector = s.login("inspector").await;
    assert_eq!(
        s.get(&inspector, &format!("/api/v1/incidents/{id}"))
            .await
            .0,
        200
    );
    assert_eq!(
        s.post(
            &inspector,
            &format!("/api/v1/incidents/{id}/claim"),
            json!({})
        )
        .await
        .0,
        403
    );
    let bureau = s.login("bureau").await;
    assert_eq!(
        s.get(&bureau, &format!("/api/v1/incidents/{id}")).await.0,
        200
    );
    let operator = s.login("operator").await;
    assert_eq!(
        s.post(&operator, "/api/v1/alarms", json!({ "alarm_point_id": 1 }))
            .await
            .0,
        403
    );
    // The guard reports an accidental press; the police still see it open.
    let (status, acc) = s
        .post(
            &guard1,
            &format!("/api/v1/incidents/{id}/accidental"),
            json!({ "note": "学生误碰" }),
        )
        .await;
    assert_eq!(status, 200, "{acc}");
    assert!(acc["accidental_reported_at"].is_string());
    assert_eq!(acc["state"], "received");
    s.stop().await;
}

#[tokio::test]
async fn a_retry_with_the_same_idempotency_key_returns_the_first_answer() {
    let s = TestServer::start().await;
    let guard = s.login("guard1").await;
    let operator = s.login("operator").await;
    let mut stream = s.events(&operator, None).await;
    let mut answers = Vec::new();
    for _ in 0..3 {
        let res = s
            .client
            .post(s.url("/api/v1/alarms"))
            .bearer_auth(&guard)
            .header("Idempotency-Key", "press-7f3a")
            .json(&json!({ "silent": true }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        answers.push(res.json::<Value>().await.unwrap());
    }
    assert!(
        answers
            .iter()
            .all(|a| a["incident_id"] == answers[0]["incident_id"] && a["joined"] == false)
    );
    let id = answers[0]["incident_id"].as_i64().unwrap();
    stream.expect("incident.raised", id).await;
    stream.expect("incident.received", id).await;
    assert!(
        stream.next(Duration::from_millis(500)).await.is_none(),
        "a retry made an event"
    );
    let (_, detail) = s.get(&operator, &format!("/api/v1/incidents/{id}")).await;
    assert_eq!(detail["press_count"], 1);
    assert_eq!(detail["silent"], true);
    s.stop().await;
}

#[tokio::test]
async fn the_event_stream_resumes_after_last_event_id_without_loss() {
    let s = TestServer::start().await;
    let guard = s.login("guard1").await;
    let operator = s.login("operator").await;
    let mut stream = s.events(&operator, None).await;
    let (_, first) = s.post(&guard, "/api/v1/alarms", json!({})).await;
    let id = first["incident_id"].as_i64().unwrap();
    let seen = stream.expect("incident.received", id).await;
    drop(stream);
    // While disconnected: a claim and a note.
    s.post(
        &operator,
        &format!("/api/v1/incidents/{id}/claim"),
        json!({}),
    )
    .await;
    s.post(
        &operator,
        &format!("/api/v1/incidents/{id}/notes"),
        json!({ "text": "已电话联系门卫" }),
    )
    .await;
    let mut resumed = s.events(&operator, Some(seen.id)).await;
    let a = resumed.next(Duration::from_secs(5)).await.unwrap();
    let b = resumed.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(
        (a.data["type"].as_str(), b.data["type"].as_str()),
        (Some("incident.claimed"), Some("incident.note"))
    );
    assert!(a.id > seen.id && b.id > a.id);
    // Another area's operator resuming from 0 sees none of it.
    let operator2 = s.login("operator2").await;
    let mut other = s.events(&operator2, Some(0)).await;
    assert!(other.next(Duration::from_millis(500)).await.is_none());
    s.stop().await;
}

#[tokio::test]
async fn an_unclaimed_incident_escalates_to_supervisor_and_bureau() {
    let mut config = Config::default();
    config.incident.escalate_after_secs = 1;
    let s = TestServer::start_with(config).await;
    let guard = s.login("guard1").await;
    let supervisor = s.login("supervisor").await;
    let bureau = s.login("bureau").await;
    let mut sup_stream = s.events(&supervisor, None).await;
    let mut bureau_stream = s.events(&bureau, None).await;
    let (_, body) = s.post(&guard, "/api/v1/alarms", json!({})).await;
    let id = body["incident_id"].as_i64().unwrap();
    let ev = sup_stream.expect("incident.escalated", id).await;
    assert!(ev.data["incident"]["escalated_at"].is_string());
    bureau_stream.expect("incident.escalated", id).await;
    let (_, detail) = s.get(&supervisor, &format!("/api/v1/incidents/{id}")).await;
    assert_eq!(detail["state"], "received");
    assert!(detail["escalated_at"].is_string());
    s.stop().await;
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_json_answer() {
    let s = TestServer::start().await;
    let guard = s.login("guard1").await;
    let operator = s.login("operator").await;
    let raw = |path: &str, token: &str, body: Vec<u8>| {
        s.client
            .post(s.url(path))
            .bearer_auth(token.to_owned())
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let cases: Vec<(&str, &str, Vec<u8>, u16, &str)> = vec![
        (
            "/api/v1/alarms",
            &guard,
            b"{not json".to_vec(),
            400,
            "bad_json",
        ),
        (
            "/api/v1/alarms",
            &guard,
            br#"{"alarm_point":1}"#.to_vec(),
            400,
            "bad_json",
        ),
        (
            "/api/v1/alarms",
            &guard,
            br#"{"silent":"yes"}"#.to_vec(),
            400,
            "bad_json",
        ),
        (
            "/api/v1/alarms",
            &guard,
            br#"{"alarm_point_id":999}"#.to_vec(),
            404,
            "not_found",
        ),
        (
            "/api/v1/alarms",
            &guard,
            vec![b' '; 70 * 1024],
            413,
            "too_large",
        ),
        ("/api/v1/login", "", b"[]".to_vec(), 400, "bad_json"),
        (
            "/api/v1/incidents/abc/claim",
            &operator,
            b"{}".to_vec(),
            400,
            "bad_request",
        ),
        (
            "/api/v1/incidents/999999/claim",
            &operator,
            b"{}".to_vec(),
            404,
            "not_found",
        ),
    ];
    for (path, token, body, status, code) in cases {
        let res = raw(path, token, body).await.unwrap();
        assert_eq!(res.status().as_u16(), status, "{path}");
        let v: Value = res.json().await.unwrap();
        assert_eq!(v["code"], code, "{path}: {v}");
        assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
    let (_, body) = s.post(&guard, "/api/v1/alarms", json!({})).await;
    let id = body["incident_id"].as_i64().unwrap();
    let (status, v) = s
        .post(
            &operator,
            &format!("/api/v1/incidents/{id}/teleport"),
            json!({}),
        )
        .await;
    assert_eq!((status, v["code"].as_str()), (404, Some("not_found")));
    let (status, v) = s
        .post(
            &operator,
            &format!("/api/v1/incidents/{id}/resolve"),
            json!({ "disposition": "genuine" }),
        )
        .await;
    assert_eq!((status, v["code"].as_str()), (409, Some("wrong_state")));
    s.post(
        &operator,
        &format!("/api/v1/incidents/{id}/claim"),
        json!({}),
    )
    .await;
    let (status, v) = s
        .post(
            &operator,
            &format!("/api/v1/incidents/{id}/resolve"),
            json!({ "disposition": "maybe" }),
        )
        .await;
    assert_eq!((status, v["code"].as_str()), (400, Some("bad_json")));
    let (status, v) = s
        .post(
            &operator,
            &format!("/api/v1/incidents/{id}/dispatch"),
            json!({ "unit": "", "officer_user_id": 5 }),
        )
        .await;
    assert_eq!((status, v["code"].as_str()), (400, Some("bad_request")));
    let (status, _) = s.get(&operator, "/api/v1/incidents?state=sleeping").await;
    assert_eq!(status, 400);
    // A state-changing request from another origin riding on the session cookie is refused.
    let res = s
        .client
        .post(s.url("/api/v1/alarms"))
        .header("cookie", format!("xiaoan_session={guard}"))
        .header("origin", "http://evil.example")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "cross_origin");
    s.stop().await;
}

#[tokio::test]
async fn acknowledged_alarms_survive_a_restart() {
    let s = TestServer::start().await;
    let guard = s.login("guard1").await;
    let (status, body) = s
        .post(&guard, "/api/v1/alarms", json!({ "note": "重启前的报警" }))
        .await;
    assert_eq!(status, 201);
    let id = body["incident_id"].as_i64().unwrap();
    let dir = s.stop().await;
    let s = TestServer::start_in(Config::default(), dir).await;
    let operator = s.login("operator").await;
    let (status, detail) = s.get(&operator, &format!("/api/v1/incidents/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(detail["note"], "重启前的报警");
    s.stop().await;
}

#[tokio::test]
async fn console_and_metrics_are_served() {
    let s = TestServer::start().await;
    let res = s.client.get(s.url("/console")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let res = s.client.get(s.url("/api/v1/nothing")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let supervisor = s.login("supervisor").await;
    let res = s
        .client
        .get(s.url("/metrics"))
        .bearer_auth(&supervisor)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert!(text.contains("xiaoan_alarms_raised_total"), "{text}");
    let guard = s.login("guard1").await;
    assert_eq!(s.get(&guard, "/metrics").await.0, 403);
    s.stop().await;
}
