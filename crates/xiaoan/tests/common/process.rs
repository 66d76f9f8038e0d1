//! `xiaoan serve` as a separate process of the built binary, for tests that `kill -9` it and
//! start it again on the same ports and data directory: free ports (TCP and UDP), a data
//! directory seeded with the demo dataset, a configuration with the demo's DC-09 account `1111`
//! and the GB/T 28181 one-key alarm input both at alarm point 1, and a handle that waits until
//! the server answers and kills it with SIGKILL.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The GB/T 28181 one-key alarm input the configuration binds to alarm point 1.
pub const ALARM_INPUT: &str = "42280100001340000001";
pub const PLATFORM_ID: &str = "42280100002000000001";
pub const DOMAIN: &str = "4228010000";
pub const SIP_PASSWORD: &str = "12345678";

/// The three listening ports of one server, kept across restarts.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    pub http: u16,
    pub dc09: u16,
    pub sip: u16,
}

/// A port free for both TCP and UDP on 127.0.0.1 right now.
fn free_port() -> u16 {
    for _ in 0..100 {
        let Ok(tcp) = TcpListener::bind("127.0.0.1:0") else {
            continue;
        };
        let Ok(addr) = tcp.local_addr() else { continue };
        if UdpSocket::bind(addr).is_ok() {
            return addr.port();
        }
    }
    panic!("no free port");
}

impl Ports {
    pub fn free() -> Self {
        Self {
            http: free_port(),
            dc09: free_port(),
            sip: free_port(),
        }
    }
    pub fn http_base(&self) -> String {
        format!("http://127.0.0.1:{}", self.http)
    }
    pub fn dc09_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.dc09))
    }
    pub fn sip_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.sip))
    }
}

/// Creates `data` and fills it with the demo dataset (users' password: `demo`).
pub async fn seed_demo(data: &Path) {
    let store = xiaoan::server::open_store(data).await.unwrap();
    xiaoan::cmds::demo::seed_if_empty(&store).await.unwrap();
    store.close().await;
}

/// Writes the configuration: DC-09 account 1111 (plain) and the GB/T 28181 one-key alarm input,
/// both at alarm point 1 (恩施市实验小学, 南门门卫室); `extra` is appended as is.
pub fn write_config(path: &Path, extra: &str) {
    let text = format!(
        r#"[dc09]
accounts = [{{ account = "1111", alarm_point_id = 1 }}]

[gb28181]
platform_id = "{PLATFORM_ID}"
domain = "{DOMAIN}"
password = "{SIP_PASSWORD}"
subscribe_alarms = false
channels = [{{ id = "{ALARM_INPUT}", alarm_point_id = 1 }}]

[log]
level = "warn"

{extra}
"#
    );
    std::fs::write(path, text).unwrap();
}

/// A running `xiaoan serve`; killed (SIGKILL) when dropped.
pub struct Serve {
    child: Option<Child>,
    pub ports: Ports,
}

impl Serve {
    /// Starts `xiaoan serve` on `ports` and `data`; its log (stderr) is appended to `log`.
    pub fn start(data: &Path, config: &Path, ports: Ports, log: &Path) -> Self {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_xiaoan"))
            .arg("serve")
            .arg("--data-dir")
            .arg(data)
            .arg("--config")
            .arg(config)
            .args(["--http", &format!("127.0.0.1:{}", ports.http)])
            .args(["--dc09", &format!("127.0.0.1:{}", ports.dc09)])
            .args(["--sip", &format!("127.0.0.1:{}", ports.sip)])
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        // Keep reading what it prints, so its stdout never breaks.
        if let Some(out) = child.stdout.take() {
            std::thread::spawn(move || BufReader::new(out).lines().for_each(drop));
        }
        Self {
            child: Some(child),
            ports,
        }
    }

    /// Waits until the HTTP API answers `/healthz` (any status) and the DC-09 port accepts; false
    /// after `timeout` or when the process exited.
    pub async fn wait_ready(&mut self, timeout: Duration) -> bool {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        let url = format!("{}/healthz", self.ports.http_base());
        let deadline = tokio::time::Instant::now() + timeout;
        while tokio::time::Instant::now() < deadline {
            if let Some(c) = self.child.as_mut()
                && let Ok(Some(status)) = c.try_wait()
            {
                eprintln!("xiaoan serve exited: {status}");
                return false;
            }
            let http = client.get(&url).send().await.is_ok();
            let dc09 = tokio::net::TcpStream::connect(self.ports.dc09_addr())
                .await
                .is_ok();
            if http && dc09 {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    /// SIGKILL, then waits for the process to be gone.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill(); // SIGKILL on Unix
            let _ = c.wait();
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// The log file of a test run next to its data directory.
pub fn log_path(root: &Path) -> PathBuf {
    root.join("xiaoan.log")
}
