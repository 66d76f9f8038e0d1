//! The audit trail end to end: logins (and a refused one), a press, claim, resolve and close
//! land in the hash-chained log; the incident's entries come back from the API to those who may
//! see the incident (404 for another area's operator); `xiaoan audit verify` says the log is
//! intact while the server runs and after it stops; then, as someone with the database file
//! would, a row is edited (after dropping the trigger that refuses it) and verify names exactly
//! that entry with exit status 1; a row deleted is named missing.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command as Process;

use clap::Parser;
use xiaoan::cmds::{Cli, Command};

use common::TestServer;
use serde_json::{Value, json};

/// `xiaoan audit ARGS --data-dir DIR`, parsed by the binary's command line and run in this
/// process: exit status and output.
async fn audit(dir: &Path, args: &[&str]) -> (i32, String) {
    let mut argv = vec!["xiaoan", "audit"];
    argv.extend_from_slice(args);
    let dir = dir.to_string_lossy().into_owned();
    argv.extend_from_slice(&["--data-dir", &dir]);
    let Command::Audit(args) = Cli::try_parse_from(argv).unwrap().command else {
        panic!("not the audit command");
    };
    xiaoan::cmds::audit::output(args).await.unwrap()
}

/// Runs SQL on the database file with the sqlite3 shell, as someone with file access would.
fn sqlite(dir: &Path, sql: &str) -> String {
    let out = Process::new("sqlite3")
        .arg(dir.join("xiaoan.db"))
        .arg(sql)
        .output()
        .expect("sqlite3 runs");
    assert!(
        out.status.success(),
        "sqlite3 {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn actions(body: &Value) -> Vec<String> {
    body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_trail_records_an_incident_and_verify_names_a_tampered_entry() {
    let s = TestServer::start().await;
    // A refused login, then the real ones.
    let res = s
        .client
        .post(s.url("/api/v1/login"))
        .json(&json!({ "username": "operator", "password": "wrong-password-123" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let guard = s.login("guard1").await;
    let operator = s.login("operator").await;
    let operator2 = s.login("operator2").await;

    let (status, body) = s
        .post(
            &guard,
            "/api/v1/alarms",
            json!({ "note": "南门有可疑人员" }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["incident_id"].as_i64().unwrap();
    for (action, body) in [
        ("claim", json!({})),
        ("resolve", json!({ "disposition": "test", "note": "演练" })),
        ("close", json!({})),
    ] {
        let (status, out) = s
            .post(&operator, &format!("/api/v1/incidents/{id}/{action}"), body)
            .await;
        assert_eq!(status, 200, "{action}: {out}");
    }
    // A refused step is not an action taken.
    let (status, _) = s
        .post(
            &operator,
            &format!("/api/v1/incidents/{id}/claim"),
            json!({}),
        )
        .await;
    assert_eq!(status, 409);

    let (status, trail) = s
        .get(&operator, &format!("/api/v1/incidents/{id}/audit"))
        .await;
    assert_eq!(status, 200, "{trail}");
    assert_eq!(
        actions(&trail),
        [
            "incident.raise",
            "incident.claim",
            "incident.resolve",
            "incident.close"
        ]
    );
    let entries = trail["entries"].as_array().unwrap();
    assert_eq!(entries[0]["actor"]["name"], "门卫 张建国");
    assert_eq!(entries[0]["actor"]["role"], "school_guard");
    assert_eq!(entries[1]["actor"]["name"], "接警员 李娜");
    assert_eq!(entries[1]["actor"]["role"], "police_operator");
    assert_eq!(entries[2]["detail"]["note"], "演练");
    let claim_seq = entries[1]["seq"].as_i64().unwrap();
    // The guard of the school sees it too; another area's operator does not even learn it exists.
    assert_eq!(
        s.get(&guard, &format!("/api/v1/incidents/{id}/audit"))
            .await
            .0,
        200
    );
    assert_eq!(
        s.get(&operator2, &format!("/api/v1/incidents/{id}/audit"))
            .await
            .0,
        404
    );
    assert_eq!(
        s.get(&operator, "/api/v1/incidents/999999/audit").await.0,
        404
    );
    let res = s
        .client
        .get(s.url(&format!("/api/v1/incidents/{id}/audit")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    // Logging out is recorded too.
    let res = s
        .client
        .post(s.url("/api/v1/logout"))
        .bearer_auth(&operator2)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);

    // Verify reads beside the running server.
    let dir = s.dir.path().to_path_buf();
    let (code, out) = audit(&dir, &["verify"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("audit log intact: "), "{out}");

    let dir = s.stop().await;
    let dir = dir.path();
    let (code, out) = audit(dir, &["verify"]).await;
    assert_eq!(code, 0, "{out}");
    let listed = audit(dir, &["list"]).await.1;
    for needle in [
        "user.create user:",
        "auth.login_failed user:",
        "\"reason\":\"bad_password\"",
        "auth.login user:",
        "auth.logout user:",
        "incident.claim incident:",
    ] {
        assert!(listed.contains(needle), "{needle} not in\n{listed}");
    }
    assert!(
        !listed.contains("wrong-password-123"),
        "a password in the log"
    );
    assert!(!listed.contains("argon2"), "a password hash in the log");
    let entries = listed.lines().count();
    assert!(out.contains(&format!("{entries} entries")), "{out}");
    let of_incident = audit(dir, &["list", "--incident", &id.to_string()]).await.1;
    assert_eq!(of_incident.lines().count(), 4, "{of_incident}");

    // The table refuses changes through SQL...
    let refused = Process::new("sqlite3")
        .arg(dir.join("xiaoan.db"))
        .arg(format!(
            "UPDATE audit_log SET detail = '{{}}' WHERE seq = {claim_seq}"
        ))
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("append-only"));

    // ...but someone with the file can drop the trigger and edit a row: verify names that entry.
    let original = sqlite(
        dir,
        &format!("SELECT detail FROM audit_log WHERE seq = {claim_seq}"),
    );
    sqlite(
        dir,
        &format!(
            "DROP TRIGGER audit_log_no_update; \
             UPDATE audit_log SET detail = '{{\"event\":1,\"state\":\"claimed\",\"note\":\"nobody\"}}' \
             WHERE seq = {claim_seq}"
        ),
    );
    let (code, out) = audit(dir, &["verify"]).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("entry {claim_seq} (")),
        "names entry {claim_seq}: {out}"
    );
    assert!(out.contains("incident.claim by 接警员 李娜"), "{out}");
    assert!(out.contains("does not match its content"), "{out}");

    // Put it back: intact again. Then delete a row: verify names the gap.
    sqlite(
        dir,
        &format!(
            "UPDATE audit_log SET detail = '{}' WHERE seq = {claim_seq}",
            original.replace('\'', "''")
        ),
    );
    assert_eq!(audit(dir, &["verify"]).await.0, 0);
    let victim = claim_seq + 1;
    sqlite(
        dir,
        &format!("DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = {victim}"),
    );
    let (code, out) = audit(dir, &["verify"]).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("entry {victim} missing")), "{out}");
}
