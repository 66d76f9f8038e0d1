//! `REGISTER`: digest authentication (401 challenge, 403 for a wrong password or user, a stale
//! or replayed nonce challenged again), `Expires` bounds (423 below the minimum), unregistration
//! with `Expires: 0`, the `Date` header in the `200 OK`, and what follows a new registration
//! (the platform asks for the catalog and the device information).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::time::Instant;
use xiaoan_core::gb::{GbDevice, is_valid_id};
use xiaoan_core::signal::HealthState;
use xiaoan_sip::{Request, Response, Verdict};

use crate::peer::Peer;
use crate::platform::{Platform, Registration};

/// Handles a REGISTER; the answer to send.
pub(crate) async fn handle(p: &Arc<Platform>, req: &Request, peer: Peer) -> Option<Response> {
    let device_id = req
        .headers
        .from()
        .and_then(|f| f.user().map(str::to_owned))
        .unwrap_or_default();
    if !is_valid_id(&device_id) {
        tracing::warn!(%peer.addr, from = %device_id, "gb28181 REGISTER refused: not a 20-digit device ID");
        return Some(p.reply(req, 400));
    }
    let Some(password) = p.password_of(&device_id).map(str::to_owned) else {
        tracing::warn!(%peer.addr, device = %device_id, "gb28181 REGISTER refused: device not listed and no platform password");
        return Some(p.reply(req, 403));
    };
    let Some(creds) = req.headers.authorization() else {
        return Some(challenge(p, req, false));
    };
    if creds.username != device_id {
        tracing::warn!(%peer.addr, device = %device_id, user = %creds.username, "gb28181 REGISTER refused: digest user is not the device");
        return Some(p.reply(req, 403));
    }
    let verdict = match p.digest.lock() {
        Ok(mut d) => d.verify(Instant::now().into_std(), "REGISTER", &creds, &password),
        Err(_) => Verdict::Rejected,
    };
    match verdict {
        Verdict::Ok => {}
        Verdict::Stale => {
            tracing::info!(%peer.addr, device = %device_id, "gb28181 REGISTER: stale or reused nonce, challenged again");
            return Some(challenge(p, req, true));
        }
        Verdict::Rejected => {
            tracing::warn!(%peer.addr, device = %device_id, "gb28181 REGISTER refused: wrong password");
            return Some(p.reply(req, 403));
        }
    }
    let asked = req
        .headers
        .contact()
        .and_then(|c| c.expires())
        .or_else(|| req.headers.expires())
        .unwrap_or(3600);
    if asked == 0 {
        unregister(p, &device_id, peer).await;
        let mut resp = p.reply(req, 200);
        resp.headers.push("Expires", "0");
        return Some(resp);
    }
    if asked < p.config.min_expires_secs {
        let mut resp = p.reply(req, 423);
        resp.headers
            .push("Min-Expires", p.config.min_expires_secs.to_string());
        return Some(resp);
    }
    let expires = asked.min(p.config.max_expires_secs);
    let now = p.hub.clock().now();
    let expires_at = now + chrono::Duration::seconds(i64::from(expires));
    let renewed = p
        .registrations
        .lock()
        .ok()
        .and_then(|mut m| m.insert(device_id.clone(), Registration { peer, expires_at }))
        .is_some_and(|old| old.peer == peer);
    let device = GbDevice {
        id: device_id.clone(),
        name: String::new(),
        manufacturer: String::new(),
        model: String::new(),
        firmware: String::new(),
        transport: peer.transport_name().into(),
        remote: peer.addr.to_string(),
        online: true,
        registered_at: Some(now),
        expires_at: Some(expires_at),
        last_seen: Some(now),
        school_id: p.device_school.get(&device_id).copied(),
    };
    if let Err(e) = p.writer.write(device).await {
        tracing::error!(device = %device_id, error = %e, "gb28181 REGISTER not stored: 500, the device retries");
        return Some(p.reply(req, 500));
    }
    if let Err(e) = p.hub.device_seen(&p.device_ref(&device_id)).await {
        tracing::warn!(device = %device_id, error = %e, "gb28181: device health not updated");
    }
    let mut resp = p.reply(req, 200);
    if let Some(c) = req.headers.get("Contact") {
        resp.headers.push("Contact", c);
    }
    resp.headers.push("Expires", expires.to_string());
    resp.headers
        .push("Date", crate::time::date_header(p.tz, Utc::now()));
    if !renewed {
        tracing::info!(device = %device_id, %peer.addr, transport = peer.transport_name(), expires, "gb28181 device registered");
    }
    let p = p.clone();
    tokio::spawn(async move {
        // After the 200 OK has left. A renewal only renews the alarm subscription.
        tokio::time::sleep(Duration::from_millis(100)).await;
        if renewed {
            if p.config.subscribe_alarms {
                crate::control::subscribe_alarms(&p, &device_id).await;
            }
        } else {
            crate::message::query_device(&p, &device_id).await;
        }
    });
    Some(resp)
}

fn challenge(p: &Platform, req: &Request, stale: bool) -> Response {
    let ch = match p.digest.lock() {
        Ok(mut d) => d.challenge(Instant::now().into_std(), stale, &mut rand::rng()),
        Err(_) => xiaoan_sip::Challenge {
            realm: p.config.domain.clone(),
            nonce: String::new(),
            algorithm: None,
            qop: None,
            opaque: None,
            stale,
        },
    };
    let mut resp = p.reply(req, 401);
    resp.headers.push("WWW-Authenticate", ch.to_string());
    resp
}

async fn unregister(p: &Platform, device_id: &str, peer: Peer) {
    if let Ok(mut m) = p.registrations.lock() {
        m.remove(device_id);
    }
    tracing::info!(device = %device_id, "gb28181 device unregistered");
    mark_offline(p, device_id, peer, "设备已注销").await;
}

/// Marks a device offline in the store (its last address kept; name, model and school stay as
/// stored) and its health as a communication failure.
pub(crate) async fn mark_offline(p: &Platform, device_id: &str, peer: Peer, why: &str) {
    let offline = GbDevice {
        id: device_id.to_owned(),
        name: String::new(),
        manufacturer: String::new(),
        model: String::new(),
        firmware: String::new(),
        transport: peer.transport_name().into(),
        remote: peer.addr.to_string(),
        online: false,
        registered_at: None,
        expires_at: None,
        last_seen: None,
        school_id: None,
    };
    if let Err(e) = p.writer.write(offline).await {
        tracing::warn!(device = %device_id, error = %e, "gb28181: offline state not stored");
    }
    if let Err(e) = p
        .hub
        .set_device_condition(&p.device_ref(device_id), HealthState::CommFailure, why)
        .await
    {
        tracing::warn!(device = %device_id, error = %e, "gb28181: device health not updated");
    }
}
