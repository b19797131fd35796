//! An operator's correction of the clock floor (the local socket's `reset-clock-floor` or a
//! signed set-clock-floor command): the only way the floor moves backwards. Logged as a
//! `clock` event with the floor and quality after reading the clock again.

use super::{Batch, Gate, Outcome, Write};
use bygd_protocol::{EventBody, UnixTime};
use serde::Serialize;

/// What a clock floor reset did, as the socket reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct FloorReset {
    /// The floor before (unix seconds).
    pub old_floor: u64,
    /// The floor after, once the clock was read again (unix seconds).
    pub floor: u64,
    /// How far the clock is trusted now.
    pub clock: &'static str,
    /// The logged `clock` event's sequence number.
    pub seq: u64,
}

impl Gate {
    /// Sets the clock floor to `to`, logs a `clock` event with the floor and quality after
    /// reading the batch's clock reading again, and returns what changed.
    pub(super) fn reset_floor(
        &mut self,
        batch: &Batch,
        to: UnixTime,
        out: &mut Outcome,
    ) -> FloorReset {
        let reading = batch.reading;
        let old = self.clock.reset(to, reading.monotonic);
        out.writes.push(Write::ResetClockFloor(to));
        // A clock that is still synchronised to a wrong time takes the floor straight back:
        // the event says so, and the operator fixes the time source first.
        let (_, quality) = self
            .clock
            .now(reading.system, reading.os_synced, reading.monotonic);
        let floor = self.clock.floor();
        let seq = out.log_as(
            batch.now,
            quality,
            EventBody::ClockChanged { quality, floor },
        );
        tracing::warn!(
            old_floor = old.0,
            requested = to.0,
            floor = floor.0,
            clock = quality.name(),
            seq,
            "clock floor reset"
        );
        FloorReset {
            old_floor: old.0,
            floor: floor.0,
            clock: quality.name(),
            seq,
        }
    }
}
