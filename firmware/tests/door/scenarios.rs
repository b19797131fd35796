//! Scenarios, one behaviour each, named as the sentence they prove.

use bygd_firmware::{
    Action, AlarmKind, Config, DoorState, ExitMode, Feedback, GrantOutcome, Indicator, Instant,
    LockType, ReleaseCause, GRANT_BEEP, REFUSAL_BEEP,
};

use crate::harness::{has_alarm, has_feedback, ms, secs, Input, Sim};

const OPEN: Input = Input::Door(DoorState::Open);
const CLOSED: Input = Input::Door(DoorState::Closed);
const FORCED_RAISED: Action = Action::Alarm {
    kind: AlarmKind::ForcedOpen,
    raised: true,
};
const HELD_RAISED: Action = Action::Alarm {
    kind: AlarmKind::HeldOpen,
    raised: true,
};

fn shunt_only() -> Config {
    Config::builder()
        .exit_mode(ExitMode::ShuntOnly)
        .build()
        .unwrap()
}

#[test]
fn the_first_actions_lock_a_fail_secure_door_by_cutting_its_power() {
    let sim = Sim::new(Config::default());
    assert_eq!(sim.log[0].1, Action::SetLock { energised: false });
    assert_eq!(sim.log[1].1, Action::Indicator(Indicator::default()));
    assert!(!sim.released());
}

#[test]
fn the_first_actions_lock_a_fail_safe_door_by_powering_it() {
    let config = Config::builder()
        .lock_type(LockType::FailSafe)
        .build()
        .unwrap();
    let mut sim = Sim::with_door_closed(config);
    assert_eq!(sim.log[0].1, Action::SetLock { energised: true });
    sim.grant(secs(5));
    assert_eq!(
        sim.energised,
        Some(false),
        "a maglock releases without power"
    );
    sim.run_until_idle();
    assert_eq!(sim.energised, Some(true));
}

#[test]
fn a_grant_releases_the_lock_for_the_unlock_time() {
    let mut sim = Sim::with_door_closed(Config::default());
    let outcome = sim.grant(secs(5));
    assert_eq!(
        outcome,
        GrantOutcome::Released {
            until: Instant::from_millis(5_000),
            clamped: false
        }
    );
    assert!(sim.released());
    assert_eq!(sim.door.status().release, Some(ReleaseCause::Grant));
    assert_eq!(sim.count(Action::Feedback(Feedback::Granted)), 1);
    sim.advance(ms(4_999));
    assert!(sim.released());
    sim.advance(ms(1));
    assert!(!sim.released());
    assert_eq!(sim.door.poll_timeout(), None);
}

#[test]
fn unlock_relocks_when_door_closes() {
    let mut sim = Sim::with_door_closed(Config::default());
    sim.grant(secs(5));
    sim.advance(ms(800));
    sim.input(OPEN);
    sim.advance(ms(1_200));
    sim.input(CLOSED);
    sim.advance(ms(999));
    assert!(
        sim.released(),
        "relocks only after the door stays closed 1 s"
    );
    sim.advance(ms(1));
    assert!(!sim.released());
    assert_eq!(sim.count(FORCED_RAISED), 0);
}

#[test]
fn a_bouncing_door_does_not_relock_against_its_own_bounce() {
    let mut sim = Sim::with_door_closed(Config::default());
    sim.grant(secs(5));
    sim.input(OPEN);
    sim.advance(ms(1_000));
    sim.input(CLOSED);
    sim.advance(ms(150));
    sim.input(OPEN);
    sim.advance(ms(150));
    sim.input(CLOSED);
    sim.advance(ms(999));
    assert!(sim.released());
    sim.advance(ms(1));
    assert!(!sim.released());
    assert_eq!(sim.count(FORCED_RAISED), 0);
}

#[test]
fn without_relock_on_close_the_grant_runs_its_full_time() {
    let config = Config::builder().relock_on_close(false).build().unwrap();
    let mut sim = Sim::with_door_closed(config);
    sim.grant(secs(5));
    sim.input(OPEN);
    sim.advance(ms(500));
    sim.input(CLOSED);
    sim.advance(ms(4_000));
    assert!(sim.released());
    sim.advance(ms(500));
    assert!(!sim.released());
}

#[test]
fn a_grant_longer_than_the_maximum_is_clamped_to_it() {
    let mut sim = Sim::with_door_closed(Config::default());
    let outcome = sim.grant(secs(3_600));
    assert_eq!(
        outcome,
        GrantOutcome::Released {
            until: Instant::from_millis(30_000),
            clamped: true
        }
    );
    sim.advance(ms(29_999));
    assert!(sim.released());
    sim.advance(ms(1));
    assert!(!sim.released());
}

#[test]
fn a_zero_grant_is_rejected_and_changes_nothing() {
    let mut sim = Sim::with_door_closed(Config::default());
    let (actions, outcome) = sim.input(Input::Grant(ms(0)));
    assert_eq!(outcome, Some(GrantOutcome::RejectedZeroDuration));
    assert!(actions.is_empty());
    assert!(!sim.released());
    assert_eq!(sim.door.poll_timeout(), None);
}

#[test]
fn a_second_grant_extends_the_release_and_restarts_relock_on_close() {
    let mut sim = Sim::with_door_closed(Config::default());
    sim.grant(secs(5));
    sim.input(OPEN);
    sim.advance(ms(500));
    sim.input(CLOSED);
    sim.advance(ms(500));
    // The next member scans before the relock: they get their own five seconds.
    sim.grant(secs(5));
    sim.advance(ms(4_999));
    assert!(sim.released());
    sim.advance(ms(1));
    assert!(!sim.released());
}

#[test]
fn lockdown_refuses_grants_and_the_reader_says_lockdown() {
    let mut sim = Sim::with_door_closed(Config::default());
    sim.input(Input::Lockdown(true));
    let (actions, outcome) = sim.input(Input::Grant(secs(5)));
    assert_eq!(outcome, Some(GrantOutcome::RefusedLockdown));
    assert!(has_feedback(&actions, Feedback::Lockdown));
    assert!(!sim.released());
    assert_eq!(sim.indicator.map(|i| i.buzzer), Some(true));
    sim.advance(REFUSAL_BEEP);
    assert_eq!(sim.indicator.map(|i| i.buzzer), Some(false));
}

#[test]
fn lockdown_ends_a_running_grant_at_once() {
    let mut sim = Sim::with_door_closed(Config::default());
    sim.grant(secs(5));
    sim.advance(ms(1_000));
    sim.input(Input::Lockdown(true));
    assert!(!sim.released());
    sim.input(Input::Lockdown(false));
    assert!(!sim.released(), "a cancelled grant stays cancelled");
}

#[test]
fn lockdown_never_blocks_the_exit_button() {
    let mut sim = Sim::with_door_closed(Config::default());
    sim.input(Input::Lockdown(true));
    sim.input(Input::Exit(true));
    assert!(sim.released());
    assert_eq!(sim.door.status().release, Some(ReleaseCause::ExitButton));
    sim.input(OPEN);
    sim.input(Input::Exit(false));
    assert_eq!(sim.count(FORCED_RAISED), 0);
    sim.advance(ms(600));
    sim.input(CLOSED);
    sim.advance(secs(1));
    assert!(!sim.released());
}

#[test]
fn lockdown_leaves_an_egress_in_progress_alone() {
    let mut sim = Sim::with_door_closed(Config::default());
    sim.input(Input::Exit(true));
    sim.advance(ms(1_000));
    sim.input(Input::Lockdown(true));
    assert!(sim.released());
    sim.advance(ms(4_000));
    assert!(!sim.released());
}

#[test]
fn fire_release_overrides_lockdown_until_turned_off() {
    let mut sim = Sim::with_door_closed(Config::default());
    sim.input(Input::Lockdown(true));
    sim.input(Input::Fire(true));
    assert!(sim.released());
    assert_eq!(sim.door.status().release, Some(ReleaseCause::FireRelease));
    sim.input(OPEN);
    sim.advance(secs(3_600));
    assert!(sim.released());
    assert!(!sim.alarm(AlarmKind::HeldOpen));
    assert!(!sim.alarm(AlarmKind::ForcedOpen));
    sim.input(CLOSED);
    sim.input(Input::Fire(false));
    assert!(!sim.released());
}

#[test]
fn hold_open_keeps_the_door_released_until_turned_off() {
    let mut sim = Sim::with_door_closed(Config::default());
    sim.input(Input::HoldOpen(true));
    sim.input(OPEN);
    sim.advance(secs(8 * 3_600));
    assert!(sim.released());
    assert_eq!(sim.count(HELD_RAISED), 0);
    sim.input(CLOSED);
    sim.input(Input::HoldOpen(false));
    assert!(!sim.released());
}

#[test]
fn lockdown_overrides_hold_open() {
    let mut sim = Sim::with_door_closed(Config::default());
    sim.input(Input::HoldOpen(true));
    assert!(sim.released());
    sim.input(Input::Lockdown(true));
    assert!(!sim.released());
    sim.input(Input::Lockdown(false));
    assert!(sim.released(), "hold-open resumes after lockdown");
}

#[test]
fn a_door_left_open_when_hold_open_ends_raises_held_open_later() {
    let mut sim = Sim::with_door_closed(Config::default());
    sim.input(Input::HoldOpen(true));
    sim.input(OPEN);
    sim.advance(secs(600));
    sim.input(Input::HoldOpen(false));
    assert!(!sim.released());
    assert_eq!(
        sim.count(FORCED_RAISED),
        0,
        "the door was open before it locked"
    );
    sim.advance(ms(29_999));
    assert!(!sim.alarm(AlarmKind::HeldOpen));
    sim.advance(ms(1));
    assert!(sim.alarm(AlarmKind::HeldOpen));
    sim.input(CLOSED);
    assert!(!sim.alarm(AlarmKind::HeldOpen));
}

#[test]
fn forcing_the_door_raises_forced_open_until_it_closes() {
    let mut sim = Sim::with_door_closed(Config::default());
    let (actions, _) = sim.input(OPEN);
    assert!(has_alarm(&actions, AlarmKind::ForcedOpen, true));
    assert!(has_feedback(&actions, Feedback::Alarm));
    assert_eq!(sim.indicator.map(|i| i.buzzer), Some(true));
    sim.advance(secs(120));
    assert!(sim.alarm(AlarmKind::ForcedOpen));
    assert!(
        !sim.alarm(AlarmKind::HeldOpen),
        "a forced door is not also held open"
    );
    let (actions, _) = sim.input(CLOSED);
    assert!(has_alarm(&actions, AlarmKind::ForcedOpen, false));
    assert_eq!(sim.indicator.map(|i| i.buzzer), Some(false));
}

#[test]
fn a_door_opened_after_the_release_ended_is_forced() {
    let mut sim = Sim::with_door_closed(Config::default());
    sim.grant(secs(5));
    sim.advance(secs(6));
    let (actions, _) = sim.input(OPEN);
    assert!(has_alarm(&actions, AlarmKind::ForcedOpen, true));
}

#[test]
fn a_door_held_open_past_thirty_seconds_raises_held_open_until_it_closes() {
    let mut sim = Sim::with_door_closed(Config::default());
    sim.grant(secs(5));
    sim.advance(ms(500));
    sim.input(OPEN);
    sim.advance(ms(29_999));
    assert!(!sim.alarm(AlarmKind::HeldOpen));
    sim.advance(ms(1));
    assert!(sim.alarm(AlarmKind::HeldOpen));
    assert!(!sim.released(), "the release ended long ago");
    let (actions, _) = sim.input(CLOSED);
    assert!(has_alarm(&actions, AlarmKind::HeldOpen, false));
    assert_eq!(sim.count(FORCED_RAISED), 0);
}

#[test]
fn a_long_grant_postpones_held_open_until_it_ends() {
    let config = Config::builder()
        .max_unlock_time(secs(120))
        .build()
        .unwrap();
    let mut sim = Sim::with_door_closed(config);
    sim.grant(secs(90));
    sim.input(OPEN);
    sim.advance(ms(89_999));
    assert!(!sim.alarm(AlarmKind::HeldOpen));
    sim.advance(ms(1));
    assert!(sim.alarm(AlarmKind::HeldOpen));
}

#[test]
fn fire_release_clears_a_held_open_alarm() {
    let mut sim = Sim::with_door_closed(Config::default());
    sim.grant(secs(5));
    sim.input(OPEN);
    sim.advance(secs(30));
    assert!(sim.alarm(AlarmKind::HeldOpen));
    let (actions, _) = sim.input(Input::Fire(true));
    assert!(has_alarm(&actions, AlarmKind::HeldOpen, false));
}

#[test]
fn a_shunt_only_exit_press_does_not_release_the_lock_but_excuses_the_opening() {
    let mut sim = Sim::with_door_closed(shunt_only());
    sim.input(Input::Exit(true));
    assert!(!sim.released());
    sim.advance(ms(2_000));
    let (actions, _) = sim.input(OPEN);
    assert!(!has_alarm(&actions, AlarmKind::ForcedOpen, true));
    sim.advance(secs(30));
    assert!(sim.alarm(AlarmKind::HeldOpen), "still counted as held open");
}

#[test]
fn the_shunt_window_ends_after_the_unlock_time() {
    let mut sim = Sim::with_door_closed(shunt_only());
    sim.input(Input::Exit(true));
    sim.advance(secs(5));
    let (actions, _) = sim.input(OPEN);
    assert!(has_alarm(&actions, AlarmKind::ForcedOpen, true));
}

#[test]
fn a_stuck_exit_button_releases_the_lock_only_once() {
    let mut sim = Sim::with_door_closed(Config::default());
    sim.input(Input::Exit(true));
    sim.advance(secs(5));
    assert!(!sim.released());
    sim.input(Input::Exit(true));
    sim.advance(secs(60));
    assert!(!sim.released());
    sim.input(Input::Exit(false));
    sim.input(Input::Exit(true));
    assert!(sim.released(), "a real press after the release works");
}

#[test]
fn a_denied_presentation_sounds_the_refusal_beep_and_leaves_the_lock() {
    let mut sim = Sim::with_door_closed(Config::default());
    let (actions, _) = sim.input(Input::Deny);
    assert!(has_feedback(&actions, Feedback::Denied));
    assert!(!sim.released());
    assert_eq!(
        sim.indicator,
        Some(Indicator {
            led: false,
            buzzer: true
        })
    );
    sim.advance(REFUSAL_BEEP);
    assert_eq!(sim.indicator, Some(Indicator::default()));
}

#[test]
fn the_led_shows_the_release_and_the_buzzer_chirps_on_a_grant() {
    let mut sim = Sim::with_door_closed(Config::default());
    sim.grant(secs(5));
    assert_eq!(
        sim.indicator,
        Some(Indicator {
            led: true,
            buzzer: true
        })
    );
    sim.advance(GRANT_BEEP);
    assert_eq!(
        sim.indicator,
        Some(Indicator {
            led: true,
            buzzer: false
        })
    );
    sim.run_until_idle();
    assert_eq!(sim.indicator, Some(Indicator::default()));
}

#[test]
fn a_door_open_at_start_is_not_forced_but_becomes_held_open() {
    let mut sim = Sim::new(Config::default());
    let (actions, _) = sim.input(OPEN);
    assert!(!has_alarm(&actions, AlarmKind::ForcedOpen, true));
    sim.advance(secs(30));
    assert!(sim.alarm(AlarmKind::HeldOpen));
    sim.input(CLOSED);
    assert!(!sim.alarm(AlarmKind::HeldOpen));
}

#[test]
fn undrained_events_beyond_the_queue_are_dropped_oldest_first_and_counted() {
    let mut sim = Sim::with_door_closed(Config::default());
    for _ in 0..100 {
        sim.door.handle_deny(sim.now);
    }
    assert!(sim.door.status().dropped_events > 0);
    let actions = sim.drain();
    let denied = actions
        .iter()
        .filter(|a| **a == Action::Feedback(Feedback::Denied))
        .count();
    assert!(denied > 0 && denied < 100);
    // Levels are never lost: the buzzer still shows the refusal.
    assert_eq!(sim.indicator.map(|i| i.buzzer), Some(true));
}
