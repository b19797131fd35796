//! Time as the driver tells it: an [`Instant`] in milliseconds from an arbitrary epoch.
//!
//! The controller never reads a clock; every `handle_*` call carries `now`. Invariant:
//! arithmetic on instants saturates, so no input, however large, can overflow or panic;
//! an instant at the end of time simply stays there.

use core::ops::Add;
use core::time::Duration;

/// A point in time, in whole milliseconds since an epoch the driver chooses (boot, usually).
///
/// Milliseconds are fine enough for a door (a relay takes several to move) and a `u64` of them
/// lasts longer than any hardware. Only differences between instants mean anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(u64);

impl Instant {
    /// The epoch itself.
    pub const ZERO: Instant = Instant(0);

    /// The instant `millis` milliseconds after the epoch.
    pub const fn from_millis(millis: u64) -> Self {
        Instant(millis)
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// `self + duration`, stopping at the largest instant instead of overflowing.
    ///
    /// Sub-millisecond parts of `duration` are dropped.
    #[must_use]
    pub fn saturating_add(self, duration: Duration) -> Self {
        Instant(self.0.saturating_add(millis(duration)))
    }

    /// How long after `earlier` this instant is; zero if it is not after it.
    #[must_use]
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

/// Saturating, like [`Instant::saturating_add`]: the far future stays the far future.
impl Add<Duration> for Instant {
    type Output = Instant;

    fn add(self, duration: Duration) -> Instant {
        self.saturating_add(duration)
    }
}

/// Whole milliseconds in `duration`, saturating at `u64::MAX` (half a billion years).
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adding_to_an_instant_saturates_at_the_end_of_time() {
        let late = Instant::from_millis(u64::MAX - 1);
        assert_eq!(
            late + Duration::from_secs(5),
            Instant::from_millis(u64::MAX)
        );
        assert_eq!(
            Instant::ZERO + Duration::MAX,
            Instant::from_millis(u64::MAX)
        );
    }

    #[test]
    fn sub_millisecond_parts_of_a_duration_are_dropped() {
        assert_eq!(
            Instant::ZERO + Duration::from_micros(1_999),
            Instant::from_millis(1)
        );
    }

    #[test]
    fn duration_since_a_later_instant_is_zero() {
        let a = Instant::from_millis(10);
        let b = Instant::from_millis(25);
        assert_eq!(b.saturating_duration_since(a), Duration::from_millis(15));
        assert_eq!(a.saturating_duration_since(b), Duration::ZERO);
    }
}
