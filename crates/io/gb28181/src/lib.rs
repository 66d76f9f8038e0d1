//! `xiaoan-gb28181`: the GB/T 28181 platform (SIP server) that cameras, NVRs, alarm inputs and
//! one-key alarm columns register to.
//!
//! * [`config`]: the `[gb28181]` section (listen/advertise addresses, IDs, passwords, timing,
//!   channel bindings).
//! * [`listener`]: UDP and TCP sockets; [`start`] runs everything.
//! * [`platform`]: shared state and dispatch, with [`register`] (digest, expiry, `Date`) and
//!   [`message`] (keepalive, alarm, catalog, device info); [`alarm`] turns an alarm into an
//!   incident or a device-health signal; [`client`] sends the platform's own requests with
//!   retransmission; [`devices_writer`] shares one commit among concurrent registrations; [`control`] sends arm/disarm/alarm reset/PTZ and subscribes to alarms; [`peer`] reaches devices over UDP or their TCP connection; [`time`] is the
//!   local time zone; [`sdp`] and [`invite`] set up and end live-video sessions; [`media`]
//!   receives their RTP/PS into the cameras' tracks and decides when each camera is invited.

pub mod alarm;
pub mod client;
pub mod config;
pub mod control;
pub mod devices_writer;
pub mod invite;
pub mod listener;
pub mod media;
pub mod message;
pub mod peer;
pub mod platform;
pub mod register;
pub mod sdp;
pub mod time;

pub use config::{ChannelBinding, DeviceConfig, GbConfig};
pub use listener::{StartError, Started, start};
pub use platform::{CommandError, Platform, SOURCE};
