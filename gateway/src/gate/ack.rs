//! The dashboard's ack: events up to it leave the outbox; delivered events older than the
//! retention period leave the log (a bounded number per commit); command ids that expired are
//! forgotten.

use super::{Batch, Gate, Outcome, Write};

/// Delivered events trimmed per ack at most, so one ack never makes a long commit.
const MAX_TRIM_PER_COMMIT: usize = 10_000;

/// Seconds per day, for the retention setting.
const SECONDS_PER_DAY: u64 = 86_400;

impl Gate {
    /// An ack the uplink verified (signature, audience, and the hash of the event it names).
    pub(super) fn ack(&mut self, batch: &Batch, up_to: u64, out: &mut Outcome) {
        let retention = u64::from(self.config.policy.retention_days) * SECONDS_PER_DAY;
        out.writes.push(Write::Ack(up_to));
        out.writes.push(Write::TrimDelivered {
            cutoff: batch.now.minus(retention),
            max: MAX_TRIM_PER_COMMIT,
        });
        out.writes.push(Write::PruneCommandIds(batch.now));
    }
}
