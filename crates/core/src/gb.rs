//! GB/T 28181 devices and their channels as the alarm centre knows them: a device (camera, NVR,
//! alarm controller, one-key alarm column) registers with the platform and lists its channels in
//! its catalog; each channel (a camera, an alarm input, ...) can be bound to a school and one of
//! its alarm points, so that its alarms and video belong there.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::Id;

/// A registered (or once registered) GB/T 28181 device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GbDevice {
    /// The 20-digit device ID.
    pub id: String,
    /// From DeviceInfo or the catalog (may be empty until asked).
    pub name: String,
    pub manufacturer: String,
    pub model: String,
    pub firmware: String,
    /// "udp" or "tcp": how it registered (and how the platform reaches it).
    pub transport: String,
    /// The address requests reach it at (its source address, behind NAT).
    pub remote: String,
    /// Registered and keepalives arriving.
    pub online: bool,
    pub registered_at: Option<DateTime<Utc>>,
    /// When its registration runs out unless renewed.
    pub expires_at: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
    /// The school the device belongs to (set by configuration or the API).
    pub school_id: Option<Id>,
}

/// One channel of a device's catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GbChannel {
    /// The channel's 20-digit ID.
    pub id: String,
    pub device_id: String,
    pub name: String,
    /// Type code, digits 11–13 of the ID (132 camera, 134 alarm input, 117 alarm controller…).
    pub type_code: u16,
    /// "ON" / "OFF" as the device reports it.
    pub status: String,
    pub manufacturer: String,
    pub model: String,
    pub address: String,
    /// WGS-84 position when the device gives one.
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
    /// Where the channel belongs: its alarms open incidents at this alarm point.
    pub school_id: Option<Id>,
    pub alarm_point_id: Option<Id>,
    pub updated_at: DateTime<Utc>,
}

/// A command the alarm centre sends to a device or channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
pub enum DeviceCommand {
    /// Arm (布防, `SetGuard`).
    Arm,
    /// Disarm (撤防, `ResetGuard`).
    Disarm,
    /// Reset the alarm output (`ResetAlarm`).
    ResetAlarm,
    /// Pan/tilt/zoom: each −1, 0 or 1 (left/up/in are negative/positive as named below),
    /// `speed` 1–255; all zero stops.
    Ptz {
        /// −1 left, 1 right.
        pan: i8,
        /// −1 down, 1 up.
        tilt: i8,
        /// −1 out (wide), 1 in (tele).
        zoom: i8,
        #[serde(default = "default_speed")]
        speed: u8,
    },
}

fn default_speed() -> u8 {
    0x40
}

/// Digits 11–13 of a GB/T 28181 ID: the kind of device or channel (0 if the ID is too short).
pub fn type_code(id: &str) -> u16 {
    id.get(10..13)
        .and_then(|s| s.parse().ok())
        .unwrap_or_default()
}

/// A device (or channel) ID is 20 decimal digits.
pub fn is_valid_id(id: &str) -> bool {
    id.len() == 20 && id.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_codes_come_from_digits_11_to_13() {
        assert_eq!(type_code("42280100001320000001"), 132);
        assert_eq!(type_code("42280100001340000001"), 134);
        assert_eq!(type_code("42280100002000000001"), 200);
        assert_eq!(type_code("123"), 0);
        assert!(is_valid_id("42280100001320000001"));
        assert!(!is_valid_id("4228010000132000000A"));
        assert!(!is_valid_id("4228"));
    }
}
