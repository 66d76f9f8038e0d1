//! Free space on the disk holding the data directory.

use std::path::Path;

/// Bytes available to us on the filesystem of `path`, if it can be asked.
pub fn free_bytes(path: &Path) -> Option<u64> {
    let st = rustix::fs::statvfs(path).ok()?;
    Some(st.f_bavail.saturating_mul(st.f_frsize))
}
