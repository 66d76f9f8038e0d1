//! Counters the hub keeps for `/metrics`. Plain atomics; the web layer renders them.

use std::sync::atomic::{AtomicU64, Ordering};

use xiaoan_store::RaiseOutcome;

/// Hub counters.
#[derive(Debug, Default)]
pub struct Metrics {
    alarms_raised: AtomicU64,
    alarms_joined: AtomicU64,
    alarms_replayed: AtomicU64,
    store_failures: AtomicU64,
    escalations: AtomicU64,
}

impl Metrics {
    pub(crate) fn record_raise(&self, outcome: &RaiseOutcome) {
        let counter = if outcome.replayed {
            &self.alarms_replayed
        } else if outcome.joined {
            &self.alarms_joined
        } else {
            &self.alarms_raised
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn record_store_failure(&self) {
        self.store_failures.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn record_escalation(&self) {
        self.escalations.fetch_add(1, Ordering::Relaxed);
    }

    /// `(name, help, value)` for each counter.
    pub fn counters(&self) -> [(&'static str, &'static str, u64); 5] {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        [
            (
                "xiaoan_alarms_raised_total",
                "Alarms that opened a new incident.",
                get(&self.alarms_raised),
            ),
            (
                "xiaoan_alarms_joined_total",
                "Alarms that joined an open incident.",
                get(&self.alarms_joined),
            ),
            (
                "xiaoan_alarms_replayed_total",
                "Retries answered from an idempotency key.",
                get(&self.alarms_replayed),
            ),
            (
                "xiaoan_alarm_store_failures_total",
                "Alarms refused because they could not be stored.",
                get(&self.store_failures),
            ),
            (
                "xiaoan_escalations_total",
                "Incidents escalated for being unclaimed.",
                get(&self.escalations),
            ),
        ]
    }
}
