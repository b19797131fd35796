//! `bygd unlock` and `bygd lockdown`: signed commands to a gateway's doors, and waiting for
//! the gateway to confirm one.

use super::{pretty, DataArgs};
use crate::access::Principal;
use crate::command::{CommandRequest, DEFAULT_UNLOCK_SECONDS};
use crate::service::Dashboard;
use clap::{Args, ValueEnum};
use std::process::ExitCode;
use std::time::Duration;

// `bygd unlock`'s flags; its help is the doc comment on the `Unlock` command in `mod.rs`.
#[derive(Debug, Args)]
pub(super) struct Unlock {
    #[command(flatten)]
    data: DataArgs,
    /// SITE/GATEWAY, or GATEWAY when only one site has that id.
    #[arg(long)]
    gateway: String,
    /// The door.
    #[arg(long)]
    door: String,
    /// For how long.
    #[arg(long, default_value_t = DEFAULT_UNLOCK_SECONDS)]
    seconds: u32,
    /// Seconds to wait for the gateway to confirm.
    #[arg(long, default_value_t = 15)]
    wait: u64,
}

/// Runs `bygd unlock`.
pub(super) async fn unlock(args: Unlock, me: Principal) -> anyhow::Result<ExitCode> {
    let Unlock {
        data,
        gateway,
        door,
        seconds,
        wait,
    } = args;
    let dashboard = data.open().await?;
    let (site, gateway) = dashboard.gateways().resolve(&me, &gateway).await?;
    let sent = dashboard
        .commands()
        .send(
            &me,
            &site,
            &gateway,
            &CommandRequest::Unlock { door, seconds },
        )
        .await?;
    report_command(&dashboard, &me, &sent.id, wait).await
}

// `bygd lockdown`'s flags; its help is the doc comment on the `Lockdown` command in `mod.rs`.
#[derive(Debug, Args)]
pub(super) struct Lockdown {
    #[command(flatten)]
    data: DataArgs,
    /// SITE/GATEWAY, or GATEWAY when only one site has that id.
    #[arg(long)]
    gateway: String,
    /// The door; every door of the gateway if omitted.
    #[arg(long)]
    door: Option<String>,
    /// on or off.
    state: OnOff,
    /// Seconds to wait for the gateway to confirm.
    #[arg(long, default_value_t = 15)]
    wait: u64,
}

/// Runs `bygd lockdown`.
pub(super) async fn lockdown(args: Lockdown, me: Principal) -> anyhow::Result<ExitCode> {
    let Lockdown {
        data,
        gateway,
        door,
        state,
        wait,
    } = args;
    let dashboard = data.open().await?;
    let (site, gateway) = dashboard.gateways().resolve(&me, &gateway).await?;
    let on = matches!(state, OnOff::On);
    let sent = dashboard
        .commands()
        .send(&me, &site, &gateway, &CommandRequest::Lockdown { door, on })
        .await?;
    report_command(&dashboard, &me, &sent.id, wait).await
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum OnOff {
    On,
    Off,
}

/// Waits for a sent command's result and prints it; exit status 1 unless the gateway says
/// it was done.
pub(super) async fn report_command(
    dashboard: &Dashboard,
    me: &Principal,
    id: &str,
    wait: u64,
) -> anyhow::Result<ExitCode> {
    let info = dashboard
        .commands()
        .wait_for_result(me, id, Duration::from_secs(wait))
        .await?;
    pretty(&info)?;
    Ok(match info.status.as_str() {
        "done" => ExitCode::SUCCESS,
        "queued" => {
            eprintln!(
                "The command is queued but not on the broker: is `bygd serve` running with a broker (--mqtt)? \
                 It publishes queued commands; this one expires at {}.",
                info.expires
            );
            ExitCode::from(1)
        }
        "sent" | "no_result" => {
            eprintln!(
                "Sent, but the gateway has not confirmed yet (is it online? `bygd gateway list`)."
            );
            ExitCode::from(1)
        }
        _ => ExitCode::from(1),
    })
}
