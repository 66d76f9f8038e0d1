//! `GET /api/v1/events`: the live stream of incident changes as server-sent events, filtered to
//! what the user may see. Each event's SSE id is its global event number; `Last-Event-ID` (or
//! `?last_event_id=`) replays everything after it from the store before going live, and a
//! subscriber that falls behind the broadcast catches up from the store too, so nothing is lost.
//! The open stream keeps the session alive (a shift never logs out mid-alarm) and ends when the
//! session does.

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use xiaoan_core::incident::{Incident, TimelineEntry};
use xiaoan_hub::DeviceNews;

use super::devices::sees_device_item;
use super::sees;
use crate::auth::{CurrentUser, resume_session};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::wire::StreamEvent;

/// How many logged events one catch-up query reads.
const CATCH_UP_PAGE: u32 = 500;
/// How often an open stream re-checks (and slides) its session.
const SESSION_CHECK: Duration = Duration::from_secs(60);

fn resume_point(headers: &HeaderMap, query: &HashMap<String, String>) -> ApiResult<Option<i64>> {
    let raw = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| query.get("last_event_id").cloned());
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => s
            .parse::<i64>()
            .map(Some)
            .map_err(|_| ApiError::bad_request("Last-Event-ID must be a number")),
    }
}

pub(crate) async fn stream(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let after = resume_point(&headers, &query)?;
    let (tx, rx) = mpsc::channel(256);
    tokio::spawn(pump(state, user, after, tx));
    Ok(Sse::new(ReceiverStream::new(rx)).keep_alive(
        KeepAlive::new()
            .interval(Duration::from_secs(15))
            .text("keep-alive"),
    ))
}

/// Sends one event if the user may see it; `false` when the client is gone.
async fn send(
    state: &AppState,
    user: &CurrentUser,
    tx: &mpsc::Sender<Result<Event, Infallible>>,
    incident: &Incident,
    entry: &TimelineEntry,
) -> bool {
    let dir = state.hub.directory().await;
    if !sees(&dir, &user.user, incident) {
        return true;
    }
    let data = match serde_json::to_string(&StreamEvent::new(&dir, incident, entry)) {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %e, "serializing live event");
            return true;
        }
    };
    let event = Event::default().id(entry.id.to_string()).data(data);
    tx.send(Ok(event)).await.is_ok()
}

/// Replays logged events after `*last`; `false` when the client is gone.
async fn catch_up(
    state: &AppState,
    user: &CurrentUser,
    tx: &mpsc::Sender<Result<Event, Infallible>>,
    last: &mut i64,
) -> bool {
    loop {
        let page = match state.hub.store().events_since(*last, CATCH_UP_PAGE).await {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "event stream catch-up failed");
                return false;
            }
        };
        let full = page.len() as u32 == CATCH_UP_PAGE;
        for logged in &page {
            if !send(state, user, tx, &logged.incident, &logged.entry).await {
                return false;
            }
            *last = logged.entry.id;
        }
        if !full {
            return true;
        }
    }
}

async fn pump(
    state: AppState,
    user: CurrentUser,
    after: Option<i64>,
    tx: mpsc::Sender<Result<Event, Infallible>>,
) {
    // Subscribe before reading the log so nothing committed in between is missed.
    let mut live = state.hub.subscribe();
    let mut devices = state.hub.subscribe_devices();
    let mut last = match after {
        Some(id) => id,
        None => match state.hub.store().last_event_id().await {
            Ok(id) => id,
            Err(e) => {
                tracing::error!(error = %e, "event stream start failed");
                return;
            }
        },
    };
    if !catch_up(&state, &user, &tx, &mut last).await {
        return;
    }
    // The storage state: sent at once (a console that reconnects learns it), then on every
    // change; no event id, it is not replayed.
    let mut storage = state.hub.watch_storage();
    let first = storage.borrow_and_update().clone();
    if !send_storage(&tx, &first).await {
        return;
    }
    let mut check = tokio::time::interval(SESSION_CHECK);
    check.tick().await;
    loop {
        tokio::select! {
            changed = storage.changed() => {
                let now = storage.borrow_and_update().clone();
                if changed.is_err() || !send_storage(&tx, &now).await {
                    return;
                }
            }
            _ = tx.closed() => return,
            _ = state.shutdown.cancelled() => return,
            _ = check.tick() => {
                match resume_session(&state, &user.token_hash).await {
                    Ok(Some(_)) => {}
                    _ => return,
                }
            }
            received = live.recv() => match received {
                Ok(ev) => {
                    if ev.entry.id <= last {
                        continue;
                    }
                    if ev.entry.id > last + 1 && !catch_up(&state, &user, &tx, &mut last).await {
                        return;
                    }
                    if ev.entry.id <= last {
                        continue;
                    }
                    if !send(&state, &user, &tx, &ev.incident, &ev.entry).await {
                        return;
                    }
                    last = ev.entry.id;
                }
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(skipped = n, "event stream lagged; catching up from the store");
                    if !catch_up(&state, &user, &tx, &mut last).await {
                        return;
                    }
                }
                Err(RecvError::Closed) => return,
            },
            news = devices.recv() => match news {
                Ok(news) => {
                    if !send_device_news(&state, &user, &tx, &news).await {
                        return;
                    }
                }
                // Device news is not replayed: a console that missed some reloads the lists.
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            },
        }
    }
}

/// Sends the storage state (`{"type": "storage", "storage": {...}}`); every user sees it.
async fn send_storage(
    tx: &mpsc::Sender<Result<Event, Infallible>>,
    storage: &xiaoan_hub::StorageState,
) -> bool {
    let data = serde_json::json!({ "type": "storage", "storage": storage });
    tx.send(Ok(Event::default().data(data.to_string())))
        .await
        .is_ok()
}

/// Sends a signal or health change if the user may see it (no event id: not replayed).
async fn send_device_news(
    state: &AppState,
    user: &CurrentUser,
    tx: &mpsc::Sender<Result<Event, Infallible>>,
    news: &DeviceNews,
) -> bool {
    let dir = state.hub.directory().await;
    let (school_id, data) = match news {
        DeviceNews::Signal(s) => (
            s.school_id,
            serde_json::json!({ "type": "signal", "signal": s }),
        ),
        DeviceNews::Health(h) => (
            h.school_id,
            serde_json::json!({ "type": "device_health", "health": h }),
        ),
    };
    if !sees_device_item(&dir, &user.user, school_id) {
        return true;
    }
    tx.send(Ok(Event::default().data(data.to_string())))
        .await
        .is_ok()
}
