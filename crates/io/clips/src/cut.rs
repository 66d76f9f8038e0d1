//! One camera's clip of one incident: the row, the pre-roll written at once, live frames until
//! the window ends, then the row completed (or `unavailable`, with the reason).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;
use xiaoan_hub::Hub;
use xiaoan_hub::cameras::CameraEntry;
use xiaoan_media::{Since, ViewerItem};
use xiaoan_store::{ClipState, NewClip};

use crate::file::ClipFile;
use crate::{ClipError, ClipSettings, clip_path};

/// A camera whose last frame is older than this has no video now.
const FRESH: Duration = Duration::from_secs(5);

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Cuts `camera`'s clip of incident `incident_id` pressed at `press` (`press_instant` on the
/// ingest clock). Errors are logged and end in the row's state; nothing is returned.
pub async fn cut(
    hub: Arc<Hub>,
    camera: Arc<CameraEntry>,
    settings: Arc<ClipSettings>,
    incident_id: i64,
    press: DateTime<Utc>,
    press_instant: Instant,
    stop: CancellationToken,
) {
    let camera_id = camera.camera.id.clone();
    if let Err(e) = cut_inner(
        &hub,
        &camera,
        &settings,
        incident_id,
        press,
        press_instant,
        &stop,
    )
    .await
    {
        tracing::error!(incident = incident_id, camera = %camera_id, error = %e, "clip failed");
    }
}

async fn cut_inner(
    hub: &Hub,
    camera: &CameraEntry,
    settings: &ClipSettings,
    incident_id: i64,
    press: DateTime<Utc>,
    press_instant: Instant,
    stop: &CancellationToken,
) -> Result<(), ClipError> {
    let path = clip_path(&settings.data_dir, incident_id, &camera.camera.id);
    let press_ms = press.timestamp_millis();
    let mut row = NewClip {
        incident_id,
        camera_id: camera.camera.id.clone(),
        path: path.display().to_string(),
        press_at_ms: press_ms,
        start_ms: press_ms - millis(settings.before),
        end_ms: press_ms + millis(settings.after),
        state: ClipState::Recording,
        reason: None,
    };
    let track = &camera.track;
    // Subscribe before the snapshot: nothing pushed in between is lost (repeats are skipped).
    let mut viewer = track.subscribe();
    let from = press_instant
        .checked_sub(settings.before)
        .unwrap_or(press_instant);
    let snapshot = track.snapshot_since(Since::Instant(from));
    let fresh = track
        .state()
        .last_frame_at
        .is_some_and(|t| t.elapsed() < FRESH);
    if snapshot.is_empty() && !fresh {
        let status = camera.status();
        let link = link_name(&status.link);
        row.state = ClipState::Unavailable;
        row.reason = Some(match status.error {
            Some(e) => format!("摄像机无画面（{link}：{e}）/ no video ({link}: {e})"),
            None => format!("摄像机无画面（{link}）/ no video ({link})"),
        });
        hub.store().insert_clip(&row, hub.clock().now()).await?;
        tracing::warn!(incident = incident_id, camera = %camera.camera.id, "no video for the clip");
        return Ok(());
    }
    let clip = hub.store().insert_clip(&row, hub.clock().now()).await?;
    let params = track.params();
    let mut last_dts = snapshot.last().map(|f| f.dts);
    let mut file = ClipFile::create(&path, &snapshot, params.as_deref()).await?;
    drop(snapshot);
    if let Some(f) = &file {
        tracing::info!(
            incident = incident_id,
            camera = %camera.camera.id,
            seconds = f.seconds(),
            bytes = f.bytes(),
            "clip: pre-press video written"
        );
        let bytes = i64::try_from(f.bytes()).unwrap_or(i64::MAX);
        hub.store()
            .update_clip(clip.id, ClipState::Recording, None, bytes)
            .await?;
    }
    let deadline = tokio::time::Instant::from_std(press_instant + settings.after);
    let mut stopped = false;
    loop {
        let item = tokio::select! {
            _ = stop.cancelled() => { stopped = true; break }
            r = tokio::time::timeout_at(deadline, viewer.next()) => match r {
                Ok(Some(item)) => item,
                // The window has passed, or the track closed its viewers.
                Ok(None) | Err(_) => break,
            },
        };
        let ViewerItem::Frame(live) = item else {
            continue;
        };
        let frame = &live.frame;
        // The viewer starts with the cached GOP, already in the snapshot.
        if let Some(last) = last_dts {
            if frame.dts <= last {
                continue;
            }
            last_dts = None;
        }
        match &mut file {
            Some(f) => f.push(frame.clone()).await?,
            None if frame.is_keyframe => {
                file =
                    ClipFile::create(&path, std::slice::from_ref(frame), params.as_deref()).await?;
            }
            None => {}
        }
    }
    drop(viewer);
    let (state, reason, bytes) = match file {
        Some(f) => {
            let bytes = f.finish().await?;
            let reason = stopped.then(|| "服务停止，窗口未录完 / server stopped early".to_owned());
            (ClipState::Complete, reason, bytes)
        }
        None => (
            ClipState::Unavailable,
            Some("窗口内无画面 / no video during the window".to_owned()),
            0,
        ),
    };
    hub.store()
        .update_clip(
            clip.id,
            state,
            reason.as_deref(),
            i64::try_from(bytes).unwrap_or(i64::MAX),
        )
        .await?;
    tracing::info!(incident = incident_id, camera = %camera.camera.id, bytes, state = state.as_str(), "clip done");
    Ok(())
}

fn link_name(link: &xiaoan_hub::cameras::Link) -> &'static str {
    use xiaoan_hub::cameras::Link;
    match link {
        Link::Idle => "idle",
        Link::Connecting => "connecting",
        Link::Live => "live",
        Link::VideoLoss => "video_loss",
        Link::Down => "down",
    }
}
