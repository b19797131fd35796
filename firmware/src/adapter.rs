//! The embedded-hal 1.0 adapter: [`Door`] owns a [`DoorController`] and its pins.
//!
//! It reads the door sensor and exit button ([`Door::poll_inputs`]), feeds their changes to
//! the controller, and applies the controller's level actions to the lock relay and the
//! optional LED and buzzer ([`Door::apply`]), handing every other action (alarms, reader
//! feedback) back to the caller. Invariant: a pin error is always returned, never
//! swallowed, and a failed write is retried by the next [`Door::apply`] until the pin has
//! the level the controller wants.

use core::convert::Infallible;
use core::fmt;
use core::marker::PhantomData;
use core::time::Duration;

use embedded_hal::digital::{ErrorType, InputPin, OutputPin};

use crate::action::Action;
use crate::config::Level;
use crate::controller::DoorController;
use crate::status::{DoorState, GrantOutcome, Status};
use crate::time::Instant;

/// A door: the controller plus its pins. `Led` and `Buzzer` are [`NoPin`] unless added with
/// [`Door::with_led`] and [`Door::with_buzzer`]. All pins share one error type `E`.
#[derive(Debug)]
pub struct Door<Lock, Sensor, Exit, Led = NoPin, Buzzer = NoPin> {
    /// The state machine this adapter drives.
    controller: DoorController,
    /// The relay for the lock's power.
    lock: Lock,
    /// The door contact.
    sensor: Sensor,
    /// The exit button (request to exit).
    exit: Exit,
    /// The reader's LED line, or [`NoPin`].
    led: Led,
    /// The reader's buzzer line, or [`NoPin`].
    buzzer: Buzzer,
    /// The last door state fed to the controller; `None` before the first read.
    door_seen: Option<DoorState>,
    /// The last exit-button reading; `None` before the first read.
    exit_seen: Option<bool>,
    /// Logical levels the controller wants and the levels known to be on the pins.
    lock_out: Output,
    /// As `lock_out`, for the LED.
    led_out: Output,
    /// As `lock_out`, for the buzzer.
    buzzer_out: Output,
}

/// What an output pin should show and what it is known to show.
#[derive(Debug, Clone, Copy, Default)]
struct Output {
    /// The level the controller asked for; `None` before it asked.
    want: Option<bool>,
    /// The level last written successfully; `None` before that, or after a failed write.
    have: Option<bool>,
}

impl Output {
    /// The level to write, if the pin does not have it yet.
    fn pending(&self) -> Option<bool> {
        self.want.filter(|want| self.have != Some(*want))
    }
}

/// A pin error, saying which pin failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error<E> {
    /// Writing the lock relay failed; the next [`Door::apply`] writes it again.
    Lock(E),
    /// Reading the door sensor failed; the door state was not updated.
    Sensor(E),
    /// Reading the exit button failed; a press may have been missed.
    Exit(E),
    /// Writing the LED failed; the next [`Door::apply`] writes it again.
    Led(E),
    /// Writing the buzzer failed; the next [`Door::apply`] writes it again.
    Buzzer(E),
}

impl<E: fmt::Debug> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Lock(e) => write!(f, "lock relay pin failed: {e:?}"),
            Error::Sensor(e) => write!(f, "door sensor pin failed: {e:?}"),
            Error::Exit(e) => write!(f, "exit button pin failed: {e:?}"),
            Error::Led(e) => write!(f, "reader LED pin failed: {e:?}"),
            Error::Buzzer(e) => write!(f, "reader buzzer pin failed: {e:?}"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for Error<E> {}

/// An absent optional pin: writes do nothing and cannot fail. `E` is the error type of the
/// other pins, so that one [`Error`] type covers the door.
pub struct NoPin<E = Infallible>(PhantomData<fn() -> E>);

impl<E> NoPin<E> {
    /// An absent pin.
    pub const fn new() -> Self {
        NoPin(PhantomData)
    }
}

impl<E> Default for NoPin<E> {
    fn default() -> Self {
        NoPin::new()
    }
}

impl<E> fmt::Debug for NoPin<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NoPin")
    }
}

impl<E: embedded_hal::digital::Error> ErrorType for NoPin<E> {
    type Error = E;
}

impl<E: embedded_hal::digital::Error> OutputPin for NoPin<E> {
    fn set_low(&mut self) -> Result<(), E> {
        Ok(())
    }

    fn set_high(&mut self) -> Result<(), E> {
        Ok(())
    }
}

impl<Lock, Sensor, Exit, E> Door<Lock, Sensor, Exit, NoPin<E>, NoPin<E>>
where
    Lock: OutputPin<Error = E>,
    Sensor: InputPin<Error = E>,
    Exit: InputPin<Error = E>,
    E: embedded_hal::digital::Error,
{
    /// A door without LED or buzzer. Touches no pin: call [`Door::apply`] at once to put the
    /// relay in its safe state, then [`Door::poll_inputs`] to read the sensor.
    pub fn new(controller: DoorController, lock: Lock, sensor: Sensor, exit: Exit) -> Self {
        Door {
            controller,
            lock,
            sensor,
            exit,
            led: NoPin::new(),
            buzzer: NoPin::new(),
            door_seen: None,
            exit_seen: None,
            lock_out: Output::default(),
            led_out: Output::default(),
            buzzer_out: Output::default(),
        }
    }
}

impl<Lock, Sensor, Exit, Buzzer, E> Door<Lock, Sensor, Exit, NoPin<E>, Buzzer> {
    /// Adds the reader's LED line (on while the lock is released).
    pub fn with_led<Led>(self, led: Led) -> Door<Lock, Sensor, Exit, Led, Buzzer>
    where
        Led: OutputPin<Error = E>,
    {
        Door {
            controller: self.controller,
            lock: self.lock,
            sensor: self.sensor,
            exit: self.exit,
            led,
            buzzer: self.buzzer,
            door_seen: self.door_seen,
            exit_seen: self.exit_seen,
            lock_out: self.lock_out,
            led_out: Output::default(),
            buzzer_out: self.buzzer_out,
        }
    }
}

impl<Lock, Sensor, Exit, Led, E> Door<Lock, Sensor, Exit, Led, NoPin<E>> {
    /// Adds the reader's buzzer line (beeps on grants and refusals, sounds during alarms).
    pub fn with_buzzer<Buzzer>(self, buzzer: Buzzer) -> Door<Lock, Sensor, Exit, Led, Buzzer>
    where
        Buzzer: OutputPin<Error = E>,
    {
        Door {
            controller: self.controller,
            lock: self.lock,
            sensor: self.sensor,
            exit: self.exit,
            led: self.led,
            buzzer,
            door_seen: self.door_seen,
            exit_seen: self.exit_seen,
            lock_out: self.lock_out,
            led_out: self.led_out,
            buzzer_out: Output::default(),
        }
    }
}

impl<Lock, Sensor, Exit, Led, Buzzer> Door<Lock, Sensor, Exit, Led, Buzzer> {
    /// The controller, to read its configuration or state.
    pub fn controller(&self) -> &DoorController {
        &self.controller
    }

    /// Hands the pins back: lock, sensor, exit, LED, buzzer.
    pub fn destroy(self) -> (Lock, Sensor, Exit, Led, Buzzer) {
        (self.lock, self.sensor, self.exit, self.led, self.buzzer)
    }
}

impl<Lock, Sensor, Exit, Led, Buzzer, E> Door<Lock, Sensor, Exit, Led, Buzzer>
where
    Lock: OutputPin<Error = E>,
    Sensor: InputPin<Error = E>,
    Exit: InputPin<Error = E>,
    Led: OutputPin<Error = E>,
    Buzzer: OutputPin<Error = E>,
{
    /// Reads the door sensor and the exit button at `now` and feeds their changes to the
    /// controller, after acting on any deadline due by `now`.
    ///
    /// The sensor's first reading is always fed. The exit button's first reading only sets
    /// the baseline: a button held at start-up is more likely stuck or miswired than being
    /// pressed at that moment, so it acts once it has been released and pressed again.
    /// On a read error nothing after the failed pin is read.
    pub fn poll_inputs(&mut self, now: Instant) -> Result<(), Error<E>> {
        self.controller.handle_timeout(now);
        let config = *self.controller.config();

        let closed =
            self.sensor.is_high().map_err(Error::Sensor)? == config.sensor_closed().is_high();
        let door = if closed {
            DoorState::Closed
        } else {
            DoorState::Open
        };
        if self.door_seen != Some(door) {
            self.door_seen = Some(door);
            self.controller.handle_door(door, now);
        }

        let pressed = self.exit.is_high().map_err(Error::Exit)? == config.exit_pressed().is_high();
        match self.exit_seen.replace(pressed) {
            Some(before) if before != pressed => self.controller.handle_exit_button(pressed, now),
            _ => {}
        }
        Ok(())
    }

    /// Applies the controller's pending level actions to the pins and returns the next
    /// action the pins do not consume (an alarm or reader feedback) for the caller to
    /// report. Call it until it returns `Ok(None)`.
    ///
    /// [`Action::SetLock`] and [`Action::Indicator`] are consumed here; they are applied
    /// before any later action is returned. A failed write is returned as an error and
    /// retried on the next call.
    pub fn apply(&mut self) -> Result<Option<Action>, Error<E>> {
        loop {
            self.write_pins()?;
            match self.controller.poll_action() {
                None => return Ok(None),
                Some(Action::SetLock { energised }) => self.lock_out.want = Some(energised),
                Some(Action::Indicator(indicator)) => {
                    self.led_out.want = Some(indicator.led);
                    self.buzzer_out.want = Some(indicator.buzzer);
                }
                Some(other) => return Ok(Some(other)),
            }
        }
    }

    /// Forwards to [`DoorController::handle_grant`]; call [`Door::apply`] after.
    pub fn handle_grant(&mut self, duration: Duration, now: Instant) -> GrantOutcome {
        self.controller.handle_grant(duration, now)
    }

    /// Forwards to [`DoorController::handle_deny`]; call [`Door::apply`] after.
    pub fn handle_deny(&mut self, now: Instant) {
        self.controller.handle_deny(now);
    }

    /// Forwards to [`DoorController::handle_lockdown`]; call [`Door::apply`] after.
    pub fn handle_lockdown(&mut self, on: bool, now: Instant) {
        self.controller.handle_lockdown(on, now);
    }

    /// Forwards to [`DoorController::handle_fire_release`]; call [`Door::apply`] after.
    pub fn handle_fire_release(&mut self, on: bool, now: Instant) {
        self.controller.handle_fire_release(on, now);
    }

    /// Forwards to [`DoorController::handle_hold_open`]; call [`Door::apply`] after.
    pub fn handle_hold_open(&mut self, on: bool, now: Instant) {
        self.controller.handle_hold_open(on, now);
    }

    /// Forwards to [`DoorController::handle_timeout`]; call [`Door::apply`] after.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.controller.handle_timeout(now);
    }

    /// When to call [`Door::handle_timeout`] (or [`Door::poll_inputs`]) next, at the latest.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.controller.poll_timeout()
    }

    /// The controller's status.
    pub fn status(&self) -> Status {
        self.controller.status()
    }

    /// Writes every output whose wanted level is not known to be on the pin.
    fn write_pins(&mut self) -> Result<(), Error<E>> {
        let config = *self.controller.config();
        write(&mut self.lock, &mut self.lock_out, config.relay_active()).map_err(Error::Lock)?;
        let active = config.indicator_active();
        write(&mut self.led, &mut self.led_out, active).map_err(Error::Led)?;
        write(&mut self.buzzer, &mut self.buzzer_out, active).map_err(Error::Buzzer)?;
        Ok(())
    }
}

/// Writes `out`'s wanted level to `pin` if needed, with `active` the level meaning "on".
fn write<P: OutputPin>(pin: &mut P, out: &mut Output, active: Level) -> Result<(), P::Error> {
    let Some(on) = out.pending() else {
        return Ok(());
    };
    // Unknown until the write is known to have worked, so a failure is retried.
    out.have = None;
    if on == active.is_high() {
        pin.set_high()?;
    } else {
        pin.set_low()?;
    }
    out.have = Some(on);
    Ok(())
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use crate::action::{AlarmKind, Feedback};
    use crate::config::{Config, LockType};
    use embedded_hal_mock::eh1::digital::{Mock, State, Transaction as T};
    use embedded_hal_mock::eh1::MockError;
    use std::io::ErrorKind;

    fn at(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    fn door(
        config: Config,
        lock: &[T],
        sensor: &[T],
        exit: &[T],
    ) -> Door<Mock, Mock, Mock, NoPin<MockError>, NoPin<MockError>> {
        let controller = DoorController::new(config, at(0));
        Door::new(
            controller,
            Mock::new(lock),
            Mock::new(sensor),
            Mock::new(exit),
        )
    }

    fn finish<Led, Buzzer>(door: Door<Mock, Mock, Mock, Led, Buzzer>) -> (Led, Buzzer) {
        let (mut lock, mut sensor, mut exit, led, buzzer) = door.destroy();
        lock.done();
        sensor.done();
        exit.done();
        (led, buzzer)
    }

    /// With the default wiring: sensor low = closed, exit high = not pressed.
    const CLOSED: State = State::Low;
    const OPEN: State = State::High;
    const PRESSED: State = State::Low;
    const NOT_PRESSED: State = State::High;

    #[test]
    fn apply_puts_the_relay_in_the_safe_state_for_each_lock_and_relay_type() {
        let cases = [
            (LockType::FailSecure, Level::High, State::Low),
            (LockType::FailSecure, Level::Low, State::High),
            (LockType::FailSafe, Level::High, State::High),
            (LockType::FailSafe, Level::Low, State::Low),
        ];
        for (lock_type, relay, safe) in cases {
            let config = Config::builder()
                .lock_type(lock_type)
                .relay_active(relay)
                .build()
                .unwrap();
            let mut d = door(config, &[T::set(safe)], &[], &[]);
            assert_eq!(d.apply(), Ok(None));
            // Nothing changed, so nothing more is written.
            assert_eq!(d.apply(), Ok(None));
            finish(d);
        }
    }

    #[test]
    fn a_grant_drives_the_relay_and_closing_the_door_relocks_it() {
        let mut d = door(
            Config::default(),
            &[T::set(State::Low), T::set(State::High), T::set(State::Low)],
            &[T::get(CLOSED), T::get(OPEN), T::get(CLOSED)],
            &[
                T::get(NOT_PRESSED),
                T::get(NOT_PRESSED),
                T::get(NOT_PRESSED),
            ],
        );
        assert_eq!(d.apply(), Ok(None));
        assert_eq!(d.poll_inputs(at(0)), Ok(()));
        assert!(matches!(
            d.handle_grant(Duration::from_secs(5), at(100)),
            GrantOutcome::Released { .. }
        ));
        assert_eq!(d.apply(), Ok(Some(Action::Feedback(Feedback::Granted))));
        assert_eq!(d.apply(), Ok(None));
        d.poll_inputs(at(1_000)).unwrap();
        assert_eq!(d.apply(), Ok(None), "opening a released door is no alarm");
        d.poll_inputs(at(2_000)).unwrap();
        assert_eq!(d.apply(), Ok(None));
        assert_eq!(d.poll_timeout(), Some(at(3_000)));
        d.handle_timeout(at(3_000));
        assert_eq!(d.apply(), Ok(None));
        assert!(!d.status().is_released());
        finish(d);
    }

    #[test]
    fn forcing_the_door_hands_the_alarm_to_the_caller() {
        let mut d = door(
            Config::default(),
            &[T::set(State::Low)],
            &[T::get(CLOSED), T::get(OPEN), T::get(CLOSED)],
            &[
                T::get(NOT_PRESSED),
                T::get(NOT_PRESSED),
                T::get(NOT_PRESSED),
            ],
        );
        assert_eq!(d.apply(), Ok(None));
        d.poll_inputs(at(0)).unwrap();
        d.poll_inputs(at(1_000)).unwrap();
        let raised = Action::Alarm {
            kind: AlarmKind::ForcedOpen,
            raised: true,
        };
        assert_eq!(d.apply(), Ok(Some(raised)));
        assert_eq!(d.apply(), Ok(Some(Action::Feedback(Feedback::Alarm))));
        assert_eq!(d.apply(), Ok(None));
        d.poll_inputs(at(2_000)).unwrap();
        let cleared = Action::Alarm {
            kind: AlarmKind::ForcedOpen,
            raised: false,
        };
        assert_eq!(d.apply(), Ok(Some(cleared)));
        assert_eq!(d.apply(), Ok(None));
        finish(d);
    }

    #[test]
    fn an_exit_button_held_at_start_acts_only_after_release_and_a_new_press() {
        let mut d = door(
            Config::default(),
            &[T::set(State::Low), T::set(State::High)],
            &[T::get(CLOSED), T::get(CLOSED), T::get(CLOSED)],
            &[T::get(PRESSED), T::get(NOT_PRESSED), T::get(PRESSED)],
        );
        assert_eq!(d.apply(), Ok(None));
        d.poll_inputs(at(0)).unwrap();
        assert_eq!(d.apply(), Ok(None));
        assert!(!d.status().is_released(), "held at start-up: ignored");
        d.poll_inputs(at(100)).unwrap();
        d.poll_inputs(at(200)).unwrap();
        assert_eq!(d.apply(), Ok(None));
        assert!(d.status().is_released());
        assert_eq!(d.status().release_deadline, Some(at(5_200)));
        finish(d);
    }

    #[test]
    fn a_failed_relay_write_is_reported_and_retried() {
        let err = MockError::Io(ErrorKind::Other);
        let mut d = door(
            Config::default(),
            &[
                T::set(State::Low).with_error(err.clone()),
                T::set(State::Low),
            ],
            &[],
            &[],
        );
        assert_eq!(d.apply(), Err(Error::Lock(err)));
        assert_eq!(d.apply(), Ok(None));
        assert_eq!(d.apply(), Ok(None), "written once it worked");
        finish(d);
    }

    #[test]
    fn a_failed_sensor_read_is_reported_and_nothing_else_is_read() {
        let err = MockError::Io(ErrorKind::Other);
        let mut d = door(
            Config::default(),
            &[],
            &[T::get(CLOSED).with_error(err.clone())],
            &[],
        );
        assert_eq!(d.poll_inputs(at(0)), Err(Error::Sensor(err)));
        assert_eq!(d.status().door, None);
        finish(d);
    }

    #[test]
    fn a_failed_exit_button_read_is_reported() {
        let err = MockError::Io(ErrorKind::Other);
        let mut d = door(
            Config::default(),
            &[],
            &[T::get(CLOSED)],
            &[T::get(PRESSED).with_error(err.clone())],
        );
        assert_eq!(d.poll_inputs(at(0)), Err(Error::Exit(err)));
        assert_eq!(d.status().door, Some(DoorState::Closed));
        finish(d);
    }

    #[test]
    fn led_and_buzzer_follow_the_indicator_with_their_polarity() {
        // Default indicators are active low: off is high.
        let led = Mock::new(&[T::set(State::High), T::set(State::Low), T::set(State::High)]);
        let buzzer = Mock::new(&[T::set(State::High), T::set(State::Low), T::set(State::High)]);
        let mut d = door(
            Config::default(),
            &[T::set(State::Low), T::set(State::High), T::set(State::Low)],
            &[],
            &[],
        )
        .with_led(led)
        .with_buzzer(buzzer);
        assert_eq!(d.apply(), Ok(None));
        let _ = d.handle_grant(Duration::from_secs(5), at(0));
        assert_eq!(d.apply(), Ok(Some(Action::Feedback(Feedback::Granted))));
        assert_eq!(d.apply(), Ok(None));
        // The grant chirp ends first, then the release.
        assert_eq!(d.poll_timeout(), Some(at(200)));
        d.handle_timeout(at(200));
        assert_eq!(d.apply(), Ok(None));
        d.handle_timeout(at(5_000));
        assert_eq!(d.apply(), Ok(None));
        let (mut led, mut buzzer) = finish(d);
        led.done();
        buzzer.done();
    }

    #[test]
    fn pin_errors_say_which_pin_failed() {
        extern crate alloc;
        use alloc::string::ToString;
        let text = Error::Sensor(MockError::Io(ErrorKind::Other)).to_string();
        assert!(text.contains("door sensor"), "{text}");
    }
}
