//! `bygd alarms`: open alarms (or every alarm), newest first.

use super::DataArgs;
use crate::access::Principal;
use clap::Args;
use std::process::ExitCode;

// `bygd alarms`'s flags; its help is the doc comment on the `Alarms` command in `mod.rs`.
#[derive(Debug, Args)]
pub(super) struct Alarms {
    #[command(flatten)]
    data: DataArgs,
    /// Also those that cleared.
    #[arg(long)]
    all: bool,
}

/// Runs `bygd alarms`.
pub(super) async fn alarms(args: Alarms, me: Principal) -> anyhow::Result<ExitCode> {
    let Alarms { data, all } = args;
    let dashboard = data.open().await?;
    let alarms = dashboard.alarms().list(&me, !all, 1000).await?;
    for a in &alarms {
        println!(
            "{}  {}/{}{}  {}  x{}  {}{}",
            a.last_at,
            a.site,
            a.gateway,
            a.door
                .as_deref()
                .map(|d| format!(" door {d}"))
                .unwrap_or_default(),
            a.kind,
            a.count,
            a.detail,
            a.cleared_at
                .as_deref()
                .map(|t| format!("  (cleared {t})"))
                .unwrap_or_default()
        );
    }
    if alarms.is_empty() {
        eprintln!("No {}alarms.", if all { "" } else { "open " });
    }
    Ok(ExitCode::SUCCESS)
}
