//! Group commit: every raise goes through one writer task that takes all alarms waiting at that
//! moment (up to [`MAX_BATCH`]), stores them with one transaction and one fsync
//! ([`xiaoan_store::Store::raise_alarms`]), publishes their events in id order and only then
//! answers each caller. Under light load a batch is one alarm and nothing waits; under heavy load
//! the fsync cost is shared instead of queuing one fsync per alarm.
//!
//! Device signals (periodic tests, trouble reports) go through the same task: those waiting when
//! a batch starts are stored with it, in the same transaction ([`run`]), so a flood of them
//! shares the alarms' fsyncs instead of taking transactions of its own between them.

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

/// A batch failure, repeated for each alarm of the batch.
fn for_each(e: &StoreError) -> StoreError {
    match e {
        StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
        other => StoreError::Other(other.to_string()),
    }
}

/// Runs until the hub is dropped: each round takes every alarm and signal waiting (up to
/// [`MAX_BATCH`] of each) and stores them, the signals in the alarm batch's transaction when both
/// are there (the store writes signals queued during an alarm batch with it, see
/// `xiaoan_store::sqlite`), so a flood of alarms and periodic tests shares one fsync per round.
pub(crate) async fn run(
    hub: Weak<Hub>,
    mut alarms: mpsc::Receiver<RaiseJob>,
    mut signals: mpsc::Receiver<SignalJob>,
) {
    let mut raises = Vec::with_capacity(MAX_BATCH);
    let mut noted = Vec::with_capacity(MAX_BATCH);
    let (mut alarms_open, mut signals_open) = (true, true);
    while alarms_open || signals_open {
        tokio::select! {
            n = alarms.recv_many(&mut raises, MAX_BATCH), if alarms_open => alarms_open = n > 0,
            n = signals.recv_many(&mut noted, MAX_BATCH), if signals_open => signals_open = n > 0,
        }
        // Whatever else is waiting joins this round.
        while raises.len() < MAX_BATCH
            && let Ok(job) = alarms.try_recv()
        {
            raises.push(job);
        }
        while noted.len() < MAX_BATCH
            && let Ok(job) = signals.try_recv()
        {
            noted.push(job);
        }
        let Some(hub) = hub.upgrade() else { return };
        let (raises, noted) = (std::mem::take(&mut raises), std::mem::take(&mut noted));
        tokio::join!(
            async {
                if !raises.is_empty() {
                    hub.commit(raises).await;
                }
            },
            async {
                if !noted.is_empty() {
                    // Let the alarm batch start first, so it carries the signals.
                    tokio::task::yield_now().await;
                    hub.store_signals(noted).await;
                }
            }
        );
    }
}

impl Hub {
    async fn store_signals(&self, jobs: Vec<SignalJob>) {
        let (signals, replies): (Vec<_>, Vec<_>) =
            jobs.into_iter().map(|j| (j.signal, j.reply)).unzip();
        let result = self.store.record_signals(&signals).await;
        self.storage
            .report(&result, "device signals", self.clock.now());
        match result {
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

    async fn commit(&self, jobs: Vec<RaiseJob>) {
        let (requests, replies): (Vec<_>, Vec<_>) =
            jobs.into_iter().map(|j| (j.request, j.reply)).unzip();
        let _order = self.publish_order.lock().await;
        let batch = self.store.raise_alarms(&requests, self.clock.now()).await;
        self.storage.report(&batch, "alarms", self.clock.now());
        let results = match batch {
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
                    if matches!(e, StoreError::Unavailable(_)) {
                        // The episode is logged once (`storage.rs`); each refusal only here.
                        tracing::debug!(error = %e, point = alarm.alarm_point_id, source = %alarm.source, "alarm NOT stored: storage failing");
                    } else {
                        tracing::error!(error = %e, point = alarm.alarm_point_id, source = %alarm.source, "alarm NOT stored");
                    }
                }
            }
            // The caller may have given up (client gone); the alarm is stored regardless.
            let _ = reply.send(result);
        }
    }
}
