//! `xiaoan-clips`: the video from before the press, attached to every incident.
//!
//! [`run`] follows the hub's live events. When an incident is raised (not when a press joins
//! one), it starts one task per camera linked to the incident's alarm point ([`cut`]): the
//! pre-roll frames from the keyframe at or before `press − before` are written at once as a
//! fragmented MP4 under `DATA_DIR/clips/<incident>/<camera>.mp4` (init + fragments, fsynced),
//! live frames are appended until `press + after`, and the clip row turns `complete`. A camera
//! without video gets a row in state `unavailable` with the reason. Each clip row comes with a
//! protected span of its window, which retention honours until a supervisor releases it.
//!
//! The press is the moment the alarm centre committed the incident (`received_at`): the same
//! clock for every source (web, DC-09, GB/T 28181), whatever the device's own clock says.
//!
//! Memory: a task holds the pre-roll snapshot only until it is written (frames share their
//! buffers with the track), then at most about a second of live frames.

mod cut;
mod file;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;
use xiaoan_core::incident::{EntryKind, Incident, TimelineEntry};
use xiaoan_hub::Hub;
use xiaoan_hub::cameras::Cameras;
use xiaoan_store::{ClipFilter, ClipState};

pub use cut::cut;

/// The folder under the data directory that holds clips.
pub const CLIPS_DIR: &str = "clips";

/// How clips are cut.
#[derive(Debug, Clone)]
pub struct ClipSettings {
    /// The data directory; clips go to `<data_dir>/clips/<incident>/<camera>.mp4`.
    pub data_dir: PathBuf,
    /// Video kept before the press.
    pub before: Duration,
    /// Video kept after the press.
    pub after: Duration,
}

/// Why a clip could not be written.
#[derive(Debug, Error)]
pub enum ClipError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Media(#[from] xiaoan_media::MediaError),
    #[error(transparent)]
    Store(#[from] xiaoan_store::StoreError),
}

impl ClipError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        ClipError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// The file of one camera's clip of one incident.
pub fn clip_path(data_dir: &Path, incident_id: i64, camera_id: &str) -> PathBuf {
    let safe: String = camera_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    data_dir
        .join(CLIPS_DIR)
        .join(incident_id.to_string())
        .join(format!("{safe}.mp4"))
}

/// Cuts clips for every raised incident until `stop`. Clips left `recording` by an earlier run
/// (a crash mid-window) are marked complete with what was written.
pub async fn run(
    hub: Arc<Hub>,
    cameras: Arc<Cameras>,
    settings: ClipSettings,
    stop: CancellationToken,
) {
    // Where the log stood before subscribing: a lag before the first event reads from here.
    let start = hub.store().last_event_id().await.ok();
    let mut events = hub.subscribe();
    mend_interrupted(&hub).await;
    let settings = Arc::new(settings);
    let mut tasks = tokio::task::JoinSet::new();
    // The last event handled: after a lag, the store's event log fills the gap.
    let mut last_id: Option<i64> = None;
    loop {
        let event = tokio::select! {
            _ = stop.cancelled() => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
            e = events.recv() => e,
        };
        let batch = match event {
            Ok(e) => vec![(e.entry.clone(), e.incident.clone())],
            Err(RecvError::Lagged(n)) => {
                tracing::warn!(
                    missed = n,
                    "clip engine fell behind the live events; reading the log"
                );
                catch_up(&hub, last_id.or(start)).await
            }
            Err(RecvError::Closed) => break,
        };
        for (entry, incident) in batch {
            if last_id.is_some_and(|l| entry.id <= l) {
                continue;
            }
            last_id = Some(entry.id);
            if entry.kind != EntryKind::Raised {
                continue;
            }
            let press = incident.received_at;
            let lag = (hub.clock().now() - press).to_std().unwrap_or_default();
            let press_instant = std::time::Instant::now()
                .checked_sub(lag)
                .unwrap_or_else(std::time::Instant::now);
            for camera in cameras.at_point(incident.alarm_point_id) {
                tasks.spawn(cut(
                    hub.clone(),
                    camera.clone(),
                    settings.clone(),
                    incident.id,
                    press,
                    press_instant,
                    stop.clone(),
                ));
            }
        }
    }
    // Let running clips close their files and rows.
    while tokio::time::timeout(Duration::from_secs(5), tasks.join_next())
        .await
        .is_ok_and(|t| t.is_some())
    {}
}

/// Entries after `after` from the store's event log (a lagged subscriber's gap).
async fn catch_up(hub: &Hub, after: Option<i64>) -> Vec<(TimelineEntry, Incident)> {
    let Some(mut after) = after else {
        return Vec::new();
    };
    let mut out = Vec::new();
    loop {
        match hub.store().events_since(after, 1000).await {
            Ok(events) if !events.is_empty() => {
                for e in events {
                    after = after.max(e.entry.id);
                    out.push((e.entry, e.incident));
                }
            }
            Ok(_) => return out,
            Err(e) => {
                tracing::error!(error = %e, "clip engine cannot read the event log");
                return out;
            }
        }
    }
}

async fn mend_interrupted(hub: &Hub) {
    let left = match hub
        .store()
        .list_clips(&ClipFilter {
            incident_ids: None,
            state: Some(ClipState::Recording),
        })
        .await
    {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, "clips left recording not checked");
            return;
        }
    };
    for clip in left {
        let bytes = std::fs::metadata(&clip.path).map_or(0, |m| m.len());
        let reason = "录制中断（服务重启），仅含已写入部分 / interrupted by a restart";
        let r = hub
            .store()
            .update_clip(
                clip.id,
                ClipState::Complete,
                Some(reason),
                i64::try_from(bytes).unwrap_or(i64::MAX),
            )
            .await;
        if let Err(e) = r {
            tracing::error!(clip = clip.id, error = %e, "interrupted clip not mended");
        }
    }
}
