//! `xiaoan-record`: continuous recording of every always-on camera (linked to an alarm point,
//! or pulled over RTSP) into fMP4 segment files under `DATA_DIR/video/<camera>/<YYYY-MM-DD>/
//! <start-unix-ms>.mp4`, each an init segment and one fragment per GOP, indexed in the store.
//!
//! - [`recorder`] — one task per camera: subscribe to its track, buffer a GOP, append it as a
//!   fragment, cut a new file every `segment_secs` (at a keyframe) or when the init changes.
//! - [`check`] — the start-up check: torn files truncated to their last complete fragment,
//!   rows without files deleted, files without rows deleted; everything mended is logged.
//! - [`retention`] — by age, quota and free space, oldest first, never footage an incident
//!   protects.
//! - [`boxes`] — the small MP4 box walker both of them read files with.
//! - [`init`] — the parameter sets of a segment's init (`avcC`/`hvcC`), for footage whose
//!   keyframes carry none in-band.
//!
//! The layout and the rules are in `docs/design/recording.md`. Nothing here transcodes.

pub mod boxes;
pub mod check;
mod disk;
pub mod init;
pub mod recorder;
pub mod retention;
mod segment;

pub use disk::free_bytes;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use xiaoan_hub::cameras::Cameras;
use xiaoan_store::Store;

/// Why recording failed.
#[derive(Debug, Error)]
pub enum RecordError {
    /// A file or directory could not be written or read.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The index could not be read or written.
    #[error(transparent)]
    Store(#[from] xiaoan_store::StoreError),
    /// Frames could not be fragmented.
    #[error(transparent)]
    Media(#[from] xiaoan_media::MediaError),
}

impl RecordError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        RecordError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// Result of a recording call.
pub type Result<T, E = RecordError> = std::result::Result<T, E>;

/// How the recorder and retention run.
#[derive(Debug, Clone)]
pub struct RecordConfig {
    /// The data directory; segments go under `video/` in it.
    pub data_dir: PathBuf,
    /// A new segment file at the first keyframe after this long.
    pub segment_secs: u32,
    /// Footage older than this is deleted (0: never by age).
    pub retention_days: u32,
    /// Most bytes of footage (0: no quota).
    pub quota_bytes: u64,
    /// Delete the oldest footage while less than this is free on the disk.
    pub min_free_bytes: u64,
    /// A released protected span keeps its footage this long after the release.
    pub keep_after_release_days: u32,
    /// How often retention runs (it also runs at start).
    pub retention_every: Duration,
}

impl RecordConfig {
    /// Defaults in `data_dir`.
    pub fn new(data_dir: PathBuf) -> Self {
        RecordConfig {
            data_dir,
            segment_secs: 60,
            retention_days: 30,
            quota_bytes: 0,
            min_free_bytes: 1 << 30,
            keep_after_release_days: 7,
            retention_every: Duration::from_secs(600),
        }
    }

    /// The directory every camera's folder is in.
    pub fn video_dir(&self) -> PathBuf {
        self.data_dir.join("video")
    }
}

/// Runs the start-up check (a failure is logged, never fatal), then starts one recorder per always-on camera and the retention
/// loop. The tasks end when `shutdown` is cancelled (open segments are closed first).
pub async fn start(
    config: RecordConfig,
    cameras: Arc<Cameras>,
    store: Arc<dyn Store>,
    shutdown: CancellationToken,
) -> Result<Vec<JoinHandle<()>>> {
    match check::run(&config, store.as_ref()).await {
        Ok(report) => tracing::info!(?report, "recording index checked"),
        // A full or failing disk must not keep the alarm centre from starting: recording goes on
        // as far as it can (each recorder retries on its own) and the next start checks again.
        Err(e) => {
            tracing::error!(error = %e, "recording index check failed; recording starts anyway")
        }
    }
    let config = Arc::new(config);
    let mut tasks = Vec::new();
    for entry in cameras.all().filter(|e| e.camera.always_on()) {
        tasks.push(tokio::spawn(recorder::run(
            config.clone(),
            entry.camera.id.clone(),
            entry.track.clone(),
            store.clone(),
            shutdown.clone(),
        )));
    }
    tasks.push(tokio::spawn(retention::run(config, store, shutdown)));
    Ok(tasks)
}
