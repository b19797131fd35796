//! `bygd clock …`: a signed command that resets a gateway's clock floor.

use super::doors::report_command;
use super::DataArgs;
use crate::access::Principal;
use crate::command::CommandRequest;
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub(super) enum ClockCommand {
    /// Send a gateway a signed command that sets its clock floor (default: this machine's now).
    ///
    /// A gateway never decides at a time below its floor. If a time server it trusted (or a
    /// spoofed one) pushed its clock into the future, the floor went along, and every pass
    /// and every command (lockdown included) is refused as `expired` until the floor comes
    /// back. Fix the gateway's time source first, then reset. The gateway logs a `clock`
    /// event with the floor it ends up with: still in the future means its system clock
    /// still says so. Needs `bygd serve` running with a broker; at the gateway itself,
    /// `bygd-gateway clock reset-floor --to now` does the same.
    ///
    /// Example: bygd clock reset --data DIR --gateway byn/gw1
    ///          bygd clock reset --data DIR --gateway byn/gw1 --to 2026-12-03T10:00
    #[command(verbatim_doc_comment)]
    Reset {
        #[command(flatten)]
        data: DataArgs,
        /// SITE/GATEWAY, or GATEWAY when only one site has that id.
        #[arg(long)]
        gateway: String,
        /// The new floor: now, 2026-12-03, 2026-12-03T10:00 (site time) or RFC 3339.
        #[arg(long, default_value = "now")]
        to: String,
        /// Seconds to wait for the gateway to confirm.
        #[arg(long, default_value_t = 15)]
        wait: u64,
    },
}

/// Runs `bygd clock …`.
pub(super) async fn run(command: ClockCommand, me: Principal) -> anyhow::Result<ExitCode> {
    match command {
        ClockCommand::Reset {
            data,
            gateway,
            to,
            wait,
        } => {
            let dashboard = data.open().await?;
            let (site, gateway) = dashboard.gateways().resolve(&me, &gateway).await?;
            let zone = dashboard.sites().zone(&me, &site).await?;
            let floor = crate::timetext::parse_time(&to, &zone, dashboard.now())
                .map_err(|e| anyhow::anyhow!("--to: {e}"))?;
            let sent = dashboard
                .commands()
                .send(
                    &me,
                    &site,
                    &gateway,
                    &CommandRequest::ResetClockFloor { floor: Some(floor) },
                )
                .await?;
            report_command(&dashboard, &me, &sent.id, wait).await
        }
    }
}
