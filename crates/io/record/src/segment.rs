//! One segment file being written: created with its init segment, fragments appended through a
//! buffer, and on close flushed, `fsync`ed, and its directory `fsync`ed.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::{RecordError, Result};

/// An open segment file.
pub(crate) struct SegmentFile {
    path: PathBuf,
    out: BufWriter<File>,
    pub(crate) bytes: u64,
}

impl SegmentFile {
    /// Creates the file (and its directories) and writes the init segment.
    pub(crate) fn create(path: &Path, init: &[u8]) -> Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| RecordError::io(dir, e))?;
        }
        let file = File::create(path).map_err(|e| RecordError::io(path, e))?;
        let mut s = SegmentFile {
            path: path.to_owned(),
            out: BufWriter::with_capacity(256 << 10, file),
            bytes: 0,
        };
        s.append(init)?;
        if let Some(dir) = path.parent() {
            sync_dir(dir)?;
        }
        Ok(s)
    }

    /// Where the file is.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Appends bytes (a fragment).
    pub(crate) fn append(&mut self, data: &[u8]) -> Result<()> {
        self.out
            .write_all(data)
            .map_err(|e| RecordError::io(&self.path, e))?;
        self.bytes += data.len() as u64;
        Ok(())
    }

    /// Pushes buffered bytes to the kernel (not a sync): a crash of the process loses nothing.
    pub(crate) fn flush(&mut self) -> Result<()> {
        self.out.flush().map_err(|e| RecordError::io(&self.path, e))
    }

    /// Flushes, syncs the file and its directory.
    pub(crate) fn close(mut self) -> Result<u64> {
        self.flush()?;
        self.out
            .get_ref()
            .sync_all()
            .map_err(|e| RecordError::io(&self.path, e))?;
        if let Some(dir) = self.path.parent() {
            sync_dir(dir)?;
        }
        Ok(self.bytes)
    }
}

/// Runs blocking file work `f` on tokio's blocking pool; a task that panicked is an error about
/// `path`.
pub(crate) async fn off_runtime<T: Send + 'static>(
    path: &Path,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| RecordError::io(path, std::io::Error::other(e)))
}

/// `fsync` of a directory, so a created, truncated or removed entry is durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| RecordError::io(dir, e))
}
