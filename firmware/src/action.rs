//! What the controller asks the outside world to do: [`Action`] and its parts.
//!
//! Invariant: actions describe outputs only, never decisions still to be made; a driver that
//! applies every action in order keeps the pins, the reader and the alarm log in step with
//! the controller.

/// One output of the controller, drained with
/// [`DoorController::poll_action`](crate::DoorController::poll_action).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Drive the lock's power. This is the electrical state, not the logical one: a
    /// fail-secure strike is energised to release, a fail-safe maglock is energised to lock.
    SetLock {
        /// Whether the lock should have power.
        energised: bool,
    },
    /// An alarm was raised or cleared. Every raise is followed by a clear once its cause ends.
    Alarm {
        /// Which alarm.
        kind: AlarmKind,
        /// `true` when raised, `false` when cleared.
        raised: bool,
    },
    /// Something a reader should show or say, for readers driven over a bus (OSDP, serial)
    /// rather than by the LED and buzzer lines.
    Feedback(Feedback),
    /// The levels the reader's LED and buzzer lines should have now.
    Indicator(Indicator),
}

/// The door alarms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlarmKind {
    /// A legitimately opened door stayed open past the held-open time. Cleared when the door
    /// closes, or when fire release or hold-open makes an open door legitimate.
    HeldOpen,
    /// The door opened while locked and not shunted by the exit button. Cleared when the
    /// door closes.
    ForcedOpen,
}

/// An event a reader should signal to the person in front of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Feedback {
    /// A grant released the lock.
    Granted,
    /// A presentation was refused upstream (see
    /// [`DoorController::handle_deny`](crate::DoorController::handle_deny)).
    Denied,
    /// A grant was refused because the door is in lockdown.
    Lockdown,
    /// An alarm was raised at this door.
    Alarm,
}

/// The reader's LED and buzzer lines, as logical on/off (the adapter applies polarity).
///
/// The LED is on while the lock is released (any cause). The buzzer sounds briefly on a
/// grant, longer on a refusal, and continuously while an alarm is active.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Indicator {
    /// Whether the LED is lit.
    pub led: bool,
    /// Whether the buzzer sounds.
    pub buzzer: bool,
}
