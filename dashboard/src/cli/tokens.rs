//! `bygd token …`: API tokens: create (printed once), list, revoke.

use super::{json_lines, sites_option, DataArgs};
use crate::access::{Principal, Scope};
use crate::service::split_list;
use clap::Subcommand;
use std::collections::BTreeSet;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub(super) enum TokenCommand {
    /// Create an API token; prints it once.
    ///
    /// Example: bygd token create --data DIR --name booking --scopes members:write,passes:write --sites byn
    Create {
        #[command(flatten)]
        data: DataArgs,
        /// What it is for.
        #[arg(long)]
        name: String,
        /// Comma-separated: members:read, members:write, passes:read, passes:write,
        /// entries:read, gateways:read, alarms:read, alarms:write, commands:write, admin.
        #[arg(long)]
        scopes: String,
        /// `*` or comma-separated sites.
        #[arg(long, default_value = "*")]
        sites: String,
        /// When it stops working (+90d, 2027-06-30, RFC 3339).
        #[arg(long)]
        expires: Option<String>,
    },
    /// List tokens (never their secrets).
    List {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Revoke a token at once.
    Revoke {
        #[command(flatten)]
        data: DataArgs,
        /// The token's id (the part after `bygd_` and before the dot).
        id: String,
    },
}

/// Runs `bygd token …`.
pub(super) async fn run(command: TokenCommand, me: Principal) -> anyhow::Result<ExitCode> {
    match command {
        TokenCommand::Create {
            data,
            name,
            scopes,
            sites,
            expires,
        } => {
            let dashboard = data.open().await?;
            let scopes = split_list(&scopes)
                .iter()
                .map(|s| Scope::parse(s))
                .collect::<Result<BTreeSet<_>, _>>()
                .map_err(|e| anyhow::anyhow!("--scopes: {e}"))?;
            let sites = sites_option(&sites)?;
            let expires = expires
                .as_deref()
                .map(|t| {
                    crate::timetext::parse_time(t, &jiff::tz::TimeZone::system(), dashboard.now())
                })
                .transpose()
                .map_err(|e| anyhow::anyhow!("--expires: {e}"))?;
            let (token, id) = dashboard
                .tokens()
                .create(&me, &name, &scopes, &sites, expires)
                .await?;
            eprintln!(
                "Token {id} created; it is shown once. Send it as `Authorization: Bearer TOKEN`."
            );
            println!("{token}");
        }
        TokenCommand::List { data } => {
            let dashboard = data.open().await?;
            json_lines(&dashboard.tokens().list(&me).await?)?;
        }
        TokenCommand::Revoke { data, id } => {
            let dashboard = data.open().await?;
            dashboard.tokens().revoke(&me, &id).await?;
            println!("Token {id} revoked.");
        }
    }
    Ok(ExitCode::SUCCESS)
}
