//! xiaoan over HTTP: the JSON API under `/api/v1`, the live event stream (SSE), health and
//! metrics, and the embedded web console. Handlers authorize with [`xiaoan_core::access`], call
//! the [`xiaoan_hub::Hub`] and translate between domain types and the JSON in [`wire`].
//! Never talks to SQLite directly and never decides domain rules.
//!
//! # Layout
//! - [`router`] is the one route table; [`serve`] runs it on a listener until shutdown.
//! - `auth`: passwords, sessions, the current-user extractor, login/logout.
//! - `error`, `json`: one error type with the JSON error body; the JSON body extractor.
//! - `routes/`: one file per resource.
//! - `console`: the embedded static console.

mod auth;
mod console;
pub mod devices_port;
mod error;
mod json;
mod routes;
mod state;
pub mod wire;

use std::net::SocketAddr;

use axum::Router;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use auth::{hash_password, new_secret, verify_password};
pub use devices_port::{CommandFailure, DevicePort};
#[doc(hidden)]
pub use routes::fuzzing;
pub use state::{AppState, WebSettings};

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The whole HTTP application. Tests call it with `oneshot` without binding a socket.
pub fn router(state: AppState) -> Router {
    routes::table(state)
}

/// Serves `router(state)` on `listener` until `shutdown` is cancelled.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    // Live events are small writes that must leave at once: no Nagle delay.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY");
        }
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}
