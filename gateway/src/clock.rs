//! The gateway's idea of now: the system clock, never below a persisted floor, and never
//! further ahead of that floor than the monotonic clock allows unless something vouches for it.
//!
//! A Raspberry Pi has no battery clock by default: after a power cut it boots in the past
//! until NTP answers, and the internet may be down for hours. Passes have expiry times, so
//! the gateway keeps a floor (the latest time it has ever seen, persisted with every write)
//! and never decides on a time below it. Every event says how far the clock was trusted.
//!
//! The floor only rises from a *synchronised* system clock (the OS says NTP synchronised it,
//! a battery-backed RTC is configured, or a signed time beacon arrived recently and the system
//! clock agrees with it), or by the monotonic time elapsed since it was last raised. An
//! unsynchronised system clock that jumps ahead (one spoofed NTP reply to 2099 before the OS
//! counts itself synchronised, a wrong `date -s`) therefore cannot drag the floor along: while
//! it is ahead of `floor + elapsed`, the gateway decides at `floor + elapsed` and flags the
//! events [`ClockQuality::Floor`], so passes and commands keep working at the best lower bound
//! of the real time it has. The same holds when the system clock is behind the floor.
//!
//! "Synchronised" expires: the OS flag counts only while it is present, a beacon for
//! [`BEACON_VALIDITY_SECONDS`]. A floor pushed ahead by a clock that *was* synchronised (a
//! spoofed NTP server the OS believed) is brought back by an operator: a signed
//! set-clock-floor command or the local socket's `clock reset-floor` ([`Clock::reset`]).
//!
//! A fresh store has no floor yet (0): the first reading of the system clock is taken as it
//! is. After a restart the monotonic time of the previous run is unknown, so an unsynchronised
//! clock ahead of the floor is not followed until a beacon, NTP or an operator vouches for it.
//!
//! Invariant: the floor never moves backwards, except by [`Clock::reset`]. This module is
//! pure: the caller reads the system clock, the sync status and the monotonic clock and
//! passes them in.

use bygd_protocol::{ClockQuality, UnixTime};
use std::time::{Duration, Instant, SystemTime};

/// The file systemd-timesyncd creates once the clock is synchronised and touches at every
/// successful synchronisation (it is removed only at boot).
pub(crate) const TIMESYNC_FLAG: &str = "/run/systemd/timesync/synchronized";

/// How long the OS's flag vouches for the system clock after it was last touched: twice
/// timesyncd's longest poll interval (2048 s), so a clock that NTP keeps synchronised stays
/// so, while one whose NTP stopped answering (or that was set by hand since) stops counting
/// as synchronised within about 70 minutes. The flag's existence alone would vouch forever.
pub(crate) const OS_SYNC_VALIDITY: Duration = Duration::from_secs(2 * 2048);

/// Whether the OS's synchronisation flag, last touched at `touched` (`None`: no flag), vouches
/// for the system clock at `now`: touched at most [`OS_SYNC_VALIDITY`] ago, and not in the
/// future (a clock set back since the last synchronisation is not what NTP said).
#[must_use]
pub(crate) fn os_sync_is_fresh(touched: Option<SystemTime>, now: SystemTime) -> bool {
    touched
        .and_then(|t| now.duration_since(t).ok())
        .is_some_and(|age| age <= OS_SYNC_VALIDITY)
}

/// How long a time beacon vouches for the system clock: three of the dashboard's 10-minute
/// beacon intervals, so one or two lost beacons do not flip the quality, while a dashboard
/// (or link) that stopped stops vouching within half an hour.
pub(crate) const BEACON_VALIDITY_SECONDS: u64 = 1800;

/// How far ahead of a beacon's time (plus the monotonic time since it arrived) the system
/// clock may be and still count as synchronised by it: the beacon command's own lifetime of
/// five minutes, the longest it may plausibly have waited on the way. A system clock further
/// ahead is not what the dashboard said, so the beacon does not vouch for it.
pub(crate) const BEACON_AGREEMENT_SECONDS: u64 = 300;

/// A floor of 0 is a fresh store's: no time has been seen yet.
const NO_FLOOR: UnixTime = UnixTime(0);

/// The last time beacon: what it said and when (monotonic) it arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Beacon {
    time: UnixTime,
    at: Instant,
}

/// The clock floor and how the clock is trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    floor: UnixTime,
    /// The monotonic instant the floor stands for: `floor + (now - floor_at)` is a lower
    /// bound of the real time whenever the floor was one.
    floor_at: Instant,
    has_rtc: bool,
    beacon: Option<Beacon>,
}

impl Clock {
    /// A clock with this persisted floor, read at the monotonic instant `monotonic`.
    #[must_use]
    pub fn new(floor: UnixTime, has_rtc: bool, monotonic: Instant) -> Self {
        Self {
            floor,
            floor_at: monotonic,
            has_rtc,
            beacon: None,
        }
    }

    /// The floor.
    #[must_use]
    pub fn floor(&self) -> UnixTime {
        self.floor
    }

    /// Whole seconds of monotonic time from `since` to `monotonic` (0 if it went backwards).
    fn elapsed(since: Instant, monotonic: Instant) -> u64 {
        monotonic.saturating_duration_since(since).as_secs()
    }

    /// Whether something vouches for the system clock reading `system` at `monotonic`.
    fn synchronised(&self, system: UnixTime, os_synced: bool, monotonic: Instant) -> bool {
        let beacon_vouches = self.beacon.is_some_and(|b| {
            let since = Self::elapsed(b.at, monotonic);
            since <= BEACON_VALIDITY_SECONDS
                && system <= b.time.plus(since.saturating_add(BEACON_AGREEMENT_SECONDS))
        });
        os_synced || self.has_rtc || beacon_vouches
    }

    /// The time to decide at, given the system clock, whether the OS says it is synchronised
    /// and the monotonic clock; raises the floor to it.
    pub fn now(
        &mut self,
        system: UnixTime,
        os_synced: bool,
        monotonic: Instant,
    ) -> (UnixTime, ClockQuality) {
        let synced = self.synchronised(system, os_synced, monotonic);
        if self.floor == NO_FLOOR {
            self.floor = system;
            self.floor_at = monotonic;
            let quality = if synced {
                ClockQuality::Synchronised
            } else {
                ClockQuality::Unsynchronised
            };
            return (system, quality);
        }
        let elapsed = Self::elapsed(self.floor_at, monotonic);
        let bound = self.floor.plus(elapsed);
        if system >= self.floor && (synced || system <= bound) {
            self.floor = system;
            self.floor_at = monotonic;
            let quality = if synced {
                ClockQuality::Synchronised
            } else {
                ClockQuality::Unsynchronised
            };
            return (system, quality);
        }
        // Behind the floor, or unsynchronised and further ahead than the monotonic clock
        // allows: the floor moves on by the elapsed whole seconds (keeping the fraction, so
        // frequent calls still add up).
        self.floor = bound;
        self.floor_at += Duration::from_secs(elapsed);
        (bound, ClockQuality::Floor)
    }

    /// A signed time from the dashboard, received at `monotonic`: raises the floor (never
    /// lowers it) and vouches for a system clock that agrees with it for a while.
    pub fn beacon(&mut self, time: UnixTime, monotonic: Instant) {
        self.beacon = Some(Beacon {
            time,
            at: monotonic,
        });
        if time > self.floor {
            self.floor = time;
            self.floor_at = monotonic;
        }
    }

    /// An operator's correction (a signed command or the local socket): sets the floor to
    /// `floor`, lower or higher, at `monotonic`, and forgets the last beacon (the operator
    /// overrules what it said). Returns the floor it replaced.
    pub fn reset(&mut self, floor: UnixTime, monotonic: Instant) -> UnixTime {
        let old = self.floor;
        self.floor = floor;
        self.floor_at = monotonic;
        self.beacon = None;
        old
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_os_flag_vouches_only_while_ntp_keeps_touching_it() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        assert!(os_sync_is_fresh(Some(now - Duration::from_secs(60)), now));
        assert!(os_sync_is_fresh(Some(now - OS_SYNC_VALIDITY), now));
        assert!(
            !os_sync_is_fresh(Some(now - OS_SYNC_VALIDITY - Duration::from_secs(1)), now),
            "a flag NTP stopped touching must stop vouching"
        );
        assert!(
            !os_sync_is_fresh(Some(now + Duration::from_secs(3600)), now),
            "a flag touched in the future: the clock was set back since"
        );
        assert!(!os_sync_is_fresh(None, now));
    }

    /// 2026-12-01, a realistic floor.
    const REAL: u64 = 1_796_083_200;
    /// 2099-01-01: where a spoofed NTP reply sends the clock.
    const FAR_FUTURE: u64 = 4_070_908_800;

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    /// A clock without a real-time clock, its floor at `floor` as of the returned instant.
    fn started(floor: u64) -> (Clock, Instant) {
        let t0 = Instant::now();
        (Clock::new(UnixTime(floor), false, t0), t0)
    }

    #[test]
    fn a_clock_set_back_a_day_keeps_the_floor_and_says_so() {
        let (mut clock, t0) = started(1_000_000);
        assert_eq!(
            clock.now(UnixTime(1_000_000 - 86_400), true, t0),
            (UnixTime(1_000_000), ClockQuality::Floor)
        );
        assert_eq!(clock.floor(), UnixTime(1_000_000));
    }

    #[test]
    fn a_clock_behind_the_floor_moves_on_with_monotonic_time() {
        let (mut clock, t0) = started(1_000_000);
        assert_eq!(
            clock.now(UnixTime(5), false, t0 + secs(90)),
            (UnixTime(1_000_090), ClockQuality::Floor)
        );
        assert_eq!(clock.floor(), UnixTime(1_000_090));
    }

    #[test]
    fn the_floor_follows_an_unsynchronised_clock_as_far_as_monotonic_time_allows() {
        let (mut clock, t0) = started(10);
        assert_eq!(
            clock.now(UnixTime(20), false, t0 + secs(10)),
            (UnixTime(20), ClockQuality::Unsynchronised)
        );
        assert_eq!(clock.floor(), UnixTime(20));
        assert_eq!(
            clock.now(UnixTime(15), false, t0 + secs(10)).1,
            ClockQuality::Floor
        );
    }

    #[test]
    fn an_unsynchronised_jump_to_2099_moves_the_floor_only_by_the_elapsed_monotonic_time() {
        let (mut clock, t0) = started(REAL);
        assert_eq!(
            clock.now(UnixTime(FAR_FUTURE), false, t0 + secs(60)),
            (UnixTime(REAL + 60), ClockQuality::Floor)
        );
        assert_eq!(clock.floor(), UnixTime(REAL + 60));
        // An hour of the clock standing at 2099: the floor moves an hour, no more.
        assert_eq!(
            clock.now(UnixTime(FAR_FUTURE + 3600), false, t0 + secs(3660)),
            (UnixTime(REAL + 3660), ClockQuality::Floor)
        );
        // The clock comes back to the real time: followed again.
        assert_eq!(
            clock.now(UnixTime(REAL + 3600), false, t0 + secs(3662)),
            (UnixTime(REAL + 3662), ClockQuality::Floor)
        );
        assert_eq!(
            clock.now(UnixTime(REAL + 3670), false, t0 + secs(3680)),
            (UnixTime(REAL + 3670), ClockQuality::Unsynchronised)
        );
    }

    #[test]
    fn frequent_readings_still_add_up_the_elapsed_monotonic_time() {
        let (mut clock, t0) = started(REAL);
        for tenth in 1..=100u64 {
            clock.now(
                UnixTime(FAR_FUTURE),
                false,
                t0 + Duration::from_millis(tenth * 100),
            );
        }
        assert_eq!(clock.floor(), UnixTime(REAL + 10));
    }

    #[test]
    fn a_synchronised_clock_moves_the_floor_ahead() {
        let (mut clock, t0) = started(REAL);
        assert_eq!(
            clock.now(UnixTime(FAR_FUTURE), true, t0 + secs(1)),
            (UnixTime(FAR_FUTURE), ClockQuality::Synchronised)
        );
        assert_eq!(clock.floor(), UnixTime(FAR_FUTURE));
        let mut with_rtc = Clock::new(UnixTime(REAL), true, t0);
        assert_eq!(
            with_rtc.now(UnixTime(REAL + 86_400), false, t0).1,
            ClockQuality::Synchronised
        );
        assert_eq!(with_rtc.floor(), UnixTime(REAL + 86_400));
    }

    #[test]
    fn the_os_flag_counts_only_while_present() {
        let (mut clock, t0) = started(REAL);
        assert_eq!(
            clock.now(UnixTime(REAL + 100), true, t0).1,
            ClockQuality::Synchronised
        );
        assert_eq!(
            clock.now(UnixTime(FAR_FUTURE), false, t0 + secs(5)),
            (UnixTime(REAL + 105), ClockQuality::Floor)
        );
    }

    #[test]
    fn a_fresh_store_takes_the_first_reading_as_it_is() {
        let (mut clock, t0) = started(0);
        assert_eq!(
            clock.now(UnixTime(REAL), false, t0),
            (UnixTime(REAL), ClockQuality::Unsynchronised)
        );
        assert_eq!(
            clock.now(UnixTime(FAR_FUTURE), false, t0 + secs(2)),
            (UnixTime(REAL + 2), ClockQuality::Floor)
        );
    }

    #[test]
    fn a_beacon_raises_but_never_lowers_the_floor() {
        let (mut clock, t0) = started(100);
        clock.beacon(UnixTime(50), t0);
        assert_eq!(clock.floor(), UnixTime(100));
        clock.beacon(UnixTime(500), t0);
        assert_eq!(
            clock.now(UnixTime(200), false, t0),
            (UnixTime(500), ClockQuality::Floor)
        );
    }

    #[test]
    fn a_recent_beacon_vouches_for_a_system_clock_that_agrees_with_it() {
        let (mut clock, t0) = started(REAL - 86_400);
        clock.beacon(UnixTime(REAL), t0);
        assert_eq!(
            clock.now(UnixTime(REAL + 620), false, t0 + secs(600)),
            (UnixTime(REAL + 620), ClockQuality::Synchronised)
        );
    }

    #[test]
    fn a_beacon_does_not_vouch_for_a_system_clock_far_ahead_of_it() {
        let (mut clock, t0) = started(REAL - 86_400);
        clock.beacon(UnixTime(REAL), t0);
        assert_eq!(
            clock.now(UnixTime(FAR_FUTURE), false, t0 + secs(10)),
            (UnixTime(REAL + 10), ClockQuality::Floor)
        );
    }

    #[test]
    fn a_beacon_stops_vouching_after_its_validity() {
        let (mut clock, t0) = started(REAL);
        clock.beacon(UnixTime(REAL), t0);
        let later = BEACON_VALIDITY_SECONDS + 1;
        // The system clock runs 100 s ahead of the monotonic clock: within the agreement,
        // so only the beacon's age decides.
        assert_eq!(
            clock.now(UnixTime(REAL + 100), false, t0 + secs(0)).1,
            ClockQuality::Synchronised
        );
        let mut expired = Clock::new(UnixTime(REAL), false, t0);
        expired.beacon(UnixTime(REAL), t0);
        assert_eq!(
            expired.now(UnixTime(REAL + later + 100), false, t0 + secs(later)),
            (UnixTime(REAL + later), ClockQuality::Floor)
        );
    }

    #[test]
    fn a_reset_brings_a_floor_pushed_ahead_back_and_forgets_the_beacon() {
        let (mut clock, t0) = started(REAL);
        clock.beacon(UnixTime(REAL), t0);
        clock.now(UnixTime(FAR_FUTURE), true, t0 + secs(1));
        assert_eq!(clock.floor(), UnixTime(FAR_FUTURE));
        assert_eq!(
            clock.reset(UnixTime(REAL + 1), t0 + secs(1)),
            UnixTime(FAR_FUTURE)
        );
        assert_eq!(
            clock.now(UnixTime(REAL + 5), false, t0 + secs(5)),
            (UnixTime(REAL + 5), ClockQuality::Unsynchronised)
        );
    }
}
