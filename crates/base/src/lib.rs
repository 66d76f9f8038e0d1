//! Foundations shared by every xiaoan crate. Owns the injected clock; holds no domain code.

pub mod clock;

pub use clock::{Clock, RealClock, SimulatedClock};
