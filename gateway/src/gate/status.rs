//! The core's part of a status report (the local socket's `status`, the uplink's retained
//! status message and the watchdog's probe). Answered at once, without waiting for a commit.

use super::present::SECONDS_PER_HOUR;
use super::{Batch, Gate, Lookups};
use bygd_protocol::{KeyId, UnixTime};
use serde::Serialize;

/// What the driver read from the store's committed state for a status report.
#[derive(Debug, Clone, Default)]
pub(crate) struct StatusFacts {
    /// Events waiting for the dashboard's ack (0 if it could not be read).
    pub outbox: u64,
    /// The revocation list version, issue time and expiry held per issuer key.
    pub revocation_versions: Vec<(KeyId, u64, UnixTime, UnixTime)>,
}

/// The core's state for status output.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CoreStatus {
    /// The last event's sequence number.
    pub head_seq: u64,
    /// Events waiting for the dashboard's ack.
    pub outbox: u64,
    /// The clock floor (unix seconds).
    pub clock_floor: u64,
    /// Doors (or "*") in lockdown.
    pub lockdowns: Vec<String>,
    /// The revocation list version held per issuer key id.
    pub revocation_versions: Vec<(String, u64)>,
    /// Whether the revocation list is older than the alarm threshold.
    pub revocation_stale: bool,
    /// Seconds since the newest revocation list was issued, if any was applied.
    pub revocation_age_seconds: Option<u64>,
    /// How far the clock was trusted at the last decision.
    pub clock: &'static str,
    /// Whether free disk space is below the configured watermark.
    pub disk_low: bool,
    /// Free bytes on the data directory's disk at the last check, if it could be read.
    pub free_disk_bytes: Option<u64>,
}

impl Gate {
    /// The core's state as of this point in the batch.
    pub(super) fn status(
        &self,
        lookups: &impl Lookups,
        batch: &Batch,
        facts: StatusFacts,
    ) -> CoreStatus {
        let stale_hours = u64::from(self.config.policy.revocation_alarm_after_hours);
        let age = facts
            .revocation_versions
            .iter()
            .map(|(_, _, issued, _)| batch.now.since(*issued))
            .min();
        CoreStatus {
            head_seq: lookups.head_seq(),
            outbox: facts.outbox,
            clock_floor: self.clock.floor().0,
            lockdowns: self.lockdowns.names(),
            revocation_versions: facts
                .revocation_versions
                .into_iter()
                .map(|(k, v, _, _)| (k.to_string(), v))
                .collect(),
            revocation_age_seconds: age,
            clock: batch.quality.name(),
            revocation_stale: age.is_none_or(|a| a > stale_hours * SECONDS_PER_HOUR),
            disk_low: self.disk.low,
            free_disk_bytes: self.disk.free_bytes,
        }
    }
}
