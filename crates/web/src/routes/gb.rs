//! GB/T 28181 devices and channels: `GET /api/v1/gb/devices` (registration, online state, last
//! heard, health, channel count), `GET /api/v1/gb/channels`, `PUT
//! /api/v1/gb/channels/{id}/binding` (bind a channel to an alarm point) and `POST
//! /api/v1/gb/devices/{id}/control` (arm, disarm, alarm reset, PTZ). A device is visible when
//! its school or a school one of its channels is bound to is; devices and channels tied to no
//! school are for police supervisors and sysadmins.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use xiaoan_core::access::Action;
use xiaoan_core::gb::{DeviceCommand, GbChannel, GbDevice};
use xiaoan_core::model::{Directory, Id, User};
use xiaoan_store::GbChannelFilter;

use super::devices::sees_device_item;
use super::{audit, require};
use crate::auth::CurrentUser;
use crate::devices_port::CommandFailure;
use crate::error::{ApiError, ApiResult};
use crate::json::ApiJson;
use crate::state::AppState;

/// The source name of GB/T 28181 devices in device health.
const SOURCE: &str = "gb28181";

fn channel_visible(dir: &Directory, user: &User, c: &GbChannel) -> bool {
    sees_device_item(dir, user, c.school_id)
}

fn device_visible(dir: &Directory, user: &User, d: &GbDevice, channels: &[GbChannel]) -> bool {
    let bound: Vec<Id> = channels
        .iter()
        .filter(|c| c.device_id == d.id)
        .filter_map(|c| c.school_id)
        .collect();
    if d.school_id.is_none() && bound.is_empty() {
        return sees_device_item(dir, user, None);
    }
    d.school_id
        .into_iter()
        .chain(bound)
        .any(|s| sees_device_item(dir, user, Some(s)))
}

async fn everything(state: &AppState) -> ApiResult<(Vec<GbDevice>, Vec<GbChannel>)> {
    let store = state.hub.store();
    let devices = store.list_gb_devices(None).await?;
    let channels = store.list_gb_channels(&GbChannelFilter::default()).await?;
    Ok((devices, channels))
}

pub(crate) async fn devices(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Value>> {
    let dir = state.hub.directory().await;
    let (devices, channels) = everything(&state).await?;
    let health: HashMap<String, _> = state
        .hub
        .device_health()
        .await
        .into_iter()
        .filter(|h| h.source == SOURCE)
        .map(|h| (h.device.clone(), h))
        .collect();
    let list: Vec<Value> = devices
        .iter()
        .filter(|d| device_visible(&dir, &user.user, d, &channels))
        .map(|d| {
            let h = health.get(&d.id);
            let online = state.devices.as_ref().is_some_and(|p| p.registered(&d.id))
                && h.is_none_or(|h| h.state != xiaoan_core::signal::HealthState::CommFailure);
            json!({
                "id": d.id,
                "name": d.name,
                "manufacturer": d.manufacturer,
                "model": d.model,
                "firmware": d.firmware,
                "transport": d.transport,
                "remote": d.remote,
                "registered_at": d.registered_at,
                "expires_at": d.expires_at,
                "school_id": d.school_id.or_else(|| channels.iter()
                    .find(|c| c.device_id == d.id && c.school_id.is_some())
                    .and_then(|c| c.school_id)),
                "online": online,
                "last_seen": h.map(|h| h.last_seen).or(d.last_seen),
                "health": h.map(|h| json!({ "state": h.state, "detail": h.detail })),
                // The channels this user can see (unbound ones only for supervisors).
                "channels": channels
                    .iter()
                    .filter(|c| c.device_id == d.id && channel_visible(&dir, &user.user, c))
                    .count(),
            })
        })
        .collect();
    Ok(Json(json!({ "devices": list })))
}

pub(crate) async fn channels(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let dir = state.hub.directory().await;
    let filter = GbChannelFilter {
        device_id: query.get("device_id").cloned(),
        school_ids: None,
    };
    let list: Vec<GbChannel> = state
        .hub
        .store()
        .list_gb_channels(&filter)
        .await?
        .into_iter()
        .filter(|c| channel_visible(&dir, &user.user, c))
        .collect();
    Ok(Json(json!({ "channels": list })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BindingBody {
    /// The alarm point to bind to; `null` unbinds.
    alarm_point_id: Option<Id>,
}

pub(crate) async fn bind(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<BindingBody>,
) -> ApiResult<Json<Value>> {
    require(&user, Action::ManageDevices)?;
    let dir = state.hub.directory().await;
    let store = state.hub.store();
    let existing = store
        .list_gb_channels(&GbChannelFilter::default())
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .filter(|c| channel_visible(&dir, &user.user, c))
        .ok_or_else(|| ApiError::not_found("channel"))?;
    let (school_id, point_id) = match body.alarm_point_id {
        None => (None, None),
        Some(p) => {
            let point = dir
                .alarm_points
                .get(&p)
                .filter(|p| sees_device_item(&dir, &user.user, Some(p.school_id)))
                .ok_or_else(|| ApiError::not_found("alarm point"))?;
            (Some(point.school_id), Some(point.id))
        }
    };
    let now = state.hub.clock().now();
    let channel = store
        .bind_gb_channel(&id, &existing.device_id, school_id, point_id, now)
        .await?;
    if let Some(p) = &state.devices {
        p.bindings_changed().await;
    }
    let mut changed = audit::by_user(&state, &user, "gb.channel.bind", "gb_channel", &id);
    changed.school_id = school_id.or(existing.school_id);
    changed.detail = json!({
        "device_id": existing.device_id,
        "alarm_point_id": point_id,
        "was_alarm_point_id": existing.alarm_point_id,
    });
    audit::record(&state, changed).await?;
    tracing::info!(user = %user.user.username, channel = %id, point = ?point_id, "gb28181 channel binding changed");
    Ok(Json(json!({ "channel": channel })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
enum CommandName {
    Arm,
    Disarm,
    ResetAlarm,
    Ptz,
    PtzStop,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ControlBody {
    command: CommandName,
    /// The channel the command is for (default: the device itself).
    channel_id: Option<String>,
    #[serde(default)]
    pan: i8,
    #[serde(default)]
    tilt: i8,
    #[serde(default)]
    zoom: i8,
    speed: Option<u8>,
}

pub(crate) async fn control(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ControlBody>,
) -> ApiResult<Json<Value>> {
    require(&user, Action::ControlDevices)?;
    let dir = state.hub.directory().await;
    let (devices, channels) = everything(&state).await?;
    let device = devices
        .iter()
        .find(|d| d.id == id)
        .filter(|d| device_visible(&dir, &user.user, d, &channels))
        .ok_or_else(|| ApiError::not_found("device"))?;
    let channel = body.channel_id.clone().unwrap_or_else(|| device.id.clone());
    if channel != device.id
        && !channels
            .iter()
            .any(|c| c.id == channel && c.device_id == id)
    {
        return Err(ApiError::not_found("channel"));
    }
    let cmd = match body.command {
        CommandName::Arm => DeviceCommand::Arm,
        CommandName::Disarm => DeviceCommand::Disarm,
        CommandName::ResetAlarm => DeviceCommand::ResetAlarm,
        CommandName::PtzStop => DeviceCommand::Ptz {
            pan: 0,
            tilt: 0,
            zoom: 0,
            speed: 0,
        },
        CommandName::Ptz => {
            if [body.pan, body.tilt, body.zoom]
                .iter()
                .any(|v| !(-1..=1).contains(v))
            {
                return Err(ApiError::bad_request(
                    "pan, tilt and zoom must be -1, 0 or 1",
                ));
            }
            DeviceCommand::Ptz {
                pan: body.pan,
                tilt: body.tilt,
                zoom: body.zoom,
                speed: body.speed.unwrap_or(0x40).max(1),
            }
        }
    };
    let port = state.devices.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "platform_off",
            "the GB/T 28181 platform is not running",
        )
    })?;
    tracing::info!(user = %user.user.username, device = %id, channel = %channel, ?cmd, "device command");
    let mut sent = audit::by_user(&state, &user, "gb.device.control", "gb_device", &id);
    sent.school_id = device.school_id;
    let what = format!("{cmd:?}");
    let outcome = port.command(&id, &channel, cmd).await;
    sent.detail = json!({
        "channel_id": channel,
        "command": what,
        "result": match &outcome {
            Ok(()) => "ok".to_owned(),
            Err(CommandFailure::NotRegistered) => "device_offline".to_owned(),
            Err(CommandFailure::Unreachable(why)) => format!("device_unreachable: {why}"),
        },
    });
    audit::record(&state, sent).await?;
    match outcome {
        Ok(()) => Ok(Json(json!({ "result": "ok" }))),
        Err(CommandFailure::NotRegistered) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "device_offline",
            "the device is not registered (offline)",
        )),
        Err(CommandFailure::Unreachable(why)) => Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            "device_unreachable",
            format!("the device did not accept the command: {why}"),
        )),
    }
}
