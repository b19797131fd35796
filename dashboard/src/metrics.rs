//! Prometheus metrics of the dashboard, in the text exposition format (version 0.0.4):
//! what a monitoring system scrapes from `GET /metrics` to graph the ingest, see a gateway
//! fall silent or behind on revocations, and count open alarms and unsent mail.
//!
//! Counters live in memory (they restart at zero with the process, which Prometheus's
//! `rate()` expects); everything else is read from the database at scrape time. Label values
//! are site and gateway ids and alarm kinds, which the protocol limits to plain characters;
//! they are escaped anyway.

use crate::access::{Principal, Scope};
use crate::error::ServiceResult;
use crate::service::Dashboard;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// What the dashboard counts as it works.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Gateway events stored (each once).
    pub(crate) events_stored: AtomicU64,
    /// Event batches refused (forged, broken, too large...).
    pub(crate) batches_refused: AtomicU64,
}

impl Counters {
    pub(crate) fn stored(&self, events: u64) {
        self.events_stored.fetch_add(events, Ordering::Relaxed);
    }

    pub(crate) fn refused(&self) {
        self.batches_refused.fetch_add(1, Ordering::Relaxed);
    }
}

/// A label value, escaped as the text format wants (backslash, quote, newline).
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// One metric family's header.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

impl Dashboard {
    /// The metrics page for `who` (who needs `gateways:read`; the page names every gateway
    /// and site the principal sees, and no member).
    pub async fn metrics(&self, who: &Principal) -> ServiceResult<String> {
        who.require(Scope::GatewaysRead)?;
        let mut out = String::new();

        family(
            &mut out,
            "bygd_events_stored_total",
            "counter",
            "Gateway events stored since the dashboard started (each event once).",
        );
        let _ = writeln!(
            out,
            "bygd_events_stored_total {}",
            self.counters.events_stored.load(Ordering::Relaxed)
        );
        family(
            &mut out,
            "bygd_batches_refused_total",
            "counter",
            "Gateway event batches refused (forged, broken chain, malformed) since the start.",
        );
        let _ = writeln!(
            out,
            "bygd_batches_refused_total {}",
            self.counters.batches_refused.load(Ordering::Relaxed)
        );

        family(
            &mut out,
            "bygd_mqtt_connected",
            "gauge",
            "1 while the MQTT link to the broker is up (absent when the dashboard runs without one).",
        );
        if self.broker_url.is_some() {
            let up = self.link_up.load(Ordering::Relaxed);
            let _ = writeln!(out, "bygd_mqtt_connected {}", u8::from(up));
        }

        let gateways = self.gateways().list(who).await?;
        family(
            &mut out,
            "bygd_gateway_online",
            "gauge",
            "1 while the gateway's MQTT session is up (from its status and last will).",
        );
        for g in &gateways {
            let _ = writeln!(
                out,
                "bygd_gateway_online{{site=\"{}\",gateway=\"{}\"}} {}",
                label(&g.site),
                label(&g.id),
                u8::from(g.online)
            );
        }
        family(
            &mut out,
            "bygd_gateway_last_seen_seconds",
            "gauge",
            "When the dashboard last heard from the gateway (Unix seconds).",
        );
        for g in &gateways {
            let Some(seen) = g
                .last_seen
                .as_deref()
                .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            else {
                continue;
            };
            let _ = writeln!(
                out,
                "bygd_gateway_last_seen_seconds{{site=\"{}\",gateway=\"{}\"}} {}",
                label(&g.site),
                label(&g.id),
                seen.as_second()
            );
        }
        family(
            &mut out,
            "bygd_gateway_revocation_versions_behind",
            "gauge",
            "How many revocation list versions the gateway's applied list is behind its site's.",
        );
        for g in &gateways {
            if let (Some(site), Some(applied)) = (g.site_list_version, g.list_version) {
                let _ = writeln!(
                    out,
                    "bygd_gateway_revocation_versions_behind{{site=\"{}\",gateway=\"{}\"}} {}",
                    label(&g.site),
                    label(&g.id),
                    site.saturating_sub(applied)
                );
            }
        }
        family(
            &mut out,
            "bygd_gateway_events",
            "gauge",
            "The sequence number of the gateway's newest stored event.",
        );
        for g in &gateways {
            let _ = writeln!(
                out,
                "bygd_gateway_events{{site=\"{}\",gateway=\"{}\"}} {}",
                label(&g.site),
                label(&g.id),
                g.head_seq
            );
        }

        family(
            &mut out,
            "bygd_alarms_open",
            "gauge",
            "Open alarms, by site and kind.",
        );
        if who.require(Scope::AlarmsRead).is_ok() {
            let mut open: std::collections::BTreeMap<(String, String), u64> =
                std::collections::BTreeMap::new();
            for alarm in self.alarms().list(who, true, 10_000).await? {
                *open.entry((alarm.site, alarm.kind)).or_default() += 1;
            }
            for ((site, kind), n) in open {
                let _ = writeln!(
                    out,
                    "bygd_alarms_open{{site=\"{}\",kind=\"{}\"}} {n}",
                    label(&site),
                    label(&kind)
                );
            }
        }

        family(
            &mut out,
            "bygd_mail_outbox",
            "gauge",
            "Pass-link mail by state: queued (not yet tried), retrying, given up.",
        );
        let (queued, retrying, gave_up): (i64, i64, i64) = sqlx::query_as(
            "SELECT \
               COALESCE(SUM(CASE WHEN sent_at IS NULL AND gave_up_at IS NULL AND attempts = 0 THEN 1 ELSE 0 END), 0), \
               COALESCE(SUM(CASE WHEN sent_at IS NULL AND gave_up_at IS NULL AND attempts > 0 THEN 1 ELSE 0 END), 0), \
               COALESCE(SUM(CASE WHEN gave_up_at IS NOT NULL THEN 1 ELSE 0 END), 0) \
             FROM mail_outbox",
        )
        .fetch_one(&self.db.pool)
        .await?;
        for (state, n) in [
            ("queued", queued),
            ("retrying", retrying),
            ("gave_up", gave_up),
        ] {
            let _ = writeln!(out, "bygd_mail_outbox{{state=\"{state}\"}} {n}");
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_value_with_quotes_backslashes_or_newlines_is_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(label("byn"), "byn");
    }
}
