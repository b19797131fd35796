//! `bygd audit`: who entered where and when, as text, JSON lines or CSV.

use super::DataArgs;
use crate::access::Principal;
use crate::entry::{csv_line, Entry, EntryFilter, CSV_HEADER};
use bygd_protocol::{ClockQuality, Rejection};
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
            writeln!(out, "{}", text_line(e, &zone))?;
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

/// One entry for people. The wording of the clock and of the reason is the protocol crate's,
/// which the gateway's `log` shares; the stored codes stay in --json and --csv.
fn text_line(e: &Entry, zone: &jiff::tz::TimeZone) -> String {
    let clock = match ClockQuality::from_name(&e.clock) {
        Some(ClockQuality::Synchronised) => String::new(),
        Some(quality) => format!(" ({})", quality.describe()),
        None => format!(" (clock {})", e.clock),
    };
    let reason = e.reason.as_deref().map_or_else(String::new, |code| {
        let said = Rejection::from_code(code).map_or(code, |r| r.describe());
        format!("  {said}")
    });
    format!(
        "{}{clock}  {}/{} #{}  {}  {}  {}{reason}",
        crate::timetext::format_time(e.unix_time, zone),
        e.site,
        e.gateway,
        e.seq,
        e.door.as_deref().unwrap_or("-"),
        e.outcome
            .as_deref()
            .map_or_else(|| e.kind.clone(), str::to_uppercase),
        e.member.as_deref().unwrap_or("(unknown holder)"),
    )
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Outcome {
    Granted,
    Denied,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: &str, outcome: Option<&str>, reason: Option<&str>, clock: &str) -> Entry {
        Entry {
            time: "2025-11-24T16:00:00Z".into(),
            unix_time: 1_764_000_000,
            clock: clock.into(),
            site: "byn".into(),
            gateway: "gw1".into(),
            seq: 12,
            kind: kind.into(),
            outcome: outcome.map(str::to_owned),
            door: Some("front".into()),
            member: Some("anna".into()),
            pass_id: None,
            reason: reason.map(str::to_owned),
        }
    }

    #[test]
    fn an_audit_line_gives_reasons_and_clocks_in_the_gateway_logs_words() {
        let zone = jiff::tz::TimeZone::UTC;
        let denied = text_line(
            &entry("entry_denied", Some("denied"), Some("revoked"), "floor"),
            &zone,
        );
        assert_eq!(
            denied,
            "2025-11-24 16:00:00 UTC (clock behind: floor time)  byn/gw1 #12  front  DENIED  anna  \
             the pass has been revoked"
        );
        let refused = text_line(
            &entry(
                "command_result",
                None,
                Some("replayed_command"),
                "unsynchronised",
            ),
            &zone,
        );
        assert!(
            refused.ends_with("(clock not synchronised)  byn/gw1 #12  front  command_result  anna  this command (or a later one) was already accepted"),
            "{refused}"
        );
        let granted = text_line(
            &entry("entry_granted", Some("granted"), None, "synchronised"),
            &zone,
        );
        assert!(
            granted.ends_with("UTC  byn/gw1 #12  front  GRANTED  anna"),
            "{granted}"
        );
        // A code this build does not know (a newer gateway's) is shown as it is.
        let unknown = text_line(
            &entry(
                "entry_denied",
                Some("denied"),
                Some("moon_phase"),
                "synchronised",
            ),
            &zone,
        );
        assert!(unknown.ends_with("  moon_phase"), "{unknown}");
    }
}
