//! Live video from devices into the cameras' tracks.
//!
//! * [`ports`]: the configured media port range and the order ports are tried in (sans-IO).
//! * [`depacketize`]: RTP packets → reorder (UDP) → PS demuxer → [`xiaoan_media::Frame`]s, with
//!   the lenient SSRC check, 33-bit timestamp unwrapping, and each camera's [`Timeline`]
//!   continuing across sessions (sans-IO).
//! * [`receiver`]: one session's receiving endpoint: a UDP socket, a TCP listener the device
//!   connects to (passive), or a TCP connection to the device (active), RFC 4571 framing over
//!   TCP, size limits and the dead-stream timeout.
//! * [`sessions`]: which cameras are invited when (always-on cameras while their device is
//!   registered, on-demand cameras while they have viewers plus a linger), retries with
//!   backoff, BYE in both directions, and the cameras' link state.

pub mod depacketize;
pub mod ports;
pub mod receiver;
pub mod sessions;

pub use depacketize::{Depacketizer, Timeline};
pub use ports::{PortCursor, PortRange};
pub use receiver::{End, Limits, MediaEndpoint, MediaError};
pub use sessions::{MediaSettings, Sessions};
