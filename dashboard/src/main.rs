//! `bygd`: the central dashboard and the demo. Parses the command line, installs logging
//! and runs the command (see `cli.rs`).

use clap::Parser as _;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = bygd_dashboard::cli::Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("BYGD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(cli.default_log_filter()));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let result = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|rt| rt.block_on(bygd_dashboard::cli::run(cli)));
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
