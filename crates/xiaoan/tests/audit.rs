//! The audit trail end to end: logins (and a refused one), a press, claim, resolve and close
//! land in the hash-chained log; the incident's entries come back from the API to those who may
//! see the incident (404 for another area's operator); `xiaoan audit verify` says the log is
//! intact while the server runs and after it stops; then, as someone with the database file
//! would, a row is edited (after dropping the trigger that refuses it) and verify names exactly
//! that entry with exit status 1; a row deleted is named missing. Footage: a clip read in many
//! requests is one entry per reader; its download and its release are entries too. A DC-09 alarm
//! is by its panel account. A channel binding and a device command are recorded with their outcome;
//! a recording segment read in several requests and a live view opened twice, once each.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command as Process;
use std::time::{Duration, Instant};

use clap::Parser;
use xiaoan::cmds::{Cli, Command};

use common::TestServer;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use xiaoan::cmds::demo::{DEMO_ALARM_INPUT, DEMO_GATE_CAMERA};
use xiaoan_core::camera::{Camera, CameraSource};
use xiaoan_media::clip::{TESTSRC_H264, frames};
use xiaoan_sim::panel::{Panel, PanelEvent};
use xiaoan_store::NewRecording;

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
        .args(["-cmd", ".timeout 5000"])
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

    // What an operator would note down: the number of entries and the last hash.
    let noted = out
        .trim()
        .strip_prefix("audit log intact: ")
        .and_then(|r| r.split_once(" entries, last hash "))
        .map(|(n, h)| format!("{n}:{h}"))
        .unwrap();

    let dir = s.stop().await;
    let dir = dir.path();
    let (code, out) = audit(dir, &["verify", "--expect", &noted]).await;
    assert_eq!(code, 0, "{out}");
    let (n, _) = noted.split_once(':').unwrap();
    let wrong = format!("{n}:{}", "0".repeat(64));
    let (code, out) = audit(dir, &["verify", "--expect", &wrong]).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("entry {n}'s hash is ")), "{out}");
    let beyond = format!("{}:{}", n.parse::<i64>().unwrap() + 1000, "0".repeat(64));
    let (code, out) = audit(dir, &["verify", "--expect", &beyond]).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("missing (the log ends before it)"), "{out}");
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
    assert_eq!(entries.to_string(), n, "verify counted every listed entry");
    let of_incident = audit(dir, &["list", "--incident", &id.to_string()]).await.1;
    assert_eq!(of_incident.lines().count(), 4, "{of_incident}");

    // The table refuses changes through SQL...
    let refused = Process::new("sqlite3")
        .args(["-cmd", ".timeout 5000"])
        .arg(dir.join("xiaoan.db"))
        .arg(format!(
            "UPDATE audit_log SET detail = '{{}}' WHERE seq = {claim_seq}"
        ))
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(why.contains("append-only"), "{why}");

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

/// A camera at alarm point 1 fed the committed test clip, so a press gets a clip with footage.
fn fed_camera_config() -> xiaoan::config::Config {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut config = xiaoan::config::Config::default();
    config.video.clip_before_secs = 1;
    config.video.clip_after_secs = 1;
    config.cameras = vec![Camera {
        id: "audit-gate".into(),
        name: "南门审计测试摄像机".into(),
        school_id: 1,
        alarm_point_id: Some(1),
        source: CameraSource::Rtsp {
            url: format!("rtsp://127.0.0.1:{port}/live"),
        },
    }];
    config
}

async fn fetch(s: &TestServer, token: &str, path: &str, range: Option<&str>) -> u16 {
    let mut req = s.client.get(s.url(path)).bearer_auth(token);
    if let Some(r) = range {
        req = req.header("Range", r);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let _ = res.bytes().await;
    status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn footage_views_downloads_and_a_release_are_recorded_once_per_reader() {
    let s = TestServer::start_with(fed_camera_config()).await;
    let track = s
        .running
        .as_ref()
        .unwrap()
        .cameras
        .get("audit-gate")
        .unwrap()
        .track
        .clone();
    let feeder = tokio::spawn(async move {
        let clip = frames(TESTSRC_H264, 25).unwrap();
        let span = clip.len() as i64 * 3600;
        let mut tick = tokio::time::interval(Duration::from_millis(40));
        for round in 0i64.. {
            for f in &clip {
                tick.tick().await;
                let mut f = f.clone();
                f.pts += round * span;
                f.dts += round * span;
                track.push(f).unwrap();
            }
        }
    });
    tokio::time::sleep(Duration::from_secs(2)).await;
    let guard = s.login("guard1").await;
    let operator = s.login("operator").await;
    let supervisor = s.login("supervisor").await;
    let (status, body) = s.post(&guard, "/api/v1/alarms", json!({})).await;
    assert_eq!(status, 201, "{body}");
    let id = body["incident_id"].as_i64().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let clip_id = loop {
        let (_, inc) = s.get(&operator, &format!("/api/v1/incidents/{id}")).await;
        let clip = inc["clips"].as_array().and_then(|c| c.first()).cloned();
        if let Some(c) = clip.filter(|c| c["bytes"].as_i64().unwrap_or(0) > 0) {
            break c["id"].as_i64().unwrap();
        }
        assert!(Instant::now() < deadline, "no clip footage: {inc}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    feeder.abort();

    // A player's many requests, then a second reader, a download and a release.
    let file = format!("/api/v1/clips/{clip_id}/file");
    for range in [None, Some("bytes=0-99"), Some("bytes=100-"), None] {
        assert!([200, 206].contains(&fetch(&s, &operator, &file, range).await));
    }
    assert_eq!(fetch(&s, &guard, &file, None).await, 200);
    let download = format!("/api/v1/clips/{clip_id}/download");
    assert_eq!(fetch(&s, &operator, &download, None).await, 200);
    let (status, out) = s
        .post(
            &supervisor,
            &format!("/api/v1/clips/{clip_id}/release"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{out}");

    let (_, trail) = s
        .get(&operator, &format!("/api/v1/incidents/{id}/audit"))
        .await;
    let entries = trail["entries"].as_array().unwrap();
    let of = |action: &str| -> Vec<&Value> {
        entries.iter().filter(|e| e["action"] == action).collect()
    };
    let views = of("clip.view");
    assert_eq!(views.len(), 2, "one per reader: {trail}");
    assert_eq!(views[0]["actor"]["name"], "接警员 李娜");
    assert_eq!(views[1]["actor"]["role"], "school_guard");
    assert_eq!(views[0]["object_id"], clip_id.to_string());
    assert_eq!(views[0]["detail"]["camera_id"], "audit-gate");
    assert_eq!(of("clip.download").len(), 1);
    let release = of("clip.release");
    assert_eq!(release.len(), 1);
    assert_eq!(release[0]["actor"]["role"], "police_supervisor");
    assert_eq!(
        of("incident.note").len(),
        1,
        "the release's note on the timeline"
    );

    let dir = s.stop().await;
    let (code, out) = audit(dir.path(), &["verify"]).await;
    assert_eq!(code, 0, "{out}");

    // The encoding as docs/design/audit.md gives it, written by another program: the rows it
    // appends are accepted by the table's triggers and by verify.
    let before: u64 = sqlite(dir.path(), "SELECT COUNT(*) FROM audit_log")
        .parse()
        .unwrap();
    let out = Process::new("python3")
        .arg("-c")
        .arg(INDEPENDENT_APPEND)
        .arg(dir.path().join("xiaoan.db"))
        .arg("5")
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let (code, out) = audit(dir.path(), &["verify"]).await;
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out.trim(),
        format!("audit log intact: {} entries, last hash {last}", before + 5)
    );
}

/// Appends N rows to the audit log of the database at argv[1], hashing them as
/// docs/design/audit.md says; prints the last hash.
const INDEPENDENT_APPEND: &str = r#"
import hashlib, json, sqlite3, struct, sys
db = sqlite3.connect(sys.argv[1])
seq, prev = db.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
def E(v):
    if v is None:
        return b'\xff\xff\xff\xff'
    t = str(v).encode('utf-8')
    return struct.pack('>I', len(t)) + t
for i in range(int(sys.argv[2])):
    seq += 1
    row = [seq, '2026-11-29T10:01:02.345Z', 3, '接警员 李娜', 'police_operator', 'video.live',
           'camera', 'cam-%d' % i, None, 1, json.dumps({'i': i}, separators=(',', ':'))]
    h = hashlib.sha256(b''.join(E(v) for v in [prev] + row)).hexdigest()
    db.execute('INSERT INTO audit_log (seq, at, actor_user_id, actor_name, actor_role, action, '
               'object_kind, object_id, incident_id, school_id, detail, prev_hash, hash) '
               'VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)', row + [prev, h])
    prev = h
db.commit()
print(prev)
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dc09_alarm_and_its_retransmission_are_one_entry_by_the_panel_account() {
    let s = TestServer::start().await;
    let operator = s.login("operator").await;
    let panel = Panel::new("1111");
    let frame = panel.frame(&PanelEvent::Sia("PA".into()), 21).unwrap();
    for _ in 0..2 {
        let reply = panel
            .send_tcp(s.dc09(), &frame, Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(reply.kind(), "ACK");
    }
    let (_, list) = s.get(&operator, "/api/v1/incidents").await;
    let id = list["incidents"][0]["id"].as_i64().unwrap();
    let (_, trail) = s
        .get(&operator, &format!("/api/v1/incidents/{id}/audit"))
        .await;
    assert_eq!(actions(&trail), ["incident.raise"], "{trail}");
    let raise = &trail["entries"][0];
    assert_eq!(raise["actor"]["name"], "dc09:1111");
    assert_eq!(raise["actor"]["user_id"], Value::Null);
    assert_eq!(raise["detail"]["data"]["details"]["account"], "1111");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_binding_and_a_device_command_are_recorded_with_their_outcome() {
    let s = TestServer::start().await;
    let store = s.running.as_ref().unwrap().hub.store().clone();
    // A GB/T 28181 alarm column of school 1, known but not registered now.
    common::seed_alarm_column(store.as_ref()).await;
    let supervisor = s.login("supervisor").await;
    let (status, out) = s
        .put(
            &supervisor,
            &format!("/api/v1/gb/channels/{DEMO_ALARM_INPUT}/binding"),
            json!({ "alarm_point_id": 2 }),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    let (status, out) = s
        .post(
            &supervisor,
            &format!("/api/v1/gb/devices/{DEMO_ALARM_INPUT}/control"),
            json!({ "command": "arm" }),
        )
        .await;
    assert_eq!(status, 409, "{out}");

    let dir = s.stop().await;
    let listed = audit(dir.path(), &["list"]).await.1;
    let line = |action: &str| {
        listed
            .lines()
            .find(|l| l.contains(action))
            .unwrap_or_else(|| panic!("no {action} in\n{listed}"))
            .to_owned()
    };
    let bind = line("gb.channel.bind");
    assert!(
        bind.contains(&format!(
            "gb_channel:{DEMO_ALARM_INPUT} by 值班长 赵刚 (police_supervisor"
        )),
        "{bind}"
    );
    assert!(bind.contains("\"alarm_point_id\":2"), "{bind}");
    assert!(bind.contains("\"was_alarm_point_id\":1"), "{bind}");
    let control = line("gb.device.control");
    assert!(
        control.contains("\"result\":\"device_offline\""),
        "{control}"
    );
    assert!(control.contains("Arm"), "{control}");
    assert_eq!(audit(dir.path(), &["verify"]).await.0, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recording_views_and_live_views_are_recorded_once_per_reader_and_window() {
    let s = TestServer::start().await;
    let store = s.running.as_ref().unwrap().hub.store().clone();
    // A recorded segment of the gate camera under the data directory.
    let rel = "recordings/audit/segment.mp4";
    let seg = s.dir.path().join(rel);
    std::fs::create_dir_all(seg.parent().unwrap()).unwrap();
    std::fs::write(&seg, vec![7u8; 4096]).unwrap();
    let ms = chrono::Utc::now().timestamp_millis();
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
    // The recorder publishes its data directory when it starts.
    let deadline = Instant::now() + Duration::from_secs(10);
    while store.recording_settings().await.unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "the recorder never published its settings"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let operator = s.login("operator").await;
    let guard = s.login("guard1").await;
    let file = format!("/api/v1/recordings/{rec}/file");
    for range in [None, Some("bytes=0-1023"), Some("bytes=1024-")] {
        assert!([200, 206].contains(&fetch(&s, &operator, &file, range).await));
    }
    assert_eq!(fetch(&s, &guard, &file, None).await, 200);
    // Live view: the WebSocket is recorded when it is accepted, once per window.
    for _ in 0..2 {
        let mut req = format!(
            "{}/api/v1/cameras/{DEMO_GATE_CAMERA}/live",
            s.base.replace("http://", "ws://")
        )
        .into_client_request()
        .unwrap();
        req.headers_mut().insert(
            "authorization",
            format!("Bearer {operator}").parse().unwrap(),
        );
        let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
        ws.close(None).await.unwrap();
    }

    let dir = s.stop().await;
    let listed = audit(dir.path(), &["list"]).await.1;
    let count = |needle: &str| listed.lines().filter(|l| l.contains(needle)).count();
    assert_eq!(
        count(&format!("recording.view recording:{rec} by 接警员 李娜")),
        1,
        "{listed}"
    );
    assert_eq!(
        count(&format!("recording.view recording:{rec} by 门卫 张建国")),
        1,
        "{listed}"
    );
    assert_eq!(
        count(&format!(
            "video.live camera:{DEMO_GATE_CAMERA} by 接警员 李娜"
        )),
        1,
        "{listed}"
    );
    assert_eq!(audit(dir.path(), &["verify"]).await.0, 0);
}
