//! Time as the protocol sees it: whole seconds since the Unix epoch, and a position in the
//! local week for schedules.
//!
//! The crate never reads a clock. Callers pass `now`; the gateway converts it to local time
//! with the site's time zone from its config (see SPEC.md, "Schedules and time zones").

use core::fmt;

/// Seconds since 1970-01-01T00:00:00Z, ignoring leap seconds (POSIX time).
///
/// Seconds are fine enough for every rule here (validity windows, 30-second proof steps)
/// and keep the CBOR small: a 2026 time is a 5-byte CBOR integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct UnixTime(pub u64);

impl UnixTime {
    /// The time `seconds` later, saturating rather than wrapping.
    #[must_use]
    pub fn plus(self, seconds: u64) -> Self {
        Self(self.0.saturating_add(seconds))
    }

    /// The time `seconds` earlier, saturating at the epoch.
    #[must_use]
    pub fn minus(self, seconds: u64) -> Self {
        Self(self.0.saturating_sub(seconds))
    }

    /// The seconds from `earlier` to `self`, or 0 if `earlier` is later.
    #[must_use]
    pub fn since(self, earlier: UnixTime) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl fmt::Display for UnixTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A day of the week, Monday first as in ISO 8601.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[allow(missing_docs)]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl Weekday {
    /// All days, Monday first.
    pub const ALL: [Weekday; 7] = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];

    /// Days since Monday (Monday = 0, Sunday = 6): the bit this day has in a schedule's mask.
    #[must_use]
    pub fn index(self) -> u8 {
        self as u8
    }

    /// The day with this index (0 = Monday), or `None` past Sunday.
    #[must_use]
    pub fn from_index(index: u8) -> Option<Self> {
        Self::ALL.get(usize::from(index)).copied()
    }
}

/// A moment in the site's local week: the day and the minute of that day (0..1440).
///
/// The gateway computes it from `now` and the site's IANA time zone; schedules compare
/// against it, so daylight-saving changes follow the wall clock as members expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WeekTime {
    /// The local day.
    pub day: Weekday,
    /// Minutes since local midnight, 0..=1439.
    pub minute: u16,
}

impl WeekTime {
    /// The local week time for a UTC time and a fixed offset from UTC in seconds.
    ///
    /// Useful for tests and for callers that already resolved the offset in force at `time`
    /// (the gateway resolves it from the IANA zone).
    #[must_use]
    pub fn from_unix_with_offset(time: UnixTime, offset_seconds: i32) -> Self {
        const SECONDS_PER_DAY: i64 = 86_400;
        // 1970-01-01 was a Thursday: index 3 with Monday = 0.
        const EPOCH_WEEKDAY: i64 = 3;
        // Saturating: a time near u64::MAX (a bad time beacon, a corrupt clock floor) must give
        // some week time, not an overflow panic.
        let local = i64::try_from(time.0)
            .unwrap_or(i64::MAX)
            .saturating_add(i64::from(offset_seconds));
        let days = local.div_euclid(SECONDS_PER_DAY);
        let second_of_day = local.rem_euclid(SECONDS_PER_DAY);
        let day_index = (days + EPOCH_WEEKDAY).rem_euclid(7);
        Self {
            day: Weekday::from_index(u8::try_from(day_index).unwrap_or(0))
                .unwrap_or(Weekday::Monday),
            minute: u16::try_from(second_of_day / 60).unwrap_or(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_was_a_thursday_at_midnight() {
        let t = WeekTime::from_unix_with_offset(UnixTime(0), 0);
        assert_eq!(
            t,
            WeekTime {
                day: Weekday::Thursday,
                minute: 0
            }
        );
    }

    #[test]
    fn offset_moves_the_local_day_back_across_midnight() {
        // 1970-01-01 00:30 UTC is Wednesday 23:30 at UTC-1.
        let t = WeekTime::from_unix_with_offset(UnixTime(30 * 60), -3600);
        assert_eq!(
            t,
            WeekTime {
                day: Weekday::Wednesday,
                minute: 23 * 60 + 30
            }
        );
    }

    #[test]
    fn a_known_date_has_the_right_weekday() {
        // 2026-11-22T12:00:00Z is a Sunday; Stockholm is UTC+1 in November.
        let t = WeekTime::from_unix_with_offset(UnixTime(1_795_348_800), 3600);
        assert_eq!(
            t,
            WeekTime {
                day: Weekday::Sunday,
                minute: 13 * 60
            }
        );
    }
}
