//! `bygd-demo`: the demo, and every `bygd` command beside it. Parses the command line,
//! installs logging and runs the command (see `cli.rs`).

use bygd_demo::Invocation;
use std::process::ExitCode;

/// The log filter of the demo unless `BYGD_LOG` says otherwise: it prints its own story, so
/// only problems are logged beside it.
const DEMO_LOG_FILTER: &str = "warn,rumqttd=off,rumqttc=error,bygd_dashboard::alarm=error";

fn main() -> ExitCode {
    let invocation = bygd_demo::parse_from(std::env::args_os()).unwrap_or_else(|e| e.exit());
    let default_filter = match &invocation {
        Invocation::Demo(_) => DEMO_LOG_FILTER,
        Invocation::Bygd(cli) => cli.default_log_filter(),
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("BYGD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let result = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|rt| {
            rt.block_on(async {
                match invocation {
                    Invocation::Demo(args) => bygd_demo::run(args.into())
                        .await
                        .map(|()| ExitCode::SUCCESS),
                    Invocation::Bygd(cli) => bygd_dashboard::cli::run(cli).await,
                }
            })
        });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
