//! Simulated schools and clients: the demo dataset (恩施市, five schools in two police areas), a
//! scalable dataset for benchmarks, the press → console benchmark client and a DC-09 panel. Used by
//! `xiaoan demo`, `xiaoan bench` and the tests; never by the server itself.

pub mod dataset;
pub mod dc09_bench;
pub mod panel;
pub mod press_bench;
