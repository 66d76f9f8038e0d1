//! The storage fault switch: a handle that makes the SQLite store's writes fail the way a full
//! disk (`SQLITE_FULL`) or a failing disk (`SQLITE_IOERR`) makes them fail, without root or a
//! real device. Reads keep working, as they do on a full disk. Every clone of a store shares one
//! switch ([`SqliteStore::faults`](super::SqliteStore::faults)), so a test holds the handle while
//! the server runs and flips it to check that nothing is acknowledged while writes fail and that
//! everything recovers once they work again.
//!
//! Checked where writes begin (`begin_write`) and where a batch's writes meet their `COMMIT`
//! (`WriteTx::commit_with`); when off, the cost is one relaxed atomic load.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::StoreError;

/// What the next writes do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Writes work.
    None,
    /// Writes fail as on a full disk.
    DiskFull,
    /// Writes fail with an I/O error.
    IoError,
}

/// The shared switch. Off by default.
#[derive(Debug, Clone, Default)]
pub struct FaultInjector(Arc<AtomicU8>);

impl FaultInjector {
    /// Makes every write from now on fail with `fault` (or work again with [`Fault::None`]).
    pub fn set(&self, fault: Fault) {
        let v = match fault {
            Fault::None => 0,
            Fault::DiskFull => 1,
            Fault::IoError => 2,
        };
        self.0.store(v, Ordering::SeqCst);
    }

    /// The fault now in force.
    pub fn get(&self) -> Fault {
        match self.0.load(Ordering::Relaxed) {
            0 => Fault::None,
            1 => Fault::DiskFull,
            _ => Fault::IoError,
        }
    }

    /// `Err` with SQLite's own words for the fault in force.
    pub(super) fn check(&self) -> Result<(), StoreError> {
        let message = match self.get() {
            Fault::None => return Ok(()),
            Fault::DiskFull => "database or disk is full (injected fault)",
            Fault::IoError => "disk I/O error (injected fault)",
        };
        tracing::warn!(message, "sqlite cannot write");
        Err(StoreError::Unavailable(message.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_switch_is_shared_by_clones_and_off_by_default() {
        let a = FaultInjector::default();
        let b = a.clone();
        assert!(a.check().is_ok());
        b.set(Fault::DiskFull);
        assert!(matches!(a.check(), Err(StoreError::Unavailable(m)) if m.contains("full")));
        b.set(Fault::IoError);
        assert!(matches!(a.check(), Err(StoreError::Unavailable(m)) if m.contains("I/O")));
        a.set(Fault::None);
        assert!(b.check().is_ok());
    }
}
