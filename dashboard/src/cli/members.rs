//! `bygd member …`: add, list and revoke members.

use super::DataArgs;
use crate::access::Principal;
use crate::member::NewMember;
use crate::service::split_list;
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub(super) enum MemberCommand {
    /// Add a member to one or more sites.
    ///
    /// Example: bygd member add --data DIR --id anna --name "Anna Lindqvist" --site byn
    Add {
        #[command(flatten)]
        data: DataArgs,
        /// The member id (lowercase letters, digits, '-', '_'): in every pass and entry.
        #[arg(long)]
        id: String,
        /// The member's name.
        #[arg(long)]
        name: String,
        /// E-mail.
        #[arg(long)]
        email: Option<String>,
        /// Sites, comma-separated.
        #[arg(long = "site", value_name = "SITES")]
        sites: String,
        /// The language of their pass page and e-mails: sv, da or en (default: their site's).
        #[arg(long)]
        language: Option<String>,
    },
    /// List members.
    List {
        #[command(flatten)]
        data: DataArgs,
        /// One site.
        #[arg(long)]
        site: Option<String>,
    },
    /// Revoke a member: every pass of theirs stops opening doors once gateways get the list.
    ///
    /// Example: bygd member revoke --data DIR anna
    Revoke {
        #[command(flatten)]
        data: DataArgs,
        /// The member id.
        id: String,
    },
}

/// Runs `bygd member …`.
pub(super) async fn run(command: MemberCommand, me: Principal) -> anyhow::Result<ExitCode> {
    match command {
        MemberCommand::Add {
            data,
            id,
            name,
            email,
            sites,
            language,
        } => {
            let dashboard = data.open().await?;
            let member = dashboard
                .members()
                .add(
                    &me,
                    &NewMember {
                        id,
                        name,
                        email,
                        sites: split_list(&sites),
                        language,
                    },
                )
                .await?;
            println!(
                "Added member {} ({}) at {}",
                member.id,
                member.name,
                member.sites.join(", ")
            );
        }
        MemberCommand::List { data, site } => {
            let dashboard = data.open().await?;
            for m in dashboard.members().list(&me, site.as_deref()).await? {
                println!(
                    "{}  {}  sites {}{}",
                    m.id,
                    m.name,
                    m.sites.join(","),
                    m.revoked_at
                        .map(|t| format!("  REVOKED {t}"))
                        .unwrap_or_default()
                );
            }
        }
        MemberCommand::Revoke { data, id } => {
            let dashboard = data.open().await?;
            let member = dashboard.members().revoke(&me, &id).await?;
            println!(
                "Revoked member {} at {}: the new revocation lists go out with `bygd serve`.",
                member.id,
                member.sites.join(", ")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
