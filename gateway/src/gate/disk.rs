//! The disk-low alarm: raised (an event) when free space on the data directory's disk falls
//! below the configured watermark, cleared when it rises above again. While it is raised,
//! repeated denials are folded over a longer window; grants are always logged.

use super::{Batch, Gate, Outcome};
use crate::config::Config;
use bygd_protocol::EventBody;

/// How much longer the denial window is while the disk is below its watermark: a minute
/// becomes an hour, so a reader fed garbage costs 24 events a day. Grants are unaffected.
const LOW_DISK_WINDOW_FACTOR: u64 = 60;

/// Bytes per megabyte in the watermark setting (decimal, as disk sizes are sold).
const BYTES_PER_MB: u64 = 1_000_000;

/// The alarm's state.
#[derive(Debug, Default)]
pub(super) struct Disk {
    /// Whether the alarm is raised.
    pub(super) low: bool,
    /// Free bytes at the last check.
    pub(super) free_bytes: Option<u64>,
}

impl Disk {
    /// The watermark in bytes (0: not watched).
    pub(super) fn watermark(&self, config: &Config) -> u64 {
        config.policy.min_free_disk_mb.saturating_mul(BYTES_PER_MB)
    }

    /// The denial window, stretched while the disk is low.
    pub(super) fn stretch(&self, window: u64) -> u64 {
        if self.low {
            window.saturating_mul(LOW_DISK_WINDOW_FACTOR)
        } else {
            window
        }
    }
}

impl Gate {
    /// Raises or clears the disk-low alarm (an event) when `free` crosses the watermark.
    pub(super) fn check_disk(&mut self, batch: &Batch, free: u64, out: &mut Outcome) {
        let watermark = self.disk.watermark(&self.config);
        if watermark == 0 {
            return;
        }
        self.disk.free_bytes = Some(free);
        let low = free < watermark;
        if low != self.disk.low {
            out.log(
                batch,
                EventBody::DiskLow {
                    raised: low,
                    free_bytes: free,
                },
            );
            if low {
                tracing::warn!(free_bytes = free, watermark_bytes = watermark, "disk space below the watermark: grants are still logged, repeated denials are folded over a longer window");
            } else {
                tracing::info!(free_bytes = free, "disk space above the watermark again");
            }
            self.disk.low = low;
        }
    }
}
