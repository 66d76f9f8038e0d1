//! `xiaoan-rtsp`: RTSP camera ingest.
//!
//! Every camera whose source is RTSP is pulled with retina (TCP interleaved), its access units
//! are turned into [`xiaoan_media::Frame`]s (Annex-B, 90 kHz, keyframe flag, parameter sets in
//! every keyframe) and pushed into the camera's live [`xiaoan_media::Track`]. The link state
//! (connecting, live, down) goes to [`xiaoan_hub::cameras::Cameras::set_link`], which turns it
//! into device health. A lost camera is retried with exponential backoff (1 s → 30 s).
//!
//! H.264 is what browsers play; H.265 is passed through and labelled by the track. Credentials
//! in a camera URL go to the RTSP server only: logs and errors use
//! [`xiaoan_core::camera::Camera::source_label`].
//!
//! - [`source`] — URL parsing: credentials split off the URL.
//! - [`convert`] — retina's video frames → [`xiaoan_media::Frame`].
//! - [`backoff`] — the reconnect delays.
//! - [`ingest`] — one camera's pull loop; [`run`] starts one per RTSP camera.

pub mod backoff;
pub mod convert;
mod error;
pub mod ingest;
pub mod source;

use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use xiaoan_core::camera::CameraSource;
use xiaoan_hub::Hub;
use xiaoan_hub::cameras::Cameras;

pub use error::RtspError;
pub use ingest::Settings;

/// Pulls every RTSP camera of `cameras` until `shutdown`.
pub async fn run(cameras: Arc<Cameras>, hub: Arc<Hub>, shutdown: CancellationToken) {
    run_with(cameras, hub, Settings::default(), shutdown).await;
}

/// [`run`] with explicit timeouts and backoff.
pub async fn run_with(
    cameras: Arc<Cameras>,
    hub: Arc<Hub>,
    settings: Settings,
    shutdown: CancellationToken,
) {
    let mut tasks = tokio::task::JoinSet::new();
    for entry in cameras.all() {
        if !matches!(entry.camera.source, CameraSource::Rtsp { .. }) {
            continue;
        }
        tasks.spawn(ingest::pull(
            cameras.clone(),
            entry.clone(),
            hub.clone(),
            settings.clone(),
            shutdown.clone(),
        ));
    }
    if tasks.is_empty() {
        return;
    }
    tracing::info!(cameras = tasks.len(), "RTSP ingest started");
    while tasks.join_next().await.is_some() {}
}
