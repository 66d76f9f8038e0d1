//! Storage faults: when the database cannot be written, xiaoan acknowledges nothing it did not
//! store, says so (one error in the log per episode, `/healthz`, `/metrics`, the storage event on
//! every console's stream) and recovers by itself once writes work again.
//!
//! - `injected_write_failures_…`: the SQLite store's fault switch (`SqliteStore::faults`) makes
//!   writes fail as on a full disk; no root needed.
//! - `a_real_full_disk_…` (in `storage_faults/full_disk.rs`): the data directory on a small
//!   tmpfs filled with a ballast file; needs root to mount, skipped (and says so) without it.

#![allow(clippy::unwrap_used)]

mod common;
#[path = "storage_faults/full_disk.rs"]
mod full_disk;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::TestServer;
use serde_json::{Value, json};
use xiaoan::config::Config;
use xiaoan_sim::gb_device::{self, AlarmSpec, DeviceSpec, FleetConfig, FleetHandle, Profile};
use xiaoan_sim::panel::{Panel, PanelEvent};
use xiaoan_store::sqlite::Fault;

const WAIT: Duration = Duration::from_secs(10);
/// How long a panel waits for an ACK before it counts as not acknowledged.
const NO_ACK_WAIT: Duration = Duration::from_secs(2);
const ALARM_INPUT: &str = "42280100001340000001";

/// Log lines written while the test runs (the process-wide subscriber).
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn install() -> Self {
        let c = Captured::default();
        let writer = c.clone();
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .try_init();
        c
    }
    fn lines_with(&self, a: &str, b: &str) -> usize {
        let text = String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned();
        text.lines()
            .filter(|l| l.contains(a) && l.contains(b))
            .count()
    }
}

async fn press(s: &TestServer, token: &str, key: &str) -> (u16, Value) {
    let res = s
        .client
        .post(s.url("/api/v1/alarms"))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(&json!({ "alarm_point_id": 1, "note": key }))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn healthz(s: &TestServer) -> (u16, Value) {
    let res = s.client.get(s.url("/healthz")).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn fleet(s: &TestServer) -> FleetHandle {
    let cfg = FleetConfig {
        to: s.sip(),
        profile: Profile {
            platform_id: "42280100002000000001".into(),
            domain: "4228010000".into(),
            password: "12345678".into(),
            keepalive: Duration::from_secs(60),
            ..Profile::default()
        },
        devices: vec![DeviceSpec {
            id: ALARM_INPUT.into(),
            channels: Vec::new(),
        }],
        sockets: 1,
        register_window: 1,
    };
    let f = gb_device::start(cfg, None).await.unwrap();
    let (report, ok) = f.wait_until(WAIT, |r| r.registered() == 1).await.unwrap();
    assert!(ok, "not registered: {report:?}");
    f
}

/// Sends a one-key alarm from the GB/T 28181 device and returns the platform's final answer.
async fn gb_alarm(f: &FleetHandle, description: &str) -> Option<u16> {
    let sn = f
        .alarm(
            0,
            AlarmSpec {
                method: "1".into(),
                description: Some(description.into()),
                ..AlarmSpec::default()
            },
        )
        .await
        .unwrap();
    let (report, _) = f
        .wait_until(WAIT, |r| {
            r.devices[0]
                .alarms
                .iter()
                .any(|a| a.sn == sn && (a.status.is_some() || a.timed_out))
        })
        .await
        .unwrap();
    report.devices[0]
        .alarms
        .iter()
        .find(|a| a.sn == sn)
        .and_then(|a| a.status)
}

async fn open_incidents(s: &TestServer, token: &str) -> Vec<Value> {
    s.get(token, "/api/v1/incidents").await.1["incidents"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn injected_write_failures_are_never_acknowledged_are_shown_once_and_heal_by_themselves() {
    let log = Captured::install();
    let dir = tempfile::tempdir().unwrap();
    let store = xiaoan::server::open_store(dir.path()).await.unwrap();
    xiaoan::cmds::demo::seed_if_empty(&store).await.unwrap();
    let faults = store.faults();
    let s = TestServer::start_on(Config::default(), dir, store).await;
    let guard = s.login("guard1").await;
    let operator = s.login("operator").await;
    let supervisor = s.login("supervisor").await;
    let gb = fleet(&s).await;
    let mut stream = s.events(&operator, None).await;
    let first = stream.next_storage(WAIT).await.expect("state on connect");
    assert_eq!(first["ok"], true);
    assert_eq!(healthz(&s).await.0, 200);

    // Writes fail from now on.
    faults.set(Fault::DiskFull);
    let (status, body) = press(&s, &guard, "press-1").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "storage_unavailable");
    let msg = body["error"].as_str().unwrap();
    assert!(
        msg.contains("存储故障") && msg.contains("Storage failure") && msg.contains("NOT saved"),
        "{msg}"
    );

    // Every console hears it; /healthz and /metrics say it.
    let down = stream
        .next_storage(WAIT)
        .await
        .expect("storage failure event");
    assert_eq!(down["ok"], false, "{down}");
    assert!(down["error"].as_str().unwrap().contains("full"), "{down}");
    let (status, h) = healthz(&s).await;
    assert_eq!(status, 503, "{h}");
    assert_eq!(h["status"], "storage_failure");
    assert_eq!(h["storage"]["ok"], false);
    let metrics = s
        .client
        .get(s.url("/metrics"))
        .bearer_auth(&supervisor)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("xiaoan_storage_ok 0"), "{metrics}");

    // DC-09: no ACK (the panel retries or fails over); GB/T 28181: 503, never 200.
    let panel = Panel::new("1111");
    let frame = panel.frame(&PanelEvent::Sia("PA".into()), 41).unwrap();
    let reply = panel.send_tcp(s.dc09(), &frame, NO_ACK_WAIT).await;
    assert!(reply.is_err(), "no reply while storage fails: {reply:?}");
    assert_eq!(gb_alarm(&gb, "fault-gb-1").await, Some(503));

    // A flood of retries: still refused, logged once for the whole episode.
    faults.set(Fault::IoError);
    for i in 0..20 {
        assert_eq!(press(&s, &guard, &format!("flood-{i}")).await.0, 503);
    }
    let (_, h) = healthz(&s).await;
    assert!(h["storage"]["refused"].as_u64().unwrap() >= 22, "{h}");
    assert!(open_incidents(&s, &operator).await.is_empty());
    assert_eq!(
        log.lines_with("STORAGE FAILURE", "injected fault"),
        1,
        "one error per episode"
    );

    // Writes work again: the same retries are stored and acknowledged, the state clears.
    faults.set(Fault::None);
    let (status, body) = press(&s, &guard, "press-1").await;
    assert_eq!(status, 201, "{body}");
    let incident = body["incident_id"].as_i64().unwrap();
    let up = stream.next_storage(WAIT).await.expect("recovery event");
    assert_eq!(up["ok"], true, "{up}");
    assert_eq!(healthz(&s).await.0, 200);
    let reply = panel.send_tcp(s.dc09(), &frame, WAIT).await.unwrap();
    assert_eq!(reply.kind(), "ACK");
    assert_eq!(gb_alarm(&gb, "fault-gb-2").await, Some(200));
    // The retried press is answered from its key, not stored twice.
    let (status, again) = press(&s, &guard, "press-1").await;
    assert_eq!(status, 201);
    assert_eq!(again["incident_id"], incident);
    let list = open_incidents(&s, &operator).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["press_count"], 3, "web + DC-09 + GB/T 28181");
    assert!(log.lines_with("storage recovered", "") >= 1);
    gb.shutdown().await;
    s.stop().await;
}
