//! Device signals and supervision. Signals are stored then published on the device channel.
//! Health is kept in memory (every frame refreshes `last_seen` without a disk write) and written
//! through when its state changes, plus a periodic flush of `last_seen`. A device silent past its
//! supervision interval turns to communication failure with an alert signal; its next message
//! clears it with a restore signal.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use xiaoan_core::model::Id;
use xiaoan_core::signal::{self, DeviceHealth, HealthState, Severity, Signal};
use xiaoan_store::StoreError;

use crate::Hub;

/// News about devices, published to live subscribers.
#[derive(Debug, Clone, PartialEq)]
pub enum DeviceNews {
    Signal(Signal),
    Health(DeviceHealth),
}

/// In-memory health, keyed by (source, device).
pub(crate) type HealthMap = HashMap<(String, String), DeviceHealth>;

/// Where a device belongs, as its receiver knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRef {
    pub source: String,
    pub device: String,
    pub school_id: Option<Id>,
    pub alarm_point_id: Option<Id>,
    /// Expected interval between messages (None: not supervised).
    pub supervision_secs: Option<i64>,
}

/// How often in-memory `last_seen` times are written to the store.
const FLUSH_EVERY: Duration = Duration::seconds(30);

impl Hub {
    /// Stores a signal durably and publishes it.
    pub async fn record_signal(&self, signal: Signal) -> Result<Signal, StoreError> {
        // Through the signal writer, so concurrent signals share one commit (one fsync).
        let (reply, answer) = tokio::sync::oneshot::channel();
        let gone = || StoreError::Unavailable("the signal writer has stopped".into());
        self.signals
            .send(crate::writer::SignalJob { signal, reply })
            .await
            .map_err(|_| gone())?;
        let stored = answer.await.map_err(|_| gone())??;
        self.publish_device(DeviceNews::Signal(stored.clone()));
        Ok(stored)
    }

    fn publish_device(&self, news: DeviceNews) {
        let _ = self.devices_live.send(Arc::new(news));
    }

    async fn write_health(&self, health: DeviceHealth) -> Result<(), StoreError> {
        let result = self.store.upsert_health(&health).await;
        self.storage
            .report(&result, "device health", self.clock.now());
        result?;
        self.publish_device(DeviceNews::Health(health));
        Ok(())
    }

    /// A device was heard from: refreshes `last_seen`; a device in communication failure is
    /// restored (with a signal). New devices are registered.
    pub async fn device_seen(&self, dev: &DeviceRef) -> Result<(), StoreError> {
        let now = self.clock.now();
        let (changed, restored) = {
            let mut map = self.health.lock().await;
            let key = (dev.source.clone(), dev.device.clone());
            match map.get_mut(&key) {
                Some(h) => {
                    h.last_seen = now;
                    let restored = h.state == HealthState::CommFailure;
                    let moved = h.school_id != dev.school_id
                        || h.alarm_point_id != dev.alarm_point_id
                        || h.supervision_secs != dev.supervision_secs;
                    if restored {
                        h.state = HealthState::Ok;
                        h.detail.clear();
                    }
                    h.school_id = dev.school_id;
                    h.alarm_point_id = dev.alarm_point_id;
                    h.supervision_secs = dev.supervision_secs;
                    h.updated_at = now;
                    ((restored || moved).then(|| h.clone()), restored)
                }
                None => {
                    // A new device in good health is published now and stored with the next
                    // flush: a crowd of devices registering at once costs no write each.
                    let h = DeviceHealth {
                        source: dev.source.clone(),
                        device: dev.device.clone(),
                        school_id: dev.school_id,
                        alarm_point_id: dev.alarm_point_id,
                        state: HealthState::Ok,
                        detail: String::new(),
                        last_seen: now,
                        supervision_secs: dev.supervision_secs,
                        updated_at: now,
                    };
                    map.insert(key, h.clone());
                    self.publish_device(DeviceNews::Health(h));
                    (None, false)
                }
            }
        };
        if let Some(h) = changed {
            self.write_health(h).await?;
        }
        if restored {
            self.record_signal(device_signal(
                dev,
                now,
                "comm_restored",
                Severity::Info,
                "通信恢复".into(),
            ))
            .await?;
        }
        Ok(())
    }

    /// Sets a device's condition (a warning with its reason, or ok again) and stores it.
    pub async fn set_device_condition(
        &self,
        dev: &DeviceRef,
        state: HealthState,
        detail: &str,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        let updated = {
            let mut map = self.health.lock().await;
            let h = map
                .entry((dev.source.clone(), dev.device.clone()))
                .or_insert_with(|| DeviceHealth {
                    source: dev.source.clone(),
                    device: dev.device.clone(),
                    school_id: dev.school_id,
                    alarm_point_id: dev.alarm_point_id,
                    state,
                    detail: String::new(),
                    last_seen: now,
                    supervision_secs: dev.supervision_secs,
                    updated_at: now,
                });
            if h.state == state && h.detail == detail {
                return Ok(());
            }
            h.state = state;
            h.detail = detail.to_owned();
            h.updated_at = now;
            h.clone()
        };
        self.write_health(updated).await
    }

    /// Marks devices silent past their interval as failed; flushes `last_seen` now and then.
    pub async fn supervise_devices(&self) -> Result<usize, StoreError> {
        let now = self.clock.now();
        let (failed, flush) = {
            let mut map = self.health.lock().await;
            let mut failed = Vec::new();
            // In place: with 100,000 devices a copy of the map each second would cost more than
            // the check.
            for h in map.values_mut() {
                if signal::is_newly_silent(h, now) {
                    h.state = HealthState::CommFailure;
                    let secs = (now - h.last_seen).num_seconds();
                    h.detail = format!("{secs}秒未收到设备信号（通信中断）");
                    h.updated_at = now;
                    failed.push(h.clone());
                }
            }
            let mut last_flush = self.health_flushed.lock().await;
            let flush = if now - *last_flush >= FLUSH_EVERY {
                *last_flush = now;
                map.values().cloned().collect()
            } else {
                Vec::new()
            };
            (failed, flush)
        };
        for h in &failed {
            tracing::warn!(source = %h.source, device = %h.device, school = ?h.school_id, "device communication failure");
            self.write_health(h.clone()).await?;
            let dev = DeviceRef {
                source: h.source.clone(),
                device: h.device.clone(),
                school_id: h.school_id,
                alarm_point_id: h.alarm_point_id,
                supervision_secs: h.supervision_secs,
            };
            self.record_signal(device_signal(
                &dev,
                now,
                "comm_failure",
                Severity::Alert,
                h.detail.clone(),
            ))
            .await?;
        }
        if !flush.is_empty() {
            let result = self.store.upsert_health_many(&flush).await;
            self.storage
                .report(&result, "device health", self.clock.now());
            result?;
        }
        Ok(failed.len())
    }

    /// Current health of every device (from memory).
    pub async fn device_health(&self) -> Vec<DeviceHealth> {
        let mut all: Vec<_> = self.health.lock().await.values().cloned().collect();
        all.sort_by(|a, b| (&a.source, &a.device).cmp(&(&b.source, &b.device)));
        all
    }
}

/// A signal about `dev` at `at`.
pub fn device_signal(
    dev: &DeviceRef,
    at: DateTime<Utc>,
    kind: &str,
    severity: Severity,
    summary: String,
) -> Signal {
    Signal {
        id: 0,
        at,
        school_id: dev.school_id,
        alarm_point_id: dev.alarm_point_id,
        source: dev.source.clone(),
        device: dev.device.clone(),
        kind: kind.into(),
        severity,
        summary,
        data: serde_json::Value::Null,
    }
}

/// Loads health from the store; every device gets a fresh grace period from `now` (the hub was
/// not listening while it was down).
pub(crate) fn initial_health(stored: Vec<DeviceHealth>, now: DateTime<Utc>) -> HealthMap {
    stored
        .into_iter()
        .map(|mut h| {
            if h.state != HealthState::CommFailure {
                h.last_seen = h.last_seen.max(now);
            }
            ((h.source.clone(), h.device.clone()), h)
        })
        .collect()
}
