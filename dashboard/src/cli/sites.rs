//! `bygd site …`: add a site before its members and gateways, list sites, edit one.

use super::DataArgs;
use crate::access::Principal;
use crate::site::{NewSite, SiteChange, SiteInfo};
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub(super) enum SiteCommand {
    /// Add a site: the space, before its members and its gateway.
    ///
    /// Its time zone is the one every page, CSV export and e-mail of the site shows times in,
    /// and the one `bygd gateway add` writes into the gateway's config.
    /// Example: bygd site add --data DIR --id byn --name "Byns kontor" --time-zone Europe/Stockholm --language sv
    Add {
        #[command(flatten)]
        data: DataArgs,
        /// The site id (lowercase letters, digits, '-', '_'): in every pass; never changes.
        #[arg(long)]
        id: String,
        /// Its name, for people.
        #[arg(long)]
        name: String,
        /// Its IANA time zone, like Europe/Stockholm or Europe/Copenhagen.
        #[arg(long, value_name = "ZONE")]
        time_zone: String,
        /// Its address.
        #[arg(long)]
        address: Option<String>,
        /// The language its new members get: sv, da or en.
        #[arg(long, default_value = crate::site::DEFAULT_LANGUAGE)]
        language: String,
    },
    /// List the sites: id, name, time zone, language, address.
    ///
    /// Example: bygd site list --data DIR
    List {
        #[command(flatten)]
        data: DataArgs,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Change a site's name, address, time zone or members' default language.
    ///
    /// Gateways already installed keep the time zone of their config file until it is
    /// changed there too; the command names them.
    /// Example: bygd site edit --data DIR byn --address "Byvägen 1, 123 45 Byn"
    Edit {
        #[command(flatten)]
        data: DataArgs,
        /// The site id.
        id: String,
        /// A new name.
        #[arg(long)]
        name: Option<String>,
        /// A new address ("" removes it).
        #[arg(long)]
        address: Option<String>,
        /// A new IANA time zone.
        #[arg(long, value_name = "ZONE")]
        time_zone: Option<String>,
        /// A new default language for members: sv, da or en.
        #[arg(long)]
        language: Option<String>,
        /// `true`: the site's doors open only for passes bound to a phone's key (members set
        /// their pass up in the pass app, and no bare code is shown); `false` allows bare
        /// passes again.
        #[arg(long, value_name = "true|false")]
        require_device_key: Option<bool>,
    },
}

/// A site on one line, as `site list` prints it.
fn line(site: &SiteInfo) -> String {
    let address = site
        .address
        .as_deref()
        .map(|a| format!("  {}", a.replace('\n', ", ")))
        .unwrap_or_default();
    format!(
        "{}  {}  {}  language {}{}{address}",
        site.id,
        site.name,
        site.time_zone,
        site.language,
        if site.require_device_key {
            "  device-bound passes only"
        } else {
            ""
        }
    )
}

/// Runs `bygd site …`.
pub(super) async fn run(command: SiteCommand, me: Principal) -> anyhow::Result<ExitCode> {
    match command {
        SiteCommand::Add {
            data,
            id,
            name,
            time_zone,
            address,
            language,
        } => {
            let dashboard = data.open().await?;
            let site = dashboard
                .sites()
                .add(
                    &me,
                    &NewSite {
                        id,
                        name,
                        address,
                        time_zone,
                        language: Some(language),
                    },
                )
                .await?;
            println!("Added site {}", line(&site));
            eprintln!(
                "Next: add its members (bygd member add --site {}), and its gateway when the \
                 hardware arrives (bygd gateway add --site {}).",
                site.id, site.id
            );
        }
        SiteCommand::List { data, json } => {
            let dashboard = data.open().await?;
            let sites = dashboard.sites().list(&me).await?;
            if json {
                super::json_lines(&sites)?;
            } else {
                for site in &sites {
                    println!("{}", line(site));
                }
            }
            if sites.is_empty() {
                eprintln!("No sites yet: add one with `bygd site add`.");
            }
        }
        SiteCommand::Edit {
            data,
            id,
            name,
            address,
            time_zone,
            language,
            require_device_key,
        } => {
            if name.is_none()
                && address.is_none()
                && time_zone.is_none()
                && language.is_none()
                && require_device_key.is_none()
            {
                anyhow::bail!(
                    "give --name, --address, --time-zone, --language or --require-device-key"
                );
            }
            let dashboard = data.open().await?;
            let before = dashboard.sites().get(&me, &id).await?;
            let site = dashboard
                .sites()
                .update(
                    &me,
                    &id,
                    &SiteChange {
                        name,
                        address: address.map(Some),
                        time_zone,
                        language,
                        require_device_key,
                    },
                )
                .await?;
            println!("Site {}", line(&site));
            if site.time_zone != before.time_zone {
                let gateways: Vec<String> = dashboard
                    .gateways()
                    .list(&me)
                    .await?
                    .into_iter()
                    .filter(|g| g.site == site.id)
                    .map(|g| format!("{}/{}", g.site, g.id))
                    .collect();
                if !gateways.is_empty() {
                    eprintln!(
                        "The gateways {} keep {} until their config says otherwise: set \
                         time_zone = \"{}\" in /etc/bygd/gateway.toml on each and restart \
                         bygd-gateway.",
                        gateways.join(", "),
                        before.time_zone,
                        site.time_zone
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
