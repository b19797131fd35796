//! The one clock the dashboard reads wall time from: the system clock in service, or a manual
//! clock that tests set and move on, so that session, token, pass and command lifetimes and the
//! revocation-lag and offline alarms can be tested without waiting for real time to pass.
//!
//! Invariant: nothing in the dashboard reads the system's wall time except through a [`Clock`];
//! every time it stores or compares is Unix seconds from [`Clock::now`]. Waiting (polls, the
//! link's intervals) is not wall time and stays with tokio, which `tokio::time::pause` drives.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// Where the dashboard reads the time: cheap to clone, and clones of a manual clock share
/// its hands, so a test that moves its copy moves the dashboard's.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// `None` for the system clock; for a manual clock, its time in Unix seconds.
    manual: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system's wall clock (what `bygd` runs on).
    #[must_use]
    pub fn system() -> Self {
        Self { manual: None }
    }

    /// A clock that stands at `start` (Unix seconds) until [`Clock::advance`] or
    /// [`Clock::set`] moves it.
    #[must_use]
    pub fn manual(start: i64) -> Self {
        Self {
            manual: Some(Arc::new(AtomicI64::new(start))),
        }
    }

    /// Whether this is a manual clock.
    #[must_use]
    pub fn is_manual(&self) -> bool {
        self.manual.is_some()
    }

    /// Now, in Unix seconds.
    #[must_use]
    pub fn now(&self) -> i64 {
        match &self.manual {
            Some(t) => t.load(Ordering::SeqCst),
            None => system_now(),
        }
    }

    /// Moves a manual clock on by `seconds` (back, if negative).
    ///
    /// # Panics
    /// On the system clock, which nobody may move: calling this on it is a bug in the test.
    #[track_caller]
    pub fn advance(&self, seconds: i64) {
        self.hands().fetch_add(seconds, Ordering::SeqCst);
    }

    /// Sets a manual clock to `t` (Unix seconds).
    ///
    /// # Panics
    /// On the system clock, as [`Clock::advance`].
    #[track_caller]
    pub fn set(&self, t: i64) {
        self.hands().store(t, Ordering::SeqCst);
    }

    /// The manual clock's time, which only tests move.
    #[track_caller]
    fn hands(&self) -> &AtomicI64 {
        self.manual
            .as_deref()
            .expect("only a manual clock can be moved; this dashboard runs on the system clock")
    }
}

/// Now, in Unix seconds, from the system clock (0 before 1970, which no real clock is).
fn system_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_stands_still_until_it_is_moved() {
        let clock = Clock::manual(1_000);
        assert_eq!(clock.now(), 1_000);
        clock.advance(60);
        assert_eq!(clock.now(), 1_060);
        clock.set(5);
        assert_eq!(clock.now(), 5);
    }

    #[test]
    fn clones_of_a_manual_clock_share_its_time() {
        let clock = Clock::manual(0);
        let copy = clock.clone();
        clock.advance(3600);
        assert_eq!(copy.now(), 3600);
    }

    #[test]
    fn the_system_clock_reads_the_present() {
        // 2024-01-01T00:00:00Z: any machine running this is later.
        assert!(Clock::system().now() > 1_704_067_200);
        assert!(!Clock::system().is_manual());
    }

    #[test]
    #[should_panic(expected = "only a manual clock")]
    fn the_system_clock_cannot_be_moved() {
        Clock::system().advance(1);
    }
}
