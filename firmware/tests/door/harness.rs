//! The simulation harness: a [`Sim`] owns a controller and a clock, feeds it [`Input`]s,
//! advances time to each `poll_timeout()` in turn, drains every action, and keeps what the
//! actions say (lock level, indicator, alarms) so tests can check the outputs rather than
//! the controller's own view of itself.
//!
//! Invariant checked on every drain: an alarm is only raised when it is not active and only
//! cleared when it is, so the action stream alone tells which alarms are on.

use core::time::Duration;

use bygd_firmware::{
    Action, AlarmKind, Config, DoorController, DoorState, Feedback, GrantOutcome, Indicator,
    Instant, LockType,
};

/// Safety net for [`Sim::run_until_idle`]: a controller whose timers keep rearming forever
/// is a bug, and a test should fail rather than hang. Far more steps than any scenario needs.
const MAX_IDLE_STEPS: usize = 1_000;

/// An input to the controller, as scripts and property tests spell them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Input {
    /// A member's presentation was accepted, for this long.
    Grant(Duration),
    /// A presentation was refused upstream.
    Deny,
    /// The exit button is pressed (`true`) or released.
    Exit(bool),
    /// The door sensor reads this.
    Door(DoorState),
    /// Lockdown on or off.
    Lockdown(bool),
    /// Fire release on or off.
    Fire(bool),
    /// Hold-open on or off.
    HoldOpen(bool),
}

/// A controller on a simulated clock, with its outputs as the actions left them.
pub(crate) struct Sim {
    /// The controller under test.
    pub(crate) door: DoorController,
    /// Simulated time.
    pub(crate) now: Instant,
    /// Every action drained so far, with the time it was drained at.
    pub(crate) log: Vec<(Instant, Action)>,
    /// The lock's power according to the last `SetLock`; `None` before the first.
    pub(crate) energised: Option<bool>,
    /// The indicator according to the last `Indicator` action.
    pub(crate) indicator: Option<Indicator>,
    /// Whether the forced-open alarm is on according to the actions.
    forced_open: bool,
    /// Whether the held-open alarm is on according to the actions.
    held_open: bool,
}

impl Sim {
    /// A controller started at time zero, its initial actions drained; door state unknown.
    pub(crate) fn new(config: Config) -> Self {
        Sim::starting_at(config, Instant::ZERO)
    }

    /// As [`Sim::new`], with the clock starting at `start`.
    pub(crate) fn starting_at(config: Config, start: Instant) -> Self {
        let mut sim = Sim {
            door: DoorController::new(config, start),
            now: start,
            log: Vec::new(),
            energised: None,
            indicator: None,
            forced_open: false,
            held_open: false,
        };
        sim.drain();
        sim
    }

    /// A controller whose sensor has reported the door closed at time zero.
    pub(crate) fn with_door_closed(config: Config) -> Self {
        let mut sim = Sim::new(config);
        sim.input(Input::Door(DoorState::Closed));
        sim
    }

    /// Feeds `input` at the current time and drains the actions; returns the new actions
    /// and, for a grant, its outcome.
    pub(crate) fn input(&mut self, input: Input) -> (Vec<Action>, Option<GrantOutcome>) {
        let now = self.now;
        let d = &mut self.door;
        let outcome = match input {
            Input::Grant(duration) => Some(d.handle_grant(duration, now)),
            Input::Deny => {
                d.handle_deny(now);
                None
            }
            Input::Exit(pressed) => {
                d.handle_exit_button(pressed, now);
                None
            }
            Input::Door(state) => {
                d.handle_door(state, now);
                None
            }
            Input::Lockdown(on) => {
                d.handle_lockdown(on, now);
                None
            }
            Input::Fire(on) => {
                d.handle_fire_release(on, now);
                None
            }
            Input::HoldOpen(on) => {
                d.handle_hold_open(on, now);
                None
            }
        };
        (self.drain(), outcome)
    }

    /// A grant of `duration` now; returns its outcome.
    pub(crate) fn grant(&mut self, duration: Duration) -> GrantOutcome {
        match self.input(Input::Grant(duration)) {
            (_, Some(outcome)) => outcome,
            (_, None) => unreachable!("a grant always has an outcome"),
        }
    }

    /// Moves the clock forward by `by`, calling `handle_timeout` at each deadline on the
    /// way, as a driver sleeping until `poll_timeout()` would.
    pub(crate) fn advance(&mut self, by: Duration) {
        self.advance_with(by, |_, _| {});
    }

    /// As [`Sim::advance`], calling `step(sim, actions)` after each deadline acted on.
    pub(crate) fn advance_with(&mut self, by: Duration, mut step: impl FnMut(&Sim, &[Action])) {
        let target = self.now + by;
        while let Some(deadline) = self.door.poll_timeout() {
            if deadline > target {
                break;
            }
            assert!(
                deadline > self.now,
                "a deadline at or before now was left behind"
            );
            self.now = deadline;
            self.door.handle_timeout(deadline);
            let actions = self.drain();
            step(self, &actions);
        }
        self.now = target;
    }

    /// Steps from deadline to deadline until no timer runs.
    pub(crate) fn run_until_idle(&mut self) {
        for _ in 0..MAX_IDLE_STEPS {
            let Some(deadline) = self.door.poll_timeout() else {
                return;
            };
            let by = deadline.saturating_duration_since(self.now);
            self.advance(by);
        }
        panic!("the controller never went idle");
    }

    /// Drains every pending action into the log and the output state; returns them.
    pub(crate) fn drain(&mut self) -> Vec<Action> {
        let mut new = Vec::new();
        while let Some(action) = self.door.poll_action() {
            match action {
                Action::SetLock { energised } => self.energised = Some(energised),
                Action::Indicator(indicator) => self.indicator = Some(indicator),
                Action::Alarm { kind, raised } => {
                    let on = match kind {
                        AlarmKind::ForcedOpen => &mut self.forced_open,
                        AlarmKind::HeldOpen => &mut self.held_open,
                    };
                    assert_ne!(*on, raised, "{kind:?} raised twice or cleared while off");
                    *on = raised;
                }
                Action::Feedback(_) => {}
            }
            self.log.push((self.now, action));
            new.push(action);
        }
        new
    }

    /// Whether the lock is released, judged from the last `SetLock` and the lock type.
    pub(crate) fn released(&self) -> bool {
        let energised = self.energised.expect("the first action sets the lock");
        match self.door.config().lock_type() {
            LockType::FailSecure => energised,
            LockType::FailSafe => !energised,
        }
    }

    /// Whether alarm `kind` is on, judged from the actions.
    pub(crate) fn alarm(&self, kind: AlarmKind) -> bool {
        match kind {
            AlarmKind::ForcedOpen => self.forced_open,
            AlarmKind::HeldOpen => self.held_open,
        }
    }

    /// How many times `action` appears in the log.
    pub(crate) fn count(&self, action: Action) -> usize {
        self.log.iter().filter(|(_, a)| *a == action).count()
    }
}

/// Whether `actions` raise (`raised`) or clear alarm `kind`.
pub(crate) fn has_alarm(actions: &[Action], kind: AlarmKind, raised: bool) -> bool {
    actions.contains(&Action::Alarm { kind, raised })
}

/// Whether `actions` include `feedback`.
pub(crate) fn has_feedback(actions: &[Action], feedback: Feedback) -> bool {
    actions.contains(&Action::Feedback(feedback))
}

/// `n` milliseconds.
pub(crate) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// `n` seconds.
pub(crate) fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}
