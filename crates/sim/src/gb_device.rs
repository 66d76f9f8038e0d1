//! A fleet of simulated GB/T 28181 devices (alarm controllers, alarm inputs, cameras) talking
//! to a platform. Many device IDs share a few sockets: over UDP a small pool of sockets carries
//! every device, and replies are demultiplexed by Call-ID, then by the user part of From/To and
//! the Request-URI ([`demux`]); over TCP each device has its own connection.
//!
//! * [`device`]: one device as a sans-IO state machine: REGISTER with the digest retry,
//!   re-registration before expiry, keepalives, answers to the platform's queries and controls,
//!   alarms with RFC 3261 retransmission (xiaoan-sip's client transactions), unregistering.
//! * [`wire`]: the SIP requests and responses a device sends, and the catalog split into
//!   MESSAGEs of at most 1300 bytes.
//! * [`fleet`]: the sockets and the one task that drives every device; [`FleetHandle`] sends
//!   alarms, stops and reads the [`FleetReport`].
//! * [`sdp`] and [`media`]: live video: the SDP answer, and the looped test clip sent as PS
//!   over RTP (UDP or RFC 4571 TCP) from INVITE/ACK until BYE.
//! * [`report`]: what happened ([`Event`], printed as plain lines) and per-device counters.
//!
//! Used by `xiaoan sim gb28181` and `xiaoan bench gb28181`.

pub mod demux;
pub mod device;
pub mod fleet;
pub mod media;
pub mod report;
pub mod sdp;
pub mod wire;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::time::Duration;

use thiserror::Error;
pub use xiaoan_manscdp::Charset;

pub use demux::Demux;
pub use device::{Device, MediaCmd};
pub use fleet::{FleetHandle, StopMode, start, start_with_clip};
pub use report::{AlarmReport, DeviceReport, Event, EventKind, FleetReport};

/// The largest UDP MESSAGE request (RFC 3428 as applied by GB/T 28181: the whole request).
pub const MAX_UDP_REQUEST: usize = 1300;

/// How the devices reach the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// A pool of UDP sockets shared by all devices.
    Udp,
    /// One TCP connection per device.
    Tcp,
}

impl Transport {
    /// `UDP` / `TCP`, as written in Via.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
        }
    }

    pub(crate) fn sip(self) -> xiaoan_sip::Transport {
        match self {
            Transport::Udp => xiaoan_sip::Transport::Udp,
            Transport::Tcp => xiaoan_sip::Transport::Tcp,
        }
    }
}

/// Settings every device of a fleet shares.
#[derive(Debug, Clone)]
pub struct Profile {
    /// The platform's 20-digit ID (the Request-URI and To of MESSAGEs).
    pub platform_id: String,
    /// The 10-digit SIP domain (the realm).
    pub domain: String,
    pub password: String,
    /// Keepalive interval.
    pub keepalive: Duration,
    /// Registration lifetime asked for.
    pub expires: u32,
    /// Wait after a failed registration before trying again (the standard says ≥ 60 s).
    pub retry_after: Duration,
    /// Charset of the MANSCDP bodies (GB2312 by default).
    pub charset: Charset,
    pub transport: Transport,
    /// Spread each device's first keepalive over one interval (for fleets) instead of sending
    /// it right after registering.
    pub spread_keepalives: bool,
}

impl Default for Profile {
    fn default() -> Self {
        Profile {
            platform_id: "34020000002000000001".into(),
            domain: "3402000000".into(),
            password: "12345678".into(),
            keepalive: Duration::from_secs(60),
            expires: 3600,
            retry_after: Duration::from_secs(60),
            charset: Charset::Gb18030,
            transport: Transport::Udp,
            spread_keepalives: false,
        }
    }
}

/// One simulated device: its ID and the channel IDs of its catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceSpec {
    pub id: String,
    pub channels: Vec<String>,
}

/// An alarm to send (Notify `Alarm`).
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmSpec {
    /// The channel the alarm is about (its `DeviceID`); `None`: the device itself.
    pub channel: Option<String>,
    /// `AlarmPriority` 1 (highest) … 4.
    pub priority: u8,
    /// `AlarmMethod` digits, e.g. `"2"` (device) or `"1"` (telephone / one-key button).
    pub method: String,
    /// `Info/AlarmType`.
    pub alarm_type: Option<u32>,
    pub description: Option<String>,
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
}

impl Default for AlarmSpec {
    fn default() -> Self {
        AlarmSpec {
            channel: None,
            priority: 1,
            method: "2".into(),
            alarm_type: None,
            description: None,
            longitude: None,
            latitude: None,
        }
    }
}

/// What the fleet runs.
#[derive(Debug, Clone)]
pub struct FleetConfig {
    /// The platform's SIP address.
    pub to: SocketAddr,
    pub profile: Profile,
    pub devices: Vec<DeviceSpec>,
    /// UDP sockets shared by the devices (device `i` uses socket `i % sockets`).
    pub sockets: usize,
    /// Registrations in progress at once (the rest wait their turn).
    pub register_window: usize,
}

/// Why the fleet could not start or a command failed.
#[derive(Debug, Error)]
pub enum SimError {
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("invalid device ID {0:?}: 20 digits expected")]
    BadId(String),
    #[error("no device {0}")]
    NoDevice(String),
    #[error("device {0} is not registered")]
    NotRegistered(String),
    #[error("encode: {0}")]
    Encode(#[from] xiaoan_manscdp::EncodeError),
    #[error("the fleet has stopped")]
    Stopped,
}

fn check_id(id: &str) -> Result<(), SimError> {
    if id.len() == 20 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(SimError::BadId(id.to_owned()))
    }
}

/// `n` consecutive 20-digit IDs starting at `first` (the last six digits count up and wrap).
pub fn consecutive_ids(first: &str, n: usize) -> Result<Vec<String>, SimError> {
    check_id(first)?;
    let (head, serial) = first.split_at(14);
    let serial: u64 = serial.parse().map_err(|_| SimError::BadId(first.into()))?;
    Ok((0..n as u64)
        .map(|i| format!("{head}{:06}", (serial + i) % 1_000_000))
        .collect())
}

/// `n` channel IDs for a device: its first 10 digits, type code 134 (alarm input), its network
/// digit, and a serial made of the device serial's last four digits and the channel number
/// (1–99), so consecutive devices get distinct channels.
pub fn channel_ids(device_id: &str, n: usize) -> Result<Vec<String>, SimError> {
    check_id(device_id)?;
    let prefix = device_id.get(..10).unwrap_or_default();
    let net = device_id.get(13..14).unwrap_or_default();
    let serial: u64 = device_id
        .get(14..)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| SimError::BadId(device_id.into()))?;
    Ok((1..=n.min(99) as u64)
        .map(|j| format!("{prefix}134{net}{:06}", (serial % 10_000) * 100 + j))
        .collect())
}
