//! `bygd pass …`: issue a pass (QR text, and the QR code in the terminal, PNG or SVG; its
//! link by e-mail), list, revoke and renew passes, send a pass a new link by e-mail.

use super::DataArgs;
use crate::access::Principal;
use crate::pass::IssuePass;
use crate::service::split_list;
use anyhow::Context as _;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

// Parsed once per process: the size of the biggest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub(super) enum PassCommand {
    /// Issue a pass and print its QR text (and the QR code, or write it as PNG/SVG).
    ///
    /// Example: bygd pass issue --data DIR --member anna --site byn --doors front --until +30d --png anna.png
    Issue {
        #[command(flatten)]
        data: DataArgs,
        /// The member.
        #[arg(long)]
        member: String,
        /// The site.
        #[arg(long)]
        site: String,
        /// Doors, comma-separated (default: every door of the site).
        #[arg(long)]
        doors: Option<String>,
        /// Valid from (default: now).
        #[arg(long)]
        from: Option<String>,
        /// Valid until (default: 30 days).
        #[arg(long)]
        until: Option<String>,
        /// Weekly hours in site time: "mon-fri 07:00-22:00; sat 10:00-16:00".
        #[arg(long)]
        schedule: Option<String>,
        /// The phone's P-256 public key (66 hex digits): a screenshot then opens nothing.
        #[arg(long)]
        device_key: Option<String>,
        /// member, guest, staff or break-glass.
        #[arg(long, default_value = "member")]
        kind: String,
        /// A booking reference to keep with the pass.
        #[arg(long)]
        booking: Option<String>,
        /// Write the QR code as PNG.
        #[arg(long, value_name = "FILE")]
        png: Option<PathBuf>,
        /// Write the QR code as SVG.
        #[arg(long, value_name = "FILE")]
        svg: Option<PathBuf>,
        /// Do not draw the QR code in the terminal.
        #[arg(long)]
        no_qr: bool,
        /// Also e-mail the pass page link to the member's address, in their language. The
        /// mail is queued with the pass and sent by `bygd serve` through the relay in
        /// `[smtp]` of dashboard.toml, with retries; `bygd pass list` shows how it went.
        #[arg(long)]
        email: bool,
    },
    /// List passes.
    List {
        #[command(flatten)]
        data: DataArgs,
        /// One member's.
        #[arg(long)]
        member: Option<String>,
        /// Only passes that still open doors.
        #[arg(long)]
        valid: bool,
    },
    /// E-mail the member a new link to a pass: the old link stops working at once (only a
    /// hash of each link is kept, so an old one cannot be sent again).
    ///
    /// The mail is queued and sent by `bygd serve` through the relay in `[smtp]`; `bygd pass
    /// list` shows how it went. Refused for a revoked or expired pass and for a member
    /// without an e-mail address.
    ///
    /// Example: bygd pass send --data DIR 3f1c9a0b7e2d4c5a8b6f0e1d2c3b4a59
    Send {
        #[command(flatten)]
        data: DataArgs,
        /// The pass id (32 hex digits).
        id: String,
    },
    /// Revoke a pass: its site's gateways refuse it once they get the new list.
    ///
    /// Example: bygd pass revoke --data DIR 3f1c9a0b7e2d4c5a8b6f0e1d2c3b4a59
    Revoke {
        #[command(flatten)]
        data: DataArgs,
        /// The pass id (32 hex digits).
        id: String,
    },
    /// Renew a pass: a new pass with the same doors, schedule and phone key, valid until
    /// --until, takes over the member's pass link (their pass app picks it up when next
    /// online, keeping its key), and the old pass is revoked.
    ///
    /// Example: bygd pass renew --data DIR 3f1c9a0b7e2d4c5a8b6f0e1d2c3b4a59 --until +30d
    Renew {
        #[command(flatten)]
        data: DataArgs,
        /// The pass id (32 hex digits).
        id: String,
        /// The new end: a date or time in site time (2027-01-31, "2027-01-31 18:00") or
        /// +N days (+30d).
        #[arg(long)]
        until: String,
    },
}

/// Runs `bygd pass …`.
pub(super) async fn run(command: PassCommand, me: Principal) -> anyhow::Result<ExitCode> {
    match command {
        PassCommand::Issue {
            data,
            member,
            site,
            doors,
            from,
            until,
            schedule,
            device_key,
            kind,
            booking,
            png,
            svg,
            no_qr,
            email,
        } => {
            let dashboard = data.open().await?;
            let zone = dashboard.sites().zone(&me, &site).await?;
            let now = dashboard.now();
            let time = |flag: &str, text: &Option<String>| {
                crate::timetext::parse_field(flag, text.as_deref(), &zone, now)
                    .map_err(|(flag, e)| anyhow::anyhow!("--{flag}: {e}"))
            };
            let issued = dashboard
                .passes()
                .issue(
                    &me,
                    &IssuePass {
                        from: time("from", &from)?,
                        until: time("until", &until)?,
                        member,
                        site,
                        doors: doors.as_deref().map(split_list).unwrap_or_default(),
                        schedule,
                        device_key,
                        kind: Some(kind),
                        booking,
                        email,
                    },
                )
                .await?;
            let qr = issued
                .qr_text
                .as_deref()
                .map(crate::qr::QrImage::new)
                .transpose()?;
            if let Some(qr) = &qr {
                if let Some(path) = &png {
                    std::fs::write(path, qr.png(8)?)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                }
                if let Some(path) = &svg {
                    std::fs::write(path, qr.svg())
                        .with_context(|| format!("cannot write {}", path.display()))?;
                }
                if !no_qr && png.is_none() && svg.is_none() {
                    eprintln!("{}", qr.terminal());
                }
            }
            let p = &issued.pass;
            eprintln!(
                "Pass {} for {} at {} (doors: {}), valid {} to {}{}; {}.",
                p.id,
                p.member,
                p.site,
                if p.doors.is_empty() {
                    "all".to_owned()
                } else {
                    p.doors.join(", ")
                },
                crate::timetext::format_time(
                    crate::timetext::parse_time(&p.valid_from, &zone, now).unwrap_or(now),
                    &zone
                ),
                crate::timetext::format_time(
                    crate::timetext::parse_time(&p.valid_until, &zone, now).unwrap_or(now),
                    &zone
                ),
                p.schedule
                    .as_deref()
                    .map(|s| format!(", {s}"))
                    .unwrap_or_default(),
                match issued.qr_version {
                    Some(version) => format!("QR version {version}"),
                    None => "no plain code: the site requires passes kept on a phone, so the \
                             member sets it up from the link"
                        .to_owned(),
                }
            );
            eprintln!("Pass page for the member's phone: {}", issued.page_url);
            if let Some(delivery) = &issued.pass.delivery {
                eprintln!("{}", queued_text(&dashboard, delivery, &p.member));
            }
            // The QR text alone on stdout, so that scripts can capture it (nothing at a site
            // that requires passes kept on a phone).
            if let Some(text) = &issued.qr_text {
                println!("{text}");
            }
        }
        PassCommand::List {
            data,
            member,
            valid,
        } => {
            let dashboard = data.open().await?;
            for p in dashboard
                .passes()
                .list(&me, member.as_deref(), valid)
                .await?
            {
                println!(
                    "{}  {}  {}  {} to {}{}{}{}{}",
                    p.id,
                    p.member,
                    p.site,
                    p.valid_from,
                    p.valid_until,
                    if p.device_bound { "  on a phone" } else { "" },
                    p.revoked_at
                        .map(|t| format!("  REVOKED {t}"))
                        .unwrap_or_default(),
                    p.replaced_by
                        .as_deref()
                        .map(|by| format!(" (replaced by {by})"))
                        .or_else(|| p
                            .device_problem
                            .as_deref()
                            .map(|why| format!("  phone cannot keep a key: {why}")))
                        .unwrap_or_default(),
                    p.delivery
                        .as_ref()
                        .map(|d| format!("  mail: {}", delivery_text(d)))
                        .unwrap_or_default()
                );
            }
        }
        PassCommand::Send { data, id } => {
            let dashboard = data.open().await?;
            let pass = dashboard.passes().send_link(&me, &id).await?;
            if let Some(delivery) = &pass.delivery {
                println!("{}", queued_text(&dashboard, delivery, &pass.member));
            }
        }
        PassCommand::Revoke { data, id } => {
            let dashboard = data.open().await?;
            let pass = dashboard.passes().revoke(&me, &id).await?;
            println!(
                "Revoked pass {} of {} at {}: the new revocation list goes out with `bygd serve`.",
                pass.id, pass.member, pass.site
            );
        }
        PassCommand::Renew { data, id, until } => {
            let dashboard = data.open().await?;
            let old = dashboard.passes().get(&me, &id).await?;
            let zone = dashboard.sites().zone(&me, &old.site).await?;
            let until = crate::timetext::parse_field("until", Some(&until), &zone, dashboard.now())
                .map_err(|(flag, e)| anyhow::anyhow!("--{flag}: {e}"))?
                .context("--until: give the new end")?;
            let pass = dashboard.passes().renew(&me, &id, until).await?;
            println!(
                "Renewed: pass {} of {} at {} is valid until {}; it replaces pass {}, which is \
                 revoked. The member's pass link now shows the new pass.",
                pass.id, pass.member, pass.site, pass.valid_until, old.id
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What the CLI says after queueing a mail: where it goes, and how to follow it.
fn queued_text(dashboard: &crate::Dashboard, delivery: &crate::Delivery, member: &str) -> String {
    let relay = if dashboard.mail_configured() {
        "`bygd serve` sends it through the relay in [smtp]"
    } else {
        "no [smtp] relay is configured in dashboard.toml yet, so it waits until one is and \
         `bygd serve` runs"
    };
    format!(
        "Mail with the link queued for {}: {relay}. See how it went with \
         `bygd pass list --member {member}`.",
        delivery.to
    )
}

/// A delivery in one line, for `bygd pass list`.
fn delivery_text(d: &crate::Delivery) -> String {
    use crate::DeliveryState as S;
    match d.state {
        S::Queued => format!("queued for {}", d.to),
        S::Sent => format!(
            "sent to {} at {}",
            d.to,
            d.sent_at.as_deref().unwrap_or_default()
        ),
        S::Failed => format!(
            "NOT SENT to {} after {} tries ({}); next try {}",
            d.to,
            d.attempts,
            d.last_error.as_deref().unwrap_or_default(),
            d.next_try_at.as_deref().unwrap_or_default()
        ),
        S::GaveUp => format!(
            "GAVE UP sending to {} ({})",
            d.to,
            d.last_error.as_deref().unwrap_or_default()
        ),
    }
}
