//! `bygd audit`: who entered where and when, as text, JSON lines or CSV.

use super::DataArgs;
use crate::access::Principal;
use crate::entry::{csv_line, EntryFilter, CSV_HEADER};
use clap::{Args, ValueEnum};
use std::io::Write as _;
use std::process::ExitCode;

// `bygd audit`'s flags; its help is the doc comment on the `Audit` command in `mod.rs`.
#[derive(Debug, Args)]
pub(super) struct Audit {
    #[command(flatten)]
    data: DataArgs,
    /// At or after this time.
    #[arg(long)]
    since: Option<String>,
    /// Before this time.
    #[arg(long)]
    until: Option<String>,
    /// One site.
    #[arg(long)]
    site: Option<String>,
    /// One gateway (SITE/GATEWAY or GATEWAY).
    #[arg(long)]
    gateway: Option<String>,
    /// One door.
    #[arg(long)]
    door: Option<String>,
    /// One member.
    #[arg(long)]
    member: Option<String>,
    /// granted or denied.
    #[arg(long)]
    outcome: Option<Outcome>,
    /// Every event (doors opened, alarms, commands), not only entries.
    #[arg(long)]
    all: bool,
    /// At most this many, newest first (up to 1000; it says how many more match); all with --csv.
    #[arg(long, default_value_t = 100)]
    limit: i64,
    /// CSV for a spreadsheet (every match).
    #[arg(long, conflicts_with = "json")]
    csv: bool,
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
}

/// Runs `bygd audit`.
pub(super) async fn audit(args: Audit, me: Principal) -> anyhow::Result<ExitCode> {
    let Audit {
        data,
        since,
        until,
        site,
        gateway,
        door,
        member,
        outcome,
        all,
        limit,
        csv,
        json,
    } = args;
    let dashboard = data.open().await?;
    let zone = match &site {
        Some(site) => dashboard.sites().zone(&me, site).await?,
        None => jiff::tz::TimeZone::system(),
    };
    let now = dashboard.now();
    let time = |flag: &str, text: &Option<String>| {
        crate::timetext::parse_field(flag, text.as_deref(), &zone, now)
            .map_err(|(flag, e)| anyhow::anyhow!("--{flag}: {e}"))
    };
    let (site, gateway) = match gateway {
        Some(name) => {
            let (s, g) = dashboard.gateways().resolve(&me, &name).await?;
            (Some(s), Some(g))
        }
        None => (site, None),
    };
    let filter = EntryFilter {
        since: time("since", &since)?,
        until: time("until", &until)?,
        site,
        gateway,
        door,
        member,
        outcome: outcome.map(|o| match o {
            Outcome::Granted => "granted".to_owned(),
            Outcome::Denied => "denied".to_owned(),
        }),
        all_events: all,
        limit: Some(limit.clamp(1, crate::entry::MAX_PAGE)),
        cursor: None,
    };
    let mut out = std::io::stdout().lock();
    if csv {
        // Every match, a page at a time: an export of millions never sits in memory.
        out.write_all(CSV_HEADER.as_bytes())?;
        let zones = dashboard.sites().zones().await?;
        let mut filter = EntryFilter {
            limit: Some(crate::entry::MAX_PAGE),
            ..filter
        };
        loop {
            let page = dashboard.entries().audit(&me, &filter).await?;
            for e in &page.entries {
                out.write_all(csv_line(e, &zones).as_bytes())?;
            }
            match page.next {
                Some(next) => filter.cursor = Some(next),
                None => break,
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let limit = filter.limit.unwrap_or(crate::entry::MAX_PAGE);
    let entries = dashboard.entries().audit(&me, &filter).await?.entries;
    if json {
        for e in &entries {
            writeln!(out, "{}", serde_json::to_string(e)?)?;
        }
    } else {
        for e in &entries {
            let clock = match e.clock.as_str() {
                "synchronised" => "",
                "unsynchronised" => " (clock not synchronised)",
                _ => " (clock behind: floor time)",
            };
            writeln!(
                out,
                "{}{clock}  {}/{} #{}  {}  {}  {}{}",
                crate::timetext::format_time(e.unix_time, &zone),
                e.site,
                e.gateway,
                e.seq,
                e.door.as_deref().unwrap_or("-"),
                e.outcome
                    .as_deref()
                    .map_or_else(|| e.kind.clone(), str::to_uppercase),
                e.member.as_deref().unwrap_or("(unknown holder)"),
                e.reason
                    .as_deref()
                    .map(|r| format!("  {r}"))
                    .unwrap_or_default()
            )?;
        }
        if entries.is_empty() {
            eprintln!("No entries match.");
        }
    }
    // A full page may not be all of them: say so, with the count, rather than stop quietly.
    if i64::try_from(entries.len()).is_ok_and(|shown| shown == limit) {
        let total = dashboard.entries().count(&me, &filter).await?;
        let shown = entries.len() as u64;
        if total > shown {
            let what = if all { "events" } else { "entries" };
            eprintln!(
                "Showing the newest {shown} of {total} {what}; use --limit N (up to {}) for \
                 more, or --csv for all of them.",
                crate::entry::MAX_PAGE
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Outcome {
    Granted,
    Denied,
}
