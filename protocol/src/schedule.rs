//! Weekly schedules: the days and local times a pass opens doors.
//!
//! Invariant: every window has at least one day, starts before it ends, and lies within one
//! local day (a night window is two windows). Times are local to the site; the gateway turns
//! `now` into a [`WeekTime`] with the site's time zone from its own config.

use crate::cbor::{self, u};
use crate::{DecodeError, WeekTime, Weekday};
use alloc::vec::Vec;
use coset::cbor::value::Value;

/// Minutes in a day: a window's end may equal it (open until midnight).
pub const MINUTES_PER_DAY: u16 = 1440;

/// The most windows one schedule may hold: generous for real opening hours (a different
/// window every day, twice over) while keeping a pass's QR code small.
const MAX_WINDOWS: usize = 14;

/// All seven day bits.
const ALL_DAYS: u8 = 0b111_1111;

/// One recurring window: on these days, from `start` (inclusive) to `end` (exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindow {
    /// Day bits, bit 0 = Monday ... bit 6 = Sunday.
    days: u8,
    /// Local minute of day when the window opens.
    start: u16,
    /// Local minute of day when the window closes (exclusive; may be 1440).
    end: u16,
}

impl TimeWindow {
    /// A window on `days` from `start` to `end` minutes after local midnight; `None` if it
    /// names no day or `start >= end` or `end > 1440`.
    #[must_use]
    pub fn new(days: &[Weekday], start: u16, end: u16) -> Option<Self> {
        let mask = days.iter().fold(0u8, |m, d| m | 1 << d.index());
        Self::from_mask(mask, start, end)
    }

    /// A window from a day mask (bit 0 = Monday).
    #[must_use]
    pub fn from_mask(days: u8, start: u16, end: u16) -> Option<Self> {
        (days != 0 && days & !ALL_DAYS == 0 && start < end && end <= MINUTES_PER_DAY)
            .then_some(Self { days, start, end })
    }

    /// The day mask (bit 0 = Monday).
    #[must_use]
    pub fn days(&self) -> u8 {
        self.days
    }

    /// Opening minute.
    #[must_use]
    pub fn start(&self) -> u16 {
        self.start
    }

    /// Closing minute (exclusive).
    #[must_use]
    pub fn end(&self) -> u16 {
        self.end
    }

    /// Whether the window covers this local week time.
    #[must_use]
    pub fn contains(&self, at: WeekTime) -> bool {
        self.days & (1 << at.day.index()) != 0 && self.start <= at.minute && at.minute < self.end
    }
}

/// A weekly schedule: a pass opens only inside one of its windows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    windows: Vec<TimeWindow>,
}

impl Schedule {
    /// A schedule of 1 to 14 windows; `None` otherwise.
    #[must_use]
    pub fn new(windows: Vec<TimeWindow>) -> Option<Self> {
        (!windows.is_empty() && windows.len() <= MAX_WINDOWS).then_some(Self { windows })
    }

    /// The windows.
    #[must_use]
    pub fn windows(&self) -> &[TimeWindow] {
        &self.windows
    }

    /// Whether a local week time falls inside any window.
    #[must_use]
    pub fn allows(&self, at: WeekTime) -> bool {
        self.windows.iter().any(|w| w.contains(at))
    }

    /// `[* [days, start, end]]`
    pub(crate) fn to_value(&self) -> Value {
        Value::Array(
            self.windows
                .iter()
                .map(|w| {
                    Value::Array(alloc::vec![
                        u(w.days.into()),
                        u(w.start.into()),
                        u(w.end.into())
                    ])
                })
                .collect(),
        )
    }

    pub(crate) fn from_value(value: &Value) -> Result<Self, DecodeError> {
        const WHAT: &str =
            "schedule window must be [days 1..127, start, end] with start < end <= 1440";
        let windows = cbor::array(value, "schedule must be an array of windows")?
            .iter()
            .map(|w| {
                let [days, start, end] = cbor::tuple::<3>(w, WHAT)?;
                let days = u8::try_from(cbor::uint(days, WHAT)?)
                    .map_err(|_| DecodeError::Malformed(WHAT))?;
                let start = u16::try_from(cbor::uint(start, WHAT)?)
                    .map_err(|_| DecodeError::Malformed(WHAT))?;
                let end = u16::try_from(cbor::uint(end, WHAT)?)
                    .map_err(|_| DecodeError::Malformed(WHAT))?;
                TimeWindow::from_mask(days, start, end).ok_or(DecodeError::Malformed(WHAT))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Schedule::new(windows).ok_or(DecodeError::Malformed("schedule must have 1 to 14 windows"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Weekday::*;

    fn weekdays_office_hours() -> Schedule {
        Schedule::new(alloc::vec![TimeWindow::new(
            &[Monday, Tuesday, Wednesday, Thursday, Friday],
            7 * 60,
            22 * 60
        )
        .unwrap()])
        .unwrap()
    }

    #[test]
    fn a_weekday_inside_the_window_is_allowed() {
        assert!(weekdays_office_hours().allows(WeekTime {
            day: Tuesday,
            minute: 8 * 60
        }));
    }

    #[test]
    fn the_end_minute_is_outside_and_the_start_minute_inside() {
        let s = weekdays_office_hours();
        assert!(s.allows(WeekTime {
            day: Friday,
            minute: 7 * 60
        }));
        assert!(!s.allows(WeekTime {
            day: Friday,
            minute: 22 * 60
        }));
    }

    #[test]
    fn a_day_not_in_the_mask_is_refused() {
        assert!(!weekdays_office_hours().allows(WeekTime {
            day: Sunday,
            minute: 12 * 60
        }));
    }

    #[test]
    fn empty_or_inverted_windows_cannot_be_built() {
        assert!(TimeWindow::new(&[], 0, 10).is_none());
        assert!(TimeWindow::new(&[Monday], 10, 10).is_none());
        assert!(TimeWindow::new(&[Monday], 0, 1441).is_none());
        assert!(Schedule::new(alloc::vec![]).is_none());
    }

    #[test]
    fn a_schedule_round_trips_through_cbor() {
        let s = weekdays_office_hours();
        assert_eq!(Schedule::from_value(&s.to_value()).unwrap(), s);
    }
}
