//! `bygd account …`: operator accounts: add, list, disable, enable, new password, change
//! role or sites, end sessions.

use super::{json_line, json_lines, sites_option, DataArgs};
use crate::access::{Principal, Role};
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub(super) enum AccountCommand {
    /// Add an operator account; prints its generated password once.
    ///
    /// Example: bygd account add --data DIR --name olle --role operator --sites byn
    Add {
        #[command(flatten)]
        data: DataArgs,
        /// The account name.
        #[arg(long)]
        name: String,
        /// admin, operator or auditor.
        #[arg(long)]
        role: String,
        /// `*` or comma-separated sites.
        #[arg(long, default_value = "*")]
        sites: String,
    },
    /// List accounts: role, sites, whether disabled, open sessions (one JSON object a line).
    ///
    /// Example: bygd account list --data DIR
    List {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Disable an account: it cannot log in, its sessions end now, and the API tokens it made
    /// are refused until it is enabled again.
    ///
    /// Example: bygd account disable --data DIR olle
    Disable {
        #[command(flatten)]
        data: DataArgs,
        /// The account name.
        name: String,
    },
    /// Enable a disabled account again.
    ///
    /// Example: bygd account enable --data DIR olle
    Enable {
        #[command(flatten)]
        data: DataArgs,
        /// The account name.
        name: String,
    },
    /// Give an account a new generated password (printed once); its sessions end.
    ///
    /// Example: bygd account password --data DIR olle
    Password {
        #[command(flatten)]
        data: DataArgs,
        /// The account name.
        name: String,
    },
    /// Change an account's role or sites; its sessions end.
    ///
    /// Example: bygd account set --data DIR olle --role auditor --sites byn,klit
    Set {
        #[command(flatten)]
        data: DataArgs,
        /// The account name.
        name: String,
        /// admin, operator or auditor.
        #[arg(long)]
        role: Option<String>,
        /// `*` or comma-separated sites.
        #[arg(long)]
        sites: Option<String>,
    },
    /// End every session of an account now (a lost phone, a shared computer).
    ///
    /// Example: bygd account logout --data DIR olle
    Logout {
        #[command(flatten)]
        data: DataArgs,
        /// The account name.
        name: String,
    },
}

/// Runs `bygd account …`.
pub(super) async fn run(command: AccountCommand, me: Principal) -> anyhow::Result<ExitCode> {
    match command {
        AccountCommand::Add {
            data,
            name,
            role,
            sites,
        } => {
            let dashboard = data.open().await?;
            let role = Role::parse(&role).map_err(anyhow::Error::msg)?;
            let sites = sites_option(&sites)?;
            let password = crate::account::generate_password()?;
            dashboard
                .accounts()
                .add(&me, &name, role, &sites, &password)
                .await?;
            println!(
                "Account `{name}` ({}, sites {sites}), password (shown once): {password}",
                role.name()
            );
        }
        AccountCommand::List { data } => {
            let dashboard = data.open().await?;
            json_lines(&dashboard.accounts().list(&me).await?)?;
        }
        AccountCommand::Disable { data, name } => {
            let dashboard = data.open().await?;
            let info = dashboard.accounts().disable(&me, &name).await?;
            println!(
                "Account `{name}` disabled; its sessions ended and its API tokens are refused."
            );
            json_line(&info)?;
        }
        AccountCommand::Enable { data, name } => {
            let dashboard = data.open().await?;
            let info = dashboard.accounts().enable(&me, &name).await?;
            println!("Account `{name}` enabled.");
            json_line(&info)?;
        }
        AccountCommand::Password { data, name } => {
            let dashboard = data.open().await?;
            let password = crate::account::generate_password()?;
            dashboard
                .accounts()
                .set_password(&me, &name, &password)
                .await?;
            println!("Account `{name}`: new password (shown once): {password}");
            eprintln!("Its sessions ended; it logs in again with the new password.");
        }
        AccountCommand::Set {
            data,
            name,
            role,
            sites,
        } => {
            let dashboard = data.open().await?;
            let role = role
                .as_deref()
                .map(Role::parse)
                .transpose()
                .map_err(|e| anyhow::anyhow!("--role: {e}"))?;
            let sites = sites.as_deref().map(sites_option).transpose()?;
            if role.is_none() && sites.is_none() {
                anyhow::bail!("give --role, --sites or both");
            }
            let info = dashboard
                .accounts()
                .update(&me, &name, role, sites.as_ref())
                .await?;
            println!(
                "Account `{name}` is now {} of sites {}; its sessions ended.",
                info.role, info.sites
            );
        }
        AccountCommand::Logout { data, name } => {
            let dashboard = data.open().await?;
            let ended = dashboard.accounts().end_sessions(&me, &name).await?;
            println!("Account `{name}`: {ended} session(s) ended.");
        }
    }
    Ok(ExitCode::SUCCESS)
}
