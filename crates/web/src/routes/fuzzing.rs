//! The body of the fuzz target `web_json` (in the repository's `fuzz/` crate): arbitrary bytes
//! as the JSON body of every route that takes one, decoded and checked the way the handlers do
//! before they touch the hub. Hidden from the docs; not an API.

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::alarms::PressBody;
use super::gb::{BindingBody, ControlBody};
use super::incidents::check_action_body;
use crate::auth::LoginBody;
use crate::error::ApiError;
use crate::json::parse_body;

/// The incident actions of `POST /api/v1/incidents/{id}/{action}`.
const ACTIONS: [&str; 7] = [
    "claim",
    "dispatch",
    "arrive",
    "resolve",
    "close",
    "accidental",
    "notes",
];

/// A rejected body is a client error (4xx) that names its code, never a 5xx.
fn client_error(e: &ApiError) {
    assert!(e.status.is_client_error(), "{} for a bad body", e.status);
}

fn decode<T: DeserializeOwned>(data: &[u8]) -> Option<T> {
    parse_body::<T>(data).map_err(|e| client_error(&e)).ok()
}

/// Target `web_json`: `data` as the body of login, the alarm press, the GB/T 28181 channel
/// binding and device control, and every incident action. Nothing panics and every refusal is
/// a 4xx.
pub fn request_bodies(data: &[u8]) {
    if data.len() > crate::MAX_BODY_BYTES {
        return;
    }
    let _ = decode::<LoginBody>(data);
    let _ = decode::<PressBody>(data);
    let _ = decode::<BindingBody>(data);
    let _ = decode::<ControlBody>(data);
    if let Some(value) = decode::<Value>(data) {
        for action in ACTIONS {
            if let Err(e) = check_action_body(action, value.clone()) {
                client_error(&e);
            }
        }
    }
}
