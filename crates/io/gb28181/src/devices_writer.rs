//! Group commit for device registrations: every REGISTER's device row goes through one writer
//! task that stores all rows waiting at that moment in one transaction (one fsync), then answers
//! each caller, so a crowd of devices registering at once (after a power cut, or at start-up)
//! shares fsyncs instead of queuing one each.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use xiaoan_core::gb::GbDevice;
use xiaoan_store::{Store, StoreError};

/// Most rows committed together.
const MAX_BATCH: usize = 1024;

struct Job {
    device: GbDevice,
    reply: oneshot::Sender<Result<(), StoreError>>,
}

/// Sends device rows to the writer task.
#[derive(Debug, Clone)]
pub struct DeviceWriter {
    queue: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("device", &self.device.id)
            .finish()
    }
}

impl DeviceWriter {
    /// Starts the writer task over `store`; it ends when every sender is dropped.
    pub fn start(store: Arc<dyn Store>) -> Self {
        let (queue, rx) = mpsc::channel(8192);
        tokio::spawn(run(store, rx));
        Self { queue }
    }

    /// Stores `device` (insert or update); returns once it is durable.
    pub async fn write(&self, device: GbDevice) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        let gone = || StoreError::Unavailable("the device writer has stopped".into());
        self.queue
            .send(Job { device, reply })
            .await
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

async fn run(store: Arc<dyn Store>, mut rx: mpsc::Receiver<Job>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let (devices, replies): (Vec<_>, Vec<_>) = std::mem::take(&mut jobs)
            .into_iter()
            .map(|j| (j.device, j.reply))
            .unzip();
        let result = store.upsert_gb_devices(&devices).await;
        for reply in replies {
            let _ = reply.send(match &result {
                Ok(()) => Ok(()),
                Err(e) => Err(StoreError::Unavailable(e.to_string())),
            });
        }
    }
}
