//! The `xiaoan` binary's library half: configuration, the server wiring and the subcommands.
//! `main.rs` only parses the command line and calls into here, so tests start the same server.

pub mod cmds;
pub mod config;
pub mod server;
pub mod tls;
