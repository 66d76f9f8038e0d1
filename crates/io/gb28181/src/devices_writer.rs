//! Group commit for what devices tell about themselves: every REGISTER's device row, device
//! information and catalog goes through one writer task that stores everything waiting at that
//! moment together, then answers each caller, so a crowd of devices registering at once (after a
//! power cut, or at start-up) shares commits instead of queuing one each.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use xiaoan_core::gb::{GbChannel, GbDevice};
use xiaoan_store::{Store, StoreError};

/// Most rows committed together.
const MAX_BATCH: usize = 1024;

enum Write {
    Device(GbDevice),
    Catalog(String, Vec<GbChannel>),
}

struct Job {
    write: Write,
    reply: oneshot::Sender<Result<(), StoreError>>,
}

/// Sends device rows to the writer task.
#[derive(Debug, Clone)]
pub struct DeviceWriter {
    queue: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let device = match &self.write {
            Write::Device(d) => &d.id,
            Write::Catalog(id, _) => id,
        };
        f.debug_struct("Job").field("device", device).finish()
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
        self.send(Write::Device(device)).await
    }

    /// Replaces a device's catalog; returns once it is durable.
    pub async fn catalog(
        &self,
        device_id: &str,
        channels: Vec<GbChannel>,
    ) -> Result<(), StoreError> {
        self.send(Write::Catalog(device_id.to_owned(), channels))
            .await
    }

    async fn send(&self, write: Write) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        let gone = || StoreError::Unavailable("the device writer has stopped".into());
        self.queue
            .send(Job { write, reply })
            .await
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

async fn run(store: Arc<dyn Store>, mut rx: mpsc::Receiver<Job>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let mut devices = Vec::new();
        let mut catalogs = Vec::new();
        let mut replies = Vec::with_capacity(jobs.len());
        for j in std::mem::take(&mut jobs) {
            match j.write {
                Write::Device(d) => devices.push(d),
                Write::Catalog(id, c) => catalogs.push((id, c)),
            }
            replies.push(j.reply);
        }
        let mut result = Ok(());
        if !devices.is_empty() {
            result = store.upsert_gb_devices(&devices).await;
        }
        if result.is_ok() && !catalogs.is_empty() {
            result = store.save_gb_catalogs(&catalogs).await;
        }
        for reply in replies {
            let _ = reply.send(match &result {
                Ok(()) => Ok(()),
                Err(e) => Err(StoreError::Unavailable(e.to_string())),
            });
        }
    }
}
