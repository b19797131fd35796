//! The `bygd` commands: each parses its flags, opens the data directory and calls one
//! service, with the operator at the shell as an admin of every site (the data directory's
//! file permissions are the access control here).
//!
//! Exit status: 0 done, 1 done but refused or without a result (a door that did not
//! confirm), 2 an error (bad flags, a missing data directory, a database failure).
//!
//! This file holds the command line ([`Cli`]) and dispatches each command to its module:
//! - `init`, `serve`: `bygd init`, `bygd serve`.
//! - `sites`, `gateways`, `members`, `passes`, `accounts`, `tokens`, `webhooks`: `bygd site …`,
//!   `bygd gateway …`, `bygd member …` and so on.
//! - `doors`: `bygd unlock`, `bygd lockdown`, and waiting for a command's result.
//! - `clock`: `bygd clock reset`.
//! - `entries`: `bygd audit`.
//! - `alarms`: `bygd alarms`.
//! - `bygd demo` runs [`crate::demo`].

mod accounts;
mod alarms;
mod clock;
mod doors;
mod entries;
mod gateways;
mod init;
mod members;
mod passes;
mod serve;
mod sites;
mod tokens;
mod webhooks;

use crate::access::{Principal, Sites};
use crate::service::Dashboard;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// bygd: open-source access control for unstaffed rural spaces.
///
/// Members open doors with a signed pass on their phone; a Raspberry Pi at each door
/// decides alone, logs every entry and keeps working offline. This command runs the
/// central dashboard: it stores what the gateways report, issues and revokes passes,
/// sends commands to doors and answers audits.
///
/// Try it with nothing installed:
///   cargo run --release -- demo
///
/// Set up a dashboard, then a space: the site, its members, its gateway when it arrives:
///   export BYGD_DATA=/var/lib/bygd-dashboard
///   bygd init
///   bygd site add --id byn --name "Byns kontor" --time-zone Europe/Stockholm --language sv
///   bygd member add --id anna --name "Anna Lindqvist" --site byn
///   bygd gateway add --site byn --id gw1 --public-key KEY --out gw1.toml
///   bygd serve --mqtt mqtt://127.0.0.1:1883
#[derive(Debug, Parser)]
#[command(name = "bygd", version, verbatim_doc_comment)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

impl Cli {
    /// The log filter unless `BYGD_LOG` says otherwise: the service logs what it does.
    #[must_use]
    pub fn default_log_filter(&self) -> &'static str {
        "warn,bygd_dashboard=info"
    }
}

/// Where the dashboard's files are.
#[derive(Debug, Clone, Args)]
struct DataArgs {
    /// The data directory made by `bygd init` (config, issuer key, SQLite database).
    #[arg(long, env = "BYGD_DATA", value_name = "DIR")]
    data: PathBuf,
    /// Use this database instead of the config's: sqlite:PATH or postgres://USER@HOST/DB.
    #[arg(long, env = "BYGD_DATABASE_URL", value_name = "URL")]
    database: Option<String>,
}

impl DataArgs {
    async fn open(&self) -> anyhow::Result<Dashboard> {
        Ok(Dashboard::open(&self.data, self.database.as_deref())
            .await?
            .0)
    }
}

#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Create a data directory: config, issuer key, database and the first admin account.
    ///
    /// Prints the issuer's public key (every gateway trusts it) and the admin's password,
    /// once. Example: bygd init --data /var/lib/bygd-dashboard
    Init(init::Init),
    /// Serve the HTTP API and ingest the gateways' events from the broker.
    ///
    /// Example: bygd serve --data /var/lib/bygd-dashboard --mqtt mqtt://127.0.0.1:1883
    Serve(serve::Serve),
    /// Sites: add one (before its members and gateway), list, edit.
    #[command(subcommand)]
    Site(sites::SiteCommand),
    /// Gateways: register one, list them.
    #[command(subcommand)]
    Gateway(gateways::GatewayCommand),
    /// Members: add, list, revoke.
    #[command(subcommand)]
    Member(members::MemberCommand),
    /// Passes: issue (prints the QR text), list, revoke.
    #[command(subcommand)]
    Pass(passes::PassCommand),
    /// Release a door's lock for some seconds, from afar.
    ///
    /// Needs `bygd serve` running with a broker: it publishes the signed command.
    /// Example: bygd unlock --data DIR --gateway byn/gw1 --door front --seconds 5
    Unlock(doors::Unlock),
    /// Lock one door or every door of a gateway down (no pass opens it), or end that.
    ///
    /// Example: bygd lockdown --data DIR --gateway byn/gw1 --door front on
    Lockdown(doors::Lockdown),
    /// A gateway's clock floor: bring back one a wrong time source pushed into the future.
    #[command(subcommand)]
    Clock(clock::ClockCommand),
    /// Who entered where and when: the entry log, newest first.
    ///
    /// Times: 2026-12-01 or 2026-12-01T08:00 (site time), RFC 3339, now, +2h.
    /// Example: bygd audit --data DIR --site byn --since 2026-12-01 --outcome denied --csv
    Audit(entries::Audit),
    /// Alarms: forged or broken logs, doors forced or held open, gateways offline.
    ///
    /// Example: bygd alarms --data DIR
    Alarms(alarms::Alarms),
    /// Operator accounts for the API (and the coming web UI).
    #[command(subcommand)]
    Account(accounts::AccountCommand),
    /// API tokens for booking systems and scripts.
    #[command(subcommand)]
    Token(tokens::TokenCommand),
    /// Webhooks: booking and member systems hear of entries, passes, members and alarms.
    #[command(subcommand)]
    Webhook(webhooks::WebhookCommand),
}

fn json_line(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string(value)?);
    Ok(())
}

/// Prints each of `items` as one line of JSON.
fn json_lines(items: &[impl serde::Serialize]) -> anyhow::Result<()> {
    for item in items {
        json_line(item)?;
    }
    Ok(())
}

/// Parses the `--sites` option's value.
fn sites_option(text: &str) -> anyhow::Result<Sites> {
    Sites::parse(text).map_err(|e| anyhow::anyhow!("--sites: {e}"))
}

fn pretty(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let me = Principal::local_admin();
    match cli.command {
        Command::Init(args) => init::init(args).await,
        Command::Serve(args) => serve::serve(args).await,
        Command::Site(command) => sites::run(command, me).await,
        Command::Gateway(command) => gateways::run(command, me).await,
        Command::Member(command) => members::run(command, me).await,
        Command::Pass(command) => passes::run(command, me).await,
        Command::Unlock(args) => doors::unlock(args, me).await,
        Command::Lockdown(args) => doors::lockdown(args, me).await,
        Command::Clock(command) => clock::run(command, me).await,
        Command::Audit(args) => entries::audit(args, me).await,
        Command::Alarms(args) => alarms::alarms(args, me).await,
        Command::Account(command) => accounts::run(command, me).await,
        Command::Token(command) => tokens::run(command, me).await,
        Command::Webhook(command) => webhooks::run(command, me).await,
    }
}
