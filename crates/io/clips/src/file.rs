//! One clip file as it grows: the init segment, then `moof`+`mdat` fragments (one per GOP or per
//! second of live video), decode times rebased to the clip's first keyframe. The newest frame is
//! held back until the next one gives its duration, so every sample lasts exactly as long as it
//! should; `finish` writes it with the previous frame's duration.

use std::path::{Path, PathBuf};

use tokio::io::AsyncWriteExt;
use xiaoan_media::{Frame, ParameterSets, TIMESCALE, VideoParams, fmp4};

use crate::ClipError;

/// Live frames are written at least this often (90 kHz ticks): one second.
const FLUSH_EVERY: i64 = TIMESCALE as i64;

/// A clip file being written.
pub(crate) struct ClipFile {
    path: PathBuf,
    file: tokio::fs::File,
    sequence: u32,
    /// Decode time of the first frame: the file's zero.
    origin: i64,
    /// Added to incoming times so they keep increasing if the camera's clock restarts.
    shift: i64,
    /// Frames not yet written (times already shifted); the last one is held back.
    pending: Vec<Frame>,
    last_duration: u32,
    last_dts: i64,
    bytes: u64,
}

impl ClipFile {
    /// Creates `path` and writes the init segment and `frames` (from their first keyframe on),
    /// then fsyncs: the part before the press plays at once. `None` when `frames` hold no
    /// keyframe.
    pub(crate) async fn create(
        path: &Path,
        frames: &[Frame],
        fallback: Option<&VideoParams>,
    ) -> Result<Option<Self>, ClipError> {
        let Some(start) = frames.iter().position(|f| f.is_keyframe) else {
            return Ok(None);
        };
        let (head, frames) = frames.split_at(start);
        let Some(first) = frames.first() else {
            return Ok(None);
        };
        let mut sets = ParameterSets::new(first.codec);
        for f in head.iter().chain(std::iter::once(first)) {
            sets.observe(&f.data);
        }
        let params = match (sets.params(), fallback) {
            (Ok(p), _) => p,
            (Err(_), Some(p)) => p.clone(),
            (Err(e), None) => return Err(e.into()),
        };
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|e| ClipError::io(dir, e))?;
        }
        let mut file = tokio::fs::File::create(path)
            .await
            .map_err(|e| ClipError::io(path, e))?;
        let init = fmp4::init_segment(&params)?;
        file.write_all(&init)
            .await
            .map_err(|e| ClipError::io(path, e))?;
        let mut clip = ClipFile {
            path: path.to_owned(),
            file,
            sequence: 1,
            origin: first.dts,
            shift: 0,
            pending: Vec::with_capacity(frames.len() + 32),
            last_duration: fmp4::DEFAULT_DURATION,
            last_dts: first.dts - 1,
            bytes: init.len() as u64,
        };
        for f in frames {
            clip.add(f.clone());
        }
        clip.flush(false).await?;
        clip.file
            .sync_data()
            .await
            .map_err(|e| ClipError::io(path, e))?;
        Ok(Some(clip))
    }

    /// Bytes written so far.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Seconds of video written or pending.
    pub(crate) fn seconds(&self) -> f64 {
        (self.last_dts - self.origin) as f64 / f64::from(TIMESCALE)
    }

    fn add(&mut self, mut frame: Frame) {
        if frame.dts + self.shift <= self.last_dts {
            // The camera's clock went back (a new session): continue after the last frame.
            self.shift = self.last_dts + i64::from(self.last_duration) - frame.dts;
        }
        frame.dts += self.shift;
        frame.pts += self.shift;
        if frame.dts > self.last_dts
            && let Ok(d) = u32::try_from(frame.dts - self.last_dts)
            && !self.pending.is_empty()
        {
            self.last_duration = d;
        }
        self.last_dts = frame.dts;
        self.pending.push(frame);
    }

    /// Adds a live frame; writes out what is pending once it spans a second.
    pub(crate) async fn push(&mut self, frame: Frame) -> Result<(), ClipError> {
        self.add(frame);
        let span = match (self.pending.first(), self.pending.last()) {
            (Some(a), Some(b)) => b.dts - a.dts,
            _ => 0,
        };
        if span >= FLUSH_EVERY {
            self.flush(false).await?;
        }
        Ok(())
    }

    /// Writes pending frames, one fragment per GOP; all of them when `all`, else all but the
    /// newest (whose duration is not known yet).
    async fn flush(&mut self, all: bool) -> Result<(), ClipError> {
        let keep = usize::from(!all).min(self.pending.len());
        let upto = self.pending.len() - keep;
        if upto == 0 {
            return Ok(());
        }
        let mut out = Vec::new();
        let ready = &self.pending[..upto];
        let mut at = 0;
        for gop in fmp4::gops(ready) {
            at += gop.len();
            let next = self.pending.get(at);
            let duration = match (gop.last(), next) {
                (Some(a), Some(b)) => u32::try_from(b.dts - a.dts)
                    .ok()
                    .filter(|&d| d > 0)
                    .unwrap_or(self.last_duration),
                _ => self.last_duration,
            };
            out.extend_from_slice(&fmp4::fragment_rebased(
                self.sequence,
                gop,
                duration,
                self.origin,
            )?);
            self.sequence += 1;
        }
        self.file
            .write_all(&out)
            .await
            .map_err(|e| ClipError::io(&self.path, e))?;
        self.bytes += out.len() as u64;
        self.pending.drain(..upto);
        Ok(())
    }

    /// Writes everything pending and fsyncs; the clip is complete.
    pub(crate) async fn finish(mut self) -> Result<u64, ClipError> {
        self.flush(true).await?;
        self.file
            .sync_all()
            .await
            .map_err(|e| ClipError::io(&self.path, e))?;
        Ok(self.bytes)
    }
}
