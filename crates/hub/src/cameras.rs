//! The cameras of the running alarm centre: each configured camera with its live [`Track`] (GOP
//! cache, viewers, pre-roll) and its connection state, looked up by id, school or alarm point.
//! Ingest (RTSP, GB/T 28181) pushes frames into the tracks and reports connects and
//! disconnects here; [`Cameras::watch`] turns "no frames for N s" into video loss. Camera health
//! is device health with source `camera`, shown against the school like any device.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use xiaoan_core::camera::Camera;
use xiaoan_core::model::Id;
use xiaoan_core::signal::{HealthState, Severity};
use xiaoan_media::{Track, TrackConfig};

use crate::Hub;
use crate::device_signal;
use crate::devices::DeviceRef;

/// The source name of camera health and signals.
pub const SOURCE: &str = "camera";

/// A camera's connection as its ingest sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Link {
    /// Not asked for (an on-demand camera without viewers).
    #[default]
    Idle,
    Connecting,
    /// Frames are arriving.
    Live,
    /// Connected but no frames for a while.
    VideoLoss,
    /// Lost; ingest retries.
    Down,
}

/// A camera's state for the API.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CameraStatus {
    pub link: Link,
    /// Since when it is in that state.
    pub since: Option<DateTime<Utc>>,
    /// The last error, for people.
    pub error: Option<String>,
}

/// One camera and its live stream.
#[derive(Debug)]
pub struct CameraEntry {
    pub camera: Camera,
    pub track: Arc<Track>,
    status: RwLock<CameraStatus>,
}

impl CameraEntry {
    pub fn status(&self) -> CameraStatus {
        self.status.read().map(|s| s.clone()).unwrap_or_default()
    }

    fn device(&self) -> DeviceRef {
        DeviceRef {
            source: SOURCE.into(),
            device: self.camera.id.clone(),
            school_id: Some(self.camera.school_id),
            alarm_point_id: self.camera.alarm_point_id,
            supervision_secs: None,
        }
    }
}

/// Every camera, fixed at start.
#[derive(Debug, Default)]
pub struct Cameras {
    by_id: HashMap<String, Arc<CameraEntry>>,
    order: Vec<String>,
}

impl Cameras {
    /// The registry for `cameras`, each with a track made from `config`.
    pub fn new(cameras: Vec<Camera>, config: &TrackConfig) -> Self {
        let mut by_id = HashMap::new();
        let mut order = Vec::new();
        for camera in cameras {
            order.push(camera.id.clone());
            let entry = CameraEntry {
                track: Arc::new(Track::new(config.clone())),
                status: RwLock::new(CameraStatus::default()),
                camera,
            };
            by_id.insert(entry.camera.id.clone(), Arc::new(entry));
        }
        Self { by_id, order }
    }

    pub fn get(&self, id: &str) -> Option<&Arc<CameraEntry>> {
        self.by_id.get(id)
    }

    /// Every camera in configuration order.
    pub fn all(&self) -> impl Iterator<Item = &Arc<CameraEntry>> {
        self.order.iter().filter_map(|id| self.by_id.get(id))
    }

    /// The cameras linked to an alarm point.
    pub fn at_point(&self, point: Id) -> impl Iterator<Item = &Arc<CameraEntry>> {
        self.all()
            .filter(move |c| c.camera.alarm_point_id == Some(point))
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Ingest reports a change of a camera's link; health and signals follow.
    pub async fn set_link(&self, hub: &Hub, id: &str, link: Link, error: Option<String>) {
        let Some(entry) = self.by_id.get(id) else {
            return;
        };
        let changed = match entry.status.write() {
            Ok(mut st) => {
                let changed = st.link != link;
                if changed {
                    st.since = Some(hub.clock().now());
                }
                st.link = link.clone();
                st.error = error.clone();
                changed
            }
            Err(_) => false,
        };
        if !changed {
            return;
        }
        let dev = entry.device();
        let now = hub.clock().now();
        let result = match link {
            Link::Live => {
                let r = hub.set_device_condition(&dev, HealthState::Ok, "").await;
                let _ = hub.device_seen(&dev).await;
                r
            }
            Link::VideoLoss => {
                tracing::warn!(camera = %id, "video loss");
                let r = hub
                    .set_device_condition(&dev, HealthState::Warning, "视频丢失（无画面）")
                    .await;
                let _ = hub
                    .record_signal(device_signal(
                        &dev,
                        now,
                        "video_loss",
                        Severity::Warning,
                        format!("摄像机 {} 视频丢失", entry.camera.name),
                    ))
                    .await;
                r
            }
            Link::Down => {
                tracing::warn!(camera = %id, error = ?error, "camera disconnected");
                let why = format!(
                    "视频连接中断{}",
                    error.map(|e| format!("：{e}")).unwrap_or_default()
                );
                let r = hub
                    .set_device_condition(&dev, HealthState::CommFailure, &why)
                    .await;
                let _ = hub
                    .record_signal(device_signal(
                        &dev,
                        now,
                        "camera_down",
                        Severity::Warning,
                        format!("摄像机 {} 连接中断", entry.camera.name),
                    ))
                    .await;
                r
            }
            Link::Idle | Link::Connecting => Ok(()),
        };
        if let Err(e) = result {
            tracing::warn!(camera = %id, error = %e, "camera health not stored");
        }
    }

    /// Every second: a live camera with no frame for `loss_after` is in video loss; one whose
    /// frames come back is live again.
    pub async fn watch(
        self: Arc<Self>,
        hub: Arc<Hub>,
        loss_after: Duration,
        stop: CancellationToken,
    ) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            for entry in self.all() {
                let link = entry.status().link;
                let last = entry.track.state().last_frame_at;
                let fresh = last.is_some_and(|t| Instant::now().duration_since(t) < loss_after);
                match (link, fresh) {
                    (Link::Live, false) => {
                        self.set_link(&hub, &entry.camera.id, Link::VideoLoss, None)
                            .await;
                    }
                    (Link::VideoLoss | Link::Connecting, true) => {
                        self.set_link(&hub, &entry.camera.id, Link::Live, None)
                            .await;
                    }
                    _ => {}
                }
            }
        }
    }
}
