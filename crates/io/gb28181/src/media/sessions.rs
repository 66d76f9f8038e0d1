//! The session manager: one task per camera whose source is a GB/T 28181 channel.
//!
//! * An always-on camera (linked to an alarm point) is invited whenever its device is
//!   registered; after a BYE from the device, a refused or unanswered INVITE, or a dead stream
//!   it is invited again after a backoff (1 s doubling to 30 s, back to 1 s after a session that
//!   delivered video).
//! * An on-demand camera is invited when its first viewer comes and released (BYE) `linger`
//!   after its last viewer left; a viewer coming back within the linger keeps the session.
//! * Each session: open the media endpoint, INVITE with its port, receive into the camera's
//!   track, and report `Connecting` → `Live` (first frame) → `Down` (with the reason) or `Idle`
//!   (released). On shutdown every session is ended with BYE.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use xiaoan_core::camera::CameraSource;
use xiaoan_hub::Hub;
use xiaoan_hub::cameras::{CameraEntry, Cameras, Link};

use super::depacketize::Timeline;
use super::ports::{PortCursor, PortRange};
use super::receiver::{Limits, MediaEndpoint};
use crate::config::GbConfig;
use crate::invite::Dialog;
use crate::platform::Platform;
use crate::sdp::{self, MediaTransport, Offer};

const BACKOFF_MIN: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// How long a shutdown waits for the answer to its BYE (the request itself leaves at once).
const BYE_ON_SHUTDOWN: Duration = Duration::from_millis(500);
/// How often a wanted camera's device is checked for registration.
const REGISTRATION_POLL: Duration = Duration::from_millis(250);

/// The media part of `[gb28181]`, checked.
#[derive(Debug, Clone)]
pub struct MediaSettings {
    pub transport: MediaTransport,
    /// The IP in SDP `c=`/`o=`.
    pub advertise: String,
    /// Where media sockets are bound (the SIP listen IP).
    pub bind_ip: IpAddr,
    pub ports: PortRange,
    pub limits: Limits,
    pub linger: Duration,
}

impl MediaSettings {
    /// From the configuration, the SIP listen address and the advertised host.
    pub fn from_config(
        cfg: &GbConfig,
        listen: SocketAddr,
        advertise: &str,
    ) -> Result<Self, String> {
        let transport = MediaTransport::parse(cfg.media_transport.trim()).ok_or_else(|| {
            format!(
                "media_transport {:?}: expected udp, tcp-passive or tcp-active",
                cfg.media_transport
            )
        })?;
        let media_advertise = cfg.media_advertise.trim();
        Ok(Self {
            transport,
            advertise: if media_advertise.is_empty() {
                advertise.to_owned()
            } else {
                media_advertise.to_owned()
            },
            bind_ip: listen.ip(),
            ports: PortRange::parse(&cfg.media_ports)?,
            limits: Limits {
                timeout: Duration::from_secs(u64::from(cfg.media_timeout_secs.max(1))),
                ..Limits::default()
            },
            linger: Duration::from_secs(u64::from(cfg.linger_secs)),
        })
    }
}

/// The running session manager.
pub struct Sessions {
    platform: Arc<Platform>,
    cameras: Arc<Cameras>,
    hub: Arc<Hub>,
    settings: MediaSettings,
    ports: PortCursor,
    serial: AtomicU32,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// How one session ended.
enum Outcome {
    Shutdown,
    /// No longer wanted (the last viewer left and the linger passed).
    Released,
    /// Ended by the device or by a failure; `live`: video had arrived.
    Failed {
        error: String,
        live: bool,
    },
}

impl Sessions {
    pub fn new(
        platform: Arc<Platform>,
        cameras: Arc<Cameras>,
        hub: Arc<Hub>,
        settings: MediaSettings,
    ) -> Arc<Self> {
        let start = usize::from(rand::random::<u16>());
        Arc::new(Self {
            ports: PortCursor::new(settings.ports, start),
            platform,
            cameras,
            hub,
            settings,
            serial: AtomicU32::new(u32::from(rand::random::<u16>() % 10_000)),
        })
    }

    /// One task per GB/T 28181 camera, until `shutdown`.
    pub fn spawn(self: &Arc<Self>, shutdown: &CancellationToken) -> Vec<JoinHandle<()>> {
        self.cameras
            .all()
            .filter(|e| matches!(e.camera.source, CameraSource::Gb28181 { .. }))
            .map(|e| tokio::spawn(self.clone().run_camera(e.clone(), shutdown.clone())))
            .collect()
    }

    async fn run_camera(self: Arc<Self>, entry: Arc<CameraEntry>, shutdown: CancellationToken) {
        let CameraSource::Gb28181 {
            device_id,
            channel_id,
        } = entry.camera.source.clone()
        else {
            return;
        };
        let always = entry.camera.always_on();
        let mut viewers = entry.track.watch_viewers();
        let mut backoff = BACKOFF_MIN;
        let timeline = Arc::new(std::sync::Mutex::new(Timeline::default()));
        tracing::info!(camera = %entry.camera.id, device = %device_id, channel = %channel_id, always_on = always, "gb28181 camera managed");
        loop {
            if !always && !wait_for_viewer(&mut viewers, &shutdown).await {
                return;
            }
            if self.platform.registration(&device_id).is_none() {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(REGISTRATION_POLL) => continue,
                }
            }
            self.set_link(&entry, Link::Connecting, None).await;
            let outcome = self
                .session(
                    &entry,
                    (device_id.as_str(), channel_id.as_str()),
                    &timeline,
                    &mut viewers,
                    always,
                    &shutdown,
                )
                .await;
            match outcome {
                Outcome::Shutdown => return,
                Outcome::Released => {
                    backoff = BACKOFF_MIN;
                    self.set_link(&entry, Link::Idle, None).await;
                }
                Outcome::Failed { error, live } => {
                    tracing::warn!(camera = %entry.camera.id, %error, retry_in = ?backoff, "gb28181 live session ended");
                    self.set_link(&entry, Link::Down, Some(error)).await;
                    if live {
                        backoff = BACKOFF_MIN;
                    }
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
            }
        }
    }

    async fn session(
        &self,
        entry: &Arc<CameraEntry>,
        (device_id, channel_id): (&str, &str),
        timeline: &Arc<std::sync::Mutex<Timeline>>,
        viewers: &mut watch::Receiver<usize>,
        always: bool,
        shutdown: &CancellationToken,
    ) -> Outcome {
        let s = &self.settings;
        let failed = |error: String| Outcome::Failed { error, live: false };
        let endpoint = match MediaEndpoint::open(s.transport, s.bind_ip, &self.ports).await {
            Ok(e) => e,
            Err(e) => return failed(e.to_string()),
        };
        let (platform_id, domain) = self.platform.ids();
        let serial = self.serial.fetch_add(1, Ordering::Relaxed) % 10_000;
        let offer = Offer {
            platform_id: platform_id.to_owned(),
            media_ip: s.advertise.clone(),
            media_port: endpoint.port,
            transport: s.transport,
            ssrc: sdp::ssrc(true, domain, serial),
            session: "Play".into(),
        };
        let invited = tokio::select! {
            _ = shutdown.cancelled() => return Outcome::Shutdown,
            r = self.platform.invite(device_id, channel_id, &offer) => r,
        };
        let (dialog, answer) = match invited {
            Ok(v) => v,
            Err(e) => return failed(format!("INVITE: {e}")),
        };
        let mut device_bye = self.platform.watch_bye(&dialog.call_id);
        let remote = answer
            .ip
            .as_deref()
            .and_then(|ip| ip.parse::<IpAddr>().ok())
            .zip(answer.port)
            .map(|(ip, port)| SocketAddr::new(ip, port));
        let expected = answer
            .ssrc
            .as_deref()
            .unwrap_or(&offer.ssrc)
            .parse::<u32>()
            .ok();
        let first_frame = Arc::new(Notify::new());
        let got = Arc::new(AtomicBool::new(false));
        let track = entry.track.clone();
        let label = format!("{}/{channel_id}", entry.camera.id);
        if let Ok(mut t) = timeline.lock() {
            t.new_session();
        }
        let receive = {
            let (first_frame, got, timeline) = (first_frame.clone(), got.clone(), timeline.clone());
            endpoint.run(remote, expected, s.limits, &label, move |mut frame| {
                if let Ok(mut t) = timeline.lock() {
                    t.map(&mut frame);
                }
                if let Err(e) = track.push(frame) {
                    tracing::debug!(error = %e, "gb28181 frame not taken by the track");
                } else if !got.swap(true, Ordering::Relaxed) {
                    first_frame.notify_one();
                }
            })
        };
        tokio::pin!(receive);
        let release = wait_unwanted(viewers, always, s.linger);
        tokio::pin!(release);
        let mut live = false;
        let outcome = loop {
            tokio::select! {
                _ = shutdown.cancelled() => {
                    let _ = tokio::time::timeout(BYE_ON_SHUTDOWN, self.end(&dialog)).await;
                    break Outcome::Shutdown;
                }
                _ = &mut device_bye => {
                    break Outcome::Failed { error: "the device ended the session (BYE)".into(), live };
                }
                end = &mut receive => {
                    self.end(&dialog).await;
                    break Outcome::Failed { error: end.to_string(), live };
                }
                () = first_frame.notified(), if !live => {
                    live = true;
                    tracing::info!(camera = %entry.camera.id, "gb28181 video arriving");
                    self.set_link(entry, Link::Live, None).await;
                }
                () = &mut release => {
                    self.end(&dialog).await;
                    break Outcome::Released;
                }
            }
        };
        self.platform.forget_bye(&dialog.call_id);
        outcome
    }

    /// BYE, logging a failure (the session is over either way).
    async fn end(&self, dialog: &Dialog) {
        self.platform.forget_bye(&dialog.call_id);
        if let Err(e) = self.platform.bye(dialog).await {
            tracing::debug!(device = %dialog.device_id, error = %e, "gb28181 BYE not answered");
        }
    }

    async fn set_link(&self, entry: &CameraEntry, link: Link, error: Option<String>) {
        self.cameras
            .set_link(&self.hub, &entry.camera.id, link, error)
            .await;
    }
}

/// Waits until the camera has a viewer; false on shutdown.
async fn wait_for_viewer(
    viewers: &mut watch::Receiver<usize>,
    shutdown: &CancellationToken,
) -> bool {
    tokio::select! {
        _ = shutdown.cancelled() => false,
        r = async { viewers.wait_for(|n| *n > 0).await.map(drop) } => r.is_ok(),
    }
}

/// Resolves when an on-demand camera has had no viewer for `linger`; never for always-on.
async fn wait_unwanted(viewers: &mut watch::Receiver<usize>, always: bool, linger: Duration) {
    if always {
        return std::future::pending().await;
    }
    loop {
        if viewers.wait_for(|n| *n == 0).await.map(drop).is_err() {
            return std::future::pending().await;
        }
        let back = async { viewers.wait_for(|n| *n > 0).await.map(drop) };
        match tokio::time::timeout(linger, back).await {
            Err(_) => return,
            Ok(Ok(())) => continue,
            Ok(Err(_)) => return std::future::pending().await,
        }
    }
}
