//! Simulated schools and clients: the demo dataset (恩施市, five schools in two police areas), a
//! scalable dataset for benchmarks, the press → console benchmark client and a DC-09 panel. Used by
//! `xiaoan demo`, `xiaoan bench` and the tests; never by the server itself. `gb_device` is a fleet
//! of simulated GB/T 28181 devices sharing a few sockets.

pub mod dataset;
pub mod dc09_bench;
pub mod gb_device;
pub mod panel;
pub mod press_bench;
