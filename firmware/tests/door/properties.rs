//! Property tests: each invariant of the controller, checked at every step of long random
//! input sequences on random valid configurations.
//!
//! A [`Model`] follows the inputs on its own (it never asks the controller what it thinks)
//! and each property compares the controller's outputs, as the harness read them from the
//! actions, against it. Every run also checks that the status agrees with the actions, that
//! no deadline is left behind and that no event is dropped.

use core::time::Duration;

use bygd_firmware::{
    Action, AlarmKind, Config, DoorController, DoorState, ExitMode, Feedback, GrantOutcome,
    Instant, Level, LockType, Status,
};
use proptest::prelude::*;

use crate::harness::{has_alarm, has_feedback, ms, Input, Sim};

/// Cases per property: proptest's default, enough to hit rare interleavings (lockdown during
/// a relock delay, fire release during a held-open alarm) many times over.
const CASES: u32 = 256;

/// Inputs per case: long enough for every timer to run out many times with every mode on
/// and off, short enough that the whole suite takes seconds.
const MIN_INPUTS: usize = 200;
/// See [`MIN_INPUTS`].
const MAX_INPUTS: usize = 1_000;

/// A valid configuration with short times, so random delays cross every deadline.
fn config() -> impl Strategy<Value = Config> {
    (
        (100u64..3_000, 1u32..5, 1u32..5, any::<bool>(), 0u64..100),
        (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
    )
        .prop_map(
            |(
                (unlock, max_factor, held_factor, relock, relock_pct),
                (safe, low, shunt, closed_high),
            )| {
                let unlock_time = ms(unlock);
                Config::builder()
                    .unlock_time(unlock_time)
                    .max_unlock_time(unlock_time * max_factor)
                    .held_open_time(unlock_time * held_factor)
                    .relock_on_close(relock)
                    .relock_delay(ms(unlock * relock_pct / 100))
                    .lock_type(if safe {
                        LockType::FailSafe
                    } else {
                        LockType::FailSecure
                    })
                    .relay_active(if low { Level::Low } else { Level::High })
                    .sensor_closed(if closed_high { Level::High } else { Level::Low })
                    .exit_mode(if shunt {
                        ExitMode::ShuntOnly
                    } else {
                        ExitMode::UnlockForEgress
                    })
                    .build()
                    .expect("valid by construction")
            },
        )
}

/// One input, weighted towards the door and grants, where the interesting cases are.
fn input() -> impl Strategy<Value = Input> {
    let door = any::<bool>().prop_map(|open| {
        Input::Door(if open {
            DoorState::Open
        } else {
            DoorState::Closed
        })
    });
    let grant = prop_oneof![Just(0u64), 1u64..15_000, Just(u64::MAX)]
        .prop_map(|n| Input::Grant(Duration::from_millis(n)));
    prop_oneof![
        6 => door,
        3 => grant,
        3 => any::<bool>().prop_map(Input::Exit),
        1 => Just(Input::Deny),
        1 => any::<bool>().prop_map(Input::Lockdown),
        1 => any::<bool>().prop_map(Input::Fire),
        1 => any::<bool>().prop_map(Input::HoldOpen),
    ]
}

/// A script: each input comes after a delay, often none, sometimes past every timer.
fn script() -> impl Strategy<Value = Vec<(u64, Input)>> {
    let delay = prop_oneof![3 => Just(0u64), 4 => 0u64..1_000, 2 => 0u64..20_000];
    proptest::collection::vec((delay, input()), MIN_INPUTS..=MAX_INPUTS)
}

/// What the inputs alone say about the door.
#[derive(Debug, Clone)]
struct Model {
    /// The configuration in force.
    config: Config,
    /// The sensor's last report.
    door: Option<DoorState>,
    /// Whether the exit button is held.
    exit_pressed: bool,
    /// Lockdown on.
    lockdown: bool,
    /// Fire release on.
    fire: bool,
    /// Hold-open on.
    hold_open: bool,
    /// The latest end of any accepted grant, clamped to the maximum: no grant may keep the
    /// lock released past this.
    grant_cover: Option<Instant>,
    /// The latest end of any exit-button release.
    exit_cover: Option<Instant>,
    /// End of the shunt from the latest shunt-only press.
    shunt_until: Option<Instant>,
    /// Whether the door's current opening was judged forced (by its own property's check).
    forced: bool,
    /// Since when the door has been open legitimately and outside fire release and
    /// hold-open: the held-open alarm is due `held_open_time` after this (or later, while a
    /// grant lets the door be open).
    legit_open_since: Option<Instant>,
}

impl Model {
    fn new(config: Config) -> Self {
        Model {
            config,
            door: None,
            exit_pressed: false,
            lockdown: false,
            fire: false,
            hold_open: false,
            grant_cover: None,
            exit_cover: None,
            shunt_until: None,
            forced: false,
            legit_open_since: None,
        }
    }

    /// Whether the door may stand open without alarm: released until turned off.
    fn exempt(&self) -> bool {
        self.fire || (self.hold_open && !self.lockdown)
    }

    fn exit_covers(&self, now: Instant) -> bool {
        self.exit_cover.is_some_and(|t| now < t)
    }

    fn grant_covers(&self, now: Instant) -> bool {
        self.grant_cover.is_some_and(|t| now < t)
    }

    fn shunted(&self, now: Instant) -> bool {
        self.shunt_until.is_some_and(|t| now < t)
    }

    /// Follows `input` at `now`; `actions` are what the controller did, used only to know
    /// whether an opening was judged forced (checked by its own property).
    fn follow(&mut self, input: Input, now: Instant, actions: &[Action]) {
        let was_exempt = self.exempt();
        match input {
            Input::Grant(duration) => {
                if !self.lockdown && duration >= ms(1) {
                    let granted = duration.min(self.config.max_unlock_time());
                    let end = now + granted;
                    self.grant_cover = Some(self.grant_cover.map_or(end, |t| t.max(end)));
                }
            }
            Input::Deny => {}
            Input::Exit(pressed) => {
                if pressed && !self.exit_pressed {
                    let end = now + self.config.unlock_time();
                    match self.config.exit_mode() {
                        ExitMode::UnlockForEgress => {
                            self.exit_cover = Some(self.exit_cover.map_or(end, |t| t.max(end)));
                        }
                        ExitMode::ShuntOnly => self.shunt_until = Some(end),
                    }
                }
                self.exit_pressed = pressed;
            }
            Input::Door(state) => {
                let before = self.door.replace(state);
                match state {
                    DoorState::Closed => {
                        self.legit_open_since = None;
                        self.forced = false;
                    }
                    DoorState::Open if before != Some(DoorState::Open) => {
                        self.forced = has_alarm(actions, AlarmKind::ForcedOpen, true);
                        if !self.forced && !self.exempt() {
                            self.legit_open_since = Some(now);
                        }
                    }
                    DoorState::Open => {}
                }
            }
            Input::Lockdown(on) => self.lockdown = on,
            Input::Fire(on) => self.fire = on,
            Input::HoldOpen(on) => self.hold_open = on,
        }
        let exempt = self.exempt();
        if exempt {
            self.legit_open_since = None;
        } else if was_exempt && self.door == Some(DoorState::Open) && !self.forced {
            // Open during the exemption, which made it legitimate; from now on it counts. A
            // door forced before the exemption stays forced until it closes.
            self.legit_open_since = Some(now);
        }
    }
}

/// What happened in one step of a run.
enum Step {
    /// Time reached a deadline and the controller acted on it.
    Tick,
    /// An input was fed.
    Input {
        /// The input.
        input: Input,
        /// The status just before it.
        before: Status,
        /// Whether the lock was released just before it (judged from the actions).
        released_before: bool,
        /// The model just before it (boxed: a tick carries nothing).
        model_before: Box<Model>,
        /// A grant's outcome.
        outcome: Option<GrantOutcome>,
    },
}

/// Runs `script` on `config`, then a finale that ends every alarm's cause (door closed,
/// fire release, hold-open and exit button off) and lets every timer run out. Calls
/// `check(sim, model, step, actions)` after every step, after checking what every run
/// checks.
fn run(
    config: Config,
    script: &[(u64, Input)],
    check: impl FnMut(&Sim, &Model, &Step, &[Action]),
) -> (Sim, Model) {
    run_from(Instant::ZERO, config, script, check)
}

/// As [`run`], with the clock starting at `start`.
fn run_from(
    start: Instant,
    config: Config,
    script: &[(u64, Input)],
    mut check: impl FnMut(&Sim, &Model, &Step, &[Action]),
) -> (Sim, Model) {
    let mut sim = Sim::starting_at(config, start);
    let mut model = Model::new(config);
    let finale = [
        (0, Input::Fire(false)),
        (0, Input::HoldOpen(false)),
        (0, Input::Exit(false)),
        (0, Input::Door(DoorState::Closed)),
    ];
    for &(delay, input) in script.iter().chain(finale.iter()) {
        sim.advance_with(ms(delay), |sim, actions| {
            always(sim);
            check(sim, &model, &Step::Tick, actions);
        });
        let before = sim.door.status();
        let released_before = sim.released();
        let model_before = Box::new(model.clone());
        let (actions, outcome) = sim.input(input);
        model.follow(input, sim.now, &actions);
        always(&sim);
        let step = Step::Input {
            input,
            before,
            released_before,
            model_before,
            outcome,
        };
        check(&sim, &model, &step, &actions);
    }
    // Let every remaining timer run out, checking as it goes.
    while let Some(deadline) = sim.door.poll_timeout() {
        let by = deadline.saturating_duration_since(sim.now);
        sim.advance_with(by, |sim, actions| {
            always(sim);
            check(sim, &model, &Step::Tick, actions);
        });
    }
    (sim, model)
}

/// What holds after every step of every run: the status agrees with the actions, no
/// deadline is left behind, nothing was dropped.
fn always(sim: &Sim) {
    let status = sim.door.status();
    assert_eq!(status.now, sim.now);
    assert_eq!(
        status.is_released(),
        sim.released(),
        "status and SetLock disagree"
    );
    assert_eq!(Some(status.lock_energised), sim.energised);
    assert_eq!(status.forced_open, sim.alarm(AlarmKind::ForcedOpen));
    assert_eq!(status.held_open, sim.alarm(AlarmKind::HeldOpen));
    assert_eq!(status.dropped_events, 0);
    if let Some(deadline) = sim.door.poll_timeout() {
        assert!(
            deadline > sim.now,
            "deadline {deadline:?} left behind at {:?}",
            sim.now
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// Outside hold-open and fire release, the lock is released only while an accepted
    /// grant (clamped to the maximum unlock time) or an exit press still covers it, and no
    /// release deadline is ever further away than the maximum unlock time.
    #[test]
    fn the_lock_is_never_released_longer_than_the_maximum_unlock_time(
        config in config(),
        script in script(),
    ) {
        let max_unlock = config.max_unlock_time();
        run(config, &script, |sim, model, _, _| {
            let now = sim.now;
            if sim.released() && !model.exempt() {
                assert!(
                    model.grant_covers(now) || model.exit_covers(now),
                    "released at {now:?} with no grant or exit press covering it"
                );
            }
            if let Some(deadline) = sim.door.status().release_deadline {
                assert!(deadline <= now + max_unlock);
            }
        });
    }

    /// In lockdown a grant is refused with "lockdown" feedback and changes nothing, while
    /// the exit button (unlock-for-egress) and fire release always release the lock.
    #[test]
    fn lockdown_blocks_grants_but_never_the_exit_button_or_fire_release(
        config in config(),
        script in script(),
    ) {
        let unlock_time = config.unlock_time();
        let egress = config.exit_mode() == ExitMode::UnlockForEgress;
        run(config, &script, |sim, model, step, actions| {
            let now = sim.now;
            let status = sim.door.status();
            if model.fire {
                assert!(sim.released(), "fire release must release the lock");
            }
            if model.lockdown && !model.fire && sim.released() {
                assert!(
                    egress && model.exit_covers(now),
                    "released in lockdown at {now:?} without an exit press"
                );
            }
            let Step::Input { input, before, released_before, model_before, outcome } = step else {
                return;
            };
            match *input {
                Input::Grant(duration) if model_before.lockdown && duration >= ms(1) => {
                    assert_eq!(*outcome, Some(GrantOutcome::RefusedLockdown));
                    assert!(has_feedback(actions, Feedback::Lockdown));
                    assert!(!has_feedback(actions, Feedback::Granted));
                    assert_eq!(sim.released(), *released_before);
                    assert_eq!(status.release, before.release);
                    assert_eq!(status.release_deadline, before.release_deadline);
                }
                Input::Grant(duration) if duration >= ms(1) => {
                    assert!(matches!(outcome, Some(GrantOutcome::Released { .. })));
                    assert!(sim.released());
                }
                Input::Exit(true) if egress && !model_before.exit_pressed => {
                    assert!(sim.released(), "an exit press must release the lock");
                    assert!(status.release_deadline >= Some(now + unlock_time));
                }
                _ => {}
            }
        });
    }

    /// The forced-open alarm is raised when, and only when, the door is seen opening while
    /// the lock is not released and no shunt-only exit press excuses it.
    #[test]
    fn forced_open_is_raised_exactly_when_the_door_opens_while_locked_and_unshunted(
        config in config(),
        script in script(),
    ) {
        run(config, &script, |sim, _, step, actions| {
            let raised = has_alarm(actions, AlarmKind::ForcedOpen, true);
            let expected = match step {
                Step::Input {
                    input: Input::Door(DoorState::Open),
                    released_before,
                    model_before,
                    ..
                } => {
                    model_before.door == Some(DoorState::Closed)
                        && !released_before
                        && !model_before.shunted(sim.now)
                }
                _ => false,
            };
            assert_eq!(raised, expected, "forced-open at {:?}", sim.now);
        });
    }

    /// Every door starts locked in its lock type's safe electrical state, with the relay
    /// pin at the matching level, and returns to it when every cause of release has ended.
    #[test]
    fn every_door_starts_and_ends_in_the_safe_state_for_its_lock_type(
        config in config(),
        script in script(),
    ) {
        let safe = config.lock_type() == LockType::FailSafe;
        let mut controller = DoorController::new(config, Instant::ZERO);
        assert_eq!(controller.poll_action(), Some(Action::SetLock { energised: safe }));
        assert!(!controller.status().is_released());

        let pin_level = if safe == config.relay_active().is_high() {
            embedded_hal_mock::eh1::digital::State::High
        } else {
            embedded_hal_mock::eh1::digital::State::Low
        };
        let lock = embedded_hal_mock::eh1::digital::Mock::new(&[
            embedded_hal_mock::eh1::digital::Transaction::set(pin_level),
        ]);
        let sensor = embedded_hal_mock::eh1::digital::Mock::new(&[]);
        let exit = embedded_hal_mock::eh1::digital::Mock::new(&[]);
        let mut door = bygd_firmware::Door::new(
            DoorController::new(config, Instant::ZERO),
            lock,
            sensor,
            exit,
        );
        assert_eq!(door.apply(), Ok(None));
        let (mut lock, mut sensor, mut exit, _, _) = door.destroy();
        lock.done();
        sensor.done();
        exit.done();

        // The finale turns fire release and hold-open off and lets every timer run out, so
        // nothing can still hold the lock released.
        let (sim, _) = run(config, &script, |_, _, _, _| {});
        assert!(!sim.released());
        assert_eq!(sim.energised, Some(safe));
    }

    /// Every alarm is off whenever its cause is absent (the door closed; for held-open also
    /// fire release or hold-open releasing the door), and at the end of every run, after the
    /// door closed, every raise has had its clear.
    #[test]
    fn every_alarm_raised_is_cleared_when_its_cause_ends(
        config in config(),
        script in script(),
    ) {
        let (sim, _) = run(config, &script, |sim, model, _, _| {
            if model.door != Some(DoorState::Open) {
                assert!(!sim.alarm(AlarmKind::ForcedOpen), "forced-open on a closed door");
                assert!(!sim.alarm(AlarmKind::HeldOpen), "held-open on a closed door");
            }
            if model.exempt() {
                assert!(!sim.alarm(AlarmKind::HeldOpen), "held-open while meant to be open");
            }
        });
        for kind in [AlarmKind::ForcedOpen, AlarmKind::HeldOpen] {
            assert!(!sim.alarm(kind));
            let raised = sim.count(Action::Alarm { kind, raised: true });
            let cleared = sim.count(Action::Alarm { kind, raised: false });
            assert_eq!(raised, cleared, "{kind:?}");
        }
    }

    /// Held-open is raised no earlier than `held_open_time` after a legitimate opening, and
    /// no later than that (or the end of a grant letting the door stand open).
    #[test]
    fn held_open_is_raised_when_and_only_when_a_legitimately_open_door_is_due(
        config in config(),
        script in script(),
    ) {
        let held_open_time = config.held_open_time();
        run(config, &script, |sim, model, _, _| {
            let now = sim.now;
            let on = sim.alarm(AlarmKind::HeldOpen);
            match model.legit_open_since {
                Some(since) => {
                    let due = since + held_open_time;
                    if on {
                        assert!(now >= due, "held-open at {now:?}, due {due:?}");
                    }
                    let covered = model.grant_covers(now) || model.exit_covers(now);
                    if now >= due && !covered {
                        assert!(on, "held-open missing at {now:?}, due {due:?}");
                    }
                }
                None => {
                    // Forced, closed or exempt: held-open is not counting.
                    let forced = sim.alarm(AlarmKind::ForcedOpen);
                    assert!(!on || forced, "held-open at {now:?} without a legitimate opening");
                }
            }
        });
    }

    /// Near the end of time, where every deadline saturates, no input sequence panics,
    /// leaves a deadline behind or lets an alarm outlive its cause.
    #[test]
    fn no_input_sequence_misbehaves_at_the_end_of_time(
        config in config(),
        script in script(),
        margin in 0u64..100_000,
    ) {
        let start = Instant::from_millis(u64::MAX - margin);
        let (sim, _) = run_from(start, config, &script, |sim, model, _, _| {
            if model.door != Some(DoorState::Open) {
                assert!(!sim.alarm(AlarmKind::ForcedOpen));
                assert!(!sim.alarm(AlarmKind::HeldOpen));
            }
        });
        assert_eq!(sim.door.poll_timeout(), None);
    }
}
