//! Group commit: every raise goes through one writer task that takes all alarms waiting at that
//! moment (up to [`MAX_BATCH`]), stores them with one transaction and one fsync
//! ([`xiaoan_store::Store::raise_alarms`]), publishes their events in id order and only then
//! answers each caller. Under light load a batch is one alarm and nothing waits; under heavy load
//! the fsync cost is shared instead of queuing one fsync per alarm.
//!
//! Device signals (periodic tests, trouble reports) have their own writer of the same kind
//! ([`run_signals`]): a flood of them shares fsyncs too instead of taking one transaction each.

use std::sync::Weak;

use tokio::sync::{mpsc, oneshot};
use xiaoan_core::signal::Signal;
use xiaoan_store::{RaiseOutcome, RaiseRequest, StoreError};

use crate::Hub;

/// Alarms that may wait for the writer before callers are held back.
pub(crate) const QUEUE: usize = 8192;
/// Most alarms committed together.
pub(crate) const MAX_BATCH: usize = 512;

/// One alarm waiting to be committed, and where its answer goes.
pub(crate) struct RaiseJob {
    pub(crate) request: RaiseRequest,
    pub(crate) reply: oneshot::Sender<Result<RaiseOutcome, StoreError>>,
}

/// One signal waiting to be stored, and where its answer (the stored signal) goes.
pub(crate) struct SignalJob {
    pub(crate) signal: Signal,
    pub(crate) reply: oneshot::Sender<Result<Signal, StoreError>>,
}

/// Stores waiting signals in batches (one transaction each) until the hub is dropped.
pub(crate) async fn run_signals(hub: Weak<Hub>, mut queue: mpsc::Receiver<SignalJob>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let Some(hub) = hub.upgrade() else { return };
        let (signals, replies): (Vec<_>, Vec<_>) = std::mem::take(&mut jobs)
            .into_iter()
            .map(|j| (j.signal, j.reply))
            .unzip();
        match hub.store.record_signals(&signals).await {
            Ok(stored) => {
                for (signal, reply) in stored.into_iter().zip(replies) {
                    let _ = reply.send(Ok(signal));
                }
            }
            Err(e) => {
                for reply in replies {
                    let _ = reply.send(Err(for_each(&e)));
                }
            }
        }
    }
}

/// A batch failure, repeated for each alarm of the batch.
fn for_each(e: &StoreError) -> StoreError {
    match e {
        StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
        other => StoreError::Other(other.to_string()),
    }
}

/// Runs until the hub is dropped.
pub(crate) async fn run(hub: Weak<Hub>, mut queue: mpsc::Receiver<RaiseJob>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let Some(hub) = hub.upgrade() else { return };
        hub.commit(std::mem::take(&mut jobs)).await;
    }
}

impl Hub {
    async fn commit(&self, jobs: Vec<RaiseJob>) {
        let (requests, replies): (Vec<_>, Vec<_>) =
            jobs.into_iter().map(|j| (j.request, j.reply)).unzip();
        let _order = self.publish_order.lock().await;
        let results = match self.store.raise_alarms(&requests, self.clock.now()).await {
            Ok(results) => results,
            Err(e) => requests.iter().map(|_| Err(for_each(&e))).collect(),
        };
        for ((request, reply), result) in requests.iter().zip(replies).zip(results) {
            match &result {
                Ok(outcome) => {
                    self.metrics.record_raise(outcome);
                    // With no subscriber a send is dropped anyway: skip building the events.
                    if self.live.receiver_count() > 0 {
                        for entry in &outcome.entries {
                            self.publish(entry.clone(), outcome.incident.clone());
                        }
                    }
                }
                Err(e) => {
                    self.metrics.record_store_failure();
                    let alarm = &request.alarm;
                    tracing::error!(error = %e, point = alarm.alarm_point_id, source = %alarm.source, "alarm NOT stored");
                }
            }
            // The caller may have given up (client gone); the alarm is stored regardless.
            let _ = reply.send(result);
        }
    }
}
