//! Cameras and live video: `GET /api/v1/cameras[?alarm_point_id=&school_id=]` (each camera with
//! its link state and stream description; the source without credentials) and
//! `GET /api/v1/cameras/{id}/live`, a WebSocket that sends one JSON text message describing the
//! stream, then binary messages: the init segment and one fMP4 fragment per frame, starting at
//! the cached keyframe. A new init segment (the camera changed its parameters) is preceded by a
//! new JSON description. A camera is visible when its school is; out of scope is 404.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::header::{HOST, ORIGIN};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use xiaoan_core::camera::CameraSource;
use xiaoan_core::model::{Directory, Id, User};
use xiaoan_hub::cameras::CameraEntry;
use xiaoan_media::{Track, ViewerItem};

use super::audit;
use super::devices::sees_device_item;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// A ping this often keeps proxies from closing an idle socket (a camera that is down).
const PING_EVERY: Duration = Duration::from_secs(15);

fn visible(dir: &Directory, user: &User, entry: &CameraEntry) -> bool {
    sees_device_item(dir, user, Some(entry.camera.school_id))
}

fn mime(codec_string: &str) -> String {
    format!("video/mp4; codecs=\"{codec_string}\"")
}

fn camera_json(dir: &Directory, entry: &CameraEntry) -> Value {
    let c = &entry.camera;
    let status = entry.status();
    let track = entry.track.state();
    let (kind, device_id, channel_id) = match &c.source {
        CameraSource::Rtsp { .. } => ("rtsp", None, None),
        CameraSource::Gb28181 {
            device_id,
            channel_id,
        } => ("gb28181", Some(device_id), Some(channel_id)),
    };
    json!({
        "id": c.id,
        "name": c.name,
        "school_id": c.school_id,
        "school_name": dir.schools.get(&c.school_id).map(|s| s.name.clone()),
        "alarm_point_id": c.alarm_point_id,
        "alarm_point_name": c.alarm_point_id
            .and_then(|p| dir.alarm_points.get(&p))
            .map(|p| p.name.clone()),
        "source": c.source_label(),
        "kind": kind,
        "device_id": device_id,
        "channel_id": channel_id,
        "link": status.link,
        "since": status.since,
        "error": status.error,
        "codec": track.codec.map(|c| c.name()),
        "codec_string": track.codec_string,
        "mime": track.codec_string.as_deref().map(mime),
        "width": track.width,
        "height": track.height,
        "browser_playable": track.browser_playable,
        "viewers": track.viewers,
        "last_frame_age_ms": track.last_frame_at
            .map(|t| Instant::now().saturating_duration_since(t).as_millis() as u64),
    })
}

fn id_param(query: &HashMap<String, String>, name: &str) -> ApiResult<Option<Id>> {
    query
        .get(name)
        .filter(|v| !v.trim().is_empty())
        .map(|v| {
            v.trim()
                .parse::<Id>()
                .map_err(|_| ApiError::bad_request(format!("{name} must be a number")))
        })
        .transpose()
}

/// `GET /api/v1/cameras`.
pub(crate) async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let point = id_param(&query, "alarm_point_id")?;
    let school = id_param(&query, "school_id")?;
    let dir = state.hub.directory().await;
    let cameras: Vec<Value> = state
        .cameras
        .all()
        .filter(|e| visible(&dir, &user.user, e))
        .filter(|e| point.is_none_or(|p| e.camera.alarm_point_id == Some(p)))
        .filter(|e| school.is_none_or(|s| e.camera.school_id == s))
        .map(|e| camera_json(&dir, e))
        .collect();
    Ok(Json(json!({ "cameras": cameras })))
}

/// A WebSocket handshake from a page of another origin is refused (the cookie would ride along).
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or(origin);
    origin_host.trim_end_matches('/') == host
}

/// `GET /api/v1/cameras/{id}/live` (WebSocket).
pub(crate) async fn live(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> ApiResult<Response> {
    if !same_origin(&headers) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "cross_origin",
            "live video is only served to pages of this server",
        ));
    }
    let dir = state.hub.directory().await;
    let entry = state
        .cameras
        .get(&id)
        .filter(|e| visible(&dir, &user.user, e))
        .cloned()
        .ok_or_else(|| ApiError::not_found("camera"))?;
    let mut opened = audit::by_user(&state, &user, "video.live", "camera", &entry.camera.id);
    opened.school_id = Some(entry.camera.school_id);
    audit::record_view(&state, &user, opened).await?;
    tracing::debug!(camera = %entry.camera.id, user = %user.user.username, "live view opened");
    let shutdown = state.shutdown.clone();
    Ok(ws.on_upgrade(move |socket| relay(socket, entry, shutdown)))
}

/// The stream description sent before each init segment.
fn header(track: &Track) -> Value {
    let params = track.params();
    let codec_string = params.as_ref().map(|p| p.codec_string.clone());
    json!({
        "codec": params.as_ref().map(|p| p.codec.name()),
        "codec_string": codec_string,
        "mime": codec_string.as_deref().map(mime),
        "width": params.as_ref().map(|p| p.width),
        "height": params.as_ref().map(|p| p.height),
        "browser_playable": params.as_ref().is_some_and(|p| p.codec.browser_playable()),
    })
}

/// Sends the camera's track to one browser until either side goes.
async fn relay(mut socket: WebSocket, entry: Arc<CameraEntry>, shutdown: CancellationToken) {
    let mut viewer = entry.track.subscribe();
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        let item = tokio::select! {
            _ = shutdown.cancelled() => break,
            msg = socket.recv() => match msg {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => continue,
            },
            _ = ping.tick() => {
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    break;
                }
                continue;
            }
            item = viewer.next() => match item {
                Some(item) => item,
                None => break,
            },
        };
        let sent = match item {
            ViewerItem::Init(init) => {
                let text = header(&entry.track).to_string();
                match socket.send(Message::Text(text.into())).await {
                    Ok(()) => socket.send(Message::Binary(init)).await,
                    Err(e) => Err(e),
                }
            }
            ViewerItem::Frame(f) => socket.send(Message::Binary(f.fragment.clone())).await,
        };
        if sent.is_err() {
            break;
        }
    }
    let _ = socket.send(Message::Close(None)).await;
    tracing::debug!(camera = %entry.camera.id, "live view closed");
}
