//! The start-up check: makes the index and the files agree after a crash.
//!
//! - A row left `open` (the process died mid-segment): its file is truncated to the end of its
//!   last complete fragment, synced, and the row closed with the real end, frames and bytes. A
//!   file with no complete fragment is removed with its row.
//! - A row whose file is missing is deleted.
//! - A `.mp4` file under `video/` without a row is deleted: rows are inserted before their
//!   file is created, so such a file is no footage we know of (a copy or a leftover).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use xiaoan_store::{RecordingEnd, RecordingFilter, Store};

use crate::segment::sync_dir;
use crate::{RecordConfig, RecordError, Result, boxes};

/// What the check mended.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// Open rows closed (their files truncated where torn).
    pub closed: usize,
    /// Files truncated to their last complete fragment.
    pub truncated: usize,
    /// Rows deleted (file missing, or nothing playable in it).
    pub rows_deleted: usize,
    /// Files deleted (no row).
    pub files_deleted: usize,
}

/// Runs the check.
pub async fn run(config: &RecordConfig, store: &dyn Store) -> Result<CheckReport> {
    let mut report = CheckReport::default();
    let rows = store.list_recordings(&RecordingFilter::default()).await?;
    let mut known = HashSet::new();
    for row in rows {
        let path = config.data_dir.join(&row.path);
        known.insert(path.clone());
        let data = match std::fs::read(&path) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                store.delete_recording(row.id).await?;
                report.rows_deleted += 1;
                tracing::warn!(id = row.id, path = %row.path, "recording row without its file deleted");
                continue;
            }
            Err(e) => return Err(RecordError::io(&path, e)),
        };
        if !row.open {
            continue;
        }
        let walk = boxes::walk(&data);
        if walk.fragments.is_empty() {
            remove(&path)?;
            store.delete_recording(row.id).await?;
            report.rows_deleted += 1;
            tracing::warn!(id = row.id, path = %row.path, "open segment with no complete fragment removed");
            continue;
        }
        if walk.complete_len < data.len() {
            truncate(&path, walk.complete_len as u64)?;
            report.truncated += 1;
            tracing::warn!(
                id = row.id,
                path = %row.path,
                from = data.len(),
                to = walk.complete_len,
                "torn segment truncated to its last complete fragment"
            );
        }
        let span = i64::try_from(walk.end_dts()).unwrap_or(i64::MAX);
        store
            .close_recording(
                row.id,
                &RecordingEnd {
                    end_ms: row.start_ms + span / 90,
                    end_pts: row.start_pts + span,
                    frames: walk.frames() as i64,
                    bytes: walk.complete_len as i64,
                },
            )
            .await?;
        report.closed += 1;
        tracing::warn!(id = row.id, path = %row.path, frames = walk.frames(), "open segment closed after a restart");
    }
    for file in mp4_files(&config.video_dir()) {
        if !known.contains(&file) {
            remove(&file)?;
            report.files_deleted += 1;
            tracing::warn!(path = %file.display(), "segment file without an index row deleted");
        }
    }
    Ok(report)
}

fn truncate(path: &Path, len: u64) -> Result<()> {
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| RecordError::io(path, e))?;
    f.set_len(len).map_err(|e| RecordError::io(path, e))?;
    f.sync_all().map_err(|e| RecordError::io(path, e))
}

/// Removes a file and syncs its directory; a file already gone is fine.
pub(crate) fn remove(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(RecordError::io(path, e)),
    }
    if let Some(dir) = path.parent() {
        if std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_none()) {
            let _ = std::fs::remove_dir(dir);
        } else {
            let _ = sync_dir(dir);
        }
    }
    Ok(())
}

/// Every `video/<camera>/<day>/*.mp4`.
fn mp4_files(video: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let dirs = |p: &Path| -> Vec<PathBuf> {
        std::fs::read_dir(p)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default()
    };
    for camera in dirs(video).into_iter().filter(|p| p.is_dir()) {
        for day in dirs(&camera).into_iter().filter(|p| p.is_dir()) {
            out.extend(
                dirs(&day)
                    .into_iter()
                    .filter(|p| p.extension().is_some_and(|e| e == "mp4")),
            );
        }
    }
    out
}
