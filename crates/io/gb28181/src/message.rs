//! `MESSAGE` with a MANSCDP body: keepalives keep a device supervised, alarms enter the incident
//! flow (`200 OK` only after the commit, then the platform's own `Response` `Alarm` `Result OK`),
//! catalog responses (possibly in several parts) are stored, device information is recorded;
//! an unknown `CmdType` gets `200 OK` and a log line, an unreadable body `400`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;
use xiaoan_core::gb::{GbChannel, GbDevice};
use xiaoan_core::signal::{HealthState, Severity, Signal};
use xiaoan_manscdp::{Body, CatalogItem, OnOff, Payload};
use xiaoan_sip::{Request, Response};

use crate::alarm;
use crate::peer::Peer;
use crate::platform::{Platform, SOURCE};

/// Parts of a catalog answer gathered until `SumNum` items have arrived.
#[derive(Debug, Default)]
pub struct CatalogParts {
    pub sn: u32,
    pub sum: u32,
    pub items: HashMap<String, CatalogItem>,
}

/// Handles a MESSAGE; the answer to send.
pub(crate) async fn handle(p: &Arc<Platform>, req: &Request, peer: Peer) -> Option<Response> {
    let sender = req
        .headers
        .from()
        .and_then(|f| f.user().map(str::to_owned))
        .unwrap_or_default();
    let body = match xiaoan_manscdp::decode(&req.body) {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(%peer.addr, device = %sender, error = %e, "gb28181 MESSAGE body unreadable: 400");
            return Some(p.reply(req, 400));
        }
    };
    if !known(p, &sender, peer) {
        tracing::warn!(%peer.addr, device = %sender, cmd = body.cmd_type(), "gb28181 MESSAGE from an unregistered device: 403");
        unregistered_signal(p, &sender, peer, &body).await;
        return Some(p.reply(req, 403));
    }
    match &body.payload {
        Payload::Keepalive(k) => {
            if let Err(e) = p.hub.device_seen(&p.device_ref(&sender)).await {
                tracing::warn!(device = %sender, error = %e, "gb28181: keepalive not recorded");
            }
            if !k.fault_devices.is_empty() {
                let detail = format!("设备报告故障通道：{}", k.fault_devices.join("、"));
                let _ = p
                    .hub
                    .set_device_condition(&p.device_ref(&sender), HealthState::Warning, &detail)
                    .await;
            }
            Some(p.reply(req, 200))
        }
        Payload::Alarm(notify) => {
            let now = p.hub.clock().now();
            let effect = alarm::effect(p, &sender, &body, notify, peer, now);
            if let Err(e) = alarm::commit(p, &effect).await {
                return Some(alarm::not_stored(p, req, &sender, &e));
            }
            let _ = p.hub.device_seen(&p.device_ref(&sender)).await;
            let p2 = p.clone();
            let ack = Body::alarm_ack(&body);
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                if let Err(e) = p2.send_manscdp(&sender, &ack).await {
                    tracing::warn!(device = %sender, error = %e, "gb28181: alarm Response not answered");
                }
            });
            Some(p.reply(req, 200))
        }
        Payload::Catalog(c) => {
            let done = gather(p, &sender, body.sn, c.sum_num, &c.items);
            if let Some(items) = done {
                save_catalog(p, &sender, items).await;
            }
            Some(p.reply(req, 200))
        }
        Payload::DeviceInfo(info) => {
            let now = p.hub.clock().now();
            let reg = p.registration(&sender);
            let d = GbDevice {
                id: sender.clone(),
                name: info.device_name.clone().unwrap_or_default(),
                manufacturer: info.manufacturer.clone().unwrap_or_default(),
                model: info.model.clone().unwrap_or_default(),
                firmware: info.firmware.clone().unwrap_or_default(),
                transport: peer.transport_name().into(),
                remote: peer.addr.to_string(),
                online: true,
                registered_at: None,
                expires_at: reg.map(|r| r.expires_at),
                last_seen: Some(now),
                school_id: None,
            };
            if let Err(e) = p.writer.write(d).await {
                tracing::warn!(device = %sender, error = %e, "gb28181: device information not stored");
            }
            Some(p.reply(req, 200))
        }
        Payload::Unknown { cmd_type } => {
            tracing::info!(device = %sender, cmd = %cmd_type, root = body.root.as_str(), "gb28181: MESSAGE with an unhandled CmdType, answered 200");
            Some(p.reply(req, 200))
        }
        other => {
            tracing::debug!(device = %sender, cmd = other.cmd_type(), "gb28181 MESSAGE");
            Some(p.reply(req, 200))
        }
    }
}

/// A registered device (learning its current address, NAT may have moved it).
fn known(p: &Platform, device: &str, peer: Peer) -> bool {
    let Ok(mut m) = p.registrations.lock() else {
        return false;
    };
    match m.get_mut(device) {
        Some(r) => {
            if r.peer.transport == peer.transport {
                r.peer = peer;
            }
            true
        }
        None => false,
    }
}

async fn unregistered_signal(p: &Platform, device: &str, peer: Peer, body: &Body) {
    let now = p.hub.clock().now();
    let mut data = json!({
        "peer": peer.addr.to_string(),
        "cmd_type": body.cmd_type(),
        "device_id": body.device_id,
        "summary_en": format!("{} from unregistered GB/T 28181 device {device}", body.cmd_type()),
    });
    if let Payload::Alarm(n) = &body.payload {
        let c = n.classify();
        data["text_zh"] = json!(c.kind.label_zh());
        data["text_en"] = json!(c.kind.label_en());
        data["description"] = json!(n.description);
    }
    let signal = Signal {
        id: 0,
        at: now,
        school_id: None,
        alarm_point_id: None,
        source: SOURCE.into(),
        device: device.into(),
        kind: "unregistered_device".into(),
        severity: Severity::Alert,
        summary: format!(
            "未注册的国标设备 {device} 发来 {}（{}）",
            body.cmd_type(),
            peer.addr
        ),
        data,
    };
    if let Err(e) = p.hub.record_signal(signal).await {
        tracing::warn!(error = %e, "gb28181: signal not stored");
    }
}

/// Adds a catalog part; returns every item once `SumNum` have arrived.
fn gather(
    p: &Platform,
    device: &str,
    sn: u32,
    sum: u32,
    items: &[CatalogItem],
) -> Option<Vec<CatalogItem>> {
    let mut all = p.catalogs.lock().ok()?;
    let parts = all.entry(device.to_owned()).or_default();
    if parts.sn != sn {
        *parts = CatalogParts {
            sn,
            sum,
            items: HashMap::new(),
        };
    }
    for i in items {
        parts.items.insert(i.device_id.clone(), i.clone());
    }
    if parts.items.len() as u64 >= u64::from(parts.sum) {
        let done = all.remove(device)?;
        Some(done.items.into_values().collect())
    } else {
        None
    }
}

async fn save_catalog(p: &Platform, device: &str, items: Vec<CatalogItem>) {
    let now = p.hub.clock().now();
    let channels: Vec<GbChannel> = items.into_iter().map(|i| channel(device, i, now)).collect();
    let n = channels.len();
    match p.writer.catalog(device, channels).await {
        Ok(()) => tracing::info!(device = %device, channels = n, "gb28181 catalog stored"),
        Err(e) => tracing::warn!(device = %device, error = %e, "gb28181: catalog not stored"),
    }
}

fn channel(device: &str, i: CatalogItem, now: DateTime<Utc>) -> GbChannel {
    GbChannel {
        type_code: xiaoan_core::gb::type_code(&i.device_id),
        id: i.device_id,
        device_id: device.to_owned(),
        name: i.name.unwrap_or_default(),
        status: match i.status {
            Some(OnOff::On) => "ON".into(),
            Some(OnOff::Off) => "OFF".into(),
            None => String::new(),
        },
        manufacturer: i.manufacturer.unwrap_or_default(),
        model: i.model.unwrap_or_default(),
        address: i.address.unwrap_or_default(),
        longitude: i.longitude.filter(|v| *v != 0.0),
        latitude: i.latitude.filter(|v| *v != 0.0),
        school_id: None,
        alarm_point_id: None,
        updated_at: now,
    }
}

/// Asks a newly registered device for its catalog and its device information, and subscribes
/// to its alarms.
pub(crate) async fn query_device(p: &Arc<Platform>, device: &str) {
    // After a power cut thousands of devices register at once: their queries wait their turn so
    // registrations (and alarms) keep the processor first.
    let Ok(_turn) = p.queries.acquire().await else {
        return;
    };
    let sn = next_sn();
    for body in [
        Body::catalog_query(sn, device),
        Body::device_info_query(sn + 1, device),
    ] {
        if let Err(e) = p.send_manscdp(device, &body).await {
            tracing::warn!(device = %device, cmd = body.cmd_type(), error = %e, "gb28181 query not answered");
        }
    }
    if p.config.subscribe_alarms {
        crate::control::subscribe_alarms(p, device).await;
    }
}

/// A fresh `SN` for the platform's own bodies.
pub(crate) fn next_sn() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static SN: AtomicU32 = AtomicU32::new(1);
    SN.fetch_add(2, Ordering::Relaxed)
}
