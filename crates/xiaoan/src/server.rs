//! Wires the pieces into a running server: opens the store in the data directory, starts the hub
//! and its escalation loop, and serves HTTP on a listener the caller bound (so tests can bind
//! port 0). `serve` and `demo` both start here.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use chrono::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use xiaoan_base::{Clock, RealClock};
use xiaoan_hub::{Hub, HubSettings};
use xiaoan_store::{SqliteStore, Store};
use xiaoan_web::{AppState, WebSettings};

use crate::config::Config;

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "xiaoan.db";

/// Opens (creating if needed) the store in `data_dir`.
pub async fn open_store(data_dir: &Path) -> anyhow::Result<SqliteStore> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating data directory {}", data_dir.display()))?;
    SqliteStore::open(&data_dir.join(DB_FILE))
        .await
        .with_context(|| format!("opening the database in {}", data_dir.display()))
}

/// A server that is running.
pub struct Running {
    /// Where HTTP listens.
    pub http_addr: SocketAddr,
    /// The listener serves HTTPS (TLS configured).
    pub https: bool,
    /// Where the DC-09 receiver listens (TCP, and UDP on the same port), if it runs.
    pub dc09_addr: Option<SocketAddr>,
    /// Where the GB/T 28181 platform listens (UDP and TCP), if it runs.
    pub sip_addr: Option<SocketAddr>,
    /// The GB/T 28181 platform, if it runs.
    pub gb: Option<Arc<xiaoan_gb28181::Platform>>,
    /// The cameras and their live streams.
    pub cameras: Arc<xiaoan_hub::cameras::Cameras>,
    pub data_dir: PathBuf,
    pub hub: Arc<Hub>,
    shutdown: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// Asks every task to stop and waits for them (at most a few seconds each: a client that
    /// never closes its connection cannot hold the shutdown).
    pub async fn stop(self) {
        self.shutdown.cancel();
        for mut t in self.tasks {
            if tokio::time::timeout(std::time::Duration::from_secs(5), &mut t)
                .await
                .is_err()
            {
                t.abort();
            }
        }
    }

    /// Runs until Ctrl-C or SIGTERM (or a fatal error), then stops cleanly.
    pub async fn run_until_stopped(self) {
        tokio::select! {
            _ = crate::cmds::stop_signal() => {}
            _ = self.shutdown.cancelled() => {}
        }
        self.stop().await;
    }
}

/// Starts xiaoan on `store` with HTTP on `listener`.
pub async fn start(
    config: &Config,
    data_dir: PathBuf,
    store: Arc<dyn Store>,
    listener: TcpListener,
) -> anyhow::Result<Running> {
    let clock: Arc<dyn Clock> = Arc::new(RealClock);
    let hub = Hub::new(
        store,
        clock,
        HubSettings {
            escalate_after: Duration::seconds(i64::from(config.incident.escalate_after_secs)),
        },
    )
    .await
    .context("loading the directory")?;
    // A certificate that cannot be used stops the start, before anything listens.
    let tls = match config.http.tls_files()? {
        Some((cert, key)) => Some(crate::tls::load(&cert, &key)?),
        None => None,
    };
    let web = WebSettings {
        session_idle: Duration::minutes(i64::from(config.http.session_idle_minutes.max(1))),
        session_max: (config.http.session_max_hours > 0)
            .then(|| Duration::hours(i64::from(config.http.session_max_hours))),
        call_110_after_secs: u64::from(config.school.call_110_after_secs),
        secure_cookies: config.http.secure_cookies || tls.is_some(),
    };
    let shutdown = CancellationToken::new();
    let http_addr = listener.local_addr()?;
    let mut tasks = Vec::new();
    let cameras = Arc::new(cameras(config, &hub).await?);
    let gb = if config.gb28181.addr.trim().is_empty() {
        None
    } else {
        let started = xiaoan_gb28181::start(
            config.gb28181.clone(),
            hub.clone(),
            cameras.clone(),
            shutdown.clone(),
        )
        .await?;
        tasks.extend(started.tasks);
        Some((started.addr, started.platform))
    };
    tasks.push(tokio::spawn(cameras.clone().watch(
        hub.clone(),
        std::time::Duration::from_secs(u64::from(config.video.loss_after_secs.max(1))),
        shutdown.clone(),
    )));
    tasks.push(tokio::spawn(xiaoan_rtsp::run(
        cameras.clone(),
        hub.clone(),
        shutdown.clone(),
    )));
    let recording = xiaoan_record::RecordConfig {
        segment_secs: config.video.segment_secs.max(1),
        retention_days: config.video.retention_days,
        quota_bytes: u64::from(config.video.quota_gb) << 30,
        min_free_bytes: u64::from(config.video.min_free_gb) << 30,
        keep_after_release_days: config.video.keep_after_release_days,
        ..xiaoan_record::RecordConfig::new(data_dir.clone())
    };
    tasks.extend(
        xiaoan_record::start(
            recording,
            cameras.clone(),
            hub.store().clone(),
            shutdown.clone(),
        )
        .await
        .context("starting the recorder")?,
    );
    tasks.push(tokio::spawn(xiaoan_clips::run(
        hub.clone(),
        cameras.clone(),
        xiaoan_clips::ClipSettings {
            data_dir: data_dir.clone(),
            before: std::time::Duration::from_secs(u64::from(config.video.clip_before_secs)),
            after: std::time::Duration::from_secs(u64::from(config.video.clip_after_secs)),
        },
        shutdown.clone(),
    )));
    let mut state = AppState::new(hub.clone(), web, shutdown.clone()).with_cameras(cameras.clone());
    if let Some((_, platform)) = &gb {
        state = state.with_devices(Arc::new(GbPort(platform.clone())));
    }
    let https = tls.is_some();
    let http = {
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let served = match tls {
                Some(tls) => crate::tls::serve(listener, tls, state, shutdown.clone()).await,
                None => xiaoan_web::serve(listener, state, shutdown.clone()).await,
            };
            if let Err(e) = served {
                tracing::error!(error = %e, "HTTP server failed");
            }
            shutdown.cancel();
        })
    };
    let escalation = tokio::spawn(hub.clone().run_escalation(shutdown.clone()));
    tasks.extend([http, escalation]);
    let dc09_addr = start_dc09(config, &hub, &shutdown, &mut tasks).await?;
    let sip_addr = gb.as_ref().map(|g| g.0);
    tracing::info!(%http_addr, https, ?dc09_addr, ?sip_addr, data_dir = %data_dir.display(), "xiaoan started");
    Ok(Running {
        http_addr,
        https,
        dc09_addr,
        sip_addr,
        gb: gb.map(|g| g.1),
        cameras,
        data_dir,
        hub,
        shutdown,
        tasks,
    })
}

/// The configured cameras, checked against the directory, each with its live track.
async fn cameras(config: &Config, hub: &Hub) -> anyhow::Result<xiaoan_hub::cameras::Cameras> {
    let dir = hub.directory().await;
    let mut seen = std::collections::HashSet::new();
    for c in &config.cameras {
        anyhow::ensure!(
            seen.insert(c.id.clone()),
            "camera {:?} is listed twice",
            c.id
        );
        anyhow::ensure!(
            dir.schools.contains_key(&c.school_id),
            "camera {:?}: school {} does not exist",
            c.id,
            c.school_id
        );
        if let Some(p) = c.alarm_point_id {
            anyhow::ensure!(
                dir.alarm_points
                    .get(&p)
                    .is_some_and(|p| p.school_id == c.school_id),
                "camera {:?}: alarm point {p} is not at school {}",
                c.id,
                c.school_id
            );
        }
    }
    let track = xiaoan_media::TrackConfig {
        preroll: Some(std::time::Duration::from_secs(u64::from(
            config
                .video
                .preroll_secs
                .max(config.video.clip_before_secs)
                .max(1),
        ))),
        ..xiaoan_media::TrackConfig::default()
    };
    Ok(xiaoan_hub::cameras::Cameras::new(
        config.cameras.clone(),
        &track,
    ))
}

/// The GB/T 28181 platform as the web layer sees it.
struct GbPort(Arc<xiaoan_gb28181::Platform>);

#[async_trait::async_trait]
impl xiaoan_web::DevicePort for GbPort {
    async fn command(
        &self,
        device_id: &str,
        channel_id: &str,
        cmd: xiaoan_core::gb::DeviceCommand,
    ) -> Result<(), xiaoan_web::CommandFailure> {
        use xiaoan_gb28181::CommandError as E;
        self.0
            .command(device_id, channel_id, cmd)
            .await
            .map_err(|e| match e {
                E::NotRegistered(_) => xiaoan_web::CommandFailure::NotRegistered,
                other => xiaoan_web::CommandFailure::Unreachable(other.to_string()),
            })
    }

    async fn bindings_changed(&self) {
        if let Err(e) = self.0.reload_bindings().await {
            tracing::error!(error = %e, "gb28181 bindings not reloaded");
        }
    }

    fn registered(&self, device_id: &str) -> bool {
        self.0.registration(device_id).is_some()
    }
}

/// Starts the DC-09 receiver on TCP and UDP (same port) unless its address is empty.
async fn start_dc09(
    config: &Config,
    hub: &Arc<Hub>,
    shutdown: &CancellationToken,
    tasks: &mut Vec<JoinHandle<()>>,
) -> anyhow::Result<Option<SocketAddr>> {
    let c = &config.dc09;
    if c.addr.trim().is_empty() {
        return Ok(None);
    }
    let accounts = Arc::new(xiaoan_dc09::Accounts::build(
        &c.accounts,
        &*hub.directory().await,
    )?);
    let settings = xiaoan_dc09::Dc09Settings {
        window: xiaoan_sia::TimeWindow {
            behind_secs: i64::from(c.window_behind_secs),
            ahead_secs: i64::from(c.window_ahead_secs),
        },
        idle_timeout: std::time::Duration::from_secs(u64::from(c.idle_timeout_secs.max(1))),
        max_connections: c.max_connections as usize,
        ..Default::default()
    };
    // TCP and UDP share the port. With port 0 the kernel picks the TCP port, which another
    // program may hold for UDP: then another port is tried (a few times).
    let mut attempts = 0;
    let (tcp, udp) = loop {
        let tcp = bind(&c.addr).await.context("DC-09 receiver (TCP)")?;
        if !c.udp {
            break (tcp, None);
        }
        let addr = tcp.local_addr()?;
        match tokio::net::UdpSocket::bind(addr).await {
            Ok(udp) => break (tcp, Some(udp)),
            Err(e)
                if e.kind() == std::io::ErrorKind::AddrInUse
                    && c.addr.ends_with(":0")
                    && attempts < 16 =>
            {
                attempts += 1;
            }
            Err(e) => {
                return Err(anyhow::Error::new(e)
                    .context(format!("DC-09 receiver (UDP) cannot listen on {addr}")));
            }
        }
    };
    let addr = tcp.local_addr()?;
    tasks.push(tokio::spawn(xiaoan_dc09::run_tcp(
        tcp,
        hub.clone(),
        accounts.clone(),
        settings.clone(),
        shutdown.clone(),
    )));
    if let Some(udp) = udp {
        tasks.push(tokio::spawn(xiaoan_dc09::run_udp(
            udp,
            hub.clone(),
            accounts.clone(),
            settings,
            shutdown.clone(),
        )));
    }
    tracing::info!(%addr, accounts = accounts.len(), udp = c.udp, "DC-09 receiver listening");
    Ok(Some(addr))
}

/// Binds `addr` for HTTP.
pub async fn bind(addr: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))
}
