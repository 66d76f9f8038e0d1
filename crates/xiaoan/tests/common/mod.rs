//! Shared fixture of the end-to-end tests: a real xiaoan server with the demo dataset on a
//! temporary data directory and port 0, plus a small HTTP/SSE client.

#![allow(dead_code, clippy::unwrap_used)]

pub mod process;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};
use xiaoan::config::Config;
use xiaoan::server::{self, Running};

pub struct TestServer {
    pub running: Option<Running>,
    pub dir: tempfile::TempDir,
    pub base: String,
    pub client: reqwest::Client,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(Config::default()).await
    }

    /// The GB/T 28181 platform's address.
    pub fn sip(&self) -> std::net::SocketAddr {
        self.running.as_ref().and_then(|r| r.sip_addr).unwrap()
    }

    /// The DC-09 receiver's address.
    pub fn dc09(&self) -> std::net::SocketAddr {
        self.running.as_ref().and_then(|r| r.dc09_addr).unwrap()
    }

    pub async fn start_with(config: Config) -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self::start_in(config, dir).await
    }

    pub async fn start_in(config: Config, dir: tempfile::TempDir) -> Self {
        let store = server::open_store(dir.path()).await.unwrap();
        xiaoan::cmds::demo::seed_if_empty(&store).await.unwrap();
        Self::start_on(config, dir, store).await
    }

    /// Starts on a store the caller opened (and seeded) in `dir`, e.g. to keep its fault switch
    /// (`SqliteStore::faults`).
    pub async fn start_on(
        mut config: Config,
        dir: tempfile::TempDir,
        store: xiaoan_store::SqliteStore,
    ) -> Self {
        config.dc09.addr = "127.0.0.1:0".into();
        config.gb28181.addr = "127.0.0.1:0".into();
        xiaoan::cmds::demo::demo_accounts(&mut config);
        xiaoan::cmds::demo::demo_gb28181(&mut config);
        let listener = server::bind("127.0.0.1:0").await.unwrap();
        let running = server::start(&config, dir.path().to_path_buf(), Arc::new(store), listener)
            .await
            .unwrap();
        let base = format!("http://{}", running.http_addr);
        Self {
            running: Some(running),
            dir,
            base,
            client: reqwest::Client::new(),
        }
    }

    /// Stops the server and gives back its data directory.
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
        self.dir
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn login(&self, user: &str) -> String {
        let res = self
            .client
            .post(self.url("/api/v1/login"))
            .json(&json!({ "username": user, "password": "demo" }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "login {user}");
        let body: Value = res.json().await.unwrap();
        body["token"].as_str().unwrap().to_owned()
    }

    pub async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        let res = self
            .client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        let res = self
            .client
            .post(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn put(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .client
            .put(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn events(&self, token: &str, last_event_id: Option<i64>) -> EventStream {
        let mut req = self
            .client
            .get(self.url("/api/v1/events"))
            .bearer_auth(token);
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id.to_string());
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 200);
        EventStream {
            body: Box::pin(res.bytes_stream()),
            buf: String::new(),
        }
    }
}

/// One SSE event: its id and JSON data.
#[derive(Debug, Clone)]
pub struct Sse {
    pub id: i64,
    pub data: Value,
}

pub struct EventStream {
    body: std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buf: String,
}

impl EventStream {
    /// The next data event, or None after `wait`.
    pub async fn next(&mut self, wait: Duration) -> Option<Sse> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let raw: String = self.buf.drain(..end + 2).collect();
                let mut id = None;
                let mut data = String::new();
                for line in raw.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = v.trim().parse().ok();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if let (Some(id), Ok(data)) = (id, serde_json::from_str(&data)) {
                    return Some(Sse { id, data });
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.body.next())
                .await
                .ok()??
                .ok()?;
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The next storage-state event (`{"type": "storage", "storage": {...}}`, sent without an
    /// id), skipping anything else; None after `wait`.
    pub async fn next_storage(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let raw: String = self.buf.drain(..end + 2).collect();
                let data: String = raw
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .map(str::trim_start)
                    .collect();
                if let Ok(v) = serde_json::from_str::<Value>(&data)
                    && v["type"] == "storage"
                {
                    return Some(v["storage"].clone());
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.body.next())
                .await
                .ok()??
                .ok()?;
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// Waits for an event of `kind` about `incident`.
    pub async fn expect(&mut self, kind: &str, incident: i64) -> Sse {
        loop {
            let ev = self
                .next(Duration::from_secs(5))
                .await
                .unwrap_or_else(|| panic!("no {kind} event for incident {incident}"));
            if ev.data["type"] == kind && ev.data["incident"]["id"] == incident {
                return ev;
            }
        }
    }
}

/// Stores the demo's GB/T 28181 one-key alarm column of school 1 (known, not registered now)
/// with its channel bound to alarm point 1, the gate.
pub async fn seed_alarm_column(store: &dyn xiaoan_store::Store) {
    use xiaoan::cmds::demo::DEMO_ALARM_INPUT;
    use xiaoan_core::gb::{GbChannel, GbDevice};
    store
        .upsert_gb_devices(&[GbDevice {
            id: DEMO_ALARM_INPUT.into(),
            name: "南门一键报警柱".into(),
            manufacturer: "test".into(),
            model: "test".into(),
            firmware: String::new(),
            transport: "udp".into(),
            remote: "127.0.0.1:5999".into(),
            online: false,
            registered_at: None,
            expires_at: None,
            last_seen: None,
            school_id: Some(1),
        }])
        .await
        .expect("store the alarm column");
    store
        .save_gb_catalog(
            DEMO_ALARM_INPUT,
            &[GbChannel {
                id: DEMO_ALARM_INPUT.into(),
                device_id: DEMO_ALARM_INPUT.into(),
                name: "一键报警".into(),
                type_code: 134,
                status: "ON".into(),
                manufacturer: "test".into(),
                model: "test".into(),
                address: String::new(),
                longitude: None,
                latitude: None,
                school_id: Some(1),
                alarm_point_id: Some(1),
                updated_at: chrono::Utc::now(),
            }],
        )
        .await
        .expect("store its catalog");
}

/// Whether ffmpeg runs here (the test command installs it; checks that need it are skipped
/// without it).
pub fn has_ffmpeg() -> bool {
    std::process::Command::new("ffmpeg")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The demo's gate camera (`DEMO_GATE_CAMERA`, always on: linked to 南门门卫室) played by the
/// device simulator over UDP, registered with the demo platform's password.
pub async fn gate_camera(s: &TestServer) -> xiaoan_sim::gb_device::FleetHandle {
    use xiaoan::cmds::demo::DEMO_GATE_CAMERA;
    use xiaoan_sim::gb_device::{self, DeviceSpec, FleetConfig, Profile};
    let cfg = FleetConfig {
        to: s.sip(),
        profile: Profile {
            platform_id: "42280100002000000001".into(),
            domain: "4228010000".into(),
            password: "12345678".into(),
            ..Profile::default()
        },
        devices: vec![DeviceSpec {
            id: DEMO_GATE_CAMERA.into(),
            channels: vec![DEMO_GATE_CAMERA.into()],
        }],
        sockets: 1,
        register_window: 1,
    };
    gb_device::start(cfg, None)
        .await
        .expect("start the gate camera")
}
