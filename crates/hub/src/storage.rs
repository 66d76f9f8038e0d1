//! Whether storage takes writes, as the hub last saw it. Every write the hub makes (alarm
//! batches, signals, operator commands) reports here; the first failure of an episode logs one
//! error and flips the state to failing, the first success afterwards logs the recovery and flips
//! it back. Failures in between are counted, not logged, so a flood of retrying panels does not
//! flood the log. The state is a `watch` channel: `/healthz` reads it, every console's event
//! stream follows it (the red storage banner).
//!
//! Only [`StoreError::Unavailable`] (disk full, I/O error, read-only, locked too long) counts:
//! refusals of the domain or missing records say nothing about the disk.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::watch;
use xiaoan_store::StoreError;

/// The storage state shown on the console and `/healthz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StorageState {
    /// Writes work (as of the last write).
    pub ok: bool,
    /// When the state last changed (the start of the failure, or of the recovery).
    pub since: DateTime<Utc>,
    /// The storage's own words for the failure (None when ok).
    pub error: Option<String>,
    /// Writes refused since the failure began (0 when ok).
    pub refused: u64,
}

impl StorageState {
    pub(crate) fn ok(now: DateTime<Utc>) -> Self {
        Self {
            ok: true,
            since: now,
            error: None,
            refused: 0,
        }
    }
}

/// The hub's side of the watch.
pub(crate) struct StorageWatch {
    tx: watch::Sender<StorageState>,
}

impl StorageWatch {
    pub(crate) fn new(now: DateTime<Utc>) -> Self {
        Self {
            tx: watch::Sender::new(StorageState::ok(now)),
        }
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<StorageState> {
        self.tx.subscribe()
    }

    pub(crate) fn current(&self) -> StorageState {
        self.tx.borrow().clone()
    }

    /// Reports the outcome of one write (`what`: what was being written, for the log).
    pub(crate) fn report<T>(
        &self,
        result: &Result<T, StoreError>,
        what: &'static str,
        now: DateTime<Utc>,
    ) {
        match result {
            Ok(_) => self.succeeded(now),
            Err(e) => self.failed(e, what, now),
        }
    }

    pub(crate) fn succeeded(&self, now: DateTime<Utc>) {
        self.tx.send_if_modified(|s| {
            if s.ok {
                return false;
            }
            let down = (now - s.since).num_milliseconds() as f64 / 1000.0;
            tracing::warn!(
                failed_for_secs = down,
                refused = s.refused,
                "storage recovered: writes work again, alarms are being stored and acknowledged"
            );
            *s = StorageState::ok(now);
            true
        });
    }

    pub(crate) fn failed(&self, e: &StoreError, what: &'static str, now: DateTime<Utc>) {
        let StoreError::Unavailable(message) = e else {
            return;
        };
        self.tx.send_if_modified(|s| {
            if !s.ok {
                s.refused += 1;
                // Counted silently: the console shows the count, the log has the episode.
                return false;
            }
            tracing::error!(
                error = %message,
                while_writing = what,
                "STORAGE FAILURE: alarms cannot be saved and are NOT acknowledged (senders retry) until storage recovers"
            );
            *s = StorageState {
                ok: false,
                since: now,
                error: Some(message.clone()),
                refused: 1,
            };
            true
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap_or_default()
    }

    #[test]
    fn an_episode_is_one_change_each_way_and_counts_refusals() {
        let w = StorageWatch::new(t(0));
        let mut rx = w.subscribe();
        rx.mark_unchanged();
        let full = StoreError::Unavailable("database or disk is full".into());
        w.failed(&full, "alarms", t(1));
        assert!(rx.has_changed().unwrap_or(false));
        rx.mark_unchanged();
        for i in 0..10 {
            w.failed(&full, "alarms", t(2 + i));
        }
        assert!(!rx.has_changed().unwrap_or(true), "repeats change nothing");
        let s = w.current();
        assert!(!s.ok);
        assert_eq!(s.since, t(1));
        assert_eq!(s.refused, 11);
        assert_eq!(s.error.as_deref(), Some("database or disk is full"));
        // A refusal of the domain says nothing about the disk.
        w.failed(&StoreError::NotFound("incident"), "commands", t(20));
        assert_eq!(w.current().refused, 11);
        w.succeeded(t(30));
        assert!(rx.has_changed().unwrap_or(false));
        assert_eq!(w.current(), StorageState::ok(t(30)));
    }

    #[test]
    fn other_errors_do_not_start_an_episode() {
        let w = StorageWatch::new(t(0));
        w.failed(&StoreError::Other("bug".into()), "alarms", t(1));
        w.failed(&StoreError::Conflict("dup".into()), "alarms", t(1));
        assert!(w.current().ok);
    }
}
