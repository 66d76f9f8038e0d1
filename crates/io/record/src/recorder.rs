//! One camera's recorder: reads its track as a viewer, keeps the current GOP in memory, and
//! appends each finished GOP as one fragment to the open segment file. A new file starts at the
//! first keyframe after `segment_secs`, and whenever the init segment changes. The index row is
//! inserted when a file opens and updated once when it closes; appends touch only the file.
//! File work (create, append, `fsync`) runs on tokio's blocking pool: hundreds of cameras cutting
//! segments at once must not stall the runtime threads that receive their video.

use std::sync::Arc;

use bytes::Bytes;
use chrono::{TimeZone, Utc};
use tokio_util::sync::CancellationToken;
use xiaoan_media::{Frame, TIMESCALE, Track, VideoParams, ViewerItem, fmp4};
use xiaoan_store::{NewRecording, RecordingEnd, Store};

use crate::segment::{SegmentFile, off_runtime};
use crate::{RecordConfig, Result};

/// Wall-clock anchors further than this from now are re-taken (the stream's clock jumped).
const REANCHOR_MS: i64 = 30_000;

struct Open {
    id: i64,
    /// `None` only if a blocking task died with the file in it.
    file: Option<SegmentFile>,
    start_ms: i64,
    start_dts: i64,
    end_dts: i64,
    frames: i64,
    sequence: u32,
}

/// The per-camera state between items.
pub struct Recorder {
    config: Arc<RecordConfig>,
    camera_id: String,
    store: Arc<dyn Store>,
    init: Option<Bytes>,
    init_changed: bool,
    gop: Vec<Frame>,
    open: Option<Open>,
    /// (wall ms, dts) pairing stream time to the wall clock.
    anchor: Option<(i64, i64)>,
    last_duration: u32,
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

impl Recorder {
    /// A recorder for one camera.
    pub fn new(config: Arc<RecordConfig>, camera_id: String, store: Arc<dyn Store>) -> Self {
        Recorder {
            config,
            camera_id,
            store,
            init: None,
            init_changed: false,
            gop: Vec::new(),
            open: None,
            anchor: None,
            last_duration: fmp4::DEFAULT_DURATION,
        }
    }

    /// Takes one item from the track.
    pub async fn item(&mut self, item: ViewerItem) -> Result<()> {
        match item {
            ViewerItem::Init(init) => {
                if self.init.as_ref() != Some(&init) {
                    self.init_changed = self.init.is_some();
                    self.init = Some(init);
                }
                Ok(())
            }
            ViewerItem::Frame(live) => self.frame(live.frame.clone()).await,
        }
    }

    async fn frame(&mut self, frame: Frame) -> Result<()> {
        if let Some(last) = self.gop.last()
            && frame.dts <= last.dts
        {
            // Time went backwards (a restarted camera): finish what we have.
            self.finish_gop(None).await?;
            self.close().await?;
            self.anchor = None;
        }
        if frame.is_keyframe {
            self.finish_gop(Some(frame.dts)).await?;
            let too_long = self.open.as_ref().is_some_and(|o| {
                o.end_dts - o.start_dts
                    >= i64::from(self.config.segment_secs) * i64::from(TIMESCALE)
            });
            if too_long || self.init_changed {
                self.close().await?;
                self.init_changed = false;
            }
            if self.open.is_none() {
                self.open_segment(&frame).await?;
            }
        }
        if self.open.is_some() {
            self.gop.push(frame);
        }
        Ok(())
    }

    fn wall_ms(&mut self, dts: i64) -> i64 {
        let now = now_ms();
        if let Some((ms, at)) = self.anchor {
            let t = ms + (dts - at) / 90;
            if (t - now).abs() <= REANCHOR_MS {
                return t;
            }
        }
        self.anchor = Some((now, dts));
        now
    }

    async fn open_segment(&mut self, key: &Frame) -> Result<()> {
        let Some(init) = self.init.clone() else {
            return Ok(());
        };
        let start_ms = self.wall_ms(key.dts);
        let day = Utc
            .timestamp_millis_opt(start_ms)
            .single()
            .map_or_else(|| "unknown".into(), |t| t.format("%Y-%m-%d").to_string());
        let rel = format!("video/{}/{day}/{start_ms}.mp4", self.camera_id);
        // The init describes the segment: a keyframe need not carry its parameter sets.
        let params = crate::init::params(&init).or_else(|| VideoParams::from_frame(key).ok());
        let id = self
            .store
            .insert_recording(&NewRecording {
                camera_id: self.camera_id.clone(),
                path: rel.clone(),
                start_ms,
                start_pts: key.dts,
                codec: params
                    .as_ref()
                    .map_or_else(String::new, |p| p.codec_string.clone()),
                width: params.as_ref().map_or(0, |p| p.width),
                height: params.as_ref().map_or(0, |p| p.height),
            })
            .await?;
        let path = self.config.data_dir.join(&rel);
        let file = off_runtime(&path.clone(), move || SegmentFile::create(&path, &init)).await??;
        tracing::debug!(camera = %self.camera_id, path = %rel, "segment opened");
        self.open = Some(Open {
            id,
            file: Some(file),
            start_ms,
            start_dts: key.dts,
            end_dts: key.dts,
            frames: 0,
            sequence: 0,
        });
        Ok(())
    }

    /// Appends the buffered GOP as one fragment; `next_dts` gives its last sample's duration.
    async fn finish_gop(&mut self, next_dts: Option<i64>) -> Result<()> {
        let gop = std::mem::take(&mut self.gop);
        let (Some(open), Some(last)) = (self.open.as_mut(), gop.last()) else {
            return Ok(());
        };
        if let [.., a, b] = gop.as_slice()
            && let Ok(d) = u32::try_from(b.dts - a.dts)
            && d > 0
        {
            self.last_duration = d;
        }
        let last_duration = next_dts
            .and_then(|n| u32::try_from(n - last.dts).ok())
            .filter(|&d| d > 0 && d < 10 * TIMESCALE)
            .unwrap_or(self.last_duration);
        open.sequence += 1;
        let fragment = fmp4::fragment_rebased(open.sequence, &gop, last_duration, open.start_dts)?;
        if let Some(mut file) = open.file.take() {
            let path = file.path().to_owned();
            let (file, written) = off_runtime(&path, move || {
                let written = file.append(&fragment).and_then(|()| file.flush());
                (file, written)
            })
            .await?;
            open.file = Some(file);
            written?;
        }
        open.frames += gop.len() as i64;
        open.end_dts = last.dts + i64::from(last_duration);
        Ok(())
    }

    /// Closes the open segment: file synced, then its row updated once.
    pub async fn close(&mut self) -> Result<()> {
        let Some(open) = self.open.take() else {
            return Ok(());
        };
        let Some(file) = open.file else {
            // The file went with a failed blocking task; the start-up check mends its row.
            return Ok(());
        };
        let path = file.path().to_owned();
        let bytes = off_runtime(&path, move || file.close()).await??;
        let span = open.end_dts - open.start_dts;
        self.store
            .close_recording(
                open.id,
                &RecordingEnd {
                    end_ms: open.start_ms + span / 90,
                    end_pts: open.end_dts,
                    frames: open.frames,
                    bytes: i64::try_from(bytes).unwrap_or(i64::MAX),
                },
            )
            .await?;
        tracing::debug!(camera = %self.camera_id, id = open.id, frames = open.frames, "segment closed");
        Ok(())
    }

    /// Writes the GOP in memory and closes the segment (the stream ended or we stop).
    pub async fn finish(&mut self) -> Result<()> {
        self.finish_gop(None).await?;
        self.close().await
    }
}

/// Records one camera until `shutdown`; the open segment is closed on the way out. An error
/// (disk full, database unavailable) closes what it can, waits a little and starts again.
pub async fn run(
    config: Arc<RecordConfig>,
    camera_id: String,
    track: Arc<Track>,
    store: Arc<dyn Store>,
    shutdown: CancellationToken,
) {
    let mut rec = Recorder::new(config, camera_id.clone(), store);
    loop {
        let mut viewer = track.subscribe();
        let mut skips = 0;
        let failed = loop {
            let item = tokio::select! {
                _ = shutdown.cancelled() => break None,
                item = viewer.next() => item,
            };
            let Some(item) = item else { break None };
            if let Err(e) = rec.item(item).await {
                break Some(e);
            }
            // A recorder slower than its camera is skipped forward like any viewer: say so.
            let st = viewer.stats();
            if st.skips > skips {
                skips = st.skips;
                tracing::warn!(
                    camera = %camera_id,
                    skips,
                    dropped_frames = st.dropped_frames,
                    "recording fell behind the camera; frames skipped to the next keyframe"
                );
            }
        };
        if let Err(e) = rec.finish().await {
            tracing::error!(camera = %camera_id, error = %e, "closing a segment failed");
        }
        match failed {
            Some(e) => tracing::error!(camera = %camera_id, error = %e, "recording interrupted"),
            None => return,
        }
        rec.gop.clear();
        rec.open = None;
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(std::time::Duration::from_secs(5)) => {}
        }
    }
}
