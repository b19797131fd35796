//! `bygd`: the central command. Today it runs the demo; the dashboard service (ingest, SQL
//! store, HTTP API, operator commands) is being built and is not offered until it works.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// bygd: open-source access control for unstaffed rural spaces.
///
/// Members open doors with a signed pass on their phone; a Raspberry Pi at the door decides
/// alone, logs every entry and keeps working offline.
///
/// Start here:
///   cargo run --release -- demo
#[derive(Debug, Parser)]
#[command(name = "bygd", version, verbatim_doc_comment)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a door gateway with simulated hardware, issue a pass and open a door with it.
    ///
    /// Nothing to install: keys, config, store and the simulated door live in a fresh
    /// directory. The demo walks through one entry, then prints the commands to present the
    /// pass yourself, revoke it and present it again, and shows the door log live.
    ///
    /// Example: cargo run --release -- demo
    Demo {
        /// Keep the demo's files here (a new or empty directory) instead of a temporary one.
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
        /// Stop after the walkthrough instead of waiting for Ctrl-C.
        #[arg(long)]
        once: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("BYGD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::Demo { data, once } => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(anyhow::Error::from)
            .and_then(|rt| {
                rt.block_on(bygd_dashboard::demo::run(
                    bygd_dashboard::demo::DemoOptions { data, once },
                ))
            }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
