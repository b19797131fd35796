//! The door controller: a pure, deterministic state machine, [`DoorController`].
//!
//! It is fed inputs with the time they happened (`handle_*`), and drained of outputs
//! ([`DoorController::poll_action`]) and of its next deadline
//! ([`DoorController::poll_timeout`]), in the shape of quinn-proto's `Connection`. It does no
//! I/O and reads no clock. Its invariants are listed on [`DoorController`], where users of
//! the crate see them; each is checked by a property test in `tests/door/properties.rs`.

use core::cmp::max;
use core::time::Duration;

use crate::action::{Action, AlarmKind, Feedback, Indicator};
use crate::config::{Config, ExitMode, LockType};
use crate::queue::EventQueue;
use crate::status::{DoorState, GrantOutcome, ReleaseCause, Status};
use crate::time::{millis, Instant};

/// How long the buzzer sounds on a grant: a short chirp that says "go ahead".
pub const GRANT_BEEP: Duration = Duration::from_millis(200);

/// How long the buzzer sounds on a refusal (denied or lockdown): long enough to be told
/// apart from the grant chirp without looking at the reader.
pub const REFUSAL_BEEP: Duration = Duration::from_secs(1);

/// How many timers the controller runs (grant, exit, shunt, relock, held-open, beep). Acting
/// on a deadline always stops its timer, so catching up to `now` takes at most this many
/// steps; the bound only guards against a future bug turning into an endless loop.
const TIMERS: usize = 6;

/// The door controller: decides when the lock is released and when an alarm is raised.
///
/// Invariants, each checked by a property test over long random input sequences:
/// - it starts locked, so the first action is the lock's safe electrical state
///   (fail-secure: de-energised; fail-safe: energised);
/// - no input keeps the lock released for longer than [`Config::max_unlock_time`]; only
///   hold-open and fire release, which last until turned off, release it for longer;
/// - lockdown refuses grants (and ends a running grant) but never blocks the exit button or
///   fire release;
/// - the forced-open alarm is raised exactly when the door is seen opening while the lock
///   is not released and no shunt-only exit press excuses it;
/// - every alarm is cleared as soon as its cause ends: the door closes, or (held-open) fire
///   release or hold-open makes the open door legitimate;
/// - after any call, every deadline at or before `now` has been acted on, each at its own
///   time, so [`poll_timeout`](Self::poll_timeout) is always in the future.
///
/// A `now` earlier than one already given is taken as the latest one: time never runs
/// backwards inside the controller.
#[derive(Debug, Clone)]
pub struct DoorController {
    /// Validated configuration.
    config: Config,
    /// The latest time given; earlier times passed in later are treated as this one.
    now: Instant,
    /// The sensor's last report; `None` until the first.
    door: Option<DoorState>,
    /// Whether the exit button is held; only the press (edge) acts.
    exit_pressed: bool,
    /// Lockdown: grants refused, hold-open overridden.
    lockdown: bool,
    /// Fire release: released whatever else holds.
    fire_release: bool,
    /// Hold-open: released while there is no lockdown.
    hold_open: bool,
    /// End of the release from the latest grants; cancelled by lockdown.
    grant_until: Option<Instant>,
    /// End of the release from the latest exit press; lockdown leaves it alone.
    exit_until: Option<Instant>,
    /// The door has been open during the current timed release, so closing it relocks.
    opened_during_release: bool,
    /// When the closed door relocks (relock on close, after the relock delay).
    relock_at: Option<Instant>,
    /// End of the forced-open shunt from a shunt-only exit press.
    shunt_until: Option<Instant>,
    /// The start of the held-open count: when the door opened legitimately, or when fire
    /// release or hold-open ended with it open. `None` while the door is closed, was
    /// forced, or may stand open (fire release, hold-open).
    held_open_from: Option<Instant>,
    /// Forced-open alarm active.
    forced_open: bool,
    /// Held-open alarm active.
    held_open: bool,
    /// End of the current grant or refusal beep.
    beep_until: Option<Instant>,
    /// The lock level last handed out by `poll_action`; `None` before the first.
    reported_lock: Option<bool>,
    /// The indicator last handed out by `poll_action`; `None` before the first.
    reported_indicator: Option<Indicator>,
    /// Alarm and feedback events waiting to be drained.
    events: EventQueue,
}

impl DoorController {
    /// A controller in the safe state: locked, no alarm, door state unknown until the
    /// first [`handle_door`](Self::handle_door). The first actions drained set the lock to
    /// its safe electrical state (fail-secure: de-energised; fail-safe: energised) and the
    /// indicator off.
    pub fn new(config: Config, now: Instant) -> Self {
        DoorController {
            config,
            now,
            door: None,
            exit_pressed: false,
            lockdown: false,
            fire_release: false,
            hold_open: false,
            grant_until: None,
            exit_until: None,
            opened_during_release: false,
            relock_at: None,
            shunt_until: None,
            held_open_from: None,
            forced_open: false,
            held_open: false,
            beep_until: None,
            reported_lock: None,
            reported_indicator: None,
            events: EventQueue::new(),
        }
    }

    /// The configuration this controller runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// A member's presentation was accepted: release the lock for `duration`.
    ///
    /// Durations above [`Config::max_unlock_time`] are clamped to it (and the outcome says
    /// so). A duration under one millisecond is rejected and changes nothing. In lockdown
    /// the grant is refused: the lock stays as it is and the reader shows
    /// [`Feedback::Lockdown`]. A grant while already released extends the release if it
    /// ends later, and restarts relock-on-close (a second member gets the full time).
    pub fn handle_grant(&mut self, duration: Duration, now: Instant) -> GrantOutcome {
        let now = self.advance(now);
        let outcome = self.grant(duration, now);
        self.advance(now);
        outcome
    }

    /// A presentation was refused upstream (unknown pass, revoked, out of schedule): the
    /// reader shows [`Feedback::Denied`]. The lock is not touched.
    pub fn handle_deny(&mut self, now: Instant) {
        let now = self.advance(now);
        self.events.push(Action::Feedback(Feedback::Denied));
        self.beep_until = Some(now + REFUSAL_BEEP);
        self.advance(now);
    }

    /// The exit button is now `pressed` or released.
    ///
    /// Only a press acts, once: holding the button does not extend anything, so a stuck or
    /// shorted button cannot leave the door unlocked. In [`ExitMode::UnlockForEgress`] a
    /// press releases the lock for the unlock time, even in lockdown; in
    /// [`ExitMode::ShuntOnly`] it only shunts the forced-open alarm for the unlock time.
    pub fn handle_exit_button(&mut self, pressed: bool, now: Instant) {
        let now = self.advance(now);
        let was_pressed = core::mem::replace(&mut self.exit_pressed, pressed);
        if pressed && !was_pressed {
            let until = now + self.config.unlock_time();
            match self.config.exit_mode() {
                ExitMode::UnlockForEgress => {
                    self.exit_until = Some(max_opt(self.exit_until, until));
                    self.restart_timed_release();
                }
                ExitMode::ShuntOnly => self.shunt_until = Some(until),
            }
        }
        self.advance(now);
    }

    /// The door sensor now reads `state`. Repeated reports of the same state do nothing.
    ///
    /// A door seen opening while locked and not shunted raises the forced-open alarm; any
    /// other opening starts the held-open count (unless fire release or hold-open make an
    /// open door normal). The first report after start, if "open", is not an opening seen,
    /// so it starts the held-open count but never raises forced-open. Closing clears both
    /// alarms and, after a timed release the door was opened in, relocks after the delay.
    pub fn handle_door(&mut self, state: DoorState, now: Instant) {
        let now = self.advance(now);
        let previous = self.door.replace(state);
        match (previous, state) {
            (Some(DoorState::Closed), DoorState::Open) => self.door_opened(now, true),
            (None, DoorState::Open) => self.door_opened(now, false),
            (Some(DoorState::Open), DoorState::Closed) => self.door_closed(now),
            (None, DoorState::Closed)
            | (Some(DoorState::Open), DoorState::Open)
            | (Some(DoorState::Closed), DoorState::Closed) => {}
        }
        self.advance(now);
    }

    /// Lockdown on or off. On: grants are refused, a grant's running release ends now and
    /// hold-open stops releasing; the exit button and fire release still work. Off: hold-open
    /// (if on) releases again; cancelled grants stay cancelled.
    pub fn handle_lockdown(&mut self, on: bool, now: Instant) {
        let now = self.advance(now);
        let was_exempt = self.is_exempt();
        self.lockdown = on;
        if on && self.grant_until.take().is_some() && self.exit_until.is_none() {
            self.end_timed_release();
        }
        self.exemption_changed(was_exempt, now);
        self.advance(now);
    }

    /// Fire release on or off. On: the lock is released until it is turned off, in
    /// lockdown too. Held-open is not raised meanwhile (an open door is what is wanted).
    pub fn handle_fire_release(&mut self, on: bool, now: Instant) {
        let now = self.advance(now);
        let was_exempt = self.is_exempt();
        self.fire_release = on;
        self.exemption_changed(was_exempt, now);
        self.advance(now);
    }

    /// Hold-open on or off (a door kept open during staffed hours). On: released until
    /// turned off, unless in lockdown, which overrides it. Held-open is not raised while it
    /// releases the door.
    pub fn handle_hold_open(&mut self, on: bool, now: Instant) {
        let now = self.advance(now);
        let was_exempt = self.is_exempt();
        self.hold_open = on;
        self.exemption_changed(was_exempt, now);
        self.advance(now);
    }

    /// Time has passed: act on every deadline up to `now`. Call it at
    /// [`poll_timeout`](Self::poll_timeout) (calling it early or late is harmless: late
    /// calls act on each deadline at its own time, in order).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.advance(now);
    }

    /// The next output to apply, or `None` when there is nothing to do.
    ///
    /// Level changes come first (the lock, then the indicator), carrying only the latest
    /// level; then alarm and feedback events in the order they happened. Drain it after
    /// every `handle_*` call; events left undrained past the queue's capacity are dropped
    /// oldest first and counted in [`Status::dropped_events`].
    #[must_use]
    pub fn poll_action(&mut self) -> Option<Action> {
        let energised = self.lock_energised();
        if self.reported_lock != Some(energised) {
            self.reported_lock = Some(energised);
            return Some(Action::SetLock { energised });
        }
        let indicator = self.indicator();
        if self.reported_indicator != Some(indicator) {
            self.reported_indicator = Some(indicator);
            return Some(Action::Indicator(indicator));
        }
        self.events.pop()
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next be called; `None` when no
    /// timer runs. Always after the latest `now` given.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.grant_until,
            self.exit_until,
            self.shunt_until,
            self.relock_at,
            self.held_open_deadline(),
            self.beep_until,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// A snapshot of the door.
    pub fn status(&self) -> Status {
        Status {
            now: self.now,
            release: self.release_cause(),
            lock_energised: self.lock_energised(),
            release_deadline: self.timed_release_until(),
            door: self.door,
            exit_pressed: self.exit_pressed,
            forced_open: self.forced_open,
            held_open: self.held_open,
            lockdown: self.lockdown,
            fire_release: self.fire_release,
            hold_open: self.hold_open,
            dropped_events: self.events.dropped(),
        }
    }

    /// [`handle_grant`](Self::handle_grant) at `now`, deadlines up to `now` already acted on.
    fn grant(&mut self, duration: Duration, now: Instant) -> GrantOutcome {
        if millis(duration) == 0 {
            return GrantOutcome::RejectedZeroDuration;
        }
        if self.lockdown {
            self.events.push(Action::Feedback(Feedback::Lockdown));
            self.beep_until = Some(now + REFUSAL_BEEP);
            return GrantOutcome::RefusedLockdown;
        }
        let max_unlock = self.config.max_unlock_time();
        let clamped = duration > max_unlock;
        let granted = if clamped { max_unlock } else { duration };
        let until = max_opt(self.grant_until, now + granted);
        self.grant_until = Some(until);
        self.restart_timed_release();
        self.events.push(Action::Feedback(Feedback::Granted));
        self.beep_until = Some(now + GRANT_BEEP);
        GrantOutcome::Released { until, clamped }
    }

    /// Why the lock is released, most compelling cause first; `None` when locked.
    fn release_cause(&self) -> Option<ReleaseCause> {
        if self.fire_release {
            Some(ReleaseCause::FireRelease)
        } else if self.hold_open && !self.lockdown {
            Some(ReleaseCause::HoldOpen)
        } else if self.exit_until.is_some() {
            Some(ReleaseCause::ExitButton)
        } else if self.grant_until.is_some() {
            Some(ReleaseCause::Grant)
        } else {
            None
        }
    }

    /// The electrical state for the logical one.
    fn lock_energised(&self) -> bool {
        let released = self.release_cause().is_some();
        match self.config.lock_type() {
            LockType::FailSecure => released,
            LockType::FailSafe => !released,
        }
    }

    /// The LED and buzzer levels now.
    fn indicator(&self) -> Indicator {
        Indicator {
            led: self.release_cause().is_some(),
            buzzer: self.forced_open || self.held_open || self.beep_until.is_some(),
        }
    }

    /// Whether an open door is normal now: the lock is released until turned off.
    fn is_exempt(&self) -> bool {
        self.fire_release || (self.hold_open && !self.lockdown)
    }

    /// End of the timed release (grant or exit), if one runs.
    fn timed_release_until(&self) -> Option<Instant> {
        match (self.grant_until, self.exit_until) {
            (Some(a), Some(b)) => Some(max(a, b)),
            (a, b) => a.or(b),
        }
    }

    /// When the held-open alarm is due, if the count runs. A running timed release that
    /// ends later postpones it: the door may be open for as long as it was unlocked.
    fn held_open_deadline(&self) -> Option<Instant> {
        if self.held_open {
            return None;
        }
        let due = self.held_open_from? + self.config.held_open_time();
        Some(max_opt(self.timed_release_until(), due))
    }

    /// A grant or exit press started or extended a timed release: relock-on-close starts
    /// afresh from the door's current state.
    fn restart_timed_release(&mut self) {
        self.relock_at = None;
        self.opened_during_release = self.door == Some(DoorState::Open);
    }

    /// The timed release is over (expired, relocked on close, or cancelled by lockdown).
    fn end_timed_release(&mut self) {
        self.grant_until = None;
        self.exit_until = None;
        self.opened_during_release = false;
        self.relock_at = None;
    }

    /// The door was seen opening (`seen`), or reported open for the first time.
    fn door_opened(&mut self, now: Instant, seen: bool) {
        if self.timed_release_until().is_some() {
            self.opened_during_release = true;
            // Reopened before the relock delay ran out: a bounce, or the next person.
            self.relock_at = None;
        }
        let legitimate = self.release_cause().is_some() || self.shunt_until.is_some();
        if seen && !legitimate {
            self.forced_open = true;
            self.events.push(Action::Alarm {
                kind: AlarmKind::ForcedOpen,
                raised: true,
            });
            self.events.push(Action::Feedback(Feedback::Alarm));
        } else if !self.is_exempt() {
            self.held_open_from = Some(now);
        }
    }

    /// The door closed: its alarms end, and relock-on-close may start.
    fn door_closed(&mut self, now: Instant) {
        if self.forced_open {
            self.forced_open = false;
            self.events.push(Action::Alarm {
                kind: AlarmKind::ForcedOpen,
                raised: false,
            });
        }
        self.clear_held_open();
        if self.config.relock_on_close()
            && self.opened_during_release
            && self.timed_release_until().is_some()
        {
            self.relock_at = Some(now + self.config.relock_delay());
        }
    }

    /// Stops the held-open count and clears its alarm if raised.
    fn clear_held_open(&mut self) {
        self.held_open_from = None;
        if self.held_open {
            self.held_open = false;
            self.events.push(Action::Alarm {
                kind: AlarmKind::HeldOpen,
                raised: false,
            });
        }
    }

    /// Fire release, hold-open or lockdown changed; `was_exempt` is before the change.
    fn exemption_changed(&mut self, was_exempt: bool, now: Instant) {
        let exempt = self.is_exempt();
        if exempt && !was_exempt {
            self.clear_held_open();
        } else if !exempt && was_exempt && self.door == Some(DoorState::Open) && !self.forced_open {
            // The door stands open and is no longer meant to: count from now.
            self.held_open_from = Some(now);
        }
    }

    /// Takes `now` (never earlier than the latest time given) and acts on every deadline up
    /// to it, each at its own time, in order. Returns the time to act at.
    fn advance(&mut self, now: Instant) -> Instant {
        let now = max(now, self.now);
        for _ in 0..TIMERS {
            match self.poll_timeout() {
                Some(deadline) if deadline <= now => self.expire(max(deadline, self.now)),
                _ => break,
            }
        }
        self.now = now;
        now
    }

    /// Acts on every deadline at or before `at`.
    fn expire(&mut self, at: Instant) {
        self.now = at;
        let due = |deadline: Option<Instant>| deadline.is_some_and(|d| d <= at);
        if due(self.beep_until) {
            self.beep_until = None;
        }
        if due(self.shunt_until) {
            self.shunt_until = None;
        }
        if due(self.relock_at) {
            // Only scheduled while the door is closed; reopening cancels it.
            self.end_timed_release();
        }
        if due(self.grant_until) {
            self.grant_until = None;
        }
        if due(self.exit_until) {
            self.exit_until = None;
        }
        if self.timed_release_until().is_none() {
            self.end_timed_release();
        }
        if due(self.held_open_deadline()) {
            self.held_open = true;
            self.events.push(Action::Alarm {
                kind: AlarmKind::HeldOpen,
                raised: true,
            });
            self.events.push(Action::Feedback(Feedback::Alarm));
        }
    }
}

/// The later of an optional instant and an instant.
fn max_opt(a: Option<Instant>, b: Instant) -> Instant {
    a.map_or(b, |a| max(a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    fn drain(c: &mut DoorController) -> ([Option<Action>; 8], usize) {
        let mut out = [None; 8];
        let mut n = 0;
        while let Some(a) = c.poll_action() {
            if n < out.len() {
                out[n] = Some(a);
            }
            n += 1;
        }
        (out, n)
    }

    #[test]
    fn a_fail_secure_controller_starts_de_energised_and_locked() {
        let mut c = DoorController::new(Config::default(), at(0));
        assert_eq!(c.poll_action(), Some(Action::SetLock { energised: false }));
        assert_eq!(
            c.poll_action(),
            Some(Action::Indicator(Indicator::default()))
        );
        assert_eq!(c.poll_action(), None);
        assert_eq!(c.status().release, None);
        assert_eq!(c.poll_timeout(), None);
    }

    #[test]
    fn a_fail_safe_controller_starts_energised_and_locked() {
        let config = Config::builder()
            .lock_type(LockType::FailSafe)
            .build()
            .unwrap();
        let mut c = DoorController::new(config, at(0));
        assert_eq!(c.poll_action(), Some(Action::SetLock { energised: true }));
        assert!(!c.status().is_released());
    }

    #[test]
    fn unlock_relocks_when_door_closes() {
        let mut c = DoorController::new(Config::default(), at(0));
        c.handle_door(DoorState::Closed, at(0));
        let _ = drain(&mut c);
        c.handle_grant(Duration::from_secs(5), at(100));
        c.handle_door(DoorState::Open, at(1_000));
        c.handle_door(DoorState::Closed, at(2_000));
        assert!(c.status().is_released(), "the relock delay has not run yet");
        assert_eq!(c.poll_timeout(), Some(at(3_000)));
        c.handle_timeout(at(3_000));
        assert_eq!(c.status().release, None);
        assert!(!c.status().forced_open);
    }

    #[test]
    fn late_timeouts_act_on_each_deadline_at_its_own_time() {
        let mut c = DoorController::new(Config::default(), at(0));
        c.handle_door(DoorState::Closed, at(0));
        c.handle_grant(Duration::from_secs(5), at(0));
        c.handle_door(DoorState::Open, at(1_000));
        // Nobody called handle_timeout; the release ended at 5 s and the held-open count
        // started at 1 s, so the alarm is due at 31 s, not at the late call.
        c.handle_timeout(at(60_000));
        assert!(c.status().held_open);
        assert_eq!(c.status().now, at(60_000));
        let (actions, n) = drain(&mut c);
        assert!(n >= 3);
        assert!(actions.contains(&Some(Action::Alarm {
            kind: AlarmKind::HeldOpen,
            raised: true
        })));
    }

    #[test]
    fn time_going_backwards_is_treated_as_no_time_passing() {
        let mut c = DoorController::new(Config::default(), at(10_000));
        let outcome = c.handle_grant(Duration::from_secs(5), at(3));
        assert_eq!(
            outcome,
            GrantOutcome::Released {
                until: at(15_000),
                clamped: false
            }
        );
        assert_eq!(c.status().now, at(10_000));
    }

    #[test]
    fn a_grant_at_the_end_of_time_neither_panics_nor_sticks() {
        let mut c = DoorController::new(Config::default(), at(u64::MAX - 10));
        c.handle_grant(Duration::MAX, at(u64::MAX - 10));
        c.handle_door(DoorState::Open, at(u64::MAX));
        c.handle_timeout(at(u64::MAX));
        assert_eq!(c.poll_timeout(), None);
        assert!(!c.status().is_released());
        let _ = drain(&mut c);
    }
}
