//! The audit: who entered where and when, from the stored events, filtered and paged, as
//! JSON for the API, lines for people, or CSV for a spreadsheet.
//!
//! Paging is by key, not offset: the cursor names the last entry of a page, so a page
//! costs the same at the start of ten million entries as at the end, and entries arriving
//! meanwhile never shift a page.

use crate::access::{Principal, Scope};
use crate::db::{from_sql, to_sql};
use crate::error::{ServiceError, ServiceResult};
use crate::service::Dashboard;
use serde::Serialize;

/// The most entries one page returns.
pub(crate) const MAX_PAGE: i64 = 1000;
/// A page's size unless asked.
pub(crate) const DEFAULT_PAGE: i64 = 100;

/// Which entries.
#[derive(Debug, Clone, Default)]
pub struct EntryFilter {
    /// At or after (Unix seconds).
    pub since: Option<i64>,
    /// Before.
    pub until: Option<i64>,
    /// One site.
    pub site: Option<String>,
    /// One gateway (`site/gateway` names are split by the caller).
    pub gateway: Option<String>,
    /// One door.
    pub door: Option<String>,
    /// One member.
    pub member: Option<String>,
    /// `granted` or `denied`.
    pub outcome: Option<String>,
    /// Every event (door opened, alarms, commands …), not only entries.
    pub all_events: bool,
    /// Page size.
    pub limit: Option<i64>,
    /// The cursor from the previous page.
    pub cursor: Option<String>,
}

/// One entry (or event).
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// When, by the gateway's clock (RFC 3339).
    pub time: String,
    /// The same in Unix seconds.
    pub unix_time: i64,
    /// `synchronised`, `unsynchronised` or `floor`: how far that time can be trusted.
    pub clock: String,
    /// The site.
    pub site: String,
    /// The gateway.
    pub gateway: String,
    /// The gateway's sequence number.
    pub seq: u64,
    /// entry_granted, entry_denied, door_opened, ….
    pub kind: String,
    /// granted or denied (entries only).
    pub outcome: Option<String>,
    /// The door.
    pub door: Option<String>,
    /// The member, if known.
    pub member: Option<String>,
    /// The pass id, if known.
    pub pass_id: Option<String>,
    /// The refusal code of a denied entry or refused command.
    pub reason: Option<String>,
}

/// A page of entries.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EntryPage {
    /// The entries, newest first.
    pub entries: Vec<Entry>,
    /// The cursor for the next (older) page, if there may be one.
    pub next: Option<String>,
}

/// A bound parameter of a built query.
enum Param {
    Int(i64),
    Text(String),
}

type EntryRow = (
    i64,
    String,
    String,
    String,
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn parse_cursor(text: &str) -> ServiceResult<(i64, String, String, i64)> {
    let bad = || ServiceError::invalid("cursor", "not a cursor this API returned");
    let mut parts = text.split('.');
    let (Some(time), Some(site), Some(gateway), Some(seq), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(bad());
    };
    Ok((
        time.parse().map_err(|_| bad())?,
        site.to_owned(),
        gateway.to_owned(),
        seq.parse().map_err(|_| bad())?,
    ))
}

/// Entries (who entered where, and who was refused): the audit query and its paging.
///
/// Reached by [`Dashboard::entries`]; it borrows the shared state and holds nothing else.
#[derive(Debug, Clone, Copy)]
pub struct Entries<'a> {
    pub(crate) dashboard: &'a Dashboard,
}

impl Entries<'_> {
    /// The SQL conditions (after `WHERE 1 = 1`) and their parameters that select the entries
    /// of `filter` that `who` sees, from the first parameter on; the cursor is left out.
    fn conditions(who: &Principal, filter: &EntryFilter) -> ServiceResult<(String, Vec<Param>)> {
        let mut sql = String::new();
        let mut params = Vec::new();
        let mut push = |sql: &mut String, clause: &str, p: Param| {
            params.push(p);
            sql.push_str(&clause.replace('?', &format!("${}", params.len())));
        };
        if !filter.all_events {
            sql.push_str(" AND outcome IS NOT NULL");
        }
        if let Some(outcome) = &filter.outcome {
            if !matches!(outcome.as_str(), "granted" | "denied") {
                return Err(ServiceError::invalid("outcome", "granted or denied"));
            }
            push(&mut sql, " AND outcome = ?", Param::Text(outcome.clone()));
        }
        if let Some(since) = filter.since {
            push(&mut sql, " AND time >= ?", Param::Int(since));
        }
        if let Some(until) = filter.until {
            push(&mut sql, " AND time < ?", Param::Int(until));
        }
        match (&filter.site, who.sites.list()) {
            (Some(site), _) if !who.sees(site) => {
                return Err(ServiceError::not_found("site", site.clone()));
            }
            (Some(site), _) => push(&mut sql, " AND site = ?", Param::Text(site.clone())),
            (None, Some(sites)) => {
                sql.push_str(" AND site IN (");
                for (i, site) in sites.into_iter().enumerate() {
                    if i > 0 {
                        sql.push_str(", ");
                    }
                    push(&mut sql, "?", Param::Text(site));
                }
                sql.push(')');
            }
            (None, None) => {}
        }
        if let Some(gateway) = &filter.gateway {
            push(&mut sql, " AND gateway = ?", Param::Text(gateway.clone()));
        }
        if let Some(door) = &filter.door {
            push(&mut sql, " AND door = ?", Param::Text(door.clone()));
        }
        if let Some(member) = &filter.member {
            push(&mut sql, " AND member = ?", Param::Text(member.clone()));
        }
        Ok((sql, params))
    }

    /// How many entries match `filter` (its cursor and limit aside) among the sites `who`
    /// sees: what a shortened list says it left out.
    pub async fn count(&self, who: &Principal, filter: &EntryFilter) -> ServiceResult<u64> {
        who.require(Scope::EntriesRead)?;
        let (conditions, params) = Self::conditions(who, filter)?;
        let sql = format!("SELECT COUNT(*) FROM events WHERE 1 = 1{conditions}");
        let mut query = sqlx::query_scalar::<_, i64>(&sql);
        for p in params {
            query = match p {
                Param::Int(v) => query.bind(v),
                Param::Text(v) => query.bind(v),
            };
        }
        Ok(from_sql(query.fetch_one(&self.dashboard.db.pool).await?))
    }

    /// A page of entries matching `filter`, newest first, from the sites `who` sees.
    pub async fn audit(&self, who: &Principal, filter: &EntryFilter) -> ServiceResult<EntryPage> {
        who.require(Scope::EntriesRead)?;
        let limit = filter.limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(ServiceError::invalid("limit", format!("1 to {MAX_PAGE}")));
        }
        let (conditions, mut params) = Self::conditions(who, filter)?;
        let mut sql = format!(
            "SELECT time, clock, site, gateway, seq, kind, outcome, door, member, pass_id, reason \
             FROM events WHERE 1 = 1{conditions}"
        );
        let mut push = |sql: &mut String, clause: &str, p: Param| {
            params.push(p);
            sql.push_str(&clause.replace('?', &format!("${}", params.len())));
        };
        if let Some(cursor) = &filter.cursor {
            let (time, site, gateway, seq) = parse_cursor(cursor)?;
            // Row values: the index on time is used, ties are broken by the primary key.
            push(&mut sql, " AND (time < ?", Param::Int(time));
            push(&mut sql, " OR (time = ?", Param::Int(time));
            push(
                &mut sql,
                " AND (site, gateway, seq) < (?",
                Param::Text(site),
            );
            push(&mut sql, ", ?", Param::Text(gateway));
            push(&mut sql, ", ?)))", Param::Int(seq));
        }
        push(
            &mut sql,
            " ORDER BY time DESC, site DESC, gateway DESC, seq DESC LIMIT ?",
            Param::Int(limit),
        );
        let mut query = sqlx::query_as::<_, EntryRow>(&sql);
        for p in params {
            query = match p {
                Param::Int(v) => query.bind(v),
                Param::Text(v) => query.bind(v),
            };
        }
        let rows = query.fetch_all(&self.dashboard.db.pool).await?;
        let entries: Vec<Entry> = rows
            .into_iter()
            .map(
                |(
                    time,
                    clock,
                    site,
                    gateway,
                    seq,
                    kind,
                    outcome,
                    door,
                    member,
                    pass_id,
                    reason,
                )| Entry {
                    time: crate::timetext::rfc3339(time),
                    unix_time: time,
                    clock,
                    site,
                    gateway,
                    seq: from_sql(seq),
                    kind,
                    outcome,
                    door,
                    member,
                    pass_id,
                    reason,
                },
            )
            .collect();
        let next = (entries.len() == usize::try_from(limit).unwrap_or(usize::MAX))
            .then(|| entries.last())
            .flatten()
            .map(|e| format!("{}.{}.{}.{}", e.unix_time, e.site, e.gateway, to_sql(e.seq)));
        Ok(EntryPage { entries, next })
    }
}

/// One CSV field, quoted when it must be.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// The header line of [`csv_line`]s.
pub(crate) const CSV_HEADER: &str =
    "time,site,gateway,seq,door,kind,outcome,member,pass_id,reason,clock,local_time\n";

/// An entry as one CSV line (RFC 4180). `local_time` is the time at the entry's site, with
/// its UTC offset (`2026-12-24T08:00:00+01:00`), from `zones` (UTC for a site not in it).
#[must_use]
pub(crate) fn csv_line(
    e: &Entry,
    zones: &std::collections::HashMap<String, jiff::tz::TimeZone>,
) -> String {
    let opt = |v: &Option<String>| csv_field(v.as_deref().unwrap_or(""));
    let zone = zones
        .get(&e.site)
        .cloned()
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let local = jiff::Timestamp::from_second(e.unix_time)
        .map(|t| {
            t.to_zoned(zone)
                .strftime("%Y-%m-%dT%H:%M:%S%:z")
                .to_string()
        })
        .unwrap_or_default();
    format!(
        "{},{},{},{},{},{},{},{},{},{},{},{}\n",
        e.time,
        csv_field(&e.site),
        csv_field(&e.gateway),
        e.seq,
        opt(&e.door),
        csv_field(&e.kind),
        opt(&e.outcome),
        opt(&e.member),
        opt(&e.pass_id),
        opt(&e.reason),
        csv_field(&e.clock),
        local
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_with_commas_or_quotes_are_quoted() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn a_cursor_reads_back_and_junk_is_refused() {
        assert_eq!(
            parse_cursor("1790000000.byn.gw1.42").unwrap(),
            (1_790_000_000, "byn".to_owned(), "gw1".to_owned(), 42)
        );
        assert!(parse_cursor("1.2.3").is_err());
        assert!(parse_cursor("x.byn.gw1.1").is_err());
    }
}
