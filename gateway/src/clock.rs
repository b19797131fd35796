//! The gateway's idea of now: the system clock, never below a persisted floor.
//!
//! A Raspberry Pi has no battery clock by default: after a power cut it boots in the past
//! until NTP answers, and the internet may be down for hours. Passes have expiry times, so
//! the gateway keeps a floor (the latest time it has ever seen, persisted with every write)
//! and never decides on a time below it. Every event says how far the clock was trusted.
//!
//! Invariant: the floor never moves backwards. This module is pure: the caller reads the
//! system clock and the sync status and passes them in.

use bygd_protocol::{ClockQuality, UnixTime};

/// The file systemd-timesyncd creates once the clock is synchronised (and removes on boot).
pub(crate) const TIMESYNC_FLAG: &str = "/run/systemd/timesync/synchronized";

/// The clock floor and how the clock is trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    floor: UnixTime,
    has_rtc: bool,
    beacon_seen: bool,
}

impl Clock {
    /// A clock with this persisted floor.
    #[must_use]
    pub fn new(floor: UnixTime, has_rtc: bool) -> Self {
        Self {
            floor,
            has_rtc,
            beacon_seen: false,
        }
    }

    /// The floor.
    #[must_use]
    pub fn floor(&self) -> UnixTime {
        self.floor
    }

    /// The time to decide at, given the system clock and whether the OS says it is
    /// synchronised; raises the floor to it.
    pub fn now(&mut self, system: UnixTime, os_synced: bool) -> (UnixTime, ClockQuality) {
        if system < self.floor {
            return (self.floor, ClockQuality::Floor);
        }
        self.floor = system;
        let quality = if os_synced || self.has_rtc || self.beacon_seen {
            ClockQuality::Synchronised
        } else {
            ClockQuality::Unsynchronised
        };
        (system, quality)
    }

    /// A signed time from the dashboard: raises the floor (never lowers it).
    pub fn beacon(&mut self, time: UnixTime) {
        self.beacon_seen = true;
        self.floor = self.floor.max(time);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clock_set_back_a_day_keeps_the_floor_and_says_so() {
        let mut clock = Clock::new(UnixTime(1_000_000), false);
        assert_eq!(
            clock.now(UnixTime(1_000_000 - 86_400), true),
            (UnixTime(1_000_000), ClockQuality::Floor)
        );
        assert_eq!(clock.floor(), UnixTime(1_000_000));
    }

    #[test]
    fn the_floor_follows_the_clock_forward() {
        let mut clock = Clock::new(UnixTime(10), false);
        assert_eq!(
            clock.now(UnixTime(20), false),
            (UnixTime(20), ClockQuality::Unsynchronised)
        );
        assert_eq!(clock.floor(), UnixTime(20));
        assert_eq!(clock.now(UnixTime(15), false).1, ClockQuality::Floor);
    }

    #[test]
    fn an_rtc_or_os_sync_makes_the_clock_synchronised() {
        assert_eq!(
            Clock::new(UnixTime(0), true).now(UnixTime(5), false).1,
            ClockQuality::Synchronised
        );
        assert_eq!(
            Clock::new(UnixTime(0), false).now(UnixTime(5), true).1,
            ClockQuality::Synchronised
        );
    }

    #[test]
    fn a_beacon_raises_but_never_lowers_the_floor() {
        let mut clock = Clock::new(UnixTime(100), false);
        clock.beacon(UnixTime(50));
        assert_eq!(clock.floor(), UnixTime(100));
        clock.beacon(UnixTime(500));
        assert_eq!(
            clock.now(UnixTime(200), false),
            (UnixTime(500), ClockQuality::Floor)
        );
    }
}
