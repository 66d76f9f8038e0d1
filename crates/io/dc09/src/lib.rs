//! The SIA DC-09 receiver. Panels and one-key panic buttons report here over TCP or UDP; every
//! alarm lands in the same incident flow as the web button.
//!
//! - [`accounts`]: the account table (account → school alarm point, optional AES key,
//!   supervision interval), built from configuration.
//! - [`policy`]: sans-IO decision for one decoded frame: the reply (`ACK`/`*ACK`/`NAK`/`DUH` or
//!   none), the alarms to raise, the signals to record, the device health to update.
//! - [`listener`]: the TCP and UDP sockets. The `ACK` leaves only after the hub has committed
//!   what the frame carried; a retransmission replays its idempotency key instead of raising
//!   again.

pub mod accounts;
pub mod listener;
pub mod policy;

pub use accounts::{AccountConfig, Accounts, AccountsError, RouteChoice};
pub use listener::{Dc09Settings, run_tcp, run_udp};
pub use policy::{Decision, Reply, decide};
