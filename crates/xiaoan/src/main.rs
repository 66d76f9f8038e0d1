//! `xiaoan`: parses the command line, sets up logging and runs the chosen subcommand.

use clap::Parser;
use tracing_subscriber::EnvFilter;
use xiaoan::cmds::{self, Cli, Command};

fn init_logging(level: &str) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::DefaultConfig => {
            cmds::default_config::run();
            Ok(())
        }
        Command::Serve(args) => {
            init_logging(&args.server.config()?.log.level);
            cmds::serve::run(args).await
        }
        Command::Demo(args) => {
            init_logging(&args.server.config()?.log.level);
            cmds::demo::run(args).await
        }
        Command::Sim(args) => {
            init_logging("warn");
            cmds::sim::run(args).await
        }
        Command::Bench(args) => {
            init_logging("error");
            cmds::bench::run(args).await
        }
        Command::Audit(args) => {
            init_logging("error");
            // 0 intact, 1 broken, 2 could not check.
            match cmds::audit::run(args).await {
                Ok(0) => Ok(()),
                Ok(code) => std::process::exit(code),
                Err(e) => {
                    eprintln!("error: {e:#}");
                    std::process::exit(2)
                }
            }
        }
    }
}
