//! The subcommands, one file each, and the command line that selects them.

pub mod audit;
pub mod bench;
pub mod default_config;
pub mod demo;
pub mod serve;
pub mod sim;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::Config;

/// 校安 xiaoan: one-key school alarms to the police alarm centre.
#[derive(Debug, Parser)]
#[command(name = "xiaoan", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: alarm intake, API and console.
    Serve(serve::ServeArgs),
    /// Run the server with a demo dataset (恩施市, five schools, users with password `demo`).
    Demo(demo::DemoArgs),
    /// Print the default configuration file, with comments.
    DefaultConfig,
    /// Run a benchmark and print its figures.
    Bench(bench::BenchArgs),
    /// Simulate a device (a DC-09 alarm panel) talking to a running xiaoan.
    Sim(sim::SimArgs),
    /// Check or print the audit trail of a data directory (also while a server runs on it).
    Audit(audit::AuditArgs),
}

/// Flags shared by every command that runs a server.
#[derive(Debug, Clone, Args)]
pub struct ServerFlags {
    /// Configuration file (TOML).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory (database and files); overrides `data_dir` in the config.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// HTTP listen address, e.g. 127.0.0.1:8080 (port 0 picks a free port).
    #[arg(long, value_name = "ADDR")]
    pub http: Option<String>,
    /// SIA DC-09 receiver address (TCP and UDP), e.g. 127.0.0.1:9000; empty turns it off.
    #[arg(long, value_name = "ADDR")]
    pub dc09: Option<String>,
    /// GB/T 28181 platform (SIP) address (UDP and TCP), e.g. 127.0.0.1:5060; empty turns it off.
    #[arg(long, value_name = "ADDR")]
    pub sip: Option<String>,
}

impl ServerFlags {
    /// The configuration with these flags applied last.
    pub fn config(&self) -> anyhow::Result<Config> {
        let mut config = Config::load(self.config.as_deref())?;
        if let Some(dir) = &self.data_dir {
            config.data_dir = Some(dir.clone());
        }
        if let Some(addr) = &self.http {
            config.http.addr = addr.clone();
        }
        if let Some(addr) = &self.dc09 {
            config.dc09.addr = addr.clone();
        }
        if let Some(addr) = &self.sip {
            config.gb28181.addr = addr.clone();
        }
        Ok(config)
    }
}

/// Resolves when the process is asked to stop (Ctrl-C or SIGTERM).
pub async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
