//! The escalation loop: once a second, incidents left unclaimed past the configured time are
//! escalated (marked, pushed to supervisors and the bureau through the live stream). The decision
//! is [`xiaoan_core::escalation`]'s; this file only runs it on a timer.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use xiaoan_core::escalation;
use xiaoan_core::incident::{Actor, Command, IncidentState};
use xiaoan_store::{IncidentFilter, StoreError};

use crate::Hub;

impl Hub {
    /// Escalates every incident due now; returns how many were escalated.
    pub async fn escalate_due(&self) -> Result<usize, StoreError> {
        let open = self
            .store
            .list_incidents(&IncidentFilter {
                school_ids: None,
                states: vec![IncidentState::Received],
                limit: None,
            })
            .await?;
        let now = self.clock.now();
        let mut done = 0;
        for incident in escalation::due(&open, now, self.settings.escalate_after) {
            match self
                .act(incident.id, &Command::Escalate, &Actor::system())
                .await
            {
                Ok(_) => {
                    done += 1;
                    self.metrics.record_escalation();
                    tracing::warn!(
                        incident = incident.id,
                        school = incident.school_id,
                        "incident unclaimed: escalated"
                    );
                }
                // Claimed in the meantime: nothing to do.
                Err(StoreError::Transition(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }

    /// Runs [`Hub::escalate_due`] and device supervision every second until `shutdown`.
    pub async fn run_escalation(self: Arc<Self>, shutdown: CancellationToken) {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => {
                    if let Err(e) = self.escalate_due().await {
                        log_tick_failure(&e, "escalation check failed");
                    }
                    if let Err(e) = self.supervise_devices().await {
                        log_tick_failure(&e, "device supervision failed");
                    }
                }
            }
        }
    }
}

/// A storage failure is logged once per episode by the storage state (`storage.rs`), not every
/// second here; anything else is an error each time.
fn log_tick_failure(e: &StoreError, what: &'static str) {
    if matches!(e, StoreError::Unavailable(_)) {
        tracing::debug!(error = %e, "{what} (storage failing)");
    } else {
        tracing::error!(error = %e, "{what}");
    }
}
