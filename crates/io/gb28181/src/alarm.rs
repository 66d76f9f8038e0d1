//! A device's `Notify`/`Alarm` → what it asks for: an incident at the alarm point its channel is
//! bound to (priority 1 at a one-key point, else the device's `AlarmPriority` or the kind's
//! default), or a device-health signal for faults; an alarm from an unbound channel is shown to
//! supervisors as a signal. Retransmitted alarms share one idempotency key. An alarm that could not
//! be stored is answered `503` (`not_stored`), never `200`.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use xiaoan_core::incident::{Actor, NewAlarm};
use xiaoan_core::signal::{HealthState, Severity, Signal};
use xiaoan_manscdp::{AlarmNotify, Body, Route};
use xiaoan_sip::{Request, Response};
use xiaoan_store::{IdempotencyKey, RaiseRequest, StoreError};

use crate::peer::Peer;
use crate::platform::{Platform, SOURCE};

/// What one alarm asks for.
#[derive(Debug, Clone)]
pub enum Effect {
    Raise(Box<RaiseRequest>),
    Health {
        signal: Box<Signal>,
        condition: Option<(HealthState, String)>,
    },
    /// Not bound anywhere: a supervisor must see it.
    Unbound(Box<Signal>),
}

/// Decides what `notify` (from `device`, about channel `body.device_id`) asks for.
pub fn effect(
    p: &Platform,
    device: &str,
    body: &Body,
    notify: &AlarmNotify,
    peer: Peer,
    now: DateTime<Utc>,
) -> Effect {
    let channel = if body.device_id.is_empty() {
        device
    } else {
        body.device_id.as_str()
    };
    let c = notify.classify();
    let details = details(device, channel, body, notify, peer);
    let binding = p.binding(channel).or_else(|| p.binding(device));
    match (c.route, binding) {
        (Route::Incident | Route::Review, Some(b)) => {
            let priority = if b.one_key && c.route == Route::Incident {
                1
            } else if c.route == Route::Review {
                c.priority.min(2)
            } else {
                c.priority
            };
            let raised_at = notify
                .time
                .and_then(|t| crate::time::to_utc(p.tz, t))
                .filter(|t| *t <= now && now - *t < chrono::Duration::hours(1))
                .unwrap_or(now);
            Effect::Raise(Box::new(RaiseRequest {
                alarm: NewAlarm {
                    school_id: b.school_id,
                    alarm_point_id: b.alarm_point_id,
                    priority,
                    kind: c.kind.as_str().into(),
                    source: SOURCE.into(),
                    silent: false,
                    note: notify.description.clone().filter(|d| !d.trim().is_empty()),
                    raised_by: Actor {
                        user_id: None,
                        name: format!("国标设备 {channel}"),
                        role: None,
                    },
                    raised_at,
                    details,
                },
                key: Some(key(device, channel, body, notify)),
            }))
        }
        (Route::DeviceHealth, _) => {
            let dev = p.device_ref(device);
            let signal = Signal {
                id: 0,
                at: now,
                school_id: dev.school_id,
                alarm_point_id: binding.map(|b| b.alarm_point_id),
                source: SOURCE.into(),
                device: device.into(),
                kind: c.kind.as_str().into(),
                severity: Severity::Warning,
                summary: format!("{}（通道 {channel}）", c.kind.label_zh()),
                data: details,
            };
            Effect::Health {
                signal: Box::new(signal),
                condition: Some((HealthState::Warning, c.kind.label_zh().to_owned())),
            }
        }
        (_, None) => Effect::Unbound(Box::new(Signal {
            id: 0,
            at: now,
            school_id: p.school_of_device(device),
            alarm_point_id: None,
            source: SOURCE.into(),
            device: device.into(),
            kind: "unbound_alarm".into(),
            severity: Severity::Alert,
            summary: format!("未绑定报警点的通道 {channel} 报警：{}", c.kind.label_zh()),
            data: details,
        })),
    }
}

/// The answer to an alarm that could not be stored: `503 Service Unavailable` with
/// `Retry-After`, never `200`, so the device retries in a new transaction (or fails over to
/// another platform). A failing disk is logged once per episode by the hub; here only at debug
/// level, so a device retrying in a loop does not flood the log. Any other failure is an error.
pub fn not_stored(p: &Platform, req: &Request, device: &str, e: &StoreError) -> Response {
    let (status, retry_after) = match e {
        StoreError::Unavailable(_) => {
            tracing::debug!(%device, error = %e, "gb28181 alarm NOT stored (storage failing): 503, the device retries");
            (503, true)
        }
        _ => {
            tracing::error!(%device, error = %e, "gb28181 alarm NOT stored: 500, the device retries");
            (500, false)
        }
    };
    let mut resp = p.reply(req, status);
    if retry_after {
        resp.headers.push("Retry-After", RETRY_AFTER_SECS);
    }
    resp
}

/// What a `503` asks the device to wait before trying again.
const RETRY_AFTER_SECS: &str = "5";

/// Commits the effect (the caller answers `200 OK` only after this succeeds).
pub async fn commit(p: &Platform, e: &Effect) -> Result<(), StoreError> {
    match e {
        Effect::Raise(r) => {
            let outcome = p.hub.raise(&r.alarm, r.key.as_ref()).await?;
            if !outcome.replayed && !outcome.joined {
                tracing::warn!(incident = outcome.incident.id, kind = %outcome.incident.kind, school = outcome.incident.school_id, "GB/T 28181 alarm: new incident");
            }
        }
        Effect::Health { signal, condition } => {
            p.hub.record_signal((**signal).clone()).await?;
            if let Some((state, detail)) = condition {
                p.hub
                    .set_device_condition(&p.device_ref(&signal.device), *state, detail)
                    .await?;
            }
        }
        Effect::Unbound(signal) => {
            tracing::warn!(device = %signal.device, "GB/T 28181 alarm from an unbound channel: shown to supervisors");
            p.hub.record_signal((**signal).clone()).await?;
        }
    }
    Ok(())
}

fn details(device: &str, channel: &str, body: &Body, n: &AlarmNotify, peer: Peer) -> Value {
    let c = n.classify();
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        if !v.is_null() {
            m.insert(k.into(), v);
        }
    };
    put("device_id", json!(device));
    put("channel_id", json!(channel));
    put("sn", json!(body.sn));
    put("alarm_priority", json!(n.priority));
    put("alarm_method", json!(n.method.to_digits()));
    put("alarm_type", json!(n.alarm_type));
    put("event_type", json!(n.event_type));
    put("alarm_time", json!(n.time.map(|t| t.to_string())));
    put("description", json!(n.description));
    put("text_zh", json!(c.kind.label_zh()));
    put("text_en", json!(c.kind.label_en()));
    put("lon", json!(n.longitude.filter(|v| *v != 0.0)));
    put("lat", json!(n.latitude.filter(|v| *v != 0.0)));
    put("peer", json!(peer.addr.to_string()));
    Value::Object(m)
}

/// The same device, channel, `SN`, time and method is the same alarm.
fn key(device: &str, channel: &str, body: &Body, n: &AlarmNotify) -> IdempotencyKey {
    let mut h = Sha256::new();
    for part in [
        channel.to_owned(),
        body.sn.to_string(),
        n.time.map(|t| t.to_string()).unwrap_or_default(),
        n.method.to_digits(),
        n.alarm_type.map(|t| t.to_string()).unwrap_or_default(),
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    IdempotencyKey {
        principal: format!("{SOURCE}:{device}"),
        key: hex::encode(&h.finalize()[..16]),
    }
}
