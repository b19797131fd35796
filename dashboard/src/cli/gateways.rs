//! `bygd gateway …`: register a gateway and write its config, list gateways with their
//! state, check a gateway's stored log end to end.

use super::DataArgs;
use crate::access::Principal;
use crate::error::ServiceError;
use crate::gateway::{NewGateway, DEFAULT_TIME_ZONE};
use crate::service::{split_list, Dashboard};
use anyhow::Context as _;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub(super) enum GatewayCommand {
    /// Register a gateway's key and write its config.
    ///
    /// On the Pi: `bygd-gateway keygen --out /etc/bygd/gateway.key` prints KEY.
    /// Example: bygd gateway add --data DIR --site byn --id gw1 --public-key KEY --doors front,back --out gw1.toml
    Add {
        #[command(flatten)]
        data: DataArgs,
        /// The site, added before with `bygd site add` (one not added yet is added, named
        /// after its id).
        #[arg(long)]
        site: String,
        /// The gateway's id at the site.
        #[arg(long)]
        id: String,
        /// The gateway's public key (64 hex digits).
        #[arg(long)]
        public_key: String,
        /// Its doors, comma-separated.
        #[arg(long, default_value = "front")]
        doors: String,
        /// The time zone of a site not added yet (default Europe/Stockholm). A site that
        /// exists keeps its own, which the config gets; `bygd site edit` changes it.
        #[arg(long, value_name = "ZONE")]
        time_zone: Option<String>,
        /// The broker the gateway connects to (default: the dashboard's).
        #[arg(long, value_name = "URL")]
        broker: Option<String>,
        /// Write the gateway config here instead of printing it.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// List gateways with their state.
    List {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Check a gateway's stored log end to end: every event's hash and link, no gaps.
    ///
    /// Exit status 0 if intact, 1 if not. Example: bygd gateway verify --data DIR byn/gw1
    Verify {
        #[command(flatten)]
        data: DataArgs,
        /// SITE/GATEWAY, or GATEWAY when only one site has that id.
        gateway: String,
    },
}

/// Runs `bygd gateway …`.
pub(super) async fn run(command: GatewayCommand, me: Principal) -> anyhow::Result<ExitCode> {
    match command {
        GatewayCommand::Add {
            data,
            site,
            id,
            public_key,
            doors,
            time_zone,
            broker,
            out,
        } => {
            let (dashboard, config) = Dashboard::open(&data.data, data.database.as_deref()).await?;
            let site_is_new = matches!(
                dashboard.sites().get(&me, &site).await,
                Err(ServiceError::NotFound { .. })
            );
            let new = NewGateway {
                site: site.clone(),
                id: id.clone(),
                public_key,
                doors: split_list(&doors),
                time_zone,
            };
            dashboard.gateways().register(&me, &new).await?;
            let broker = broker.or_else(|| config.mqtt.map(|m| m.url));
            let text = dashboard
                .gateways()
                .config(&me, &site, &id, broker.as_deref())
                .await?;
            match out {
                Some(path) => {
                    std::fs::write(&path, &text)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    println!(
                        "Registered gateway {site}/{id}; its config is in {}",
                        path.display()
                    );
                    println!("Copy it to /etc/bygd/gateway.toml on the gateway, check the door pins, then run");
                    println!("  bygd-gateway check-config --config /etc/bygd/gateway.toml");
                }
                None => print!("{text}"),
            }
            if site_is_new {
                let zone = new.time_zone.as_deref().unwrap_or(DEFAULT_TIME_ZONE);
                eprintln!(
                    "Added site {site} with the time zone {zone}; give it a name and address \
                     with `bygd site edit {site} --name … --address …` (next time, \
                     `bygd site add` first)."
                );
            }
        }
        GatewayCommand::List { data } => {
            let dashboard = data.open().await?;
            for g in dashboard.gateways().list(&me).await? {
                let doors: Vec<String> = g
                    .doors
                    .iter()
                    .map(|d| {
                        let flags = [
                            (d.lockdown == Some(true), "lockdown"),
                            (d.forced_open == Some(true), "FORCED"),
                            (d.held_open == Some(true), "HELD"),
                            (d.open == Some(true), "open"),
                        ];
                        let flags: Vec<&str> = flags.iter().filter(|f| f.0).map(|f| f.1).collect();
                        if flags.is_empty() {
                            d.id.clone()
                        } else {
                            format!("{} ({})", d.id, flags.join(", "))
                        }
                    })
                    .collect();
                println!(
                    "{}/{}  {}  last seen {}  events {}  doors: {}",
                    g.site,
                    g.id,
                    if g.online { "online " } else { "OFFLINE" },
                    g.last_seen.as_deref().unwrap_or("never"),
                    g.head_seq,
                    doors.join(", ")
                );
            }
        }
        GatewayCommand::Verify { data, gateway } => {
            let dashboard = data.open().await?;
            let (site, gateway) = dashboard.gateways().resolve(&me, &gateway).await?;
            let report = dashboard.verify_stored_chain(&me, &site, &gateway).await?;
            match report.problem {
                None => println!("{site}/{gateway}: {} events, chain intact", report.events),
                Some(problem) => {
                    println!(
                        "{site}/{gateway}: BROKEN after {} events: {problem}",
                        report.events
                    );
                    return Ok(ExitCode::from(1));
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
