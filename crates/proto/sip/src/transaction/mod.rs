//! RFC 3261 §17 transactions as sans-IO state machines driven by `Instant`s the caller passes
//! in: [`ServerTransactions`] (retransmission absorption for requests the platform receives)
//! and [`ClientTransaction`] / [`ClientTransactions`] (retransmission and timeout of requests
//! the platform sends).

mod client;
mod server;

pub use client::{ClientKey, ClientOutput, ClientTransaction, ClientTransactions, ResponseAction};
pub use server::{Incoming, ServerKey, ServerOutput, ServerTransactions};

use std::time::Duration;

/// The transport a transaction runs over. Reliable transports never retransmit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    Udp,
    Tcp,
}

impl Transport {
    pub fn is_reliable(self) -> bool {
        matches!(self, Transport::Tcp)
    }
}

/// Timer values (RFC 3261 §17 table 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    /// RTT estimate, 500 ms.
    pub t1: Duration,
    /// Maximum non-INVITE retransmit interval, 4 s.
    pub t2: Duration,
    /// Maximum time a message stays in the network, 5 s.
    pub t4: Duration,
    /// How long a received INVITE may stay unanswered by the application before the server
    /// transaction is dropped (non-INVITE: 64·T1).
    pub invite_unanswered: Duration,
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
            invite_unanswered: Duration::from_secs(180),
        }
    }
}

impl Timers {
    /// 64·T1: Timers B, F, H, J and L.
    pub fn timeout(&self) -> Duration {
        self.t1.saturating_mul(64)
    }
}
