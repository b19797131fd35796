//! `bygd webhook …`: webhook subscriptions for booking and member systems: add (the signing
//! secret printed once), list (with pending and failed deliveries), delete.

use super::{json_lines, DataArgs};
use crate::access::Principal;
use crate::service::split_list;
use crate::webhook::{NewWebhook, EVENT_KINDS};
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub(super) enum WebhookCommand {
    /// Subscribe a URL to events; prints the signing secret once.
    ///
    /// Each event is posted as JSON, in order, signed with
    /// `Bygd-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, and retried
    /// until the receiver answers 2xx (12 tries, then given up and shown by `webhook list`).
    ///
    /// Example: bygd webhook add --data DIR --url https://booking.example.org/bygd --events entry.granted,pass.revoked --sites byn
    Add {
        #[command(flatten)]
        data: DataArgs,
        /// Where to post: https://… (or http:// to a receiver on a private network).
        #[arg(long)]
        url: String,
        /// Comma-separated: entry.granted, entry.denied, pass.issued, pass.revoked,
        /// member.changed, alarm.raised, alarm.closed; or `all`.
        #[arg(long)]
        events: String,
        /// Comma-separated sites (default: every site).
        #[arg(long)]
        sites: Option<String>,
    },
    /// List subscriptions with their pending and failed deliveries (never their secrets).
    List {
        #[command(flatten)]
        data: DataArgs,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// End a subscription: nothing more is queued or delivered to it.
    Delete {
        #[command(flatten)]
        data: DataArgs,
        /// The subscription's id.
        id: String,
    },
}

/// Runs `bygd webhook …`.
pub(super) async fn run(command: WebhookCommand, me: Principal) -> anyhow::Result<ExitCode> {
    match command {
        WebhookCommand::Add {
            data,
            url,
            events,
            sites,
        } => {
            let dashboard = data.open().await?;
            let events = if events.trim() == "all" {
                EVENT_KINDS.iter().map(|k| (*k).to_owned()).collect()
            } else {
                split_list(&events)
            };
            let created = dashboard
                .webhooks()
                .create(
                    &me,
                    &NewWebhook {
                        url,
                        events,
                        sites: sites.as_deref().map(split_list).unwrap_or_default(),
                    },
                )
                .await?;
            eprintln!(
                "Webhook {} posts {} to {}. Its signing secret, shown once (give it to the \
                 receiving system; `bygd serve` delivers):",
                created.webhook.id,
                created.webhook.events.join(", "),
                created.webhook.url
            );
            println!("{}", created.secret);
        }
        WebhookCommand::List { data, json } => {
            let dashboard = data.open().await?;
            let hooks = dashboard.webhooks().list(&me).await?;
            if json {
                json_lines(&hooks)?;
            } else {
                for h in &hooks {
                    println!(
                        "{}  {}  {}  sites {}  pending {}  failed {}{}",
                        h.id,
                        h.url,
                        h.events.join(","),
                        h.sites.join(","),
                        h.pending,
                        h.failed,
                        h.last_error
                            .as_deref()
                            .map(|e| format!("  last error: {e}"))
                            .unwrap_or_default()
                    );
                }
            }
            if hooks.is_empty() {
                eprintln!("No webhooks: add one with `bygd webhook add`.");
            }
        }
        WebhookCommand::Delete { data, id } => {
            let dashboard = data.open().await?;
            dashboard.webhooks().delete(&me, &id).await?;
            println!("Webhook {id} ended: nothing more is delivered to it.");
        }
    }
    Ok(ExitCode::SUCCESS)
}
