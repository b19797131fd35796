//! A snapshot of the door for logs, dashboards and tests: [`Status`], [`DoorState`],
//! [`ReleaseCause`] and [`GrantOutcome`].
//!
//! Invariant: a [`Status`] is a copy; reading it never changes the controller.

use crate::action::AlarmKind;
use crate::time::Instant;

/// What the door sensor says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DoorState {
    /// The door is in its frame.
    Closed,
    /// The door is open (or the sensor wire is cut, with the default wiring).
    Open,
}

/// Why the lock is released, most compelling first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReleaseCause {
    /// Fire release is on: released until it is turned off, whatever else holds.
    FireRelease,
    /// Hold-open is on (staffed hours) and there is no lockdown.
    HoldOpen,
    /// An exit-button press, for the unlock time.
    ExitButton,
    /// A grant, for its (clamped) duration.
    Grant,
}

/// What became of a grant (see
/// [`DoorController::handle_grant`](crate::DoorController::handle_grant)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GrantOutcome {
    /// The lock is released until `until` (or longer, if something else releases it).
    Released {
        /// When the grant's release ends, unless the door closes first.
        until: Instant,
        /// Whether the asked-for duration was above the maximum unlock time and cut to it.
        clamped: bool,
    },
    /// The door is in lockdown: nothing changed except the reader showing "lockdown".
    RefusedLockdown,
    /// The duration was under one millisecond: nothing changed. This is a caller's bug, so
    /// it is reported rather than shown to the member.
    RejectedZeroDuration,
}

/// Everything the controller knows, at the latest `now` it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Status {
    /// The latest time the controller was given.
    pub now: Instant,
    /// Why the lock is released, or `None` when it is locked.
    pub release: Option<ReleaseCause>,
    /// Whether the lock should have power (see [`crate::Action::SetLock`]).
    pub lock_energised: bool,
    /// When the timed release (grant or exit button) ends, if one is running. Fire release
    /// and hold-open have no deadline.
    pub release_deadline: Option<Instant>,
    /// The door sensor's last report; `None` before the first one.
    pub door: Option<DoorState>,
    /// Whether the exit button is held.
    pub exit_pressed: bool,
    /// Whether the forced-open alarm is active.
    pub forced_open: bool,
    /// Whether the held-open alarm is active.
    pub held_open: bool,
    /// Whether lockdown is on.
    pub lockdown: bool,
    /// Whether fire release is on.
    pub fire_release: bool,
    /// Whether hold-open is on (it releases the lock only outside lockdown).
    pub hold_open: bool,
    /// Events dropped because the driver did not drain them in time; nonzero is a driver bug.
    pub dropped_events: u32,
}

impl Status {
    /// Whether the lock is released, for any reason.
    pub fn is_released(&self) -> bool {
        self.release.is_some()
    }

    /// Whether the alarm `kind` is active.
    pub fn alarm(&self, kind: AlarmKind) -> bool {
        match kind {
            AlarmKind::HeldOpen => self.held_open,
            AlarmKind::ForcedOpen => self.forced_open,
        }
    }
}
