//! The metrics page: a snapshot of the gateway's state in, Prometheus's text exposition format
//! (version 0.0.4) out. Pure, so every line can be tested without a daemon.
//!
//! Invariant: every family is announced (`# HELP`, `# TYPE`) once, before its samples, and
//! every label value is escaped; a family whose value is unknown (no revocation list yet, the
//! core busy) has no sample rather than a made-up one.

use super::decisions::DecisionCounts;
use crate::core::CoreStatus;
use crate::door::DoorSnapshot;
use bygd_protocol::ClockQuality;
use std::fmt::Write as _;

/// The content type of the page, as Prometheus asks for the text format.
pub(crate) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Every clock state, so the `clock_state` gauge always has one sample per state (1 for the
/// current one): a graph then shows a change of state as one line falling and another rising.
const CLOCK_STATES: [ClockQuality; 3] = [
    ClockQuality::Synchronised,
    ClockQuality::Floor,
    ClockQuality::Unsynchronised,
];

/// What one scrape read.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    /// The site, for the info metric.
    pub site: String,
    /// The gateway id, for the info metric.
    pub gateway: String,
    /// Decisions since start.
    pub decisions: DecisionCounts,
    /// The core's status; `None` when the core did not answer in time.
    pub core: Option<CoreStatus>,
    /// Each door's latest state.
    pub doors: Vec<DoorSnapshot>,
    /// The store file's size, if it could be read.
    pub store_bytes: Option<u64>,
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

/// One sample of a per-door family.
fn door_sample(out: &mut String, name: &str, door: &str, value: bool) {
    let _ = writeln!(
        out,
        "{name}{{door=\"{}\"}} {}",
        label(door),
        u8::from(value)
    );
}

/// The page for `snapshot`.
pub(crate) fn render(snapshot: &Snapshot) -> String {
    let mut out = String::new();

    family(
        &mut out,
        "bygd_gateway_info",
        "gauge",
        "Always 1; its labels name the gateway and its software version.",
    );
    let _ = writeln!(
        out,
        "bygd_gateway_info{{site=\"{}\",gateway=\"{}\",version=\"{}\"}} 1",
        label(&snapshot.site),
        label(&snapshot.gateway),
        label(env!("CARGO_PKG_VERSION"))
    );

    family(
        &mut out,
        "bygd_gateway_decisions_total",
        "counter",
        "Decisions on presented codes since the gateway started, by outcome and denial reason.",
    );
    let _ = writeln!(
        out,
        "bygd_gateway_decisions_total{{outcome=\"granted\"}} {}",
        snapshot.decisions.granted
    );
    for (reason, n) in &snapshot.decisions.denied {
        let _ = writeln!(
            out,
            "bygd_gateway_decisions_total{{outcome=\"denied\",reason=\"{}\"}} {n}",
            label(reason)
        );
    }

    family(
        &mut out,
        "bygd_gateway_core_up",
        "gauge",
        "1 if the decision core answered this scrape in time; without it the core's metrics are absent.",
    );
    let _ = writeln!(
        out,
        "bygd_gateway_core_up {}",
        u8::from(snapshot.core.is_some())
    );
    if let Some(core) = &snapshot.core {
        core_families(&mut out, core);
    }

    family(
        &mut out,
        "bygd_gateway_store_bytes",
        "gauge",
        "Size of the store (the redb file) in bytes.",
    );
    if let Some(bytes) = snapshot.store_bytes {
        let _ = writeln!(out, "bygd_gateway_store_bytes {bytes}");
    }

    door_families(&mut out, &snapshot.doors);
    out
}

/// The families read from the core's status.
fn core_families(out: &mut String, core: &CoreStatus) {
    family(
        out,
        "bygd_gateway_outbox_events",
        "gauge",
        "Events not yet acknowledged by the dashboard.",
    );
    let _ = writeln!(out, "bygd_gateway_outbox_events {}", core.outbox);
    family(
        out,
        "bygd_gateway_log_head_seq",
        "gauge",
        "Sequence number of the newest event in the local entry log.",
    );
    let _ = writeln!(out, "bygd_gateway_log_head_seq {}", core.head_seq);

    family(
        out,
        "bygd_gateway_revocation_list_version",
        "gauge",
        "Version of the revocation list applied, per issuer key id.",
    );
    for (issuer, version) in &core.revocation_versions {
        let _ = writeln!(
            out,
            "bygd_gateway_revocation_list_version{{issuer=\"{}\"}} {version}",
            label(issuer)
        );
    }
    family(
        out,
        "bygd_gateway_revocation_list_age_seconds",
        "gauge",
        "Seconds since the newest revocation list applied was issued (absent before the first).",
    );
    if let Some(age) = core.revocation_age_seconds {
        let _ = writeln!(out, "bygd_gateway_revocation_list_age_seconds {age}");
    }
    family(
        out,
        "bygd_gateway_revocation_list_stale",
        "gauge",
        "1 if the revocation list is older than policy.revocation_alarm_after_hours, or none was applied.",
    );
    let _ = writeln!(
        out,
        "bygd_gateway_revocation_list_stale {}",
        u8::from(core.revocation_stale)
    );

    family(
        out,
        "bygd_gateway_clock_state",
        "gauge",
        "How far the gateway trusts its clock: 1 for the current state, 0 for the others.",
    );
    for state in CLOCK_STATES {
        let _ = writeln!(
            out,
            "bygd_gateway_clock_state{{state=\"{}\"}} {}",
            state.name(),
            u8::from(state.name() == core.clock)
        );
    }
    family(
        out,
        "bygd_gateway_clock_floor_timestamp_seconds",
        "gauge",
        "The clock floor (Unix seconds): the gateway never decides as if it were earlier.",
    );
    let _ = writeln!(
        out,
        "bygd_gateway_clock_floor_timestamp_seconds {}",
        core.clock_floor
    );

    family(
        out,
        "bygd_gateway_disk_free_bytes",
        "gauge",
        "Free bytes on the data directory's disk at the last check (absent if not watched).",
    );
    if let Some(free) = core.free_disk_bytes {
        let _ = writeln!(out, "bygd_gateway_disk_free_bytes {free}");
    }
    family(
        out,
        "bygd_gateway_disk_low",
        "gauge",
        "1 while free disk space is below policy.min_free_disk_mb.",
    );
    let _ = writeln!(out, "bygd_gateway_disk_low {}", u8::from(core.disk_low));
}

/// The per-door families.
fn door_families(out: &mut String, doors: &[DoorSnapshot]) {
    family(
        out,
        "bygd_gateway_door_open",
        "gauge",
        "1 while the door stands open (absent before its sensor was first read).",
    );
    for door in doors {
        if let Some(open) = door.open {
            door_sample(out, "bygd_gateway_door_open", &door.id, open);
        }
    }
    family(
        out,
        "bygd_gateway_door_lock_released",
        "gauge",
        "1 while the door's lock is released.",
    );
    for door in doors {
        door_sample(
            out,
            "bygd_gateway_door_lock_released",
            &door.id,
            door.released,
        );
    }
    family(
        out,
        "bygd_gateway_door_lockdown",
        "gauge",
        "1 while the door is in lockdown.",
    );
    for door in doors {
        door_sample(out, "bygd_gateway_door_lockdown", &door.id, door.lockdown);
    }
    family(
        out,
        "bygd_gateway_door_alarm",
        "gauge",
        "1 while the door's alarm of this kind (forced_open, held_open) is active.",
    );
    for door in doors {
        for (kind, on) in [
            ("forced_open", door.forced_open),
            ("held_open", door.held_open),
        ] {
            let _ = writeln!(
                out,
                "bygd_gateway_door_alarm{{door=\"{}\",kind=\"{kind}\"}} {}",
                label(&door.id),
                u8::from(on)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn core() -> CoreStatus {
        CoreStatus {
            head_seq: 12,
            outbox: 3,
            clock_floor: 1_800_000_000,
            lockdowns: Vec::new(),
            revocation_versions: vec![("0123456789abcdef".into(), 7)],
            revocation_stale: false,
            revocation_age_seconds: Some(90),
            clock: ClockQuality::Floor.name(),
            disk_low: false,
            free_disk_bytes: None,
        }
    }

    fn snapshot() -> Snapshot {
        Snapshot {
            site: "byn".into(),
            gateway: "gw1".into(),
            decisions: DecisionCounts {
                granted: 4,
                denied: vec![("revoked", 2)],
            },
            core: Some(core()),
            doors: vec![DoorSnapshot {
                id: "front".into(),
                released: true,
                open: None,
                forced_open: false,
                held_open: true,
                lockdown: false,
            }],
            store_bytes: Some(4096),
        }
    }

    fn lines(page: &str) -> Vec<&str> {
        page.lines().filter(|l| !l.starts_with('#')).collect()
    }

    #[test]
    fn the_page_holds_decisions_outbox_revocations_clock_store_and_doors() {
        let page = render(&snapshot());
        let samples = lines(&page);
        for expected in [
            "bygd_gateway_decisions_total{outcome=\"granted\"} 4",
            "bygd_gateway_decisions_total{outcome=\"denied\",reason=\"revoked\"} 2",
            "bygd_gateway_core_up 1",
            "bygd_gateway_outbox_events 3",
            "bygd_gateway_revocation_list_version{issuer=\"0123456789abcdef\"} 7",
            "bygd_gateway_revocation_list_age_seconds 90",
            "bygd_gateway_clock_state{state=\"floor\"} 1",
            "bygd_gateway_clock_state{state=\"synchronised\"} 0",
            "bygd_gateway_clock_state{state=\"unsynchronised\"} 0",
            "bygd_gateway_store_bytes 4096",
            "bygd_gateway_door_lock_released{door=\"front\"} 1",
            "bygd_gateway_door_alarm{door=\"front\",kind=\"held_open\"} 1",
        ] {
            assert!(
                samples.contains(&expected),
                "{expected} missing from\n{page}"
            );
        }
    }

    #[test]
    fn unknown_values_have_no_sample() {
        let mut snapshot = snapshot();
        snapshot.core = None;
        snapshot.store_bytes = None;
        let page = render(&snapshot);
        assert!(lines(&page).contains(&"bygd_gateway_core_up 0"), "{page}");
        for absent in [
            "bygd_gateway_outbox_events ",
            "bygd_gateway_store_bytes ",
            "bygd_gateway_door_open{",
        ] {
            assert!(
                !lines(&page).iter().any(|l| l.starts_with(absent)),
                "{absent} has a sample in\n{page}"
            );
        }
    }

    #[test]
    fn every_family_is_announced_once_before_its_samples() {
        let page = render(&snapshot());
        let mut announced = std::collections::BTreeSet::new();
        for line in page.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let name = rest.split(' ').next().unwrap_or_default();
                assert!(announced.insert(name.to_owned()), "{name} announced twice");
            } else if !line.starts_with('#') {
                let name = line.split(['{', ' ']).next().unwrap_or_default();
                assert!(announced.contains(name), "{name} sampled before its TYPE");
            }
        }
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
