//! The running alarm centre. Every alarm source (the web button today, DC-09 and GB/T 28181
//! listeners later) raises through [`Hub::raise`]; every operator action goes through
//! [`Hub::act`]. The hub commits through the [`Store`] first and only then publishes the change to
//! live subscribers, in event-id order, so the console never shows what was not stored and a
//! subscriber that resumes from the store by event id sees no gap.
//!
//! Owns: the live broadcast, the directory snapshot, the escalation loop, device health and the
//! camera registry ([`cameras`]). Never touches HTTP or
//! sockets.

pub mod cameras;
mod devices;
mod escalator;
mod metrics;
mod storage;
mod writer;

use std::sync::Arc;

use chrono::Duration;
use tokio::sync::{Mutex, RwLock, broadcast, mpsc, oneshot};
use xiaoan_base::Clock;
use xiaoan_core::incident::{Actor, Command, Incident, NewAlarm, TimelineEntry};
use xiaoan_core::model::Directory;
use xiaoan_store::{IdempotencyKey, RaiseOutcome, RaiseRequest, Store, StoreError};

pub use devices::{DeviceNews, DeviceRef, device_signal};
pub use metrics::Metrics;
pub use storage::StorageState;

/// One committed change, as published to live subscribers.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveEvent {
    pub entry: TimelineEntry,
    pub incident: Incident,
}

/// How the hub behaves.
#[derive(Debug, Clone)]
pub struct HubSettings {
    /// Unclaimed incidents escalate after this long.
    pub escalate_after: Duration,
}

impl Default for HubSettings {
    fn default() -> Self {
        Self {
            escalate_after: Duration::seconds(30),
        }
    }
}

/// The alarm centre: store + clock + live broadcast.
pub struct Hub {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    settings: HubSettings,
    directory: RwLock<Arc<Directory>>,
    live: broadcast::Sender<Arc<LiveEvent>>,
    /// Held across "commit then publish" so subscribers see events in id order.
    publish_order: Mutex<()>,
    metrics: Metrics,
    /// Alarms waiting for the group-commit writer.
    raises: mpsc::Sender<writer::RaiseJob>,
    /// Signals waiting for their group-commit writer.
    signals: mpsc::Sender<writer::SignalJob>,
    /// Signals and health changes for live subscribers.
    devices_live: broadcast::Sender<Arc<DeviceNews>>,
    health: Mutex<devices::HealthMap>,
    health_flushed: Mutex<chrono::DateTime<chrono::Utc>>,
    /// Whether writes work, as the last write found (`storage.rs`).
    storage: storage::StorageWatch,
}

impl Hub {
    /// A hub over `store`, with the directory loaded from it.
    pub async fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        settings: HubSettings,
    ) -> Result<Arc<Self>, StoreError> {
        let directory = store.load_directory().await?;
        let now = clock.now();
        let health = devices::initial_health(store.list_health(None).await?, now);
        let (live, _) = broadcast::channel(4096);
        let (devices_live, _) = broadcast::channel(4096);
        let (raises, queue) = mpsc::channel(writer::QUEUE);
        let (signals, signal_queue) = mpsc::channel(writer::QUEUE);
        let hub = Arc::new(Self {
            store,
            clock,
            settings,
            directory: RwLock::new(Arc::new(directory)),
            live,
            publish_order: Mutex::new(()),
            metrics: Metrics::default(),
            raises,
            signals,
            devices_live,
            health: Mutex::new(health),
            health_flushed: Mutex::new(now),
            storage: storage::StorageWatch::new(now),
        });
        tokio::spawn(writer::run(Arc::downgrade(&hub), queue, signal_queue));
        Ok(hub)
    }

    /// The store, for reads.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The settings.
    pub fn settings(&self) -> &HubSettings {
        &self.settings
    }

    /// Counters for `/metrics`.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The current directory snapshot.
    pub async fn directory(&self) -> Arc<Directory> {
        self.directory.read().await.clone()
    }

    /// Reloads the directory after it changed in the store.
    pub async fn reload_directory(&self) -> Result<(), StoreError> {
        let fresh = self.store.load_directory().await?;
        *self.directory.write().await = Arc::new(fresh);
        Ok(())
    }

    /// A receiver of every change committed from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LiveEvent>> {
        self.live.subscribe()
    }

    /// A receiver of device signals and health changes from now on.
    pub fn subscribe_devices(&self) -> broadcast::Receiver<Arc<DeviceNews>> {
        self.devices_live.subscribe()
    }

    /// Whether storage takes writes, as the last write found.
    pub fn storage_state(&self) -> StorageState {
        self.storage.current()
    }

    /// Follows the storage state: changes when a failure episode starts or ends.
    pub fn watch_storage(&self) -> tokio::sync::watch::Receiver<StorageState> {
        self.storage.subscribe()
    }

    /// Number of live subscribers.
    pub fn subscribers(&self) -> usize {
        self.live.receiver_count()
    }

    /// Raises an alarm: stored durably, then published. Returns only after the commit. Alarms
    /// arriving together share one commit (one fsync); see `writer.rs`.
    pub async fn raise(
        &self,
        alarm: &NewAlarm,
        key: Option<&IdempotencyKey>,
    ) -> Result<RaiseOutcome, StoreError> {
        self.raise_request(RaiseRequest {
            alarm: alarm.clone(),
            key: key.cloned(),
        })
        .await
    }

    /// [`Hub::raise`] for a caller that owns the request (no copy of the alarm's details).
    pub async fn raise_request(&self, request: RaiseRequest) -> Result<RaiseOutcome, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job = writer::RaiseJob { request, reply };
        let gone = || StoreError::Unavailable("the alarm writer has stopped".into());
        self.raises.send(job).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }

    /// Applies an operator's (or the system's) command: stored durably, then published.
    pub async fn act(
        &self,
        incident_id: i64,
        command: &Command,
        actor: &Actor,
    ) -> Result<(Incident, TimelineEntry), StoreError> {
        let _order = self.publish_order.lock().await;
        let result = self
            .store
            .apply_command(incident_id, command, actor, self.clock.now())
            .await;
        self.storage
            .report(&result, "an incident command", self.clock.now());
        let (incident, entry) = result?;
        self.publish(entry.clone(), incident.clone());
        Ok((incident, entry))
    }

    fn publish(&self, entry: TimelineEntry, incident: Incident) {
        // No subscribers is fine: the event log in the store is the source of truth.
        let _ = self.live.send(Arc::new(LiveEvent { entry, incident }));
    }
}

#[cfg(test)]
mod tests;
