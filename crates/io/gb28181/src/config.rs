//! The `[gb28181]` configuration: where the platform listens and what it advertises, its own ID
//! and realm, passwords (platform-wide and per device), supervision timing, local time zone, and
//! the channel bindings to schools' alarm points.

use serde::{Deserialize, Serialize};

/// `[gb28181]`. `Debug` never shows passwords.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GbConfig {
    /// Listen address for SIP over UDP and TCP (same port); empty turns the platform off.
    pub addr: String,
    /// The host (IP or name) put in `Via`/`Contact`/`From` and later in SDP; empty: the listen
    /// address's IP (or 127.0.0.1 when listening on all interfaces).
    pub advertise: String,
    /// The platform's 20-digit SIP ID.
    pub platform_id: String,
    /// The SIP domain (realm of digest authentication), the first 10 digits of the platform ID.
    pub domain: String,
    /// Password for devices without one of their own; empty: only listed devices may register.
    pub password: String,
    /// Time zone of `Date` headers and MANSCDP times.
    pub timezone: String,
    /// Keepalive interval the devices are set to, and how many may be missed before offline.
    pub keepalive_secs: u32,
    pub keepalive_count: u32,
    /// Registration lifetime bounds: shorter requests get `423`, longer are cut to the maximum.
    pub min_expires_secs: u32,
    pub max_expires_secs: u32,
    /// Digest nonce lifetime.
    pub nonce_secs: u32,
    /// Also offer `qop=auth` in challenges.
    pub qop: bool,
    /// Largest SIP message accepted.
    pub max_message_len: usize,
    /// Subscribe to each device's alarms (SUBSCRIBE) after it registers.
    pub subscribe_alarms: bool,
    /// Ports for live-video media (UDP, and TCP listeners or local ports), `"first-last"`.
    pub media_ports: String,
    /// The IP written into the SDP `c=`/`o=` lines; empty: `advertise`.
    pub media_advertise: String,
    /// How cameras are asked to send: `udp`, `tcp-passive` (they connect to the platform) or
    /// `tcp-active` (the platform connects to them).
    pub media_transport: String,
    /// A live stream with no RTP packet for this long is dead (BYE, then invite again).
    pub media_timeout_secs: u32,
    /// An on-demand camera is released (BYE) this long after its last viewer left.
    pub linger_secs: u32,
    /// Devices with their own password or school: `[[gb28181.devices]]`.
    pub devices: Vec<DeviceConfig>,
    /// Channel bindings: `[[gb28181.channels]]`.
    pub channels: Vec<ChannelBinding>,
}

impl Default for GbConfig {
    fn default() -> Self {
        Self {
            addr: "127.0.0.1:5060".into(),
            advertise: String::new(),
            platform_id: "34020000002000000001".into(),
            domain: "3402000000".into(),
            password: "12345678".into(),
            timezone: "Asia/Shanghai".into(),
            keepalive_secs: 60,
            keepalive_count: 3,
            min_expires_secs: 60,
            max_expires_secs: 86_400,
            nonce_secs: 300,
            qop: false,
            max_message_len: 64 * 1024,
            subscribe_alarms: true,
            media_ports: "30000-30999".into(),
            media_advertise: String::new(),
            media_transport: "udp".into(),
            media_timeout_secs: 10,
            linger_secs: 15,
            devices: Vec::new(),
            channels: Vec::new(),
        }
    }
}

impl std::fmt::Debug for GbConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GbConfig")
            .field("addr", &self.addr)
            .field("advertise", &self.advertise)
            .field("platform_id", &self.platform_id)
            .field("domain", &self.domain)
            .field(
                "password",
                &(!self.password.is_empty()).then_some("<redacted>"),
            )
            .field("timezone", &self.timezone)
            .field("keepalive_secs", &self.keepalive_secs)
            .field("keepalive_count", &self.keepalive_count)
            .field("media_ports", &self.media_ports)
            .field("media_transport", &self.media_transport)
            .field("devices", &self.devices)
            .field("channels", &self.channels)
            .finish_non_exhaustive()
    }
}

/// One `[[gb28181.devices]]` entry.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceConfig {
    /// The device's 20-digit ID.
    pub id: String,
    /// Its own password (else the platform's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// The school it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub school_id: Option<i64>,
    /// A name for people until the device reports its own.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
}

impl std::fmt::Debug for DeviceConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceConfig")
            .field("id", &self.id)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("school_id", &self.school_id)
            .field("name", &self.name)
            .finish()
    }
}

/// One `[[gb28181.channels]]` entry: a channel bound to an alarm point.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelBinding {
    /// The channel's 20-digit ID (for a device that is its own channel, the device ID).
    pub id: String,
    /// The device it belongs to (default: the channel ID itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// The alarm point its alarms (and video) belong to.
    pub alarm_point_id: i64,
}
